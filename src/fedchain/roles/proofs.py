"""Building the contract's fraud proofs from full vectors (pure functions, no chain access).

- a **violation proof** shows one leaf of a revealed update with a coordinate outside ``[-clip, clip]``;
- an **aggregate fraud proof** shows, at the first leaf where a proposal differs from the recomputed
  model, the proposal's leaf, the previous model's leaf and the leaf of every included update, sorted by
  participant address (strictly increasing, as ``challengeAggregate`` requires).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from fedchain.chain.coordinator import AggregateFraudProof, IncludedLeaf, LeafProof
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import LeafSource, MerkleTree
from fedchain.roles.task import IncludedUpdate

TreeOf: TypeAlias = Callable[[NDArray[np.int32], LeafLayout], MerkleTree]
"""Gives the Merkle tree of a vector under a layout: :class:`MerkleTree` itself, or an agent's
:meth:`~fedchain.storage.VerifiedBlobs.tree`, which builds each tree once."""


def leaf_proof(tree: LeafSource, index: int) -> LeafProof:
    """Leaf ``index`` of ``tree`` with its Merkle path."""
    return LeafProof(words=tree.leaf_words(index), siblings=tree.proof(index))


def first_out_of_range(update: NDArray[np.int32], clip: int) -> int | None:
    """Position of the first coordinate of ``update`` outside ``[-clip, clip]``, or None."""
    outside = np.flatnonzero(np.abs(update.astype(np.int64)) > clip)
    return int(outside[0]) if outside.size else None


def violation_leaf(update: NDArray[np.int32], layout: LeafLayout, coordinate: int, *,
                   tree_of: TreeOf = MerkleTree) -> tuple[int, LeafProof]:
    """The leaf index holding ``coordinate`` and that leaf's proof under the update's root (its tree from
    ``tree_of``)."""
    index = coordinate // layout.coords_per_leaf
    return index, leaf_proof(tree_of(update, layout), index)


def first_differing_leaf(expected: NDArray[np.int32], proposed: NDArray[np.int32], layout: LeafLayout) -> int | None:
    """Index of the first leaf where ``proposed`` differs from ``expected``, or None if they are equal."""
    if expected.shape != proposed.shape:
        raise ValueError(f"vectors differ in length: {expected.size} and {proposed.size}")
    differing = np.flatnonzero(expected != proposed)
    return int(differing[0]) // layout.coords_per_leaf if differing.size else None


def aggregate_fraud_proof(leaf_index: int, layout: LeafLayout, previous: NDArray[np.int32],
                          proposed: LeafSource, updates: list[IncludedUpdate], *,
                          tree_of: TreeOf = MerkleTree,
                          norms: Mapping[str, tuple[bytes, int]] | None = None) -> AggregateFraudProof:
    """The fraud proof at ``leaf_index`` against the proposal, whose leaf ``proposed`` shows (its whole tree, or
    the leaf a model dispute opened); the trees of ``previous`` and the updates come from ``tree_of``. For a
    norm-bounded task ``norms`` holds each declared member's (normRoot, normSq) by lower-case address, and every
    update carries its own (or (0, 0) for none; docs/protocol.md section 4.4)."""
    ordered = sorted(updates, key=lambda update: int(update.reveal.participant, 16))
    leaves = tuple(
        IncludedLeaf(participant=update.reveal.participant, weight=update.reveal.weight,
                     leaf=leaf_proof(tree_of(update.vector, layout), leaf_index),
                     norm=None if norms is None else norms.get(update.reveal.participant.lower(), (bytes(32), 0)))
        for update in ordered
    )
    return AggregateFraudProof(
        leaf_index=leaf_index,
        previous=leaf_proof(tree_of(previous, layout), leaf_index),
        proposed=leaf_proof(proposed, leaf_index),
        updates=leaves,
    )
