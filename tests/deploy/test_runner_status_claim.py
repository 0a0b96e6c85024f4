"""The deployment functions behind the CLI on the embedded chain: agents built from a task file run a task
to its end, in plain and in secure mode; `status` reads it back, phase by phase; `claim` collects what is
owed; `export-model` saves the anchored model."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import Coordinator, Mode, RoundPhase, TaskStatus
from fedchain.chain.secure_coordinator import SecureCoordinator
from fedchain.deploy import DeployError, runner
from fedchain.deploy.claim import claim_all
from fedchain.deploy.data import deployment_preprocessing, load_hospital_data
from fedchain.deploy.export import export_model
from fedchain.deploy.status import SecureRoundReport, TaskReport, render, task_report
from fedchain.deploy.tasks import create_task, initial_model
from fedchain.learn import Preprocessing
from fedchain.report import read_anchor, verify_against_anchor
from fedchain.report.verify import verify_on_chain
from fedchain.roles import SecureAggregator, SecureParticipant, SecureWatcher
from fedchain.task import DataSettings, ModelSettings, TaskSpecError
from fedchain.task.read import parse_task
from tests.deploy.conftest import HOSPITALS, RAW_CONFIG, SECURE_RAW_CONFIG, DeployedTask

BOTH_MODES = pytest.mark.parametrize("deployed_task", ["plain", "secure"], indirect=True)
SECURE = pytest.mark.parametrize("deployed_task", ["secure"], indirect=True)
WINDOW = 100


def test_agents_built_from_the_task_file_run_the_task_and_status_follows(deployed_task: DeployedTask) -> None:
    task, federation = deployed_task, deployed_task.federation
    for index in range(3):
        task.add_hospital(index)
    task.add_aggregator()
    start = task_report(task.coordinator, task.created.task_id)
    assert (start.status, start.round, start.phase, start.num_rounds) == ("RUNNING", 0, "NOT_OPEN", 2)
    assert start.waiting_for_members == 2 and start.deadlines.commit_end == 0
    assert "round 0 opens when 2 more members have joined" in "\n".join(render(start))
    assert start.committed == [] and start.members == [] and start.proposal is None
    assert start.model_root == task.created.model_root and start.pool == 5 * 10**18

    federation.run_until(lambda: federation.phase() == RoundPhase.CHALLENGE)
    pending = task_report(task.coordinator, task.created.task_id)
    hospitals = [participant.address for participant in federation.participants]
    assert pending.phase == "CHALLENGE" and sorted(pending.committed) == sorted(hospitals)
    assert sorted(pending.revealed) == sorted(hospitals) and pending.included == 3
    assert pending.proposal is not None and pending.proposal.aggregator == task.chain.accounts[6].address
    assert pending.deadlines.challenge_end == pending.proposal.proposed_at + 100
    assert [(member.stake, member.claimable) for member in pending.members] == [(10 * 10**18, 0)] * 3
    text = "\n".join(render(pending))
    assert "phase CHALLENGE" in text and "stake 10" in text and f"as of block {pending.block}" in text

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    federation.step_all()  # everyone settles: claims, stakes and bonds withdrawn
    done = task_report(task.coordinator, task.created.task_id)
    finalized = task.coordinator.finalized_models(task.created.task_id)
    assert done.status == "COMPLETED" and done.round == 2 and done.phase == "NOT_OPEN"
    assert [(closed.round, closed.status, closed.model_root) for closed in done.rounds] == [
        (model.round, "FINALIZED", "0x" + model.root.hex()) for model in finalized]
    assert not any(member.joined for member in done.members)
    assert "COMPLETED: 2 of 2 rounds finalized" in "\n".join(render(done))
    assert done.to_json()["schema"] == "fedchain-status/1"


@BOTH_MODES
def test_claim_collects_rewards_then_after_the_end_the_stake_bond_and_pool(
        deployed_task: DeployedTask, monkeypatch: pytest.MonkeyPatch) -> None:
    task, federation = deployed_task, deployed_task.federation
    monkeypatch.setattr(federation.requester, "step", lambda: None)  # no requester process: its owner claims
    for index in range(HOSPITALS):
        task.add_hospital(index)
    task.add_aggregator()
    federation.run_rounds(1)
    hospital = task.chain.accounts[1]
    federation.participants.clear()  # the hospitals' processes are gone; their owners claim by hand
    aggregator = federation.aggregators.pop()

    owed = task.coordinator.claimable(task.created.task_id, hospital.address)
    assert owed > 0, "round 0 finalized with its reveal"
    before = federation.token.balance_of(hospital.address)
    assert claim_all(task.coordinator, task.created.task_id, hospital) == [
        f"claimRewards {whole_tokens(owed, 18)} tokens"]
    assert federation.token.balance_of(hospital.address) == before + owed
    assert claim_all(task.coordinator, task.created.task_id, hospital) == [], "claimed once"

    federation.aggregators.append(aggregator)
    federation.run_until(lambda: federation.state().status != TaskStatus.RUNNING)
    federation.aggregators.clear()
    assert claim_all(task.coordinator, task.created.task_id, hospital) == ["withdrawStake"]
    assert claim_all(task.coordinator, task.created.task_id, aggregator.account) == ["claimFees", "withdrawBond"]
    pool = task.coordinator.task_state(task.created.task_id).pool
    assert pool > 0, "round 1 failed (no hospital left): its reward stayed in the pool"
    assert claim_all(task.coordinator, task.created.task_id, task.chain.accounts[0]) == [
        f"withdrawPool {whole_tokens(pool, 18)} tokens"]
    for other in task.chain.accounts[2:HOSPITALS + 1]:
        owed = task.coordinator.claimable(task.created.task_id, other.address)
        assert owed > 0
        assert claim_all(task.coordinator, task.created.task_id, other) == [
            f"claimRewards {whole_tokens(owed, 18)} tokens", "withdrawStake"]
    assert federation.token.balance_of(task.coordinator.address) == 0


@BOTH_MODES
def test_export_model_saves_the_anchored_model_that_verify_model_accepts(deployed_task: DeployedTask,
                                                                        tmp_path: Path) -> None:
    task, federation = deployed_task, deployed_task.federation
    with pytest.raises(DeployError, match="has no finalized model for any round yet"):
        export_model(task.coordinator, federation.store, task.created.task_id, tmp_path / "model.pt")
    for index in range(HOSPITALS):
        task.add_hospital(index)
    task.add_aggregator()
    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    # preprocessing.json comes from the model blob the chain pins, with the task file or without it
    saved = export_model(task.coordinator, federation.store, task.created.task_id, tmp_path / "bare" / "model.pt")
    assert saved.preprocessing is not None
    assert saved.preprocessing.to_json() == deployment_preprocessing(task.config).to_json()
    exported = export_model(task.coordinator, federation.store, task.created.task_id, tmp_path / "out" / "model.pt",
                            round=0, task=task.config)
    anchor = exported.anchor
    for folder in ("bare", "out"):
        saved_preprocessing = json.loads((tmp_path / folder / "preprocessing.json").read_text())
        assert Preprocessing.from_json(saved_preprocessing).to_json() == deployment_preprocessing(task.config).to_json()
    (first, _) = task.coordinator.finalized_models(task.created.task_id)
    assert (anchor.round, anchor.model_root, anchor.anchor_tx) == (0, "0x" + first.root.hex(), first.tx_hash)
    saved = read_anchor(tmp_path / "out" / "anchor.json")
    assert verify_against_anchor(tmp_path / "out" / "model.pt", saved, tmp_path / "out" / "anchor.json").matches
    live = verify_on_chain(tmp_path / "out" / "model.pt", task.chain, task.coordinator.address,
                           task.created.task_id, round=0)
    assert live.matches and live.anchored_root == "0x" + first.root.hex()


def test_a_participant_whose_model_or_data_is_not_the_tasks_is_refused(deployed_task: DeployedTask) -> None:
    task = deployed_task
    account = task.chain.accounts[1]
    data = load_hospital_data("breast_cancer:0/3", task.config)

    def build(**changes: object) -> None:
        spec = replace(task.config, **changes)
        runner.participant(task.coordinator, task.federation.store, task.created.task_id, account, task=spec,
                           client=runner.builtin_client(spec, data), journal=task.tmp_path / "j.json", stake=None)

    before = task.chain.w3.eth.block_number
    with pytest.raises(DeployError, match=r"the client's model has tensors of shapes \[\(4, 30\), .* but task 1's "):
        build(model=ModelSettings(name="mlp", in_features=30, hidden=(4,)))
    with pytest.raises(TaskSpecError, match=r"model.in_features: the model takes 10 inputs, but the data .* has 30"):
        build(model=ModelSettings(name="logreg", in_features=10))
    with pytest.raises(DeployError, match='the task file has mode = "secure", but task 1 is plain'):
        build(mode="secure", task=replace(task.config.task, cohort_cap=3))
    assert task.chain.w3.eth.block_number == before, "refused before anything is staked"
    with pytest.raises(DeployError, match="task 9 does not exist"):
        runner.watcher(task.coordinator, task.federation.store, 9, account)


@BOTH_MODES
def test_a_task_file_with_other_preprocessing_is_refused_before_anything_is_mined(deployed_task: DeployedTask,
                                                                                 tmp_path: Path) -> None:
    task = deployed_task
    task_id, declared = task.created.task_id, task.config.data
    account = task.chain.accounts[1]
    data = load_hospital_data("breast_cancer:0/3", task.config)
    other_files = {  # what the message names: a task file normalizing otherwise, by other statistics, or not at all
        "data.normalization, data.mean, data.scale differ": DataSettings(normalization="none"),
        "data.mean differs": replace(declared, mean=(declared.mean[0] + 1.0, *declared.mean[1:])),
        "data.missing differs": replace(declared, missing="mean"),
        "fixes no statistics": DataSettings(),
    }
    before = task.chain.w3.eth.block_number
    for message, settings in other_files.items():
        spec = replace(task.config, data=settings)
        refused = re.escape(message) if message.startswith("fixes") else (
            rf"the task file's \[data\] is not task {task_id}'s: {re.escape(message)} from the preprocessing its "
            "model pins on chain")
        with pytest.raises(DeployError, match=refused):
            runner.participant(task.coordinator, task.federation.store, task_id, account, task=spec,
                               client=runner.builtin_client(task.config, data), journal=tmp_path / "j.json",
                               stake=None)
        with pytest.raises(DeployError, match=refused):
            runner.requester(task.coordinator, task.federation.store, task_id, task.chain.accounts[0], task=spec,
                             evaluator=None)
        with pytest.raises(DeployError, match=refused):
            export_model(task.coordinator, task.federation.store, task_id, tmp_path / "model.pt", task=spec)
    assert task.chain.w3.eth.block_number == before, "nothing mined"
    assert task.coordinator.members(task_id) == [] and not (tmp_path / "model.pt").exists()
    assert not (tmp_path / "j.json").exists(), "a refused participant holds no journal"
    # the task's own file passes (its model has no finalized round yet to export)
    runner.requester(task.coordinator, task.federation.store, task_id, task.chain.accounts[0], task=task.config,
                     evaluator=None)
    with pytest.raises(DeployError, match="has no finalized model for any round yet"):
        export_model(task.coordinator, task.federation.store, task_id, tmp_path / "model.pt", task=task.config)


@SECURE
def test_secure_agents_built_from_the_task_file_run_the_task_and_status_shows_each_phase(
        deployed_task: DeployedTask) -> None:
    task, federation = deployed_task, deployed_task.federation
    task_id = task.created.task_id
    for index in range(HOSPITALS):
        task.add_hospital(index)
    task.add_aggregator()
    task.add_watcher()
    assert isinstance(task.coordinator, SecureCoordinator), "the deployment file's mode picked the coordinator"
    assert all(isinstance(participant, SecureParticipant) for participant in federation.participants)
    assert isinstance(federation.aggregators[0], SecureAggregator) and isinstance(federation.watchers[0], SecureWatcher)
    hospitals = sorted(participant.address for participant in federation.participants)

    def on_entering(phase: RoundPhase) -> TaskReport:
        """The report as the round enters ``phase`` (the clock moves only once no agent has anything to do)."""
        federation.run_until(lambda: federation.phase() == phase)
        return task_report(task.coordinator, task_id)

    waiting = task_report(task.coordinator, task_id)
    assert (waiting.phase, waiting.waiting_for_members, waiting.deadlines.commit_end) == ("NOT_OPEN", 2, 0)
    assert waiting.secure is not None and (waiting.secure.advertise_end, waiting.secure.upload_end) == (0, 0)
    stake = task.coordinator.task_params(task_id).min_stake
    for participant in federation.participants:  # the hospitals join; the second join opens round 0
        participant.ensure_allowance(stake)
        task.coordinator.join(task_id, stake, sender=participant.account)
    start = task_report(task.coordinator, task_id)
    begin = task.coordinator.round_view(task_id, 0).start
    assert (start.mode, start.status, start.round, start.phase) == ("SECURE", "RUNNING", 0, "ADVERTISE")
    assert start.secure == SecureRoundReport(neighbours=2, threshold=2, seed_fixed=False, advertised=[], uploaded=[],
                                             unmask_published=[], advertise_end=begin + WINDOW,
                                             upload_end=begin + 3 * WINDOW)
    # upload ends at 3 windows, two availability windows follow, then the unmask window
    assert (start.deadlines.commit_end, start.deadlines.reveal_end) == (begin + 2 * WINDOW, begin + 6 * WINDOW)
    text = "\n".join(render(start))
    assert "phase ADVERTISE (secure: 2 neighbours, threshold 2)" in text and "seed        not fixed yet" in text
    assert f"advertise {begin + WINDOW} (in " in text and "advertised  0: -" in text and "revealed" not in text

    commit = on_entering(RoundPhase.COMMIT)
    assert commit.secure is not None and sorted(commit.secure.advertised) == hospitals
    assert (commit.secure.seed_fixed, commit.committed) == (False, [])

    upload = on_entering(RoundPhase.UPLOAD)
    assert upload.secure is not None and upload.secure.seed_fixed and sorted(upload.committed) == hospitals
    assert upload.secure.uploaded == [] and upload.revealed == [] and upload.included == 0

    unmask = on_entering(RoundPhase.UNMASK)
    assert unmask.secure is not None and sorted(unmask.secure.uploaded) == hospitals and unmask.included == HOSPITALS
    assert unmask.secure.unmask_published == []
    text = "\n".join(render(unmask))
    assert "phase UNMASK" in text and "seed        fixed" in text and f"uploaded    {HOSPITALS}: " in text

    challenge = on_entering(RoundPhase.CHALLENGE)
    assert challenge.secure is not None and sorted(challenge.secure.unmask_published) == hospitals
    assert challenge.proposal is not None and challenge.proposal.aggregator == task.chain.accounts[6].address
    data = challenge.to_json()
    assert (data["schema"], data["mode"], data["revealed"]) == ("fedchain-status/1", "SECURE", [])
    assert sorted(data["secure"]["uploaded"]) == hospitals and data["secure"]["seed_fixed"] is True

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    federation.step_all()  # everyone settles: claims, stakes and bonds withdrawn
    done = task_report(task.coordinator, task_id)
    assert [(closed.round, closed.status) for closed in done.rounds] == [(0, "FINALIZED"), (1, "FINALIZED")]
    assert not any(member.joined for member in done.members) and all(m.claimable == 0 for m in done.members)
    assert "COMPLETED: 2 of 2 rounds finalized" in "\n".join(render(done))


@SECURE
def test_an_agent_needs_a_client_of_its_tasks_mode(deployed_task: DeployedTask) -> None:
    task = deployed_task
    plain_view = Coordinator(task.chain, task.coordinator.address)  # the plain client on the secure contract
    with pytest.raises(DeployError, match=r"task 1 has mode 1, but coordinator 0x\w+ is a FedCoordinator, whose "
                                          r"tasks are plain \(mode 0\)"):
        runner.watcher(plain_view, task.federation.store, task.created.task_id, task.chain.accounts[7])


@BOTH_MODES
def test_task_create_refuses_a_configuration_of_the_other_mode(deployed_task: DeployedTask) -> None:
    task = deployed_task
    secure = task.coordinator.MODE == Mode.SECURE
    wrong = parse_task(RAW_CONFIG if secure else SECURE_RAW_CONFIG)
    wanted, kind = ("plain", "secure") if secure else ("secure", "plain")
    message = (f'the task file has mode = "{wanted}", but coordinator {task.coordinator.address} is a '
               f"{task.coordinator.CONTRACT}, which takes {kind} tasks only: deploy one with `fedchain deploy --mode "
               f'{wanted}`, or set mode = "{kind}"')
    before = task.coordinator.chain.w3.eth.block_number
    with pytest.raises(DeployError) as caught:
        create_task(task.coordinator, task.federation.store, task.chain.accounts[0], wrong, task.federation.token,
                    initial_model(wrong))
    assert str(caught.value) == message
    assert task.coordinator.chain.w3.eth.block_number == before, "refused before any transaction"
