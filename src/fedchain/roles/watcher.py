"""The watcher: checks every reveal and every proposal, and proves what is wrong.

:class:`BaseWatcher` does what a watcher does in either mode:

- after a round's inputs are fixed, every member that committed and never revealed (uploaded) is slashed
  (the hooks say who committed and from when the contract allows it);
- a member silent for more than the task's maxSilentRounds rounds with room in the cohort is slashed;
- a task whose current round has stalled past the idle limit is ended, so its funds can be withdrawn;
- an availability challenge whose deadline passed before its data was on chain is applied
  (``dropUnavailable``: the input leaves the round, its owner is slashed);
- a proposal that differs from the watcher's own recomputation but whose blob it cannot read is disputed
  (docs/protocol.md section 11.3): the watcher descends the proposed tree, one answered level at a time, into
  a child that differs from its own tree, and proves the proposal wrong at the leaf it reaches; an unanswered
  level rejects the proposal (``settleDispute``). Disputes whose proposal is gone are settled for the bond.

:class:`Watcher` adds the plain round:

- every revealed update is read from the store, or from the chain once a challenge put it there; one that
  is in neither place once the reveal deadline has passed (the grace every honest owner needs: it stores
  its blob before it reveals) is challenged for availability (``challengeUpdate``); one it holds that
  someone else challenged it posts itself if the challenge is still open (an offline owner is not slashed
  for data the watcher has);
- every revealed update is checked for a coordinate outside ``[-clip, clip]``; a violation is proven with one
  leaf (``proveViolation``);
- in an audited task, from the reveal deadline on, the round's audits are drawn, every drawn step opened, and every
  audit whose proof window passed unproven settled (:func:`fedchain.roles.audit.watch_audits`: the update is dropped
  and its owner slashed, a pending proposal over it voided);
- in a scored task, once the round's score windows have ended, every update still included whose median score is
  below the task's threshold, or that no validator scored, is dropped (``dropLowScore``,
  :mod:`fedchain.roles.scoring`), a pending proposal over it voided;
- every pending proposal is recomputed from the included updates; on a mismatch the first wrong leaf is
  proven (``challengeAggregate``), or the proposal is disputed when its blob is missing. A correct proposal
  whose blob is missing is put in the store from the watcher's own recomputation.

(:class:`fedchain.roles.secure_watcher.SecureWatcher` adds the secure round.)

What the chain cannot settle (for example a proof that a check in Python refused) is recorded in `findings`
(once each). When a round closes, the watcher logs one line saying what it verified in it: how many inputs it
read and checked, and what it concluded about each proposal (recomputed and matching, challenged, disputed).

The in-memory sets only avoid re-checking what was checked to the end (a proof that failed to
go out is tried again), so a restarted watcher simply checks the current round anew; the chain decides every
action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar

import numpy as np
from eth_account.signers.local import LocalAccount
from numpy.typing import NDArray

from fedchain.chain.coordinator import (
    ChallengeStatus,
    Coordinator,
    CoordinatorClient,
    DisputeStatus,
    EntryState,
    RoundPhase,
    RoundView,
    TaskState,
    TaskStatus,
)
from fedchain.commit.merkle import MerkleTree
from fedchain.roles.agent import Agent
from fedchain.roles.audit import watch_audits
from fedchain.roles.availability import OpenedLeaf, current_steps, differing_child, opened_leaf, post_missing_chunks
from fedchain.roles.norms import declared_words, norm_rule, police_norms
from fedchain.roles.proofs import aggregate_fraud_proof, first_differing_leaf, first_out_of_range, violation_leaf
from fedchain.roles.scoring import drop_low_scores
from fedchain.roles.task import (
    MODEL_KIND,
    IncludedUpdate,
    fetch_model,
    fetch_update,
    included_reveals,
    put_model,
    recompute_model,
)
from fedchain.storage import BlobStore, StorageError

OPEN_DISPUTE = frozenset({DisputeStatus.AWAITING_ANSWER, DisputeStatus.AWAITING_CHOICE, DisputeStatus.LEAF_OPENED})
"""The states of a dispute that is still running."""


@dataclass
class RoundChecks:
    """What this watcher verified in one round, for the round's summary line: the owners of the inputs it read and
    checked, and its verdict on each proposal it checked, by (proposed root, proposal time)."""

    inputs: set[str] = field(default_factory=set)
    verdicts: dict[tuple[bytes, int], str] = field(default_factory=dict)


class BaseWatcher(Agent):
    """Anyone (a participant, the requester, a third party) keeping the aggregators and members honest.

    A mode names the ``INPUT`` of a member and what the watcher checks it against (``INPUT_CHECK``)."""

    ROLE = "watcher"
    INPUT: ClassVar[str]
    INPUT_CHECK: ClassVar[str]

    def __init__(self, coordinator: CoordinatorClient, store: BlobStore, task_id: int,
                 account: LocalAccount) -> None:
        super().__init__(coordinator, store, task_id, account)
        self.findings: list[str] = []
        self._missed_settled_below = 0
        self._models: dict[bytes, NDArray[np.int32]] = {}
        self._checks: dict[int, RoundChecks] = {}

    def step(self) -> None:
        """Slash missed inputs and silence, settle disputes, end an idle task, apply lapsed availability
        challenges, then check the current round."""
        if self.in_flight():
            return
        state = self.coordinator.task_state(self.task_id)
        self.report_closed_rounds(state)
        self._slash_missed_inputs(state)
        self._settle_moot_disputes(state)
        if state.status != TaskStatus.RUNNING:
            return
        if self.coordinator.chain.now() >= self.coordinator.idle_at(self.task_id):
            self.coordinator.end_idle_task(self.task_id, sender=self.account)
            self.log("endIdleTask", round=state.current_round)
            return
        self._slash_silent_members(state.spare_rounds)
        round = state.current_round
        self._drop_unavailable_inputs(round)
        self._check_round(round, self.coordinator.round_view(self.task_id, round), state)

    # -- what each mode adds -------------------------------------------------------------------------

    def _check_round(self, round: int, view: RoundView, state: TaskState) -> None:
        """Check what the current ``round`` has so far and prove what is wrong."""
        raise NotImplementedError

    def _committers(self, round: int) -> list[str]:
        """The members that entered ``round`` and owe an input (a commitment, or in secure mode an
        advertisement too)."""
        raise NotImplementedError

    def _missed_inputs_slashable(self, round: int, state: TaskState) -> bool:
        """Whether the contract lets a commitment of ``round`` that was never revealed be slashed now."""
        raise NotImplementedError

    # -- what it verified ----------------------------------------------------------------------------

    def round_summary(self, round: int, view: RoundView) -> tuple[str, dict[str, object]]:
        """What this watcher verified in closed ``round``: the inputs it read and checked, its verdict on each
        proposal."""
        checks = self._checks.pop(round, RoundChecks())
        verdicts = "; ".join(checks.verdicts.values()) or "no proposal checked"
        return (f"{self.outcome(round, view)}; verified: {len(checks.inputs)} {self.INPUT}s read and checked against "
                f"{self.INPUT_CHECK}; {verdicts}"), {"inputs_checked": len(checks.inputs),
                                                     "verdicts": list(checks.verdicts.values())}

    def checked_input(self, round: int, owner: str) -> None:
        """Count ``owner``'s input of ``round`` as read and checked."""
        self._checks.setdefault(round, RoundChecks()).inputs.add(owner.lower())

    def verdict(self, round: int, view: RoundView, verdict: str) -> None:
        """Record this watcher's ``verdict`` on the pending proposal of ``round`` (the latest one counts)."""
        checks = self._checks.setdefault(round, RoundChecks())
        checks.verdicts[(view.proposed_root, view.proposed_at)] = f"the proposal of {view.aggregator} {verdict}"

    # -- chores --------------------------------------------------------------------------------------

    def _slash_missed_inputs(self, state: TaskState) -> None:
        running = state.status == TaskStatus.RUNNING
        last = state.current_round if running else state.current_round - 1
        for round in range(self._missed_settled_below, last + 1):
            if not self._missed_inputs_slashable(round, state):
                break
            for participant in self._committers(round):
                if self.coordinator.entry_state(self.task_id, round, participant) in self._missed_states(round):
                    self.coordinator.slash_missed_reveal(self.task_id, round, participant, sender=self.account)
                    self.log(f"slashMissedReveal {round} {participant}", round=round, participant=participant)
            if round < state.current_round:
                self._missed_settled_below = round + 1

    def _missed_states(self, round: int) -> frozenset[EntryState]:
        """The entry states of ``round`` the contract slashes as a missed input (from when
        :meth:`_missed_inputs_slashable` says)."""
        return frozenset({EntryState.COMMITTED})

    def _slash_silent_members(self, spare_rounds: int) -> None:
        if spare_rounds <= self.rules.params.max_silent_rounds:
            return
        for address in self.coordinator.members(self.task_id):
            member = self.coordinator.member(self.task_id, address)
            silent = spare_rounds - member.activity_mark > self.rules.params.max_silent_rounds
            if member.joined and member.exit_requested_at == 0 and silent:
                self.coordinator.slash_silence(self.task_id, address, sender=self.account)
                self.log(f"slashSilence {address}", participant=address)

    def _drop_unavailable_inputs(self, round: int) -> None:
        """Apply every availability challenge of ``round`` whose deadline passed before its data was on chain."""
        now = self.coordinator.chain.now()
        for owner, challenge in self.coordinator.input_challenges(self.task_id, round).items():
            if challenge.status == ChallengeStatus.OPEN and now >= challenge.deadline:
                self.coordinator.drop_unavailable(self.task_id, round, owner, sender=self.account)
                self.log(f"dropUnavailable {round} {owner}", round=round, owner=owner)

    def _answer_for(self, round: int, owner: str, tree: Callable[[], MerkleTree]) -> None:
        """Post the missing chunks of ``owner``'s input of ``round`` (whose tree ``tree`` builds) if it is under
        an open availability challenge: an honest owner that is offline is not slashed for an input the
        watcher holds, and the watcher is paid the bond's share of each chunk."""
        posted = post_missing_chunks(self.coordinator, self.task_id, round, owner, tree, sender=self.account)
        if posted:
            self.log(f"postChunk {round} {owner} x{posted}", round=round, owner=owner, chunks=posted)

    def _challenge_bond(self) -> None:
        """Let the coordinator pull one availability bond (before a challenge or a dispute)."""
        self.ensure_allowance(self.rules.params.availability_bond)

    # -- model disputes ------------------------------------------------------------------------------

    def _settle_moot_disputes(self, state: TaskState) -> None:
        """Settle this watcher's disputes whose proposal is gone (rejected, voided, replaced, or its round
        closed): their bond comes back."""
        for round in self.coordinator.disputed_rounds(self.task_id, self.address):
            dispute = self.coordinator.dispute(self.task_id, round, self.address)
            if dispute.status not in OPEN_DISPUTE:
                continue
            live = state.status == TaskStatus.RUNNING and round == state.current_round
            if live:
                view = self.coordinator.round_view(self.task_id, round)
                live = view.has_proposal and dispute.proposal == view.proposals
            if not live:
                self.coordinator.settle_dispute(self.task_id, round, self.address, sender=self.account)
                self.log(f"settleDispute {round} moot", round=round)

    def _dispute(self, round: int, view: RoundView, expected: MerkleTree, prove: Callable[[OpenedLeaf], None]) -> None:
        """Take the next step of this watcher's dispute of the pending proposal of ``round``, which differs from
        its own ``expected`` tree: open it, descend into a differing child, settle it unanswered, or once a leaf
        is open call ``prove`` with it."""
        dispute = self.coordinator.dispute(self.task_id, round, self.address)
        if dispute.proposal != view.proposals or dispute.status == DisputeStatus.NONE:
            self._challenge_bond()
            self.coordinator.open_dispute(self.task_id, sender=self.account)
            self.log(f"openDispute {round} {view.aggregator}", round=round, aggregator=view.aggregator)
            return
        if dispute.status == DisputeStatus.SETTLED:
            self._find(f"round {round}: the dispute of the proposal of {view.aggregator} ended without a proof")
            return
        if dispute.status == DisputeStatus.AWAITING_ANSWER:
            if self.coordinator.chain.now() >= dispute.deadline:
                self.coordinator.settle_dispute(self.task_id, round, self.address, sender=self.account)
                self.log(f"settleDispute {round} unopened {view.aggregator}", round=round, aggregator=view.aggregator)
            return
        steps = current_steps(self.coordinator.dispute_steps(self.task_id, round, self.address))
        if dispute.status == DisputeStatus.AWAITING_CHOICE:
            answer = steps[-1]
            go_right = differing_child(expected, answer.level, answer.index, answer.left, answer.right)
            self.coordinator.choose_child(self.task_id, answer.left, answer.right, go_right, sender=self.account)
            self.log(f"chooseChild {round} level {answer.level - 1}", round=round)
        else:
            prove(opened_leaf(steps))

    # -- models --------------------------------------------------------------------------------------

    def _model(self, root: bytes, blob_ref: bytes) -> NDArray[np.int32]:
        """A global model: one this watcher recomputed, or else its blob from the store."""
        known = self._models.get(root)
        return known if known is not None else fetch_model(self.store, self.rules, root, blob_ref,
                                                           verified=self.verified)

    def _check_against(self, round: int, view: RoundView, expected: NDArray[np.int32],
                       prove_at: Callable[[int, MerkleTree | OpenedLeaf], None]) -> bool:
        """Compare the pending proposal of ``round`` with the ``expected`` model: prove it wrong (``prove_at``
        with the differing leaf's index and the proposal's leaf source) from its blob, or dispute it when its
        blob is unusable. Returns whether the proposal is settled as far as this watcher goes (it is right, or
        a proof went out)."""
        rules = self.rules
        tree = self.verified.tree(expected, rules.layout)
        self._models[tree.root] = expected
        if tree.root == view.proposed_root:
            self.verdict(round, view, f"recomputed at all {rules.layout.num_leaves} leaves: it matches")
            self._republish(round, view, expected)
            return True
        try:
            proposed = fetch_model(self.store, rules, view.proposed_root, view.proposed_blob_ref,
                                   verified=self.verified)
        except StorageError as error:
            self.warn(f"round {round}: the proposal of {view.aggregator} is wrong and its blob unusable ({error}): "
                      "disputing it", round=round, once=("dispute", round, view.proposed_root, view.proposed_at))
            self.verdict(round, view, "differs from the recomputed model and its blob is unusable: disputed")
            self._dispute(round, view, tree, lambda leaf: prove_at(leaf.index, leaf))
            return False
        leaf_index = first_differing_leaf(expected, proposed, rules.layout)
        if leaf_index is None:
            raise AssertionError("a blob with the proposed root equals the expected model of another root")
        prove_at(leaf_index, self.verified.tree(proposed, rules.layout))
        return True

    def _republish(self, round: int, view: RoundView, model: NDArray[np.int32]) -> None:
        """Put a correct proposal's model in the store when its own blob is missing there (the store is asked even
        when this watcher read the blob before)."""
        try:
            self.verified.get_blob(self.store, view.proposed_blob_ref,
                                   self.rules.expected(MODEL_KIND, view.proposed_root), fresh=True)
        except StorageError:
            put_model(self.store, self.rules, model, verified=self.verified)
            self.log(f"republished model {round}", round=round)

    def _find(self, finding: str) -> None:
        """Record something wrong that the chain does not settle (once)."""
        if finding not in self.findings:
            self.findings.append(finding)
            self.warn(finding, event="finding")


class Watcher(BaseWatcher):
    """A plain-mode watcher: range-checks every reveal and recomputes every proposal."""

    COORDINATOR = Coordinator
    coordinator: Coordinator
    INPUT = "update"
    INPUT_CHECK = "their revealed roots and the clip"

    def __init__(self, coordinator: Coordinator, store: BlobStore, task_id: int, account: LocalAccount) -> None:
        super().__init__(coordinator, store, task_id, account)
        self._checked_reveals: set[tuple[int, str]] = set()
        self._checked_proposals: set[tuple[int, bytes, int]] = set()
        self._updates: dict[tuple[int, str, bytes], IncludedUpdate] = {}
        """Updates read and verified so far, by (round, participant, root): each is read once, not every step."""

    def _check_round(self, round: int, view: RoundView, state: TaskState) -> None:
        if view.phase in (RoundPhase.NOT_OPEN, RoundPhase.COMMIT):
            return
        if self.rules.audit is not None:
            watch_audits(self, self.coordinator, round, view)
        updates = self._read_updates(round, view)
        if updates is None:
            return
        self._check_reveals(round, updates)
        if norm_rule(self.rules) is not None and police_norms(self, self.coordinator, self.rules, round, view,
                                                              updates):
            return  # the included set changed (a pending proposal was voided): read it again next step
        scoring = self.rules.scoring
        after_scores = view.phase in (RoundPhase.PROPOSE, RoundPhase.PROPOSE_EXPIRED, RoundPhase.CHALLENGE)
        if scoring is not None and after_scores and drop_low_scores(
                self, self.coordinator, round, [update.reveal.participant for update in updates], scoring):
            return  # the included set changed (and a pending proposal was voided): read it again next step
        if view.phase == RoundPhase.CHALLENGE:
            self._check_proposal(round, view, state, updates)

    def _committers(self, round: int) -> list[str]:
        return self.coordinator.committers(self.task_id, round)

    def _missed_inputs_slashable(self, round: int, state: TaskState) -> bool:
        """From the round's reveal deadline on."""
        return self.coordinator.chain.now() >= self.coordinator.round_view(self.task_id, round).reveal_end

    def _read_updates(self, round: int, view: RoundView) -> list[IncludedUpdate] | None:
        """Every included update of ``round`` so far; None while one is unusable (it is challenged for
        availability once the reveal deadline has passed and the round still takes challenges)."""
        self._updates = {key: update for key, update in self._updates.items() if key[0] == round}
        updates: list[IncludedUpdate] = []
        missing = False
        for reveal in included_reveals(self.coordinator, self.task_id, round):
            key = (round, reveal.participant, reveal.root)
            if key not in self._updates:
                try:
                    self._updates[key] = fetch_update(self.coordinator, self.store, self.rules, self.task_id, round,
                                                      reveal, verified=self.verified)
                except StorageError as error:
                    missing = True
                    self._challenge_update(round, view, reveal.participant, reveal.root, reveal.weight, str(error))
                    continue
            update = self._updates[key]
            updates.append(update)
            if view.open_challenges:
                self._answer_for(round, reveal.participant,
                                 partial(self.verified.tree, update.vector, self.rules.layout))
        return None if missing else updates

    def _challenge_update(self, round: int, view: RoundView, participant: str, root: bytes, weight: int,
                          error: str) -> None:
        """Challenge an unusable update's availability, once the reveal deadline has passed, while the round
        takes challenges, and unless it is challenged already."""
        takes_challenges = view.phase in (RoundPhase.PROPOSE, RoundPhase.PROPOSE_EXPIRED, RoundPhase.CHALLENGE)
        if not takes_challenges or self.coordinator.chain.now() < view.reveal_end:
            return
        challenge = self.coordinator.input_challenge(self.task_id, round, participant)
        if challenge.status != ChallengeStatus.NONE:
            return
        self.warn(f"round {round}: the update of {participant} is unusable ({error}): challenging its availability",
                  event="input_unavailable", round=round, owner=participant)
        self._challenge_bond()
        self.coordinator.challenge_update(self.task_id, participant, root, weight, sender=self.account)
        self.log(f"challengeUpdate {round} {participant}", round=round, owner=participant)

    def _check_reveals(self, round: int, updates: list[IncludedUpdate]) -> None:
        rules = self.rules
        for update in updates:
            reveal = update.reveal
            key = (round, reveal.participant)
            if key in self._checked_reveals:
                continue
            coordinate = first_out_of_range(update.vector, rules.params.clip)
            if coordinate is not None:
                index, leaf = violation_leaf(update.vector, rules.layout, coordinate, tree_of=self.verified.tree)
                self.coordinator.prove_violation(self.task_id, reveal.participant, reveal.root, reveal.weight, index,
                                                 leaf, sender=self.account)
                self.log(f"proveViolation {round} {reveal.participant}", round=round, participant=reveal.participant)
            self._checked_reveals.add(key)
            self.checked_input(round, reveal.participant)

    def _check_proposal(self, round: int, view: RoundView, state: TaskState, updates: list[IncludedUpdate]) -> None:
        key = (round, view.proposed_root, view.proposed_at)
        if key in self._checked_proposals:
            return
        rules = self.rules
        try:
            previous = self._model(state.model_root, state.model_blob_ref)
        except StorageError as error:
            self._find(f"round {round}: cannot read the current model: {error}")
            return
        expected = recompute_model(rules, previous, updates)

        def prove_at(leaf_index: int, proposed: MerkleTree | OpenedLeaf) -> None:
            norms = declared_words(self.coordinator, self.task_id, round) if norm_rule(rules) is not None else None
            proof = aggregate_fraud_proof(leaf_index, rules.layout, previous, proposed, updates,
                                          tree_of=self.verified.tree, norms=norms)
            self.coordinator.challenge_aggregate(self.task_id, proof, sender=self.account)
            self.verdict(round, view, f"differs from the recomputed model at leaf {leaf_index}: challenged")
            self.log(f"challengeAggregate {round} {view.aggregator} leaf {leaf_index}", round=round,
                     aggregator=view.aggregator, leaf=leaf_index)

        if self._check_against(round, view, expected, prove_at):
            self._checked_proposals.add(key)
