"""The validator: a committee member of a scored plain task (docs/protocol.md section 12) that scores every included
update on its own held-out data.

A validator takes a seat (``joinCommittee``, depositing the task's ``validatorStake``) and, in every round whose
committee the chain's randomness puts it in:

- in the score commit window (from the reveal deadline on) it fetches every included update the way the watcher
  does (the store, or the chain once a challenge put it there), proves any update outside the clip first (as the
  aggregator does before proposing: the set it scores must be the set the round keeps), scores them with
  :mod:`fedchain.score.rule` on its client's held-out data (an update it cannot read: ``NO_SCORE``), journals the
  participants, scores and a fresh salt, and only then commits to them;
- in the score reveal window it reveals what the journal holds.

From the end of a round's score windows it slashes each other validator whose revealed score of an update is farther
than the task's tolerance from the update's median (``slashDeviation``), and, once the round is finalized, each one
that sat in its committee and revealed nothing (``slashSilentValidator``). A seat a slash (or an exit request) ended
is withdrawn once the contract allows it and taken again, and at the task's end the seat's stake and booked fees are
withdrawn.

Crash safety is the participant's: scores are journaled before the commitment is sent, so a restarted validator
reveals the scores it committed to (or commits the same ones again), and a transaction in flight is waited for
(:meth:`fedchain.roles.agent.Agent.in_flight`).

:class:`ColludingValidator` and :class:`SilentValidator` are adversarial variants for tests and simulations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from eth_account.signers.local import LocalAccount
from numpy.typing import NDArray

from fedchain.aggregate.constants import BPS_DENOMINATOR
from fedchain.chain.coordinator import Coordinator, RoundPhase, RoundStatus, RoundView, TaskState, TaskStatus
from fedchain.chain.scoring import ScoringParams
from fedchain.client.api import Client
from fedchain.client.params import unflatten
from fedchain.commit.commitment import new_salt
from fedchain.commit.quantize import dequantize
from fedchain.roles.agent import Agent
from fedchain.roles.availability import UnavailableError
from fedchain.roles.journal import Journal, JournalError, ScoreRecord
from fedchain.roles.participant import MODEL_DTYPE
from fedchain.roles.proofs import first_out_of_range, violation_leaf
from fedchain.roles.task import RoleError, fetch_model, fetch_update, included_reveals, last_global_change
from fedchain.score.commitment import scores_hash
from fedchain.score.constants import NO_SCORE, SCORE_ONE
from fedchain.score.rule import Contribution, RoundScores, score_round
from fedchain.storage import BlobStore


class Validator(Agent):
    """A validator of a scored task, scoring with ``client``'s ``evaluate`` (its held-out data); its ``journal`` keeps
    the scores it commits to across a crash."""

    COORDINATOR = Coordinator
    coordinator: Coordinator
    ROLE = "validator"

    def __init__(self, coordinator: Coordinator, store: BlobStore, task_id: int, account: LocalAccount, *,
                 client: Client, journal: Journal) -> None:
        super().__init__(coordinator, store, task_id, account)
        if journal.task_id != task_id or journal.owner != self.address.lower():
            raise ValueError(f"journal {journal.path} is not {self.address}'s journal for task {task_id}")
        self.client = client
        self.journal = journal
        self._faults_settled_below = 0

    @property
    def scoring(self) -> ScoringParams:
        """The task's committee rules (a task without scoring has no validators)."""
        scoring = self.rules.scoring
        if scoring is None:
            raise RoleError(f"task {self.task_id} is not scored: it has no committee to validate for")
        return scoring

    def step(self) -> None:
        """Slash the faults of other validators that are due; take (or take back) a seat; score the current round
        as its phase asks; once the task has ended, withdraw the seat."""
        if self.in_flight():
            return
        state = self.coordinator.task_state(self.task_id)
        self.report_closed_rounds(state)
        self._slash_faults(state)
        if state.status != TaskStatus.RUNNING:
            self._settle()
            return
        if not self._seated(state):
            return
        round = state.current_round
        view = self.coordinator.round_view(self.task_id, round)
        if view.phase == RoundPhase.SCORE and self.coordinator.on_committee(self.task_id, round, self.address):
            self._score(round, view, state)

    def finished(self) -> bool:
        """The task has ended and the seat (with its fees) is withdrawn."""
        return super().finished() and not self.coordinator.validator_seat(self.task_id, self.address).joined

    def round_summary(self, round: int, view: RoundView) -> tuple[str, dict[str, object]]:
        """What this validator did in closed ``round``: revealed its scores (and the fee they earned), committed and
        never revealed, or sat outside the committee."""
        ballot = self.coordinator.ballot(self.task_id, round, self.address)
        if ballot.revealed:
            fields: dict[str, object] = {"ballot": "revealed"}
            text = f"{self.outcome(round, view)}: revealed its scores"
            record = self.coordinator.score_round(self.task_id, round)
            if view.status == RoundStatus.FINALIZED and record.revealed_lanes >> ballot.lane & 1:
                fee = (self.rules.params.reward_per_round * self.scoring.validator_fee_bps // BPS_DENOMINATOR
                       // record.reveals)
                text += f", fee {self.tokens(fee)}"
                fields["fee"] = fee
            elif view.status == RoundStatus.FINALIZED:
                text += ", no fee (slashed while the round was open)"
            return text, fields
        if ballot.commit_hash != bytes(32):
            return f"{self.outcome(round, view)}: committed its scores, never revealed them", {"ballot": "committed"}
        return f"{self.outcome(round, view)}: did not score (not on its committee)", {"ballot": "none"}

    # -- hooks for adversarial variants -------------------------------------------------------------

    def scores(self, round: int, participants: Sequence[str], scored: RoundScores) -> list[int]:
        """The scores to commit to for the updates of ``participants`` (in that order): the reference rule's."""
        return list(scored.scores)

    def wants_to_reveal(self, round: int) -> bool:
        """Whether to reveal the scores committed in ``round`` (an honest validator always does)."""
        return True

    # -- seat ----------------------------------------------------------------------------------------

    def _seated(self, state: TaskState) -> bool:
        """Whether this validator's seat may sit in the current round; takes one when it has none, and withdraws one
        a slash or an exit ended once the contract allows it (the next step takes a new one)."""
        seat = self.coordinator.validator_seat(self.task_id, self.address)
        if not seat.joined:
            stake = self.scoring.validator_stake
            self.ensure_allowance(stake)
            self.coordinator.join_committee(self.task_id, sender=self.account)
            self.log("joinCommittee", stake=stake)
            return False
        if seat.exit_requested_at == 0 or state.current_round < seat.until_round:
            return True
        if self.coordinator.chain.now() >= seat.exit_requested_at + self.rules.params.unbonding_delay:
            self.coordinator.withdraw_validator(self.task_id, sender=self.account)
            self.log("withdrawValidator", stake=seat.stake, fees=seat.fees)
        return False

    def _settle(self) -> None:
        """After the task's end: withdraw the seat's stake and its booked fees (allowed at once then)."""
        seat = self.coordinator.validator_seat(self.task_id, self.address)
        if seat.joined:
            self.coordinator.withdraw_validator(self.task_id, sender=self.account)
            self.log("withdrawValidator", stake=seat.stake, fees=seat.fees)

    # -- scores --------------------------------------------------------------------------------------

    def _score(self, round: int, view: RoundView, state: TaskState) -> None:
        """Commit in the score commit window, reveal in the score reveal window."""
        ballot = self.coordinator.ballot(self.task_id, round, self.address)
        if self.coordinator.chain.now() < view.reveal_end + self.scoring.score_window:
            if ballot.commit_hash == bytes(32):
                self._commit(round, state)
        elif ballot.commit_hash != bytes(32) and not ballot.revealed:
            self._reveal(round)

    def _commit(self, round: int, state: TaskState) -> None:
        record = self.journal.score_record(round) or self._prepare(round, state)
        if record is None:  # an update was proven out of range: the included set changed
            return
        digest = scores_hash(chain_id=self.coordinator.chain.chain_id, coordinator=self.coordinator.address,
                             task_id=self.task_id, round=round, validator=self.address,
                             participants=record.participants, scores=record.scores, salt=record.salt)
        self.coordinator.commit_scores(self.task_id, digest, sender=self.account)
        self.log(f"commitScores {round}", round=round, updates=len(record.participants))

    def _prepare(self, round: int, state: TaskState) -> ScoreRecord | None:
        """Score every included update of ``round`` and journal the scores (before anything is sent); None after
        proving an update out of range instead (the next step scores the set that remains)."""
        rules = self.rules
        reveals = sorted(included_reveals(self.coordinator, self.task_id, round),
                         key=lambda reveal: int(reveal.participant, 16))
        contributions: list[Contribution | None] = []
        for reveal in reveals:
            try:
                update = fetch_update(self.coordinator, self.store, rules, self.task_id, round, reveal,
                                      verified=self.verified)
            except UnavailableError as error:
                self.warn(f"round {round}: cannot read the update of {reveal.participant} ({error}); abstaining from "
                          "scoring it", event="input_unavailable", round=round, owner=reveal.participant)
                contributions.append(None)
                continue
            coordinate = first_out_of_range(update.vector, rules.params.clip)
            if coordinate is not None:
                index, leaf = violation_leaf(update.vector, rules.layout, coordinate, tree_of=self.verified.tree)
                self.coordinator.prove_violation(self.task_id, reveal.participant, reveal.root, reveal.weight, index,
                                                 leaf, sender=self.account)
                self.log(f"proveViolation {round} {reveal.participant}", round=round, participant=reveal.participant)
                return None
            contributions.append(Contribution(update.vector, reveal.sample_count))
        previous = fetch_model(self.store, rules, state.model_root, state.model_blob_ref, verified=self.verified)
        change = last_global_change(self.coordinator, self.store, rules, self.task_id, previous,
                                    verified=self.verified)
        scored = score_round(previous, contributions, rule=rules.rule, last_change=change, loss=self._loss)
        participants = [reveal.participant for reveal in reveals]
        record = ScoreRecord(round=round, participants=tuple(participants),
                             scores=tuple(self.scores(round, participants, scored)), salt=new_salt())
        self.journal.record_scores(record)
        self.log(f"scored {round}", round=round, scores=dict(zip(participants, record.scores, strict=True)),
                 copies=len(scored.copies))
        return record

    def _loss(self, model: NDArray[np.int32]) -> float:
        """The loss of a quantized global model on this validator's held-out data (its client's ``evaluate``)."""
        rules = self.rules
        parameters = unflatten(dequantize(model, rules.quantization), [(shape.name, shape.dims) for shape in
                                                                        rules.shapes], dtype=MODEL_DTYPE)
        loss, _, _ = self.client.evaluate(parameters, {})
        return float(loss)

    def _reveal(self, round: int) -> None:
        record = self.journal.score_record(round)
        if record is None:
            raise JournalError(f"round {round}: scores are committed on chain but {self.journal.path} holds none")
        if not self.wants_to_reveal(round):
            return
        self.coordinator.reveal_scores(self.task_id, record.participants, record.scores, record.salt,
                                       sender=self.account)
        self.log(f"revealScores {round}", round=round)

    # -- other validators' faults --------------------------------------------------------------------

    def _slash_faults(self, state: TaskState) -> None:
        """Slash the provable faults of other validators: deviations from the end of a round's score windows on,
        silence once the round is finalized (or failed after an update of it was dropped unscored). Closed rounds are
        looked at once; the current one at every step."""
        for round in range(self._faults_settled_below, state.current_round + 1):
            closed = round < state.current_round or state.status != TaskStatus.RUNNING
            view = self.coordinator.round_view(self.task_id, round)
            scores_end = view.reveal_end + 2 * self.scoring.score_window
            if view.start == 0 or (not closed and self.coordinator.chain.now() < scores_end):
                break
            self._slash_deviations(round)
            if view.status == RoundStatus.FINALIZED or (
                    view.status == RoundStatus.FAILED
                    and self.coordinator.score_round(self.task_id, round).unscored_dropped):
                self._slash_silent(round)
            if closed:
                self._faults_settled_below = round + 1

    def _slash_deviations(self, round: int) -> None:
        """Slash each other validator with a revealed score farther than the tolerance from its update's median (one
        slash per validator and round)."""
        tolerance = self.scoring.tolerance_bps
        medians: dict[str, int] = {}
        for revealed in self.coordinator.revealed_scores(self.task_id, round):
            if revealed.validator.lower() == self.address.lower():
                continue
            for participant, score in zip(revealed.participants, revealed.scores, strict=True):
                if score == NO_SCORE:
                    continue
                if participant not in medians:
                    medians[participant] = self.coordinator.median_score(self.task_id, round, participant)[1]
                if abs(score - medians[participant]) > tolerance:
                    if not self.coordinator.ballot(self.task_id, round, revealed.validator).slashed:
                        self.coordinator.slash_deviation(self.task_id, round, revealed.validator, participant,
                                                         sender=self.account)
                        self.log(f"slashDeviation {round} {revealed.validator}", round=round,
                                 validator=revealed.validator, participant=participant, score=score,
                                 median=medians[participant])
                    break

    def _slash_silent(self, round: int) -> None:
        """Slash each other validator that sat in closed ``round``'s committee and revealed nothing."""
        for validator in self.coordinator.validators(self.task_id):
            if validator.lower() == self.address.lower():
                continue
            ballot = self.coordinator.ballot(self.task_id, round, validator)
            if ballot.revealed or ballot.slashed or not self.coordinator.on_committee(self.task_id, round, validator):
                continue
            self.coordinator.slash_silent_validator(self.task_id, round, validator, sender=self.account)
            self.log(f"slashSilentValidator {round} {validator}", round=round, validator=validator)


class ColludingValidator(Validator):
    """Adversarial: scores the updates of the ``favoured`` addresses SCORE_ONE and every other update 0."""

    def __init__(self, *args: Any, favoured: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.favoured = frozenset(address.lower() for address in favoured)

    def scores(self, round: int, participants: Sequence[str], scored: RoundScores) -> list[int]:
        """SCORE_ONE for the favoured, 0 for the rest, whatever the updates are worth."""
        return [SCORE_ONE if participant.lower() in self.favoured else 0 for participant in participants]


class SilentValidator(Validator):
    """Adversarial: commits its scores in ``rounds`` but never reveals them (slashable once the round is
    finalized)."""

    def __init__(self, *args: Any, rounds: frozenset[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.silent_rounds = rounds

    def wants_to_reveal(self, round: int) -> bool:
        """Never reveals a silent round."""
        return round not in self.silent_rounds
