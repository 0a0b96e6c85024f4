"""The participant (a hospital): joins with a stake, trains each round, commits, reveals, claims rewards.

:class:`BaseParticipant` is what a participant does in either mode (join, train and quantize its update,
claim and withdraw at the end); :class:`Participant` adds the plain round, and
:class:`fedchain.roles.secure_participant.SecureParticipant` the secure one.

Rewards need no bookkeeping here: the contract books each finalized round's reward to the member at its
next commit (docs/protocol.md section 8.5), so after the task's end one claim collects everything.

Crash safety: the trained update is journaled and its blob uploaded, then the salt, root, sample count and
blob reference of the round are written to the journal, and only then is the commit sent. A participant
rebuilt from the same journal after a crash at any point therefore (1) waits while a transaction it sent may
still be mined (`Agent.in_flight`), (2) finds its commitment on chain and reveals it from the journal, or (3)
commits the journaled update again with the same salt; it never trains a second, different update for a
round it has journaled. Rewards already claimed read as zero on chain, so a claim is never sent twice.

Availability: a participant answers an availability challenge on its revealed update by itself, posting
the update's chunks from its journal (docs/protocol.md section 11.2), so withholding by the store never
costs an honest participant its stake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from eth_account.signers.local import LocalAccount
from numpy.typing import NDArray

from fedchain.chain.coordinator import (
    Coordinator,
    CoordinatorClient,
    EntryState,
    RoundPhase,
    TaskState,
    TaskStatus,
)
from fedchain.client.api import ROUND_KEY, Client, Config
from fedchain.client.params import flatten, unflatten
from fedchain.commit.commitment import commit_hash, new_salt
from fedchain.commit.merkle import MerkleTree
from fedchain.commit.quantize import dequantize, quantize_update
from fedchain.roles.agent import Agent
from fedchain.roles.availability import WithheldStore, post_missing_chunks
from fedchain.roles.journal import CommitRecord, Journal, JournalError, TrainedUpdate
from fedchain.roles.task import UPDATE_KIND, fetch_model
from fedchain.storage import BlobStore, put_vector

MODEL_DTYPE = np.float32


class BaseParticipant(Agent):
    """A member that trains with ``client`` and stakes ``stake`` (at least the task's minStake); its
    ``journal`` keeps what it must not forget across a crash.

    Each round the client's ``fit`` gets ``fit_config`` (the task's training settings and own keys, as a
    Flower strategy's ``on_fit_config_fn`` sends them) with the round number under ``"server-round"``.
    """

    def __init__(self, coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount, *,
                 client: Client, journal: Journal, stake: int | None = None, fit_config: Config | None = None) -> None:
        super().__init__(coordinator, store, task_id, account)
        if journal.task_id != task_id or journal.owner != self.address.lower():
            raise ValueError(f"journal {journal.path} is not {self.address}'s journal for task {task_id}")
        self.client = client
        self.fit_config: Config = dict(fit_config or {})
        self.journal = journal
        self.stake = stake

    def make_update(self, round: int, global_model: NDArray[np.int32]) -> tuple[NDArray[np.int32], int]:
        """Train from the global model; return the quantized, clipped update and the sample count."""
        rules = self.rules
        start = dequantize(global_model, rules.quantization)
        shapes = [(shape.name, shape.dims) for shape in rules.shapes]
        parameters = unflatten(start, shapes, dtype=MODEL_DTYPE)
        trained, sample_count, _ = self.client.fit(parameters, {**self.fit_config, ROUND_KEY: round})
        local, _ = flatten(trained)
        return quantize_update(local, global_model, rules.quantization), int(sample_count)

    def finished(self) -> bool:
        """The task has ended, every reward is claimed and the stake withdrawn."""
        return (super().finished() and self.coordinator.claimable(self.task_id, self.address) == 0
                and not self.coordinator.member(self.task_id, self.address).joined)

    def step(self) -> None:
        """Join, then take part in the current round while the task runs; once it has ended, claim and leave."""
        if self.in_flight():
            return
        state = self.coordinator.task_state(self.task_id)
        if state.status != TaskStatus.RUNNING:
            self._settle()
            return
        self._ensure_member()
        self.play_round(state)

    def play_round(self, state: TaskState) -> None:
        """This mode's part of the current round of the running task (the caller is a member)."""
        raise NotImplementedError

    def publishes(self, round: int) -> bool:
        """Whether to put the input of ``round`` in the store and answer availability challenges on it (an
        honest participant always does; a withholding one keeps its blob to itself)."""
        return True

    def store_for(self, round: int) -> BlobStore:
        """Where the input of ``round`` goes: the task's store, or nowhere when it is withheld."""
        return self.store if self.publishes(round) else WithheldStore()

    def _answer_challenge(self, round: int, tree: Callable[[], MerkleTree]) -> None:
        """Post the missing chunks of this member's input of ``round`` (whose Merkle tree ``tree`` builds) if
        an availability challenge on it is open (docs/protocol.md section 11.2)."""
        if not self.publishes(round):
            return
        posted = post_missing_chunks(self.coordinator, self.task_id, round, self.address, tree, sender=self.account)
        if posted:
            self.log(f"postChunk {round} x{posted}")

    def _ensure_member(self) -> None:
        if self.coordinator.member(self.task_id, self.address).joined:
            return
        amount = self.rules.params.min_stake if self.stake is None else self.stake
        self.ensure_allowance(amount)
        self._send("join", lambda: self.coordinator.join(self.task_id, amount, sender=self.account))

    def _stake_suffices(self, round: int) -> bool:
        """Whether the stake reaches the task's minimum, as entering ``round`` requires (a slash may have taken
        it below; the member must add stake first)."""
        stake, minimum = self.coordinator.member(self.task_id, self.address).stake, self.rules.params.min_stake
        if stake < minimum:
            self.warn_once(f"round {round}: stake {self.tokens(stake)} is below the task's minimum "
                           f"{self.tokens(minimum)}; add stake to take part")
        return stake >= minimum

    def _settle(self) -> None:
        """After the task's end: claim every reward, then take the stake back (no unbonding delay then)."""
        if self.coordinator.claimable(self.task_id, self.address) > 0:
            self._send("claim", lambda: self.coordinator.claim_rewards(self.task_id, sender=self.account))
        if self.coordinator.member(self.task_id, self.address).joined:
            self._send("withdrawStake", lambda: self.coordinator.withdraw_stake(self.task_id, sender=self.account))

    def _send(self, action: str, send: Callable[[], object]) -> None:
        send()
        self.log(action)


class Participant(BaseParticipant):
    """A plain-mode participant: commits to its update, then reveals it (docs/protocol.md section 7)."""

    COORDINATOR = Coordinator
    coordinator: Coordinator

    def play_round(self, state: TaskState) -> None:
        """Commit or reveal, as the current round's phase asks; answer a challenge on the revealed update."""
        round = state.current_round
        view = self.coordinator.round_view(self.task_id, round)
        if view.phase == RoundPhase.COMMIT:
            self._commit(round, view.commits, state.model_root, state.model_blob_ref)
            return
        if view.phase == RoundPhase.REVEAL:
            self._reveal(round)
        # a revealed update may be challenged from its reveal on, so this is checked in the reveal phase too
        if view.open_challenges and self.coordinator.entry_state(self.task_id, round,
                                                                  self.address) == EntryState.REVEALED:
            self._answer_challenge(round, lambda: MerkleTree(self._trained(round).vector, self.rules.layout))

    # -- hook for adversarial variants ---------------------------------------------------------------

    def wants_to_reveal(self, round: int) -> bool:
        """Whether to reveal the commitment of ``round`` (an honest participant always does)."""
        return True

    # -- actions -------------------------------------------------------------------------------------

    def _commit(self, round: int, commits: int, model_root: bytes, model_blob_ref: bytes) -> None:
        if self.coordinator.entry_state(self.task_id, round, self.address) != EntryState.EMPTY:
            return
        if commits >= self.rules.params.cohort_cap or not self._stake_suffices(round):
            return
        record = self.journal.commit_record(round) or self._prepare(round, model_root, model_blob_ref)
        digest = commit_hash(chain_id=self.coordinator.chain.chain_id, coordinator=self.coordinator.address,
                             task_id=self.task_id, round=round, participant=self.address, root=record.root,
                             sample_count=record.sample_count, salt=record.salt)
        self._send(f"commit:{round}", lambda: self.coordinator.commit(self.task_id, digest, sender=self.account))

    def _prepare(self, round: int, model_root: bytes, model_blob_ref: bytes) -> CommitRecord:
        """Train, upload the update blob and journal the commitment (before anything is sent)."""
        rules = self.rules
        update, sample_count = self.make_update(round, fetch_model(self.store, rules, model_root, model_blob_ref))
        self.journal.record_trained_update(TrainedUpdate.of(round, update, sample_count))
        stored = put_vector(self.store_for(round), update, kind=UPDATE_KIND, scale_bits=rules.params.scale_bits,
                            words_per_leaf=rules.params.words_per_leaf, shapes=rules.shapes)
        record = CommitRecord(round=round, salt=new_salt(), root=MerkleTree(update, rules.layout).root,
                              sample_count=sample_count, blob_ref=stored.ref)
        self.journal.record_commit(record)
        self.log(f"prepared round {round}")
        return record

    def _trained(self, round: int) -> TrainedUpdate:
        trained = self.journal.trained_update(round)
        if trained is None:
            raise JournalError(f"round {round}: an update is revealed on chain but {self.journal.path} holds none")
        return trained

    def _reveal(self, round: int) -> None:
        record = self.journal.commit_record(round)
        if record is None or not self.wants_to_reveal(round):
            return
        if self.coordinator.entry_state(self.task_id, round, self.address) != EntryState.COMMITTED:
            return
        self._send(f"reveal:{round}", lambda: self.coordinator.reveal(
            self.task_id, record.root, record.sample_count, record.salt, record.blob_ref, sender=self.account))


class OutOfRangeParticipant(Participant):
    """Adversarial: in ``rounds`` it puts ``clip + 1`` at ``coordinate`` of its update (a provable violation)."""

    def __init__(self, *args: Any, rounds: frozenset[int], coordinate: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bad_rounds = rounds
        self.coordinate = coordinate

    def make_update(self, round: int, global_model: NDArray[np.int32]) -> tuple[NDArray[np.int32], int]:
        """The honest update, with one coordinate pushed just outside the clip in a bad round."""
        update, sample_count = super().make_update(round, global_model)
        if round in self.bad_rounds:
            update = update.copy()
            update[self.coordinate] = self.rules.params.clip + 1
        return update, sample_count


class WithholdingParticipant(Participant):
    """Adversarial: in ``rounds`` it reveals an update whose blob it never publishes nor puts on chain when
    challenged (it is dropped from the round and slashed)."""

    def __init__(self, *args: Any, rounds: frozenset[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.withheld_rounds = rounds

    def publishes(self, round: int) -> bool:
        """Never in a withheld round."""
        return round not in self.withheld_rounds


class SilentParticipant(Participant):
    """Adversarial: commits in ``rounds`` but never reveals them (slashable after the reveal deadline)."""

    def __init__(self, *args: Any, rounds: frozenset[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.silent_rounds = rounds

    def wants_to_reveal(self, round: int) -> bool:
        """Never reveals a silent round."""
        return round not in self.silent_rounds
