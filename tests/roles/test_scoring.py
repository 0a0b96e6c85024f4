"""Contribution scores end to end (docs/protocol.md section 12) on the embedded chain with real training: validators
score every update on their own held-out data; a free rider and a Sybil pair are scored out, slashed and paid
nothing while honest hospitals are paid by their median score; a lying validator is outvoted and slashed for its
deviation, a silent one for its silence; honest validators are paid their fee and never slashed; in a round whose
committee stayed silent every update is dropped unscored, nobody is slashed for it, and the round fails rather than
average in a poisoned update."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from tests.roles.conftest import FUNDS, STAKE, task_template

from fedchain.chain import connect
from fedchain.chain.coordinator import Coordinator, RoundStatus
from fedchain.chain.scoring import ScoringParams, ValidatorFault
from fedchain.client.jobs import FitResult
from fedchain.learn import (
    FederatedSplit,
    ModelSpec,
    TorchTrainer,
    TrainConfig,
    federate,
    initial_parameters,
    load_breast_cancer,
)
from fedchain.roles import ColludingValidator, Participant, SilentValidator, Validator
from fedchain.score.constants import SCORE_ONE
from fedchain.sim import Federation
from fedchain.sim.ledger import Ledger
from fedchain.sim.records import Party
from fedchain.storage import LocalBlobStore

MODEL = ModelSpec("mlp", in_features=30, num_classes=2)
TRAINING = TrainConfig(local_epochs=1, batch_size=32, learning_rate=0.05, seed=3)
HONEST = (0, 1, 2)
"""The honest hospitals' parts of the split; part 3 is the free rider's and the Sybils' data."""
HELD_OUT = 3
"""Validators hold a third of the test split each."""
ACCOUNTS = 14
HONEST_SCORE = 6_000
"""An honest update's median is at least this."""


class FreeRider(Participant):
    """Sends an update of zeros and declares the examples it holds."""

    def make_update(self, round: int, global_model: NDArray[np.int32],
                    fitted: FitResult) -> tuple[NDArray[np.int32], int]:
        _, sample_count = super().make_update(round, global_model, fitted)
        return np.zeros(global_model.size, dtype=np.int32), sample_count


class Poisoner(Participant):
    """Sends its update negated and tripled in ``rounds`` (a poisoned update, in range), honestly otherwise."""

    def __init__(self, *args: object, rounds: frozenset[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.poison_rounds = rounds

    def make_update(self, round: int, global_model: NDArray[np.int32],
                    fitted: FitResult) -> tuple[NDArray[np.int32], int]:
        update, sample_count = super().make_update(round, global_model, fitted)
        if round in self.poison_rounds:
            update = (-3 * update.astype(np.int64)).clip(-2**20, 2**20).astype(np.int32)
        return update, sample_count


@pytest.fixture(scope="module")
def iid_split() -> FederatedSplit:
    """Breast cancer split evenly over four parts: the reference rule's honest updates agree there."""
    return federate(load_breast_cancer(), "iid", num_clients=4, seed=11)


def trainer(split: FederatedSplit, part: int) -> TorchTrainer:
    return TorchTrainer.from_spec(MODEL, init_seed=0, train_data=split.clients[part], config=TRAINING)


def held_out(split: FederatedSplit, index: int) -> TorchTrainer:
    """A validator's client: its third of the test split to evaluate on."""
    part = split.test.subset(np.array_split(np.arange(len(split.test)), HELD_OUT)[index])
    return TorchTrainer.from_spec(MODEL, init_seed=0, train_data=part, eval_data=part)


def scored_federation(tmp_path: Path, split: FederatedSplit, committee: int, rounds: int = 1) -> Iterator[Federation]:
    """A plain task of ``rounds`` rounds scored by a committee of ``committee``; hospital h trains on part h of the
    split."""
    scoring = ScoringParams(committee=committee, score_window=100, validator_stake=STAKE)
    with connect("embedded", dev_accounts=ACCOUNTS) as chain:
        yield Federation.launch(
            chain, LocalBlobStore(tmp_path / "blobs"), tmp_path / "journals", template=task_template(rounds),
            parameters=initial_parameters(MODEL, seed=0), funds=FUNDS, scoring=scoring,
            evaluator=TorchTrainer.from_spec(MODEL, init_seed=0, train_data=split.test),
            client_for=lambda hospital: trainer(split, hospital))


def settle(federation: Federation) -> None:
    """Run the task to its end and until every agent has settled (claimed, withdrawn)."""
    federation.run_until(lambda: all(agent.finished() for agent in federation.agents()))


def median(federation: Federation, participant: Participant) -> int:
    return federation.coordinator.median_score(federation.task_id, 0, participant.address)[1]


def gain(federation: Federation, address: str) -> int:
    return federation.token.balance_of(address) - FUNDS


def test_free_riders_and_sybils_are_scored_out_slashed_and_paid_nothing(
        tmp_path: Path, iid_split: FederatedSplit) -> None:
    federations = scored_federation(tmp_path, iid_split, committee=4)
    federation = next(federations)
    try:
        honest = [federation.add_participant(hospital) for hospital in HONEST]
        free_rider = federation.add_participant(3, FreeRider)
        sybils = [federation.add_participant(hospital, client=trainer(iid_split, 3)) for hospital in (4, 5)]
        validators = [federation.add_validator(7 + index, client=held_out(iid_split, index))
                      for index in range(HELD_OUT)]
        silent = federation.add_validator(10, SilentValidator, client=held_out(iid_split, 0), rounds=frozenset({0}))
        federation.add_aggregator(11)
        federation.add_watcher(12)

        settle(federation)

        coordinator = federation.coordinator
        assert isinstance(coordinator, Coordinator)
        task_id = federation.task_id
        cheats = [free_rider, *sybils]
        assert {event.participant for event in coordinator.scored_out(task_id)} == {p.address for p in cheats}
        for cheat in cheats:
            assert median(federation, cheat) == 0
            assert gain(federation, cheat.address) == -STAKE // 2, "half the stake slashed, nothing earned"
        assert len(coordinator.finalized_models(task_id)) == 1
        per_point = coordinator.round_view(task_id, 0).reward_per_weight
        for participant in honest:
            assert median(federation, participant) >= HONEST_SCORE
            assert gain(federation, participant.address) == median(federation, participant) * per_point > 0
        (slash,) = coordinator.validator_slashes(task_id)
        assert (slash.validator, slash.fault, slash.slashed) == (silent.address, ValidatorFault.SILENT, STAKE // 10)
        fee = federation.params.reward_per_round * 500 // 10_000 // len(validators)
        for validator in validators:
            bounty = slash.bounty if slash.challenger == validator.address else 0
            assert gain(federation, validator.address) == fee + bounty
        assert gain(federation, silent.address) < 0
        assert all(not watcher.findings for watcher in federation.watchers)
    finally:
        federations.close()


def test_a_lying_validator_is_outvoted_and_slashed_for_its_deviation(
        tmp_path: Path, iid_split: FederatedSplit) -> None:
    federations = scored_federation(tmp_path, iid_split, committee=3)
    federation = next(federations)
    try:
        honest = [federation.add_participant(hospital) for hospital in HONEST]
        free_rider = federation.add_participant(3, FreeRider)
        validators: list[Validator] = [federation.add_validator(7 + index, client=held_out(iid_split, index))
                                       for index in range(2)]
        liar = federation.add_validator(9, ColludingValidator, client=held_out(iid_split, 2),
                                        favoured=frozenset({free_rider.address}))
        federation.add_aggregator(11)
        federation.add_watcher(12)

        settle(federation)

        coordinator = federation.coordinator
        assert isinstance(coordinator, Coordinator)
        task_id = federation.task_id
        words = {participant.address: coordinator.scores_of(task_id, 0, participant.address)
                 for participant in [*honest, free_rider]}
        liar_lane = coordinator.ballot(task_id, 0, liar.address).lane
        assert (words[free_rider.address] >> (16 * liar_lane)) & 0xFFFF == SCORE_ONE + 1, "it scored the free rider 1"
        assert median(federation, free_rider) == 0
        assert [event.participant for event in coordinator.scored_out(task_id)] == [free_rider.address]
        assert gain(federation, free_rider.address) == -STAKE // 2
        for participant in honest:
            assert median(federation, participant) >= HONEST_SCORE
            assert gain(federation, participant.address) > 0
        (slash,) = coordinator.validator_slashes(task_id)
        assert (slash.validator, slash.fault) == (liar.address, ValidatorFault.DEVIATED)
        assert slash.challenger in {validator.address for validator in validators}
        assert all(gain(federation, validator.address) > 0 for validator in validators)
    finally:
        federations.close()


def test_a_validator_restarted_after_journaling_its_scores_commits_and_reveals_them_without_scoring_again(
        tmp_path: Path, iid_split: FederatedSplit, monkeypatch: pytest.MonkeyPatch) -> None:
    federations = scored_federation(tmp_path, iid_split, committee=1)
    federation = next(federations)
    try:
        for hospital in HONEST:
            federation.add_participant(hospital)
        first = federation.add_validator(7, client=held_out(iid_split, 0))
        federation.add_aggregator(11)
        coordinator = federation.coordinator
        assert isinstance(coordinator, Coordinator)

        def crash(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt  # killed after journaling, before the commitment went out

        monkeypatch.setattr(coordinator, "commit_scores", crash)
        with pytest.raises(KeyboardInterrupt):
            federation.run_rounds(1)
        monkeypatch.undo()
        journaled = first.journal.score_record(0)
        assert journaled is not None and first.actions[-1] == "scored 0"
        federation.validators[0] = restarted = Validator(coordinator, federation.store, federation.task_id,
                                                         first.account, client=held_out(iid_split, 0),
                                                         journal=federation.journal(7))

        settle(federation)

        assert restarted.actions[:2] == ["commitScores 0", "revealScores 0"], "the journaled scores, not new ones"
        (revealed,) = coordinator.revealed_scores(federation.task_id, 0)
        assert (revealed.participants, revealed.scores) == (journaled.participants, journaled.scores)
    finally:
        federations.close()


def test_a_silent_committee_leaves_every_update_unscored_so_the_round_fails_without_the_poisoned_one(
        tmp_path: Path, iid_split: FederatedSplit) -> None:
    federations = scored_federation(tmp_path, iid_split, committee=1, rounds=2)
    federation = next(federations)
    try:
        honest = [federation.add_participant(hospital) for hospital in HONEST]
        attacker = federation.add_participant(3, Poisoner, rounds=frozenset({0}))
        federation.add_validator(7, SilentValidator, client=held_out(iid_split, 0), rounds=frozenset({0}))
        aggregator = federation.add_aggregator(11)
        watcher = federation.add_watcher(12)

        settle(federation)

        coordinator = federation.coordinator
        assert isinstance(coordinator, Coordinator)
        task_id = federation.task_id
        everyone = {participant.address for participant in [*honest, attacker]}
        drops = coordinator.unscored_drops(task_id)
        assert {drop.round for drop in drops} == {0}
        dropped = {drop.participant for drop in drops}
        assert attacker.address in dropped, "the poisoned update is dropped unscored"
        assert len(dropped) >= len(everyone) - 1, "until fewer than minParticipants are left"
        assert {drop.caller for drop in drops} <= {aggregator.address, watcher.address}
        assert coordinator.round_view(task_id, 0).status == RoundStatus.FAILED, "no model over unscored updates"
        assert [model.round for model in coordinator.finalized_models(task_id)] == [1]
        assert coordinator.scored_out(task_id) == [], "nobody scored out"
        for participant in [*honest, attacker]:
            assert gain(federation, participant.address) >= 0, "no member slashed for its committee's silence"
            assert coordinator.median_score(task_id, 1, participant.address)[0] == 1, "round 1 is scored"
        assert all(not w.findings for w in federation.watchers)

        parties = [Party(f"h{index}", "participant", participant.address)
                   for index, participant in enumerate([*honest, attacker])]
        ledger = Ledger(coordinator, federation.token, task_id, parties)
        assert ledger.status(0) == "failed"
        assert set(ledger.dropped(0)) == {party.name for party in parties
                                          if party.address in dropped}, "counted as drops"
        assert [slash for slash in ledger.slashes() if slash.role == "participant"] == [], "without a slash"
    finally:
        federations.close()


def test_a_wholly_silent_committee_is_slashed_and_the_committeeless_round_after_it_fails_too(
        tmp_path: Path, iid_split: FederatedSplit) -> None:
    """The benchmark's case: both seats stay silent in round 0 and are slashed for it although the round failed
    (its updates were dropped unscored after the score windows), so round 1 has no committee; the poisoner's
    updates of both rounds are dropped unscored, both rounds fail and no model is anchored."""
    federations = scored_federation(tmp_path, iid_split, committee=2, rounds=2)
    federation = next(federations)
    try:
        honest = [federation.add_participant(hospital) for hospital in HONEST]
        attacker = federation.add_participant(3, Poisoner, rounds=frozenset({0, 1}))
        silent = [federation.add_validator(7 + index, SilentValidator, client=held_out(iid_split, index),
                                           rounds=frozenset({0})) for index in range(2)]
        federation.add_aggregator(11)
        federation.add_watcher(12)

        settle(federation)

        coordinator = federation.coordinator
        assert isinstance(coordinator, Coordinator)
        task_id = federation.task_id
        assert coordinator.score_round(task_id, 0).unscored_dropped
        slashes = coordinator.validator_slashes(task_id)
        assert {(slash.round, slash.validator, slash.fault) for slash in slashes} == {
            (0, validator.address, ValidatorFault.SILENT) for validator in silent}
        assert not any(coordinator.on_committee(task_id, 1, validator.address) for validator in silent)
        drops = coordinator.unscored_drops(task_id)
        for round in (0, 1):
            assert coordinator.round_view(task_id, round).status == RoundStatus.FAILED
            assert (round, attacker.address) in {(drop.round, drop.participant) for drop in drops}
        assert coordinator.finalized_models(task_id) == [], "no model over unscored updates"
        for participant in [*honest, attacker]:
            assert gain(federation, participant.address) == 0, "no member slashed, nothing earned"
    finally:
        federations.close()
