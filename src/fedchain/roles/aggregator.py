"""The aggregator: bonds, proposes the next global model after the reveal deadline, finalizes, and after
the task's end claims its fees and takes its bond back.

:class:`BaseAggregator` is what an aggregator does in either mode (bond, the chores below, settle);
:class:`Aggregator` proposes a plain round, :class:`fedchain.roles.secure_aggregator.SecureAggregator` a
secure one.

It also does the chores anyone may do so a round never stalls: fail a round with too few reveals,
reopen an expired propose window, finalize after the challenge window. It answers every model dispute of
its pending proposal (docs/protocol.md section 11.3) from the model it stored, so an honest aggregator is
never slashed for a tree it holds, and it waits while an input it needs is in neither the store nor on
chain (a watcher's availability challenge puts it on chain or drops it from the round). Before proposing it proves any
out-of-range update itself (an honest aggregate over a bad update could not be correct) and, in a scored task, drops
every update whose median score is below the task's threshold or that no validator scored
(:mod:`fedchain.roles.scoring`), so the set it aggregates is exactly the set the contract will hold it to.

Liveness: any number of bonded aggregators may run. A ``standby`` aggregator leaves each round's first
propose window to the others and proposes only in a reopened one, so if the primary aggregator
disappears, the standby reopens the expired window and takes the round over; if it is alive, nobody
pays for a lost race. Two aggregators that race anyway are safe: the contract takes the first proposal,
and the loser's transaction reverts before anything changes.

Logging: an input it cannot use (missing from the store, or corrupt there, and not on chain) is logged once per
round and owner, not at every poll; when a round closes it logs one summary line: what it proposed, over how
many inputs, whether its proposal was finalized and the fee it earned.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from eth_account.signers.local import LocalAccount
from numpy.typing import NDArray

from fedchain.aggregate.constants import BPS_DENOMINATOR
from fedchain.chain.coordinator import (
    Coordinator,
    CoordinatorClient,
    RoundPhase,
    RoundStatus,
    RoundView,
    TaskState,
    TaskStatus,
)
from fedchain.roles.agent import Agent
from fedchain.roles.availability import UnavailableError, WithheldStore, answer_disputes
from fedchain.roles.norms import norm_rule, police_norms
from fedchain.roles.proofs import first_out_of_range, violation_leaf
from fedchain.roles.scoring import drop_low_scores
from fedchain.roles.task import (
    IncludedUpdate,
    fetch_model,
    fetch_update,
    included_reveals,
    put_model,
    recompute_model,
)
from fedchain.storage import BlobStore, StorageError, StoredBlob


class BaseAggregator(Agent):
    """A bonded aggregator posting ``bond`` (default: the task's aggregatorBond); a ``standby`` one proposes
    only in reopened propose windows. A mode names the ``INPUT`` of a member that it aggregates."""

    ROLE = "aggregator"
    INPUT: ClassVar[str]

    def __init__(self, coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount, *,
                 bond: int | None = None, standby: bool = False) -> None:
        super().__init__(coordinator, store, task_id, account)
        self.bond = bond
        self.standby = standby

    def step(self) -> None:
        """Bond, fail, propose, reopen or finalize: whatever is due now; once the task ended, settle."""
        if self.in_flight():
            return
        state = self.coordinator.task_state(self.task_id)
        self.report_closed_rounds(state)
        if state.status != TaskStatus.RUNNING:
            self._settle()
            return
        self._ensure_bond()
        round = state.current_round
        view = self.coordinator.round_view(self.task_id, round)
        if view.has_proposal and view.open_disputes and self._mine(view):
            self._answer_disputes(round, view)
        if view.phase == RoundPhase.AWAITING_FAILURE:
            self.coordinator.fail_round(self.task_id, sender=self.account)
            self.log(f"failRound {round}", round=round)
        elif view.phase == RoundPhase.PROPOSE and self._may_propose(round, view):
            self._propose(round, state)
        elif view.phase == RoundPhase.PROPOSE_EXPIRED:
            self.coordinator.reopen_aggregation(self.task_id, sender=self.account)
            self.log(f"reopenAggregation {round}", round=round)
        elif view.phase == RoundPhase.FINALIZABLE:
            self.coordinator.finalize(self.task_id, sender=self.account)
            self.log(f"finalize {round}", round=round)

    def round_summary(self, round: int, view: RoundView) -> tuple[str, dict[str, object]]:
        """What this aggregator proposed in closed ``round``, whose proposal was finalized, and the fee it earned."""
        proposed = sum(proposal.aggregator.lower() == self.address.lower()
                       for proposal in self.coordinator.proposals(self.task_id, round))
        finalized = view.status == RoundStatus.FINALIZED
        fields: dict[str, object] = {"proposals": proposed, "inputs": view.included}
        if finalized and self._mine(view):
            params = self.rules.params
            fee = params.reward_per_round * params.aggregator_fee_bps // BPS_DENOMINATOR
            fields |= {"root": "0x" + view.proposed_root.hex(), "fee": fee}
            return (f"{self.outcome(round, view)}: proposed root 0x{view.proposed_root.hex()} over {view.included} "
                    f"{self.INPUT}s, accepted; fee {self.tokens(fee)}"), fields
        done = f"proposed {proposed} time(s), not accepted" if proposed else "proposed nothing"
        if finalized:
            fields["aggregator"] = view.aggregator
            done += f"; the proposal of {view.aggregator} over {view.included} {self.INPUT}s was accepted"
        return f"{self.outcome(round, view)}: {done}", fields

    def finished(self) -> bool:
        """The task has ended, the fees are claimed and the bond withdrawn."""
        return (super().finished() and self.coordinator.fees_of(self.task_id, self.address) == 0
                and not self.coordinator.aggregator(self.task_id, self.address).bonded)

    def _settle(self) -> None:
        """Claim the fees earned and withdraw the bond (allowed at once after the task's end)."""
        if self.coordinator.fees_of(self.task_id, self.address) > 0:
            self.coordinator.claim_fees(self.task_id, sender=self.account)
            self.log("claimFees")
        if self.coordinator.aggregator(self.task_id, self.address).bonded:
            self.coordinator.withdraw_bond(self.task_id, sender=self.account)
            self.log("withdrawBond")

    def _ensure_bond(self) -> None:
        record = self.coordinator.aggregator(self.task_id, self.address)
        required = self.rules.params.aggregator_bond
        if record.exit_requested_at != 0 or record.bond >= required:
            return
        amount = max(required - record.bond, 0 if self.bond is None else self.bond)
        self.ensure_allowance(amount)
        self.coordinator.post_bond(self.task_id, amount, sender=self.account)
        self.log("postBond", amount=amount)

    def _mine(self, view: RoundView) -> bool:
        """Whether the round's pending or finalized proposal is this aggregator's."""
        return view.aggregator.lower() == self.address.lower()

    def _may_propose(self, round: int, view: RoundView) -> bool:
        if view.has_proposal or self.coordinator.chain.now() < view.propose_start:
            return False
        if self.standby and view.propose_start_stored == 0:
            return False  # the round's first window: the primary aggregators' turn
        return self.coordinator.aggregator(self.task_id, self.address).barred_round != round + 1

    def _propose(self, round: int, state: TaskState) -> None:
        """Propose the next model of the current ``round`` (or do what must come first)."""
        raise NotImplementedError

    def publishes(self, round: int) -> bool:
        """Whether to put the model proposed in ``round`` in the store (an honest aggregator always does; a
        withholding one keeps it to itself)."""
        return True

    def store_model(self, round: int, model: NDArray[np.int32]) -> StoredBlob:
        """Put the ``model`` proposed in ``round`` in the store as a model blob (nowhere if it is withheld)."""
        return put_model(self.store if self.publishes(round) else WithheldStore(), self.rules, model,
                         verified=self.verified)

    def _answer_disputes(self, round: int, view: RoundView) -> None:
        """Answer the disputes of this aggregator's pending proposal from the model blob it stored."""
        try:
            model = fetch_model(self.store, self.rules, view.proposed_root, view.proposed_blob_ref,
                                verified=self.verified)
        except StorageError as error:
            self.warn(f"round {round}: cannot answer the disputes of its proposal: {error}", round=round,
                      once=("disputes", round))
            return
        tree = self.verified.tree(model, self.rules.layout)
        for challenger in answer_disputes(self.coordinator, self.task_id, round, view.proposals, tree,
                                          sender=self.account):
            self.log(f"answerDispute {round} {challenger}", round=round, challenger=challenger)

    def wait_for_input(self, round: int, owner: str, error: StorageError) -> None:
        """Say once per round and owner that the input of ``owner`` is unusable (in neither the store nor on chain),
        so this aggregator cannot propose yet."""
        self.warn(f"round {round}: cannot use the {self.INPUT} of {owner} ({error}); waiting until its owner "
                  "republishes it or an availability challenge puts it on chain or drops it", event="input_unavailable",
                  round=round, once=("input", round, owner.lower()), owner=owner)


class Aggregator(BaseAggregator):
    """A plain-mode aggregator: fetches the revealed updates and proposes their aggregate."""

    COORDINATOR = Coordinator
    coordinator: Coordinator
    INPUT = "update"

    def propose_model(self, round: int, previous: NDArray[np.int32],
                      updates: list[IncludedUpdate]) -> NDArray[np.int32]:
        """The model to propose: the task's rule applied to the included updates (override to cheat)."""
        return recompute_model(self.rules, previous, updates)

    def _propose(self, round: int, state: TaskState) -> None:
        rules = self.rules
        reveals = included_reveals(self.coordinator, self.task_id, round)
        if len(reveals) < rules.params.min_participants:
            return  # dropped since the round was read (e.g. failed audits): it can only fail (docs/protocol.md 9.2)
        updates: list[IncludedUpdate] = []
        for reveal in reveals:
            try:
                updates.append(fetch_update(self.coordinator, self.store, rules, self.task_id, round, reveal,
                                            verified=self.verified))
            except UnavailableError as error:
                self.wait_for_input(round, reveal.participant, error)
        if len(updates) < len(reveals):
            return
        bad = [(update, coordinate) for update in updates
               if (coordinate := first_out_of_range(update.vector, rules.params.clip)) is not None]
        if bad:
            for update, coordinate in bad:
                index, leaf = violation_leaf(update.vector, rules.layout, coordinate, tree_of=self.verified.tree)
                self.coordinator.prove_violation(self.task_id, update.reveal.participant, update.reveal.root,
                                                 update.reveal.weight, index, leaf, sender=self.account)
                self.log(f"proveViolation {round} {update.reveal.participant}", round=round,
                         participant=update.reveal.participant)
            return  # the included set changed: propose on the next step, over the remaining updates
        if norm_rule(rules) is not None and police_norms(self, self.coordinator, rules, round,
                                                         self.coordinator.round_view(self.task_id, round), updates):
            return  # as above
        if rules.scoring is not None and drop_low_scores(self, self.coordinator, round,
                                                         [update.reveal.participant for update in updates],
                                                         rules.scoring):
            return  # as above
        previous = fetch_model(self.store, rules, state.model_root, state.model_blob_ref, verified=self.verified)
        model = self.propose_model(round, previous, updates)
        stored = self.store_model(round, model)
        self.coordinator.propose(self.task_id, stored.header.root, stored.ref, sender=self.account)
        self.log(f"propose {round}", round=round, root="0x" + stored.header.root.hex(), inputs=len(updates))


class TamperingAggregator(Aggregator):
    """Adversarial: in ``rounds`` it adds ``delta`` to ``coordinate`` of the correct aggregate."""

    def __init__(self, *args: Any, rounds: frozenset[int], coordinate: int = 0, delta: int = 1,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tamper_rounds = rounds
        self.coordinate = coordinate
        self.delta = delta

    def propose_model(self, round: int, previous: NDArray[np.int32],
                      updates: list[IncludedUpdate]) -> NDArray[np.int32]:
        """The correct model, with one coordinate altered in a tampered round."""
        model = super().propose_model(round, previous, updates)
        if round in self.tamper_rounds:
            model = model.copy()
            model[self.coordinate] = np.int32(int(model[self.coordinate]) + self.delta)
        return model


class WithholdingAggregator(TamperingAggregator):
    """Adversarial: in ``rounds`` it proposes a tampered model; in the ``withheld`` ones (default: all of them)
    it never publishes its blob, and so cannot answer a dispute of it (it is rejected and slashed when the
    dispute's first level goes unanswered)."""

    def __init__(self, *args: Any, withheld: frozenset[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.withheld_rounds = self.tamper_rounds if withheld is None else withheld

    def publishes(self, round: int) -> bool:
        """Never in a ``withheld`` round (by default every tampered round)."""
        return round not in self.withheld_rounds
