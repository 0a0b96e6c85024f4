"""The secure-mode watcher: proves a wrong proposal at one leaf, from public data only.

Besides the chores of every watcher (:class:`BaseWatcher`: missed inputs, here committed shares never
followed by an upload, which the contract lets anyone slash from the upload deadline on; silence; idle
tasks), it checks every pending proposal:

1. it reads the round's sets from the chain, the proposal's transcript (its ``TranscriptProposed`` event,
   checked against the ``transcriptHash`` the contract stored) and the survivors' masked vectors;
2. it checks the transcript. The valid transcript is unique (every word is bound to its owner's
   commitment: a self seed to its hash, a mask key to its public key, docs/protocol.md section 10.8), so
   checking the proposed one is recomputing it, and needs no unmask bundle; an invalid transcript makes the
   proposal wrong at every leaf;
3. with a valid transcript it unmasks the survivors' weighted sum, applies the task's rule itself and
   compares the result with the proposed model;
4. at the first wrong leaf (leaf 0 for a wrong transcript) it builds the fraud proof, runs the contract's
   check in Python (``check_proof``) and sends ``challengeAggregate`` only when the proof holds.

A blob it cannot fetch or read (a masked vector, the proposed or current model) cannot be proven
missing on chain: it is recorded in ``findings`` and checked again at the next step.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from fedchain.chain.coordinator import RoundPhase, RoundView, TaskState, TaskStatus
from fedchain.chain.secure_coordinator import SecureCoordinator
from fedchain.commit.merkle import MerkleTree
from fedchain.roles.proofs import first_differing_leaf
from fedchain.roles.secure_round import fetch_survivors_masked, read_round
from fedchain.roles.task import fetch_model
from fedchain.roles.watcher import BaseWatcher
from fedchain.secagg.aggregate import secure_fedavg
from fedchain.secagg.derive import transcript_hash
from fedchain.secagg.masking import masked_tree
from fedchain.secagg.proofs import check_proof, secure_context, secure_fraud_proof
from fedchain.secagg.unmask import Transcript, unmask
from fedchain.storage import BlobStore, StorageError

TRANSCRIPT_LEAF = 0
"""The leaf a proof against an invalid transcript shows (any leaf would do: the transcript check comes first)."""


class SecureWatcher(BaseWatcher):
    """A watcher of secure rounds."""

    COORDINATOR = SecureCoordinator
    coordinator: SecureCoordinator

    def __init__(self, coordinator: SecureCoordinator, store: BlobStore, task_id: int,
                 account: LocalAccount) -> None:
        super().__init__(coordinator, store, task_id, account)
        self._checked_proposals: set[tuple[int, bytes, int]] = set()

    def _check_round(self, round: int, view: RoundView, state: TaskState) -> None:
        if view.phase == RoundPhase.CHALLENGE:
            self._check_proposal(round, view, state)

    def _committers(self, round: int) -> list[str]:
        return [commitment.participant for commitment in self.coordinator.share_commitments(self.task_id, round)]

    def _missed_inputs_slashable(self, round: int, state: TaskState) -> bool:
        """From the round's upload deadline on (a forfeited entry keeps the record a fraud proof binds)."""
        if round < state.current_round or state.status != TaskStatus.RUNNING:
            return True
        upload_end = self.coordinator.round_view(self.task_id, round).commit_end + self.rules.params.reveal_window
        return self.coordinator.chain.now() >= upload_end

    def _check_proposal(self, round: int, view: RoundView, state: TaskState) -> None:
        key = (round, view.proposed_root, view.proposed_at)
        if key in self._checked_proposals:
            return
        rules = self.rules
        chain_round = read_round(self.coordinator, rules, self.task_id, round)
        transcripts = self.coordinator.transcripts(self.task_id, round)
        stored_hash = self.coordinator.secure_round(self.task_id, round).transcript_hash
        if chain_round is None or not transcripts or transcript_hash(transcripts[-1]) != stored_hash:
            self._find(f"round {round}: the pending proposal's transcript is not on chain as its hash says")
            return
        words = transcripts[-1]
        try:
            masked = fetch_survivors_masked(self.store, rules, chain_round)
            previous = fetch_model(self.store, rules, state.model_root, state.model_blob_ref)
            proposed = fetch_model(self.store, rules, view.proposed_root, view.proposed_blob_ref)
        except StorageError as error:
            self._find(f"round {round}: cannot check the proposal of {view.aggregator}: {error}")
            return
        sets = chain_round.sets
        transcript = Transcript.from_words(sets, words)
        if transcript.is_valid(sets):
            expected = secure_fedavg(previous, unmask(sets, masked, transcript), sets.total_weight(),
                                     clip=rules.params.clip, server_lr_bps=rules.params.server_lr_bps)
            leaf_index = first_differing_leaf(expected, proposed, rules.layout)
        else:
            leaf_index = TRANSCRIPT_LEAF
        if leaf_index is not None:
            layout = rules.layout
            proof = secure_fraud_proof(
                leaf_index=leaf_index, previous=MerkleTree(previous, layout), proposed=MerkleTree(proposed, layout),
                round=sets, masked_trees={address: masked_tree(vector, layout) for address, vector in masked.items()},
                transcript=words)
            context = secure_context(layout=layout, leaf_index=leaf_index, previous_root=state.model_root,
                                     proposed_root=view.proposed_root, server_lr_bps=rules.params.server_lr_bps,
                                     clip=rules.params.clip, round=sets, transcript_hash=transcript_hash(words))
            if not check_proof(context, proof).differs:
                self._find(f"round {round}: the proposal of {view.aggregator} differs at leaf {leaf_index}, but "
                           "the fraud proof would not show it")
                return
            self.coordinator.challenge_aggregate(self.task_id, leaf_index, proof, sender=self.account)
            self.log(f"challengeAggregate {round} {view.aggregator} leaf {leaf_index}")
        self._checked_proposals.add(key)
