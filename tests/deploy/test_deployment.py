"""The deployment file, the chain and fee settings every deployment command starts from, token amounts,
a hospital's data (checked against the task before anything is staked) and the agreed statistics."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from fedchain.chain import Chain, ChainError, FeeCaps, connect
from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import Coordinator, Mode
from fedchain.chain.secure_coordinator import SecureCoordinator
from fedchain.deploy import DeployError
from fedchain.deploy.amounts import parse_tokens
from fedchain.deploy.data import agreed_statistics_of, load_hospital_data, load_raw_data
from fedchain.deploy.deployment import (
    SCHEMA,
    coordinator_at,
    deploy,
    fee_caps,
    node_chain,
    parse_mode,
    read_deployment,
    write_deployment,
)
from fedchain.learn.preprocess import FeatureSummary
from fedchain.task import TaskSpecError
from fedchain.task.params import base_units
from fedchain.task.read import parse_task
from tests.deploy.conftest import RAW_CONFIG, breast_cancer_statistics


def test_deploy_writes_a_file_the_other_commands_read(embedded_chain: Chain, tmp_path: Path) -> None:
    funded = embedded_chain.accounts[3].address
    deployment = deploy(embedded_chain, fund=[funded], fund_amount=Decimal("12.5"))
    path = tmp_path / "deployment.json"
    write_deployment(path, deployment)
    assert json.loads(path.read_text())["schema"] == SCHEMA
    assert read_deployment(path) == deployment and deployment.dev_token
    coordinator = coordinator_at(embedded_chain, coordinator=None, deployment_file=path)
    assert coordinator.address == deployment.coordinator
    token = embedded_chain.contract("DevToken", deployment.token)
    assert token.functions.balanceOf(funded).call() == 12_500_000_000_000_000_000

    with pytest.raises(DeployError, match="--fund mints DevTokens: it cannot be used with an existing --token"):
        deploy(embedded_chain, token=deployment.token, fund=[funded], fund_amount=Decimal(1))
    reused = deploy(embedded_chain, token=deployment.token)
    assert reused.token == deployment.token and not reused.dev_token
    with pytest.raises(DeployError, match="no contract at this address"):
        deploy(embedded_chain, token="0x" + "22" * 20)


def test_a_secure_deployment_records_its_mode_and_older_files_read_as_plain(embedded_chain: Chain,
                                                                            tmp_path: Path) -> None:
    secure = deploy(embedded_chain, mode=Mode.SECURE)
    path = tmp_path / "deployment.json"
    write_deployment(path, secure)
    written = json.loads(path.read_text())
    assert written["mode"] == "secure" and set(written["contracts"]) == {"SecureCoordinator", "SecureLeafVerifier",
                                                                        "Registry", "Availability", "DevToken"}
    assert read_deployment(path) == secure
    client = coordinator_at(embedded_chain, coordinator=None, deployment_file=path)
    assert isinstance(client, SecureCoordinator) and client.address == secure.coordinator
    assert isinstance(coordinator_at(embedded_chain, coordinator=secure.coordinator, deployment_file=tmp_path / "none"),
                      SecureCoordinator), "--coordinator needs no file: the chain tells the kind"

    plain = deploy(embedded_chain)
    write_deployment(tmp_path / "older.json", plain)
    older = json.loads((tmp_path / "older.json").read_text())
    assert older.pop("mode") == "plain"
    (tmp_path / "older.json").write_text(json.dumps(older))  # as written before secure deployments existed
    assert read_deployment(tmp_path / "older.json").mode == Mode.PLAIN
    client = coordinator_at(embedded_chain, coordinator=None, deployment_file=tmp_path / "older.json")
    assert type(client) is Coordinator

    (tmp_path / "wrong.json").write_text(json.dumps(older | {"mode": "secure"}))
    with pytest.raises(DeployError, match=r"wrong.json records a secure coordinator at 0x\w+, but the contract there "
                                          r"is a FedCoordinator \(plain mode\)"):
        coordinator_at(embedded_chain, coordinator=None, deployment_file=tmp_path / "wrong.json")
    (tmp_path / "odd.json").write_text(json.dumps(older | {"mode": "masked"}))
    with pytest.raises(DeployError, match=r"odd\.json: mode 'masked' is not one of 'plain', 'secure'"):
        read_deployment(tmp_path / "odd.json")
    with pytest.raises(DeployError, match=r"the contract at 0x\w+ on chain \d+ is not a fedchain coordinator "
                                          r"\(neither FedCoordinator nor SecureCoordinator\)"):
        coordinator_at(embedded_chain, coordinator=plain.token, deployment_file=path)
    assert parse_mode("--mode", "secure") == Mode.SECURE
    with pytest.raises(DeployError, match="--mode 'SECURE': must be one of 'plain', 'secure'"):
        parse_mode("--mode", "SECURE")


def test_a_bad_deployment_file_or_coordinator_is_named(embedded_chain: Chain, tmp_path: Path) -> None:
    with pytest.raises(DeployError, match=r"no deployment file .*run `fedchain deploy`, or pass --coordinator"):
        read_deployment(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"schema": "something-else"}')
    with pytest.raises(DeployError, match="not a fedchain-deployment/1 deployment file"):
        read_deployment(tmp_path / "other.json")
    with pytest.raises(DeployError, match="--coordinator 'nope' is not an address"):
        coordinator_at(embedded_chain, coordinator="nope", deployment_file=tmp_path / "missing.json")
    with pytest.raises(DeployError, match="no contract at 0x"):
        coordinator_at(embedded_chain, coordinator="0x" + "33" * 20, deployment_file=tmp_path / "missing.json")
    deployment = deploy(embedded_chain)
    path = tmp_path / "elsewhere.json"
    write_deployment(path, replace(deployment, chain_id=5))
    with pytest.raises(DeployError, match="is a deployment on chain 5, but the node serves chain 131277322940537"):
        coordinator_at(embedded_chain, coordinator=None, deployment_file=path)


def test_the_chain_must_be_a_running_node_and_its_url_is_never_echoed() -> None:
    with pytest.raises(DeployError, match="no chain given: pass --rpc URL or set FEDCHAIN_RPC"):
        node_chain(None)
    with pytest.raises(DeployError, match=r"not 'anvil': start one with `fedchain chain up`"):
        node_chain("anvil")
    with pytest.raises(DeployError) as caught:
        node_chain("mainnet.example.org/v3/secret-api-key")
    assert "secret-api-key" not in str(caught.value)


def test_fee_settings_are_gwei_turned_into_wei() -> None:
    assert fee_caps("1.5", "0.000000001") == FeeCaps(max_fee=1_500_000_000, priority_fee=1)
    assert fee_caps(None, "") == FeeCaps()
    with pytest.raises(DeployError, match="--max-fee-gwei 'lots' is not a number of gwei"):
        fee_caps("lots", None)
    with pytest.raises(DeployError, match=r"--priority-fee-gwei '0\.0000000001': must be a non-negative number"):
        fee_caps(None, "0.0000000001")
    with pytest.raises(ChainError, match=r"the priority fee \(2000000000 wei\) exceeds the max fee"):
        fee_caps("1", "2")


def test_fee_caps_set_the_fees_of_every_transaction(anvil_chain: Chain) -> None:
    assert anvil_chain.url is not None
    account = anvil_chain.accounts[0]
    with connect(anvil_chain.url, read_only=True, fee_caps=FeeCaps(max_fee=7 * 10**9, priority_fee=10**9)) as capped:
        capped.accounts.append(account)
        token = capped.deploy("DevToken", "T", "T")
        receipt = capped.send(token.functions.mint(account.address, 1), kind="mint")
    sent = anvil_chain.w3.eth.get_transaction(receipt["transactionHash"])
    assert (sent["maxFeePerGas"], sent["maxPriorityFeePerGas"]) == (7 * 10**9, 10**9)


def test_token_amounts() -> None:
    assert parse_tokens("--stake", "12.50") == Decimal("12.50")
    with pytest.raises(DeployError, match="--stake 'ten' is not an amount of tokens"):
        parse_tokens("--stake", "ten")
    with pytest.raises(DeployError, match="--bond '-1': must be a non-negative amount"):
        parse_tokens("--bond", "-1")
    assert base_units("--stake", Decimal("1.25"), 2, low=1, high=1000) == 125
    with pytest.raises(TaskSpecError, match=r"--stake: 0 tokens is 0 base units, outside \[1, 1000\]"):
        base_units("--stake", Decimal(0), 2, low=1, high=1000)
    assert (whole_tokens(12_500, 3), whole_tokens(0, 18), whole_tokens(10**19, 18)) == ("12.5", "0", "10")


def test_a_hospitals_data_is_checked_against_the_task_and_prepared_as_it_declares(tmp_path: Path) -> None:
    task = parse_task(RAW_CONFIG)
    parts = [load_hospital_data(f"breast_cancer:{part}/3", task) for part in range(3)]
    assert sum(len(part) for part in parts) > 400 and all(part.num_features == 30 for part in parts)
    pooled = np.concatenate([part.features for part in parts])
    np.testing.assert_allclose(pooled.mean(axis=0), 0.0, atol=1e-4)  # the task's statistics are the pooled ones
    held_out = load_hospital_data("breast_cancer:test", task)  # the requester's validation data: in no part
    assert len(held_out) + sum(len(part) for part in parts) == 569
    rows = {row.tobytes() for part in parts for row in part.features}
    assert not any(row.tobytes() in rows for row in held_out.features)
    csv = tmp_path / "site.csv"
    csv.write_text("age,dose,label\n50,1.5,1\n61,,0\n47,2.5,1\n")
    declared = {"features": ["age", "dose"], "mean": [50.0, 2.0], "scale": [5.0, 0.5]}
    own = load_hospital_data(str(csv), parse_task({**RAW_CONFIG, "model": {"name": "logreg"},
                                                   "data": {**declared, "missing": "mean"}}))
    np.testing.assert_allclose(own.features, [[0.0, -1.0], [2.2, 0.0], [-0.6, 1.0]])
    strict = parse_task({**RAW_CONFIG, "model": {"name": "logreg"}, "data": declared})
    missing = r"site: example 1 \(from 0; row 3 of a CSV file\), column 'dose' has no value .* refuses missing"
    with pytest.raises(DeployError, match=missing):
        load_hospital_data(str(csv), strict)
    swapped = parse_task({**RAW_CONFIG, "model": {"name": "logreg"}, "data": {**declared, "features": ["dose", "age"]}})
    with pytest.raises(DeployError, match=r"feature columns \['age', 'dose'\] are not the task's data.features"):
        load_hospital_data(str(csv), swapped)
    csv.write_text("age,dose,label\n50,1.5,1\n61,2,3\n")
    with pytest.raises(DeployError, match=r"site.csv: row 3: label 3 is not a class of the model \(num_classes = 2"):
        load_hospital_data(str(csv), strict)
    with pytest.raises(DeployError, match="--data mnist:0/2: no built-in dataset 'mnist'"):
        load_hospital_data("mnist:0/2", task)
    with pytest.raises(DeployError, match=r"--data breast_cancer:3/3: part 3 is not one of the 3 parts 0\.\.2"):
        load_hospital_data("breast_cancer:3/3", task)
    relabelled = parse_task({**RAW_CONFIG, "data": {**breast_cancer_statistics(), "label_column": "outcome"}})
    with pytest.raises(DeployError, match=r"--data .*site.csv.*column 'outcome' not found"):
        load_hospital_data(str(csv), relabelled)
    unfixed = parse_task({**RAW_CONFIG, "data": {}})
    with pytest.raises(DeployError, match=r"data.mean: the task standardizes its features but fixes no statistics"):
        load_hospital_data("breast_cancer:0/3", unfixed)


def test_the_agreed_statistics_are_the_pooled_ones_without_pooling_rows(tmp_path: Path) -> None:
    task = parse_task(RAW_CONFIG)
    parts = [load_raw_data(f"breast_cancer:{part}/3", task) for part in range(3)]
    files = []
    for position, part in enumerate(parts):
        files.append(tmp_path / f"summary-{position}.json")
        files[-1].write_text(json.dumps(FeatureSummary.of(part).to_json()))
    features, mean, scale = agreed_statistics_of(files)
    pooled = np.concatenate([part.features for part in parts])
    assert features == parts[0].feature_names
    np.testing.assert_allclose(mean, pooled.mean(axis=0))
    np.testing.assert_allclose(scale, pooled.std(axis=0))
    files[1].write_text("{}")
    with pytest.raises(DeployError, match=r"summary-1.json: not a feature summary"):
        agreed_statistics_of(files)
