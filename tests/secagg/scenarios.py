"""Whole rounds turned into fraud-proof inputs, for the proof tests and the shared secure vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.secagg.aggregate import secure_fedavg
from fedchain.secagg.derive import transcript_hash
from fedchain.secagg.masking import masked_tree
from fedchain.secagg.params import SecureParams
from fedchain.secagg.proofs import SecureFraudProof, SecureLeafContext, secure_context, secure_fraud_proof
from tests.secagg.cohort import Party, Phase, RoundRecord, aggregate, run_phases


@dataclass
class ProofScenario:
    """A finished round, its honest proposal, and everything a proof at any leaf needs."""

    record: RoundRecord
    clip: int
    server_lr_bps: int
    previous: NDArray[np.int32]
    transcript: tuple[bytes, ...] = field(init=False)
    model: NDArray[np.int32] = field(init=False)

    def __post_init__(self) -> None:
        transcript, weighted_sum = aggregate(self.record)
        self.transcript = transcript.words(self.record.final)
        self.model = secure_fedavg(
            self.previous,
            weighted_sum,
            self.record.final.total_weight(),
            clip=self.clip,
            server_lr_bps=self.server_lr_bps,
        )

    @property
    def layout(self) -> LeafLayout:
        """The model's leaf layout."""
        return self.record.layout

    @cached_property
    def masked_trees(self) -> Mapping[bytes, MerkleTree]:
        """The survivors' masked trees by address."""
        return {address: masked_tree(vector, self.layout) for address, vector in self.record.masked.items()}

    @cached_property
    def previous_tree(self) -> MerkleTree:
        """The previous global model's tree."""
        return MerkleTree(self.previous, self.layout)

    def build(
        self,
        leaf_index: int,
        proposed: NDArray[np.int32] | None = None,
        transcript: Sequence[bytes] | None = None,
    ) -> tuple[SecureLeafContext, SecureFraudProof]:
        """Context and proof at ``leaf_index`` against ``proposed`` (default: the honest model) whose
        transcript is ``transcript`` (default: the honest one)."""
        words = tuple(self.transcript if transcript is None else transcript)
        proposed_tree = MerkleTree(self.model if proposed is None else proposed, self.layout)
        ctx = secure_context(
            layout=self.layout,
            leaf_index=leaf_index,
            previous_root=self.previous_tree.root,
            proposed_root=proposed_tree.root,
            server_lr_bps=self.server_lr_bps,
            clip=self.clip,
            round=self.record.final,
            transcript_hash=transcript_hash(words),
        )
        proof = secure_fraud_proof(
            leaf_index=leaf_index,
            previous=self.previous_tree,
            proposed=proposed_tree,
            round=self.record.final,
            masked_trees=self.masked_trees,
            transcript=words,
        )
        return ctx, proof


def scenario(
    parties: list[Party],
    params: SecureParams,
    seed: bytes,
    *,
    drops: Mapping[bytes, Phase] | None = None,
    words_per_leaf: int = 2,
    clip: int = 2**20,
    server_lr_bps: int = 10_000,
    previous: NDArray[np.int32] | None = None,
) -> ProofScenario:
    """Run the round and wrap it; ``previous`` defaults to a model of small distinct values."""
    record = run_phases(parties, params, seed, clip, drops, words_per_leaf)
    size = record.layout.num_params
    model = np.arange(size, dtype=np.int32) * 7 - 3 * size if previous is None else previous
    return ProofScenario(record, clip, server_lr_bps, model)
