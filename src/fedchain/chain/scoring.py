"""Contribution scores on chain (docs/protocol.md section 12; the IScoring interface that IFedCoordinator extends).

The structs come back as frozen dataclasses; :class:`ScoringCalls` holds one method per IScoring function and view,
each transaction labelled with its function's name, and the event queries the roles need. It is mixed into the plain
:class:`~fedchain.chain.coordinator.Coordinator` (secure tasks cannot be scored). As in the rest of the client there is
no protocol logic here: the validator decides what to score, fedchain.score how.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from fedchain.chain.connection import Chain

if TYPE_CHECKING:
    from fedchain.chain.coordinator import TaskParams

DEFAULT_COMMITTEE: Final = 3
DEFAULT_MIN_SCORE_BPS: Final = 2_000
DEFAULT_TOLERANCE_BPS: Final = 2_500
DEFAULT_VALIDATOR_SLASH_BPS: Final = 1_000
DEFAULT_VALIDATOR_FEE_BPS: Final = 500


class ValidatorFault(IntEnum):
    """Why a validator was slashed (FedTypes.ValidatorFault)."""

    SILENT = 0
    DEVIATED = 1


@dataclass(frozen=True, kw_only=True)
class ScoringParams:
    """A scored task's committee rules, field for field (and in the order of) FedTypes.ScoringParams; the contract
    checks their ranges (docs/protocol.md section 12.1). ``score_window`` and ``validator_stake`` have no default of
    their own: a task file's ``[scoring]`` takes them from the task's reveal window and minimum stake
    (:mod:`fedchain.task.params`)."""

    committee: int = DEFAULT_COMMITTEE
    score_window: int
    min_score_bps: int = DEFAULT_MIN_SCORE_BPS
    tolerance_bps: int = DEFAULT_TOLERANCE_BPS
    validator_slash_bps: int = DEFAULT_VALIDATOR_SLASH_BPS
    validator_fee_bps: int = DEFAULT_VALIDATOR_FEE_BPS
    validator_stake: int

    @property
    def scored(self) -> bool:
        """Whether these are a scored task's (a task without scoring reads all zeros)."""
        return self.committee != 0

    def as_abi(self) -> tuple[int, ...]:
        """The struct as the ABI tuple the contract takes."""
        return astuple(self)

    @classmethod
    def from_abi(cls, raw: Sequence[Any]) -> ScoringParams:
        """Parse the tuple a view or an event returns."""
        return cls(**{spec.name: int(value) for spec, value in zip(fields(cls), raw, strict=True)})


@dataclass(frozen=True)
class ValidatorSeat:
    """A validator's seat in a scored task (FedTypes.Validator; ``joined`` False without one)."""

    stake: int
    fees: int
    lane: int
    joined: bool
    since_round: int
    until_round: int
    exit_requested_at: int


@dataclass(frozen=True)
class ScoreRound:
    """The scoring record of one round (FedTypes.ScoreRound)."""

    seed: int
    pool: int
    commits: int
    reveals: int
    revealed_lanes: int
    unscored_dropped: bool
    """An update of the round was dropped unscored: its score windows ended while it ran (a silent committee of it is
    slashable even if the round then failed)."""


@dataclass(frozen=True)
class Ballot:
    """A validator's score commitment and reveal in one round (FedTypes.Ballot)."""

    commit_hash: bytes
    lane: int
    revealed: bool
    slashed: bool


@dataclass(frozen=True)
class RevealedScores:
    """One ScoresRevealed event: ``validator``'s score of each participant's update of ``round``."""

    round: int
    validator: str
    participants: tuple[str, ...]
    scores: tuple[int, ...]


@dataclass(frozen=True)
class ScoredOut:
    """One UpdateScoredOut event: ``participant``'s update of ``round`` dropped for its median score."""

    round: int
    participant: str
    challenger: str
    median: int
    slashed: int
    bounty: int


@dataclass(frozen=True)
class UnscoredDrop:
    """One UnscoredUpdateDropped event: ``participant``'s update of ``round``, which no validator scored, dropped by
    ``caller`` (no slash, no bounty)."""

    round: int
    participant: str
    caller: str


@dataclass(frozen=True)
class ValidatorSlash:
    """One ValidatorSlashed event."""

    round: int
    validator: str
    challenger: str
    fault: ValidatorFault
    slashed: int
    bounty: int


class ScoringConstants(NamedTuple):
    """The contract's SCORE_ONE, NO_SCORE and MAX_SEATS."""

    score_one: int
    no_score: int
    max_seats: int


class ScoringCalls:
    """IScoring's functions, views and events, for a coordinator client (the plain one) that has ``chain`` and the
    coordinator's interface ``contract``."""

    chain: Chain
    contract: Contract

    if TYPE_CHECKING:  # what the coordinator client this is mixed into provides
        def _logs(self, event: str, **filters: Any) -> list[Any]: ...

        def created_task_id(self, receipt: TxReceipt) -> int: ...

    # -- views ------------------------------------------------------------------------------------------

    def scoring_module(self) -> str:
        """Address of the Scoring module (deployed by the Availability module, reached through its fallback)."""
        return str(self.chain.call(self.contract.functions.SCORING()))

    def scoring_constants(self) -> ScoringConstants:
        """SCORE_ONE, NO_SCORE and MAX_SEATS as the contract has them."""
        functions = self.contract.functions
        return ScoringConstants(int(self.chain.call(functions.SCORE_ONE())), int(self.chain.call(functions.NO_SCORE())),
                                int(self.chain.call(functions.MAX_SEATS())))

    def scoring_params(self, task_id: int) -> ScoringParams:
        """Task ``task_id``'s scoring rules (all zero, ``scored`` False, for a task without scoring)."""
        return ScoringParams.from_abi(self.chain.call(self.contract.functions.scoringParams(task_id)))

    def validator_seat(self, task_id: int, validator: str) -> ValidatorSeat:
        """``validator``'s seat (``joined`` False without one)."""
        raw = self.chain.call(self.contract.functions.validatorOf(task_id, Web3.to_checksum_address(validator)))
        stake, fees, lane, joined, since_round, until_round, exit_requested_at = raw
        return ValidatorSeat(int(stake), int(fees), int(lane), bool(joined), int(since_round), int(until_round),
                             int(exit_requested_at))

    def score_round(self, task_id: int, round: int) -> ScoreRound:
        """Round ``round``'s scoring record."""
        seed, pool, commits, reveals, lanes, unscored = self.chain.call(
            self.contract.functions.scoreRound(task_id, round))
        return ScoreRound(int(seed), int(pool), int(commits), int(reveals), int(lanes), bool(unscored))

    def ballot(self, task_id: int, round: int, validator: str) -> Ballot:
        """``validator``'s commitment and reveal in ``round``."""
        call = self.contract.functions.ballotOf(task_id, round, Web3.to_checksum_address(validator))
        commit_hash, lane, revealed, slashed = self.chain.call(call)
        return Ballot(bytes(commit_hash), int(lane), bool(revealed), bool(slashed))

    def on_committee(self, task_id: int, round: int, validator: str) -> bool:
        """Whether ``validator`` sits in ``round``'s committee (docs/protocol.md section 12.2)."""
        call = self.contract.functions.onCommittee(task_id, round, Web3.to_checksum_address(validator))
        return bool(self.chain.call(call))

    def scores_of(self, task_id: int, round: int, participant: str) -> int:
        """The score word of ``participant``'s update in ``round`` (lane i holds score + 1; 0: none)."""
        call = self.contract.functions.scoresOf(task_id, round, Web3.to_checksum_address(participant))
        return int(self.chain.call(call))

    def median_score(self, task_id: int, round: int, participant: str) -> tuple[int, int]:
        """How many validators scored ``participant``'s update in ``round``, and their lower median (0 if none)."""
        call = self.contract.functions.medianScore(task_id, round, Web3.to_checksum_address(participant))
        count, median = self.chain.call(call)
        return int(count), int(median)

    def scores_commitment_of(self, task_id: int, round: int, validator: str, participants: Sequence[str],
                             scores: Sequence[int], salt: bytes) -> bytes:
        """The score commitment the contract expects (docs/protocol.md section 12.4)."""
        call = self.contract.functions.scoresCommitmentOf(
            task_id, round, Web3.to_checksum_address(validator),
            [Web3.to_checksum_address(participant) for participant in participants], list(scores), salt)
        return bytes(self.chain.call(call))

    # -- events -----------------------------------------------------------------------------------------

    def validators(self, task_id: int) -> list[str]:
        """Every address that ever took a seat in the task's committee (its first ValidatorJoined), in chain
        order."""
        return list(dict.fromkeys(str(log.args.validator) for log in self._logs("ValidatorJoined", taskId=task_id)))

    def revealed_scores(self, task_id: int, round: int) -> list[RevealedScores]:
        """Every ScoresRevealed event of ``round``, in chain order."""
        return [RevealedScores(round=int(log.args.round), validator=str(log.args.validator),
                               participants=tuple(str(address) for address in log.args.participants),
                               scores=tuple(int(score) for score in log.args.scores))
                for log in self._logs("ScoresRevealed", taskId=task_id, round=round)]

    def scored_out(self, task_id: int) -> list[ScoredOut]:
        """Every UpdateScoredOut event of the task, in chain order."""
        return [ScoredOut(round=int(log.args.round), participant=str(log.args.participant),
                          challenger=str(log.args.challenger), median=int(log.args.medianScore),
                          slashed=int(log.args.slashed), bounty=int(log.args.bounty))
                for log in self._logs("UpdateScoredOut", taskId=task_id)]

    def unscored_drops(self, task_id: int) -> list[UnscoredDrop]:
        """Every UnscoredUpdateDropped event of the task, in chain order."""
        return [UnscoredDrop(round=int(log.args.round), participant=str(log.args.participant),
                             caller=str(log.args.caller))
                for log in self._logs("UnscoredUpdateDropped", taskId=task_id)]

    def validator_slashes(self, task_id: int) -> list[ValidatorSlash]:
        """Every ValidatorSlashed event of the task, in chain order."""
        return [ValidatorSlash(round=int(log.args.round), validator=str(log.args.validator),
                               challenger=str(log.args.challenger), fault=ValidatorFault(log.args.fault),
                               slashed=int(log.args.slashed), bounty=int(log.args.bounty))
                for log in self._logs("ValidatorSlashed", taskId=task_id)]

    # -- transactions -----------------------------------------------------------------------------------

    def create_scored_task(self, params: TaskParams, scoring: ScoringParams, model_root: bytes,
                           model_blob_ref: bytes, *, sender: LocalAccount) -> int:
        """Create a plain task scored by a validator committee (escrow pulled from ``sender``, who must have approved
        it); return its id."""
        call = self.contract.functions.createScoredTask(params.as_abi(), scoring.as_abi(), model_root, model_blob_ref)
        return self.created_task_id(self.chain.send(call, kind="createScoredTask", sender=sender))

    def join_committee(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Take a seat, depositing exactly validatorStake (approve first)."""
        return self.chain.send(self.contract.functions.joinCommittee(task_id), kind="joinCommittee", sender=sender)

    def request_committee_exit(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Leave the committee after the current round."""
        return self.chain.send(self.contract.functions.requestCommitteeExit(task_id), kind="requestCommitteeExit",
                               sender=sender)

    def withdraw_validator(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Take back the seat's stake and booked fees and free the seat."""
        return self.chain.send(self.contract.functions.withdrawValidator(task_id), kind="withdrawValidator",
                               sender=sender)

    def claim_validator_fees(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Claim the validator fees booked to ``sender``."""
        return self.chain.send(self.contract.functions.claimValidatorFees(task_id), kind="claimValidatorFees",
                               sender=sender)

    def commit_scores(self, task_id: int, scores_hash: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Commit to ``sender``'s scores of the current round."""
        return self.chain.send(self.contract.functions.commitScores(task_id, scores_hash), kind="commitScores",
                               sender=sender)

    def reveal_scores(self, task_id: int, participants: Sequence[str], scores: Sequence[int], salt: bytes, *,
                      sender: LocalAccount) -> TxReceipt:
        """Reveal the committed scores: one per included update, ``participants`` in increasing order."""
        call = self.contract.functions.revealScores(
            task_id, [Web3.to_checksum_address(participant) for participant in participants], list(scores), salt)
        return self.chain.send(call, kind="revealScores", sender=sender)

    def drop_low_score(self, task_id: int, participant: str, *, sender: LocalAccount) -> TxReceipt:
        """Drop ``participant``'s update of the current round, whose median score is below minScoreBps (its owner
        slashed, the bounty to the sender) or which no validator scored (no slash, no bounty)."""
        call = self.contract.functions.dropLowScore(task_id, Web3.to_checksum_address(participant))
        return self.chain.send(call, kind="dropLowScore", sender=sender)

    def slash_deviation(self, task_id: int, round: int, validator: str, participant: str, *,
                        sender: LocalAccount) -> TxReceipt:
        """Slash ``validator``, whose score of ``participant``'s update in ``round`` is far from the median."""
        call = self.contract.functions.slashDeviation(task_id, round, Web3.to_checksum_address(validator),
                                                      Web3.to_checksum_address(participant))
        return self.chain.send(call, kind="slashDeviation", sender=sender)

    def slash_silent_validator(self, task_id: int, round: int, validator: str, *, sender: LocalAccount) -> TxReceipt:
        """Slash ``validator``, which sat in ``round``'s committee and revealed no scores."""
        call = self.contract.functions.slashSilentValidator(task_id, round, Web3.to_checksum_address(validator))
        return self.chain.send(call, kind="slashSilentValidator", sender=sender)
