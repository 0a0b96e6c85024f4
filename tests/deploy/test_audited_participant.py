"""`fedchain participant run` on an audited task (docs/protocol.md section 13): the runner builds each hospital's
AuditedParticipant from its prepared data and the task's circuit, after checking that circuit against the task's
verifier, and refuses before anything is staked what cannot work (no data of its own to train the circuit on, less
than one whole batch, a task file whose circuit or [audit] table is not the task's, a restart whose data or journal
does not give the dataset it registered). The command-line hospitals, aggregator and watcher then run a round for
real: the watcher draws and opens an audit of every update, every hospital proves its step with a real EZKL proof,
the task's verifier accepts it on the embedded chain, and the round is finalized.

And the cheaters: when every update of a round fails its audit (two hospitals that submit an update they did not
train), every update is dropped, the aggregator proposes nothing over fewer than minParticipants updates, the round
fails (failRound), and the next round runs on.

The circuit's keys are set up once for the module, in its own cache, at the coarse scale of the tests (2^-8, logits
clipped to +-4), so a proof takes seconds."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedchain.chain import connect
from fedchain.chain.audits import AuditStatus
from fedchain.chain.coordinator import Coordinator, RoundPhase, RoundStatus
from fedchain.deploy import runner
from fedchain.deploy.data import load_hospital_data
from fedchain.deploy.errors import DeployError
from fedchain.roles import Journal
from fedchain.roles.aggregator import Aggregator
from fedchain.roles.audit import AuditedParticipant, UntrainedParticipant
from fedchain.task import audit_step
from fedchain.task.read import parse_task
from tests.deploy.conftest import HOSPITALS, DeployedTask, deploy_task
from tests.deploy.test_audited_task import AUDITED

EVERY_UPDATE = {**AUDITED, "rounds": 2, "audit": {**AUDITED["audit"], "audit_bps": 10_000}}  # type: ignore[dict-item]
"""Every revealed update drawn for one audit of one of its 2 steps."""


@pytest.fixture(scope="module", autouse=True)
def zk_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache of circuit keys for the module (set up by the first `task create`, then read)."""
    cache = tmp_path_factory.mktemp("zk-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FEDCHAIN_ZK_CACHE", str(cache))
        yield cache


def hospital(task: DeployedTask, index: int, *, journal: Path | None = None, data: str | None = None,
             config: object = None) -> AuditedParticipant:
    """Hospital ``index`` (dev account index + 1) built as `fedchain participant run --data` builds it."""
    spec = task.config if config is None else config
    assert not isinstance(spec, (str, type(None)))
    prepared = load_hospital_data(data or f"breast_cancer:{index}/{HOSPITALS}", spec)  # type: ignore[arg-type]
    agent = runner.participant(task.coordinator, task.federation.store, task.created.task_id,
                               task.chain.accounts[index + 1], task=spec,  # type: ignore[arg-type]
                               client=runner.builtin_client(spec, prepared),  # type: ignore[arg-type]
                               journal=journal or task.tmp_path / f"journal-{index}.json", stake=None, data=prepared)
    assert isinstance(agent, AuditedParticipant)
    return agent


@pytest.mark.slow
def test_command_line_hospitals_prove_their_drawn_steps(tmp_path: Path) -> None:
    config = parse_task(EVERY_UPDATE)
    with connect("embedded") as chain:
        task = deploy_task(chain, tmp_path, config)
        coordinator, task_id, federation = task.coordinator, task.created.task_id, task.federation
        assert isinstance(coordinator, Coordinator)
        refused = tmp_path / "refused.json"
        prepared = load_hospital_data(f"breast_cancer:0/{HOSPITALS}", config)

        def refuses(message: str, **kwargs: object) -> None:
            options: dict[str, object] = {"task": config, "client": runner.builtin_client(config, prepared),
                                          "data": prepared} | kwargs
            with pytest.raises(DeployError, match=message):
                runner.participant(coordinator, federation.store, task_id, chain.accounts[1], journal=refused,
                                   stake=None, **options)  # type: ignore[arg-type]

        # Refused before anything is staked: ...
        refuses(r"task 1 is audited: its members train the task's circuit step on their own prepared data .* give "
                r"--data", data=None)  # ... a hospital's own client (it cannot train the circuit's step),
        refuses(r"the training data \(breast_cancer/0\) does not fit task 1's step circuit: 7 rows make no whole "
                r"batch of 8 \(the task's audit.batch_size\)",
                data=prepared.subset(list(range(7))))  # ... less than one whole batch,
        plain = parse_task({key: value for key, value in EVERY_UPDATE.items() if key != "audit"})
        refuses(r"task 1 is audited .* but the task file has no \[audit\] table", task=plain)  # ... no [audit],
        other_rules = parse_task({**EVERY_UPDATE, "audit": {**EVERY_UPDATE["audit"], "proof_window": 300}})
        refuses(r"the task file's \[audit\] table is not task 1's: proof_window 300 \(chain: 120\)", task=other_rules)
        other_step = parse_task({**EVERY_UPDATE, "training": {"learning_rate": 0.2, "momentum": 0.0}})
        refuses(r"task 1's verifier 0x[0-9a-fA-F]{40} was not built from this hospital's step circuit \(30 features, "
                r"batches of 8, learning rate 0.2, .*: its proofs would be refused", task=other_step)  # ... a circuit
        assert not refused.exists()  # that is not the one its verifier checks
        assert not coordinator.member(task_id, chain.accounts[1].address).joined

        hospitals = [hospital(task, index) for index in range(2)]
        federation.participants.extend(hospitals)
        task.add_aggregator()
        task.add_watcher()
        federation.run_until(lambda: coordinator.round_view(task_id, 0).status == RoundStatus.FINALIZED)

        for agent in hospitals:
            registered = coordinator.dataset_of(task_id, agent.address)
            assert (registered.root, registered.batches) == (agent.data.root, agent.data.batches)
            (proof,) = agent.proofs  # one step drawn (audit_steps = 1), proven and accepted
            assert proof.round == 0 and proof.accepted and proof.gas is not None and proof.gas > 500_000
            assert coordinator.audit_of(task_id, 0, agent.address, proof.step).status == AuditStatus.PROVEN
        assert coordinator.round_view(task_id, 0).included == 2

        # A restarted hospital proves what it committed: its journal's seed gives the registered dataset ...
        first = hospitals[0]
        copy = tmp_path / "restarted.json"
        shutil.copy(tmp_path / "journal-0.json", copy)
        assert hospital(task, 0, journal=copy).data.root == first.data.root
        # ... and without it, or with other data, it is refused.
        with pytest.raises(DeployError, match=r"registered a dataset in task 1, but the journal .*lost.json holds no "
                                              r"dataset seed"):
            hospital(task, 0, journal=tmp_path / "lost.json")
        shutil.copy(tmp_path / "journal-0.json", tmp_path / "other-data.json")
        with pytest.raises(DeployError, match=r"registered dataset root 0x[0-9a-f]{64} \(\d+ batches\) in task 1, "
                                              r"but --data with the journal's seed gives"):
            hospital(task, 0, journal=tmp_path / "other-data.json", data=f"breast_cancer:2/{HOSPITALS}")


@pytest.mark.slow
def test_a_round_whose_updates_all_fail_their_audits_fails_and_the_next_one_opens(tmp_path: Path) -> None:
    """Two hospitals submit updates they did not train in round 0: each tries to prove its drawn step, the verifier
    refuses, the watcher settles both audits as failed, and no update remains. An aggregator whose step read the
    round before those drops (a watcher in another process settled them in between) proposes nothing over the empty
    set, and its chores then fail the round (failRound); round 1 opens."""
    config = parse_task(EVERY_UPDATE)
    with connect("embedded") as chain:
        task = deploy_task(chain, tmp_path, config)
        coordinator, task_id, federation = task.coordinator, task.created.task_id, task.federation
        assert isinstance(coordinator, Coordinator)
        step = audit_step(config, 30)
        for index in range(2):
            data = load_hospital_data(f"breast_cancer:{index}/{HOSPITALS}", config)
            federation.participants.append(UntrainedParticipant(
                coordinator, federation.store, task_id, chain.accounts[index + 1],
                client=runner.builtin_client(config, data), fit_config={},
                journal=Journal(tmp_path / f"cheat-{index}.json", owner=chain.accounts[index + 1].address,
                                task_id=task_id),
                rounds=frozenset({0}), step=step, features=data.features, labels=data.labels))
        task.add_watcher()
        federation.run_until(lambda: federation.phase() == RoundPhase.AWAITING_FAILURE)

        assert coordinator.round_view(task_id, 0).included == 0
        for agent in federation.participants:
            assert isinstance(agent, UntrainedParticipant)
            assert [(proof.round, proof.accepted) for proof in agent.proofs] == [(0, False)]  # tried; refused
            (opened,) = [audit for audit in coordinator.audits_opened(task_id, 0)
                         if audit.participant.lower() == agent.address.lower()]
            assert coordinator.audit_of(task_id, 0, agent.address, opened.step).status == AuditStatus.FAILED

        task.add_aggregator()
        (aggregator,) = federation.aggregators
        assert isinstance(aggregator, Aggregator)
        aggregator._propose(0, coordinator.task_state(task_id))  # what a step that read PROPOSE before the drops does
        assert coordinator.proposals(task_id, 0) == []
        federation.run_until(lambda: coordinator.task_state(task_id).current_round == 1)
        assert coordinator.round_view(task_id, 0).status == RoundStatus.FAILED
        assert "failRound" in {record.kind for record in chain.gas_records}
