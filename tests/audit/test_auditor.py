"""Issue #13's acceptance criterion: an independent reader recomputes every round of a plain and a secure task
from docs/protocol.md and the chain alone.

fedchain only produces the chain and the blobs here; ``tests/audit/auditor.py`` is written from the document and
imports nothing of fedchain.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import torch
from web3 import Web3

from fedchain.chain import connect
from fedchain.chain.coordinator import TaskParams, TaskStatus
from fedchain.learn import federate, load_breast_cancer
from fedchain.roles import (
    BaseAggregator,
    BaseParticipant,
    ColludingValidator,
    DroppingParticipant,
    OutOfRangeParticipant,
    SecureStep,
    TamperingAggregator,
    Validator,
)
from fedchain.score.constants import NO_SCORE
from fedchain.task.read import parse_task
from tests.audit.auditor import (
    Auditor,
    Chain,
    TaskAudit,
    audit_task,
    blob_path,
    header_problem,
    in_cohort,
    mask_stream,
    model_spec_hash,
)
from tests.deploy.conftest import HOSPITALS as DEPLOYED_HOSPITALS
from tests.deploy.conftest import RAW_CONFIG, SECURE_RAW_CONFIG, deploy_task
from tests.roles.conftest import NUM_CLIENTS, make_federation, secure_task_template, task_template
from tests.roles.test_scoring import FreeRider, Poisoner, held_out, scored_federation, settle

AGGREGATOR, WATCHER = 6, 7


@dataclass(frozen=True)
class Finished:
    """A completed task: what the auditor is handed."""

    w3: Web3
    coordinator: str
    task_id: int
    store: Path


@dataclass(frozen=True)
class Scenario:
    """A task to run: its rules, its hospitals, and how hospital 0 behaves."""

    template: TaskParams
    hospitals: int = NUM_CLIENTS
    first: type[BaseParticipant] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    aggregator: type[BaseAggregator] | None = None
    aggregator_options: dict[str, Any] = field(default_factory=dict)
    watched: bool = True


PLAIN = Scenario(task_template(3))
PLAIN_WITH_VIOLATION = Scenario(task_template(2), first=OutOfRangeParticipant,
                                options={"rounds": frozenset({1}), "coordinate": 40})
"""Hospital 0 reveals an out-of-range update in round 1; the watcher proves it and it is dropped (9.2)."""
SECURE = Scenario(secure_task_template(2), first=DroppingParticipant,
                  options={"rounds": frozenset({1}), "before": SecureStep.UPLOAD})
"""Four members (a complete graph); hospital 0 commits in round 1 and never uploads: it is in D and its mask key
is in the transcript."""
UNWATCHED_WRONG_AGGREGATE = Scenario(task_template(2), aggregator=TamperingAggregator, watched=False,
                                     aggregator_options={"rounds": frozenset({1}), "coordinate": 5, "delta": 1})
"""Nobody watches, and the aggregator adds 1 to coordinate 5 of round 1's aggregate: the wrong model finalizes."""
SAMPLED = Scenario(replace(task_template(3), cohort_cap=2, min_participants=1))
"""Four members for two seats: round 0 opens at the first join (not sampled), rounds 1 and 2 are sampled (8.2)."""
ROBUST_RULES = {"median": Scenario(replace(task_template(2), rule=1)),
                "trimmed_mean": Scenario(replace(task_template(2), rule=2, rule_param=2_500))}
"""Plain tasks of the order-statistic rules (sections 4.2 and 4.3), every hospital honest."""
SECURE_RING = replace(SECURE, template=replace(secure_task_template(2), neighbours=4, threshold=3), hospitals=6)
"""Six members with k = 4: a real ring (each member misses one other), so the shuffle of 10.5 decides the masks."""


def run_task(tmp: Path, scenario: Scenario) -> Iterator[Finished]:
    """Run a task to completion with its hospitals, an aggregator and a watcher."""
    torch.set_num_threads(1)
    split = federate(load_breast_cancer(), "dirichlet", num_clients=scenario.hospitals, alpha=1.0, seed=11)
    federations = make_federation(tmp, split, scenario.template)
    federation = next(federations)
    try:
        federation.add_participant(0, scenario.first, **scenario.options)
        for hospital in range(1, scenario.hospitals):
            federation.add_participant(hospital)
        federation.add_aggregator(AGGREGATOR, scenario.aggregator, **scenario.aggregator_options)
        if scenario.watched:
            federation.add_watcher(WATCHER)
        federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
        yield Finished(federation.chain.w3, federation.coordinator.address, federation.task_id, tmp / "blobs")
    finally:
        federations.close()


@pytest.fixture(scope="module")
def plain_task(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Finished]:
    """A finished three-round plain task, every hospital honest."""
    yield from run_task(tmp_path_factory.mktemp("plain"), PLAIN)


@pytest.fixture(scope="module")
def secure_task(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Finished]:
    """A finished two-round secure task, with a member dropped before uploading in round 1."""
    yield from run_task(tmp_path_factory.mktemp("secure"), SECURE)


def audit(task: Finished, store: Path | None = None) -> TaskAudit:
    return audit_task(task.w3, task.coordinator, task.task_id, store or task.store)


def tampered_store(task: Finished, tmp: Path, ref: bytes) -> Path:
    """A copy of the task's store with one payload byte of blob ``ref`` flipped."""
    store = tmp / "store"
    shutil.copytree(task.store, store)
    path = blob_path(store, ref)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    return store


def assert_every_round_recomputed(report: TaskAudit, rounds: int) -> None:
    assert [r.status for r in report.rounds] == ["finalized"] * rounds
    for r in report.rounds:
        assert r.problems == [], (r.round, r.problems)
        assert r.recomputed_root == r.anchored_root is not None
    assert report.problems == [] and report.verified


def test_the_spec_hash_and_the_mask_stream_match_the_documents_examples() -> None:
    header = {"kind": "model", "numParams": 10, "scaleBits": 16, "shapes": [["fc.weight", [2, 4]], ["fc.bias", [2]]],
              "version": 1, "wordsPerLeaf": 2, "root": "0x" + "00" * 32}
    assert model_spec_hash(header).hex() == "eb98afea7cdddf153c65370c7972146c0518cb1d141c0dbe5e31aafb852dc26f"
    data = {"features": ["age", "bmi", "bp", "dose"], "mean": ["52.5", "27.25", "120.0", "5e-05"],
            "missing": "refuse", "normalization": "standardize", "scale": ["12.0", "4.5", "15.5", "2e-05"]}
    declared = {**header, "data": data}
    assert header_problem(declared) == ""
    assert model_spec_hash(declared).hex() == "e9bf7209ed4b5650094cbb754eaf888f40252cf1fc1f66ca256cce35069a96c6"
    assert "not a number in canonical form" in header_problem({**header, "data": {**data, "mean": ["52.50"] * 4}})
    assert "only a model blob carries data" in header_problem({**declared, "kind": "update"})
    # ChaCha20 with a zero key, zero nonce and counter 0 (the original cipher's first test vector)
    first = mask_stream(bytes(32), 2).astype("<u8").tobytes().hex()
    assert first == "76b8e0ada0f13d90405d6ae55386bd28"


def test_the_auditor_recomputes_every_plain_round(plain_task: Finished) -> None:
    report = audit(plain_task)

    assert report.mode == 0
    assert_every_round_recomputed(report, 3)
    assert all(len(r.included) == NUM_CLIENTS for r in report.rounds)


def test_the_auditor_recomputes_every_secure_round(secure_task: Finished) -> None:
    report = audit(secure_task)

    assert report.mode == 1
    assert_every_round_recomputed(report, 2)
    assert [len(r.included) for r in report.rounds] == [NUM_CLIENTS, NUM_CLIENTS - 1], "one dropped in round 1"


@pytest.mark.parametrize("mode", ["plain", "secure"])
def test_the_auditor_recomputes_a_deployed_task_whose_models_carry_its_preprocessing(tmp_path: Path,
                                                                                    mode: str) -> None:
    """A task made by `fedchain task create`: every model blob carries the task file's [data], which the
    model-spec hash pins; the aggregator's models carry the initial one's."""
    with connect("embedded") as chain:
        task = deploy_task(chain, tmp_path, parse_task(SECURE_RAW_CONFIG if mode == "secure" else RAW_CONFIG))
        for index in range(DEPLOYED_HOSPITALS):
            task.add_hospital(index)
        task.add_aggregator()
        task.add_watcher()
        task.federation.run_until(lambda: task.federation.state().status == TaskStatus.COMPLETED)
        report = audit_task(chain.w3, task.coordinator.address, task.created.task_id, tmp_path / "blobs")
        assert_every_round_recomputed(report, 2)
        created = Auditor(chain.w3, task.coordinator.address, task.created.task_id, tmp_path / "blobs")
        created.audit()
        data = created.initial_header["data"]
        assert data["normalization"] == "standardize" and data["missing"] == "refuse"
        assert [float(text) for text in data["mean"]] == list(task.config.data.mean)


def test_the_auditor_recomputes_a_secure_ring_with_a_dropout(tmp_path: Path) -> None:
    for task in run_task(tmp_path, SECURE_RING):
        report = audit(task)

        assert_every_round_recomputed(report, 2)
        assert [len(r.included) for r in report.rounds] == [6, 5]


def test_the_auditor_recomputes_sampled_rounds_and_their_cohorts(tmp_path: Path) -> None:
    for task in run_task(tmp_path, SAMPLED):
        report = audit(task)
        assert_every_round_recomputed(report, 3)
        assert [r.sampled_from for r in report.rounds] == [0, NUM_CLIENTS, NUM_CLIENTS]
        assert all(len(r.included) <= 2 for r in report.rounds)
        chain = Chain(task.w3, task.coordinator)  # the document's rule is the contract's, for every account
        for round in (1, 2):
            (sampled,) = chain.logs("CohortSampled", task.task_id, round)
            for account in task.w3.eth.accounts[:8]:
                (picked,) = chain.call("inCohort(uint256,uint256,address)", ["uint256", "uint256", "address"],
                                       [task.task_id, round, account], ["bool"])
                assert picked == in_cohort(sampled.args["seed"], NUM_CLIENTS, 2, account), (round, account)


@pytest.mark.parametrize("rule", sorted(ROBUST_RULES))
def test_the_auditor_recomputes_every_round_of_a_robust_rule(tmp_path: Path, rule: str) -> None:
    for task in run_task(tmp_path, ROBUST_RULES[rule]):
        assert_every_round_recomputed(audit(task), 2)


def test_the_auditor_leaves_out_an_update_dropped_for_a_violation(tmp_path: Path) -> None:
    for task in run_task(tmp_path, PLAIN_WITH_VIOLATION):
        report = audit(task)

        assert_every_round_recomputed(report, 2)
        assert [len(r.included) for r in report.rounds] == [NUM_CLIENTS, NUM_CLIENTS - 1]


def test_a_tampered_update_blob_is_reported(plain_task: Finished, tmp_path: Path) -> None:
    reveal_ref = _refs(plain_task, "Revealed", 1)[0]
    store = tampered_store(plain_task, tmp_path, reveal_ref)

    tampered = audit(plain_task, store)

    assert not tampered.verified
    assert tampered.rounds[0].verified and tampered.rounds[2].verified, "other rounds unaffected"
    (problem,) = tampered.rounds[1].problems
    assert f"0x{reveal_ref.hex()}" in problem and "sha256" in problem
    assert tampered.rounds[1].recomputed_root is None


def test_a_tampered_masked_blob_is_reported(secure_task: Finished, tmp_path: Path) -> None:
    ref = _refs(secure_task, "Uploaded", 0)[0]
    store = tampered_store(secure_task, tmp_path, ref)

    tampered = audit(secure_task, store)

    assert not tampered.rounds[0].verified and tampered.rounds[1].verified
    assert any("sha256" in problem for problem in tampered.rounds[0].problems)


def test_an_unchallenged_wrong_aggregate_is_reported(tmp_path: Path) -> None:
    """The chain finalized a wrong model (nobody watched); the auditor's own arithmetic catches it."""
    for task in run_task(tmp_path, UNWATCHED_WRONG_AGGREGATE):
        report = audit(task)

        assert [r.status for r in report.rounds] == ["finalized", "finalized"]
        assert report.rounds[0].verified
        wrong = report.rounds[1]
        assert not wrong.verified and wrong.recomputed_root != wrong.anchored_root
        assert any("anchored root" in problem for problem in wrong.problems)


def test_a_wrong_salt_does_not_open_the_commitment(plain_task: Finished) -> None:
    """The salt read from the reveal's calldata opens the commitment read from the commit's calldata (section 5);
    any other salt does not."""
    auditor = Auditor(plain_task.w3, plain_task.coordinator, plain_task.task_id, plain_task.store)
    chain = auditor.chain
    revealed = chain.logs("Revealed", plain_task.task_id, 0)[0]
    who = revealed.args["participant"]
    (committed,) = [log for log in chain.logs("Committed", plain_task.task_id, 0) if log.args["participant"] == who]
    _, commit_hash = chain.calldata(committed.tx, "commit(uint256,bytes32)", ["uint256", "bytes32"])
    _, root, samples, salt, _ = chain.calldata(revealed.tx, "reveal(uint256,bytes32,uint256,bytes32,bytes32)",
                                               ["uint256", "bytes32", "uint256", "bytes32", "bytes32"])
    wrong = bytes([salt[0] ^ 1]) + salt[1:]

    assert auditor.commit_hash(0, who, root, samples, salt) == commit_hash
    assert auditor.commit_hash(0, who, root, samples, wrong) != commit_hash


def _refs(task: Finished, event: str, round: int) -> list[bytes]:
    """The blob references of a round's ``Revealed`` or ``Uploaded`` events."""
    return [log.args["blobRef"] for log in Chain(task.w3, task.coordinator).logs(event, task.task_id, round)]


def test_the_auditor_imports_nothing_of_fedchain() -> None:
    source = Path(__file__).with_name("auditor.py").read_text()
    imported = {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import) for alias in node.names}
    assert imported and not any(str(name).split(".")[0] in ("fedchain", "tests") for name in imported), imported


class AbstainingValidator(Validator):
    """Scores honestly but abstains (NO_SCORE) on the ``skipped`` addresses' updates."""

    def __init__(self, *args: Any, skipped: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.skipped = frozenset(address.lower() for address in skipped)

    def scores(self, round: int, participants: Sequence[str], scored: Any) -> list[int]:
        """Its honest scores, NO_SCORE for the skipped."""
        honest = super().scores(round, participants, scored)
        return [NO_SCORE if participant.lower() in self.skipped else score
                for participant, score in zip(participants, honest, strict=True)]


def test_an_update_dropped_unscored_is_left_out_of_the_recomputed_model(tmp_path: Path) -> None:
    """Section 12.4: the only validator abstains on the poisoner's update, which is dropped unscored (no slash);
    the round finalizes over the three scored updates, and the auditor, reading UnscoredUpdateDropped, recomputes
    that model and that pay."""
    torch.set_num_threads(1)
    split = federate(load_breast_cancer(), "iid", num_clients=4, seed=11)
    federations = scored_federation(tmp_path, split, committee=1)
    federation = next(federations)
    try:
        for hospital in range(3):
            federation.add_participant(hospital)
        poisoner = federation.add_participant(3, Poisoner, rounds=frozenset({0}))
        federation.add_validator(7, AbstainingValidator, client=held_out(split, 0),
                                 skipped=frozenset({poisoner.address}))
        federation.add_aggregator(11)
        federation.add_watcher(12)
        settle(federation)
        task = Finished(federation.chain.w3, federation.coordinator.address, federation.task_id, tmp_path / "blobs")
        (drop,) = federation.coordinator.unscored_drops(task.task_id)
        assert (drop.round, drop.participant) == (0, poisoner.address)
        assert federation.coordinator.scored_out(task.task_id) == []
        report = audit(task)
        assert report.verified, report.problems
        (round_0,) = report.rounds
        assert round_0.status == "finalized" and poisoner.address not in round_0.included
        assert len(round_0.included) == 3
    finally:
        federations.close()


def test_a_scored_task_is_recomputed_with_its_scored_out_updates_and_pay_by_points(tmp_path: Path) -> None:
    """Section 12: the auditor leaves the free rider's scored-out update out of the model, recomputes its median
    from the ScoresRevealed events, and the reward per score point from the committee's reveals, less the
    colluding validator's, slashed before the round closed (12.5); a changed threshold shows that the medians are
    really checked."""
    torch.set_num_threads(1)
    split = federate(load_breast_cancer(), "iid", num_clients=4, seed=11)
    federations = scored_federation(tmp_path, split, committee=4)
    federation = next(federations)
    try:
        for hospital in range(3):
            federation.add_participant(hospital)
        free_rider = federation.add_participant(3, FreeRider)
        for index in range(3):
            federation.add_validator(7 + index, client=held_out(split, index))
        colluder = federation.add_validator(10, ColludingValidator, client=held_out(split, 0),
                                            favoured=frozenset({free_rider.address}))
        federation.add_aggregator(11)
        federation.add_watcher(12)
        settle(federation)
        task = Finished(federation.chain.w3, federation.coordinator.address, federation.task_id, tmp_path / "blobs")
        report = audit(task)
        assert report.verified, report.problems
        (round_0,) = report.rounds
        assert round_0.status == "finalized" and free_rider.address not in round_0.included
        assert len(round_0.included) == 3
        (slash,) = federation.coordinator.validator_slashes(task.task_id)
        assert slash.validator == colluder.address

        auditor = Auditor(task.w3, task.coordinator, task.task_id, task.store)
        assert auditor.scoring is not None
        assert auditor.medians(0)[free_rider.address] < auditor.scoring["minScoreBps"]
        revealed = auditor.chain.logs("ScoresRevealed", task.task_id, 0)
        assert len(revealed) == 4 and auditor._paid_reveals(0) == 3, "the colluder's fee forfeited"
        auditor.scoring = {**auditor.scoring, "minScoreBps": 0}
        strict = auditor.audit()
        assert any("scored out" in problem for problem in strict.rounds[0].problems)
    finally:
        federations.close()
