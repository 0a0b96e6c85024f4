"""A hospital's own code in a deployment, built as `fedchain participant run --client` and `--app` build it: a
function returning a Flower NumPyClient, and an unmodified Flower ClientApp whose model the task names by import
path; the command refuses a mix of sources and a path that does not import, before touching any chain."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account
from typer.testing import CliRunner

import fedchain
from fedchain.chain import Chain, connect, dev_keys
from fedchain.chain.coordinator import Mode, TaskStatus, Token
from fedchain.cli import app as cli
from fedchain.deploy import DeployError, runner
from fedchain.deploy.deployment import deploy, write_deployment
from fedchain.deploy.tasks import initial_model
from fedchain.task import load_task
from fedchain.task.read import parse_task
from tests.deploy import user_client
from tests.deploy.conftest import HOSPITALS, RAW_CONFIG, DeployedTask, deploy_task

ROOT = Path(__file__).resolve().parents[2]
FLOWER_TASK = ROOT / "examples" / "flower_app" / "task.toml"


def _hospitals(task: DeployedTask, path: str, *, app: bool) -> None:
    for hospital in range(HOSPITALS):
        client = runner.user_client(path, app=app, task=task.config, hospital=hospital, hospitals=HOSPITALS)
        task.federation.participants.append(runner.participant(
            task.coordinator, task.federation.store, task.created.task_id, task.chain.accounts[hospital + 1],
            task=task.config, client=client, journal=task.tmp_path / f"journal-{hospital}.json", stake=None))
    task.add_aggregator()
    task.add_watcher()


def test_a_client_function_drives_participants_with_the_tasks_fit_config(tmp_path: Path) -> None:
    user_client.CONFIGS.clear()
    with connect("embedded") as chain:
        task = deploy_task(chain, tmp_path, parse_task({**RAW_CONFIG, "config": {"site_weighting": "flat"}}))
        _hospitals(task, "tests.deploy.user_client:client_fn", app=False)
        task.federation.run_until(lambda: task.federation.state().status != TaskStatus.RUNNING)
        assert [model.round for model in task.coordinator.finalized_models(task.created.task_id)] == [0, 1]
    assert len(user_client.CONFIGS) == 2 * HOSPITALS
    assert user_client.CONFIGS[0] == {"site_weighting": "flat", "local_epochs": 1, "batch_size": 32,
                                      "learning_rate": 0.1, "optimizer": "sgd", "momentum": 0.9, "server-round": 0}
    assert {config["server-round"] for config in user_client.CONFIGS} == {0, 1}


def test_an_unmodified_client_app_trains_a_secure_task_whose_model_is_named_by_import_path(tmp_path: Path) -> None:
    spec = load_task(FLOWER_TASK)
    assert spec.model.name == "examples.flower_app.fedchain_model:build" and spec.mode == "secure"
    with connect("embedded") as chain:
        task = deploy_task(chain, tmp_path, parse_task({"rounds": 2, "seed": 0, "mode": "secure",
                                                        "model": {"name": spec.model.name, "in_features": 64,
                                                                  "num_classes": 10},
                                                        "data": {"normalization": "none"}, "config": dict(spec.config),
                                                        "task": {"cohort_cap": HOSPITALS}}))
        _hospitals(task, "examples.flower_app.client_app:app", app=True)
        task.federation.run_rounds(2)
        models = task.coordinator.finalized_models(task.created.task_id)
        assert [model.round for model in models] == [0, 1]
        shapes = [shape.name for shape in task.federation.participants[0].rules.shapes]
        assert shapes == ["conv.weight", "conv.bias", "fc.weight", "fc.bias"]


def test_a_model_import_path_that_fails_is_refused_before_any_transaction(deployed_task: DeployedTask) -> None:
    task = deployed_task
    wrong = parse_task({**RAW_CONFIG, "model": {"name": "examples.nowhere:build", "in_features": 30}})
    before = task.chain.w3.eth.block_number
    with pytest.raises(DeployError, match=r"model.name: cannot load the model builder 'examples.nowhere:build': "
                                          r"there is no module 'examples.nowhere'"):
        initial_model(wrong)  # what `task create` builds before it reaches the chain
    assert task.chain.w3.eth.block_number == before


def test_the_command_takes_exactly_one_source_of_training_and_names_a_bad_path(tmp_path: Path) -> None:
    task_file = tmp_path / "task.toml"
    task_file.write_text("mode = \"plain\"\n[task]\ncohort_cap = 3\n[data]\nnormalization = \"none\"\n")
    common = ["participant", "run", "--task", "1", "--config", str(task_file), "--store", str(tmp_path)]
    both = CliRunner().invoke(cli, [*common, "--data", "breast_cancer:0/3", "--app", "x.y:app"])
    assert both.exit_code == 1 and "give exactly one of --data (the built-in trainer), --client or --app" in both.output
    missing = CliRunner().invoke(cli, [*common, "--client", "tests.deploy.nowhere:client_fn"])
    assert missing.exit_code == 1 and "--client tests.deploy.nowhere:client_fn" in missing.output
    assert "there is no module 'tests.deploy.nowhere'" in missing.output


@pytest.mark.anvil
def test_participate_from_python_adapts_the_client_then_checks_the_task_on_the_chain(
        anvil_chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert anvil_chain.url is not None
    deployment_file = tmp_path / "deployment.json"
    write_deployment(deployment_file, deploy(anvil_chain, mode=Mode.PLAIN))
    monkeypatch.setenv("FEDCHAIN_PRIVATE_KEY", dev_keys(2)[1].key.hex())
    options = {"task": parse_task(RAW_CONFIG), "task_id": 9, "store": str(tmp_path / "blobs"), "rpc": anvil_chain.url,
               "deployment": deployment_file}
    with pytest.raises(DeployError, match="client: cannot use a int as a client"):
        fedchain.participate(42, **options)  # type: ignore[arg-type]
    with pytest.raises(DeployError, match=r"task 9 does not exist on coordinator 0x"):
        fedchain.participate(user_client.client_fn(0), **options)  # type: ignore[arg-type]


def test_an_unfunded_stake_or_a_journal_in_use_is_refused_in_one_line_before_anything_is_sent(
        deployed_task: DeployedTask) -> None:
    task = deployed_task
    account = task.chain.accounts[1]
    client = user_client.client_fn(0)
    before = task.chain.w3.eth.block_number

    def build(stake: Decimal | None, journal: str) -> object:
        return runner.participant(task.coordinator, task.federation.store, task.created.task_id, account,
                                  task=task.config, client=client, journal=task.tmp_path / journal, stake=stake)

    with pytest.raises(DeployError, match=rf"{account.address} holds 1000 tokens of 0x[0-9a-fA-F]{{40}}, but joining "
                                          r"task 1 stakes 5000: fund the account first"):
        build(Decimal(5000), "a.json")
    build(None, "b.json")
    with pytest.raises(DeployError, match=r"journal .*b.json is in use by process \d+: one process per journal"):
        build(None, "b.json")
    assert task.chain.w3.eth.block_number == before

    penniless = Account.create()  # tokens to stake, but no ether for gas
    token = Token(task.chain, task.deployment.token)
    token.mint(penniless.address, 10 * 10**18, sender=task.chain.accounts[0])
    minted = task.chain.w3.eth.block_number
    with pytest.raises(DeployError, match=rf"{penniless.address} has no ether to pay for gas: fund the account"):
        runner.participant(task.coordinator, task.federation.store, task.created.task_id, penniless,
                           task=task.config, client=client, journal=task.tmp_path / "c.json", stake=None)
    assert task.chain.w3.eth.block_number == minted
