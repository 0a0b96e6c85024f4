"""The watcher: checks every reveal and every proposal, and proves what is wrong.

:class:`BaseWatcher` does what a watcher does in either mode:

- after a round's inputs are fixed, every member that committed and never revealed (uploaded) is slashed
  (the hooks say who committed and from when the contract allows it);
- a member silent for more than the task's maxSilentRounds rounds with room in the cohort is slashed;
- a task whose current round has stalled past the idle limit is ended, so its funds can be withdrawn.

:class:`Watcher` adds the plain round:

- every revealed update blob is checked for a coordinate outside ``[-clip, clip]``; a violation is
  proven with one leaf (``proveViolation``);
- every pending proposal is recomputed from the revealed blobs; on a mismatch the first wrong leaf is
  proven (``challengeAggregate``).

(:class:`fedchain.roles.secure_watcher.SecureWatcher` adds the secure round.)

What cannot be proven on chain (an update or proposal blob that is missing or does not match its root)
is recorded in `findings` (once each) and checked again at the next step, in case the blob turns up. The
in-memory sets only avoid re-checking what was checked to the end (a proof that failed to go out is
tried again), so a restarted watcher simply checks the current round anew; the chain decides every
action.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from fedchain.chain.coordinator import (
    Coordinator,
    CoordinatorClient,
    EntryState,
    RoundPhase,
    RoundView,
    TaskState,
    TaskStatus,
)
from fedchain.roles.agent import Agent
from fedchain.roles.proofs import aggregate_fraud_proof, first_differing_leaf, first_out_of_range, violation_leaf
from fedchain.roles.task import IncludedUpdate, fetch_model, fetch_update, included_reveals, recompute_model
from fedchain.storage import BlobStore, StorageError


class BaseWatcher(Agent):
    """Anyone (a participant, the requester, a third party) keeping the aggregators and members honest."""

    def __init__(self, coordinator: CoordinatorClient, store: BlobStore, task_id: int,
                 account: LocalAccount) -> None:
        super().__init__(coordinator, store, task_id, account)
        self.findings: list[str] = []
        self._missed_settled_below = 0

    def step(self) -> None:
        """Slash missed inputs and silence, end an idle task, then check the current round."""
        if self.in_flight():
            return
        state = self.coordinator.task_state(self.task_id)
        self._slash_missed_inputs(state)
        if state.status != TaskStatus.RUNNING:
            return
        if self.coordinator.chain.now() >= self.coordinator.idle_at(self.task_id):
            self.coordinator.end_idle_task(self.task_id, sender=self.account)
            self.log("endIdleTask")
            return
        self._slash_silent_members(state.spare_rounds)
        round = state.current_round
        self._check_round(round, self.coordinator.round_view(self.task_id, round), state)

    # -- what each mode adds -------------------------------------------------------------------------

    def _check_round(self, round: int, view: RoundView, state: TaskState) -> None:
        """Check what the current ``round`` has so far and prove what is wrong."""
        raise NotImplementedError

    def _committers(self, round: int) -> list[str]:
        """The members that committed in ``round``."""
        raise NotImplementedError

    def _missed_inputs_slashable(self, round: int, state: TaskState) -> bool:
        """Whether the contract lets a commitment of ``round`` that was never revealed be slashed now."""
        raise NotImplementedError

    # -- chores --------------------------------------------------------------------------------------

    def _slash_missed_inputs(self, state: TaskState) -> None:
        running = state.status == TaskStatus.RUNNING
        last = state.current_round if running else state.current_round - 1
        for round in range(self._missed_settled_below, last + 1):
            if not self._missed_inputs_slashable(round, state):
                break
            for participant in self._committers(round):
                if self.coordinator.entry_state(self.task_id, round, participant) == EntryState.COMMITTED:
                    self.coordinator.slash_missed_reveal(self.task_id, round, participant, sender=self.account)
                    self.log(f"slashMissedReveal {round} {participant}")
            if round < state.current_round:
                self._missed_settled_below = round + 1

    def _slash_silent_members(self, spare_rounds: int) -> None:
        if spare_rounds <= self.rules.params.max_silent_rounds:
            return
        for address in self.coordinator.members(self.task_id):
            member = self.coordinator.member(self.task_id, address)
            silent = spare_rounds - member.activity_mark > self.rules.params.max_silent_rounds
            if member.joined and member.exit_requested_at == 0 and silent:
                self.coordinator.slash_silence(self.task_id, address, sender=self.account)
                self.log(f"slashSilence {address}")

    def _find(self, finding: str) -> None:
        """Record something wrong that no proof can show on chain (once)."""
        if finding not in self.findings:
            self.findings.append(finding)
            self.warn(finding)


class Watcher(BaseWatcher):
    """A plain-mode watcher: range-checks every reveal and recomputes every proposal."""

    COORDINATOR = Coordinator
    coordinator: Coordinator

    def __init__(self, coordinator: Coordinator, store: BlobStore, task_id: int, account: LocalAccount) -> None:
        super().__init__(coordinator, store, task_id, account)
        self._checked_reveals: set[tuple[int, str]] = set()
        self._checked_proposals: set[tuple[int, bytes, int]] = set()

    def _check_round(self, round: int, view: RoundView, state: TaskState) -> None:
        if view.phase in (RoundPhase.NOT_OPEN, RoundPhase.COMMIT):
            return
        self._check_reveals(round)
        if view.phase == RoundPhase.CHALLENGE:
            self._check_proposal(round, view, state.model_root, state.model_blob_ref)

    def _committers(self, round: int) -> list[str]:
        return self.coordinator.committers(self.task_id, round)

    def _missed_inputs_slashable(self, round: int, state: TaskState) -> bool:
        """From the round's reveal deadline on."""
        return self.coordinator.chain.now() >= self.coordinator.round_view(self.task_id, round).reveal_end

    def _check_reveals(self, round: int) -> None:
        rules = self.rules
        for reveal in included_reveals(self.coordinator, self.task_id, round):
            key = (round, reveal.participant)
            if key in self._checked_reveals:
                continue
            try:
                update = fetch_update(self.store, rules, reveal)
            except StorageError as error:
                self._find(f"round {round}: update of {reveal.participant} is unusable: {error}")
                continue
            coordinate = first_out_of_range(update.vector, rules.params.clip)
            if coordinate is not None:
                index, leaf = violation_leaf(update.vector, rules.layout, coordinate)
                self.coordinator.prove_violation(self.task_id, reveal.participant, reveal.root, reveal.weight, index,
                                                 leaf, sender=self.account)
                self.log(f"proveViolation {round} {reveal.participant}")
            self._checked_reveals.add(key)

    def _check_proposal(self, round: int, view: RoundView, model_root: bytes, model_blob_ref: bytes) -> None:
        key = (round, view.proposed_root, view.proposed_at)
        if key in self._checked_proposals:
            return
        rules = self.rules
        try:
            updates: list[IncludedUpdate] = [fetch_update(self.store, rules, reveal)
                                             for reveal in included_reveals(self.coordinator, self.task_id, round)]
            previous = fetch_model(self.store, rules, model_root, model_blob_ref)
            proposed = fetch_model(self.store, rules, view.proposed_root, view.proposed_blob_ref)
        except StorageError as error:
            self._find(f"round {round}: cannot check the proposal of {view.aggregator}: {error}")
            return
        expected = recompute_model(rules, previous, updates)
        leaf_index = first_differing_leaf(expected, proposed, rules.layout)
        if leaf_index is not None:
            proof = aggregate_fraud_proof(leaf_index, rules.layout, previous, proposed, updates)
            self.coordinator.challenge_aggregate(self.task_id, proof, sender=self.account)
            self.log(f"challengeAggregate {round} {view.aggregator} leaf {leaf_index}")
        self._checked_proposals.add(key)
