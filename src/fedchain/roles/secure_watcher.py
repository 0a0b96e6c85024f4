"""The secure-mode watcher: proves a wrong proposal at one leaf, from public data only.

Besides the chores of every watcher (:class:`BaseWatcher`: missed inputs, here an advertisement never
followed by a share commitment, slashable from the commit deadline when the round had more than threshold
commitments, and committed shares never followed by an upload, slashable from the upload deadline; silence;
idle tasks; lapsed availability challenges; disputes), it

- challenges the availability of every survivor's masked vector that is in neither the store nor on chain
  once the upload deadline has passed (the grace every honest owner needs: it stores the vector before it
  uploads the root), while the availability phase takes challenges (``challengeMaskedVector``), and posts
  one it holds that someone else challenged;
- checks every pending proposal:

1. it reads the round's sets from the chain, the proposal's transcript (its ``TranscriptProposed`` event,
   checked against the ``transcriptHash`` the contract stored) and the survivors' masked vectors (from the
   store, or from the chain once a challenge put them there);
2. it checks the transcript. The valid transcript is unique (every word is bound to its owner's
   commitment: a self seed to its hash, a mask key to its public key, docs/protocol.md section 10.8), so
   checking the proposed one is recomputing it, and needs no unmask bundle; an invalid transcript makes the
   proposal wrong at every leaf;
3. with a valid transcript it unmasks the survivors' weighted sum, applies the task's rule itself and
   compares the result with the proposed model; when the proposal's blob is unusable it disputes the
   proposal instead and descends to a leaf where it differs (:class:`BaseWatcher`);
4. at the first wrong leaf (leaf 0 for a wrong transcript) it builds the fraud proof, runs the contract's
   check in Python (``check_proof``) and sends ``challengeAggregate`` only when the proof holds.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from eth_account.signers.local import LocalAccount
from numpy.typing import NDArray
from web3 import Web3

from fedchain.chain.coordinator import ChallengeStatus, EntryState, RoundPhase, RoundView, TaskState, TaskStatus
from fedchain.chain.secure_coordinator import MaskedRecord, SecureCoordinator, masked_challenge_end, upload_end
from fedchain.commit.merkle import MerkleTree
from fedchain.roles.availability import OpenedLeaf
from fedchain.roles.secure_round import ChainRound, fetch_survivor_masked, masked_tree_of, read_round
from fedchain.roles.watcher import BaseWatcher
from fedchain.secagg.aggregate import secure_fedavg
from fedchain.secagg.derive import transcript_hash
from fedchain.secagg.proofs import check_proof, secure_context, secure_fraud_proof
from fedchain.secagg.unmask import Transcript, unmask
from fedchain.storage import BlobStore, StorageError

TRANSCRIPT_LEAF = 0
"""The leaf a proof against an invalid transcript shows (any leaf would do: the transcript check comes first)."""


class SecureWatcher(BaseWatcher):
    """A watcher of secure rounds."""

    COORDINATOR = SecureCoordinator
    coordinator: SecureCoordinator
    INPUT = "masked update"
    INPUT_CHECK = "their uploaded roots"

    def __init__(self, coordinator: SecureCoordinator, store: BlobStore, task_id: int,
                 account: LocalAccount) -> None:
        super().__init__(coordinator, store, task_id, account)
        self._checked_proposals: set[tuple[int, bytes, int]] = set()
        self._masked: dict[tuple[int, bytes, bytes], NDArray[np.uint64]] = {}
        """Masked vectors read and verified so far, by (round, survivor, masked root): each is read once."""

    def _check_round(self, round: int, view: RoundView, state: TaskState) -> None:
        if view.phase == RoundPhase.AVAILABILITY:
            self._challenge_missing_masked(round, view)
        elif view.phase == RoundPhase.CHALLENGE:
            self._check_proposal(round, view, state)

    def _committers(self, round: int) -> list[str]:
        return [advert.participant for advert in self.coordinator.advertisements(self.task_id, round)]

    def _missed_inputs_slashable(self, round: int, state: TaskState) -> bool:
        """From the round's commit deadline on (advertisements with no commitment; commitments with no upload
        from the upload deadline on: :meth:`_missed_states`)."""
        if round < state.current_round or state.status != TaskStatus.RUNNING:
            return True
        return self.coordinator.chain.now() >= self.coordinator.round_view(self.task_id, round).commit_end

    def _missed_states(self, round: int) -> frozenset[EntryState]:
        view = self.coordinator.round_view(self.task_id, round)
        states = set()
        if view.commits > self.rules.params.threshold:
            states.add(EntryState.ADVERTISED)
        if view.phase not in (RoundPhase.ADVERTISE, RoundPhase.COMMIT, RoundPhase.UPLOAD):
            states.add(EntryState.COMMITTED)
        return frozenset(states)

    def _challenge_missing_masked(self, round: int, view: RoundView) -> None:
        """Challenge every survivor's masked vector that is in neither the store nor on chain, while the round
        takes such challenges; post those it holds that someone else challenged."""
        params = self.rules.params
        now = self.coordinator.chain.now()
        chain_round = read_round(self.coordinator, self.rules, self.task_id, round)
        if chain_round is None:
            return
        for member in chain_round.sets.survivors():
            owner = Web3.to_checksum_address(member.address)
            try:
                masked = self._masked_of(chain_round, member.address)
            except StorageError as error:
                if not upload_end(view, params) <= now < masked_challenge_end(view, params):
                    continue
                if self.coordinator.input_challenge(self.task_id, round, owner).status != ChallengeStatus.NONE:
                    continue
                self.warn(f"round {round}: the masked vector of {owner} is unusable ({error}): challenging its "
                          "availability", event="input_unavailable", round=round, owner=owner)
                self._challenge_bond()
                self.coordinator.challenge_masked_vector(self.task_id, owner, self._record(chain_round, member.address),
                                                         sender=self.account)
                self.log(f"challengeMaskedVector {round} {owner}", round=round, owner=owner)
                continue
            if view.open_challenges:
                self._answer_for(round, owner, partial(masked_tree_of, self.verified, self.rules, masked))

    def _masked_of(self, chain_round: ChainRound, address: bytes) -> NDArray[np.uint64]:
        """A survivor's masked vector (:func:`fetch_survivor_masked`), read once per round and masked root."""
        key = (chain_round.index, address, chain_round.sets.uploaded[address])
        if key not in self._masked:
            self._masked = {kept: vector for kept, vector in self._masked.items() if kept[0] == chain_round.index}
            self._masked[key] = fetch_survivor_masked(self.coordinator, self.store, self.rules, self.task_id,
                                                      chain_round, address, verified=self.verified)
            self.checked_input(chain_round.index, "0x" + address.hex())
        return self._masked[key]

    @staticmethod
    def _record(chain_round: ChainRound, address: bytes) -> MaskedRecord:
        """A survivor's record as it uploaded it (docs/protocol.md section 10.4)."""
        sets = chain_round.sets
        member = sets.member("0x" + address.hex())
        commitment = sets.committed[address]
        return MaskedRecord(index=member.index, pk_x=member.public[0], pk_y=member.public[1],
                            self_seed_hash=commitment.self_seed_hash, share_bundle_ref=commitment.share_bundle_ref,
                            weight=commitment.weight, masked_root=sets.uploaded[address])

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
            masked = {member.address: self._masked_of(chain_round, member.address)
                      for member in chain_round.sets.survivors()}
            previous = self._model(state.model_root, state.model_blob_ref)
        except StorageError as error:
            self._find(f"round {round}: cannot check the proposal of {view.aggregator}: {error}")
            return
        sets = chain_round.sets
        layout = rules.layout
        masked_trees = {address: masked_tree_of(self.verified, rules, vector) for address, vector in masked.items()}

        def prove_at(leaf_index: int, proposed: MerkleTree | OpenedLeaf) -> None:
            proof = secure_fraud_proof(leaf_index=leaf_index, previous=self.verified.tree(previous, layout),
                                       proposed=proposed, round=sets, masked_trees=masked_trees, transcript=words)
            context = secure_context(layout=layout, leaf_index=leaf_index, previous_root=state.model_root,
                                     proposed_root=view.proposed_root, server_lr_bps=rules.params.server_lr_bps,
                                     clip=rules.params.clip, round=sets, transcript_hash=transcript_hash(words))
            if not check_proof(context, proof).differs:
                self._find(f"round {round}: the proposal of {view.aggregator} differs at leaf {leaf_index}, but "
                           "the fraud proof would not show it")
                return
            self.coordinator.challenge_aggregate(self.task_id, leaf_index, proof, sender=self.account)
            self.verdict(round, view, f"differs from the recomputed model at leaf {leaf_index}: challenged")
            self.log(f"challengeAggregate {round} {view.aggregator} leaf {leaf_index}", round=round,
                     aggregator=view.aggregator, leaf=leaf_index)

        transcript = Transcript.from_words(sets, words)
        if not transcript.is_valid(sets):
            try:
                proposed = self.verified.tree(self._model(view.proposed_root, view.proposed_blob_ref), layout)
            except StorageError:
                # any opened leaf shows a wrong transcript: descend anywhere (a zero tree leads left)
                anywhere = self.verified.tree(np.zeros(layout.num_params, dtype=np.int32), layout)
                self.verdict(round, view, "has an invalid transcript and its blob is unusable: disputed")
                self._dispute(round, view, anywhere, lambda leaf: prove_at(leaf.index, leaf))
                return
            prove_at(TRANSCRIPT_LEAF, proposed)
            self.verdict(round, view, "has an invalid transcript: challenged")
            self._checked_proposals.add(key)
            return
        expected = secure_fedavg(previous, unmask(sets, masked, transcript), sets.total_weight(),
                                 clip=rules.params.clip, server_lr_bps=rules.params.server_lr_bps)
        if self._check_against(round, view, expected, prove_at):
            self._checked_proposals.add(key)
