"""Weighting, double masking and the masked vector's bytes and Merkle tree (docs/protocol.md §10.3).

    y_u[i] = w_u * x_u[i] + m(b_u)[i] + Σ_{v ∈ N(u) ∩ U2} sign(u, v) * m(s_uv)[i]   (mod 2^64), i < P

m(K) is the mask stream of key K, b_u the self seed, s_uv the pairwise mask key and sign(u, v) = +1 when
u's address is below v's, -1 otherwise, so the pairwise masks of two survivors cancel in the sum.

A masked vector's bytes (its storage form) are its P residues as big-endian uint64. Its Merkle tree
(docs/protocol.md §3) has leaf L hold the same 8W coordinates as leaf L of the model, as 2W words of four
big-endian uint64 lanes; padding coordinates (i >= P) are zero. Byte for byte that is the int32 layout of
the 2P-long vector of (high, low) halves with 2W words per leaf, so the tree is built by
:class:`fedchain.commit.merkle.MerkleTree` over that view.
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fedchain.commit.leaves import LeafLayout, as_int32_vector
from fedchain.commit.merkle import MerkleTree
from fedchain.secagg.constants import MASKED_LANE_BYTES, MASKED_WORDS_PER_LEAF_WORD, MAX_WEIGHT
from fedchain.secagg.curve import MaskKeys, shared_point
from fedchain.secagg.derive import pair_mask_key, self_mask_key
from fedchain.secagg.errors import SecAggError
from fedchain.secagg.params import check_secure_leaf_width
from fedchain.secagg.roster import Member, SecureRound
from fedchain.secagg.stream import apply_masks

_BIG_ENDIAN_UINT64 = np.dtype(">u8")
_BIG_ENDIAN_INT32 = np.dtype(">i4")


def weighted_update(update: ArrayLike, weight: int, clip: int) -> NDArray[np.uint64]:
    """``w * u`` as residues of Z_2^64, for an int32 update with |u| <= clip and a weight in [1, 2^20]."""
    if isinstance(clip, bool) or not isinstance(clip, int) or clip < 1:
        raise SecAggError(f"clip must be a positive integer, got {clip!r}")
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
        raise SecAggError(f"weight must be an integer in [1, 2^20], got {weight!r}")
    values = as_int32_vector(update, "update").astype(np.int64)
    if values.size and int(np.abs(values).max()) > clip:
        raise SecAggError(f"update has a coordinate outside [-{clip}, {clip}]")
    values *= weight
    weighted: NDArray[np.uint64] = values.view(np.uint64)
    return weighted


def mask_update(
    weighted: NDArray[np.uint64], *, round: SecureRound, owner: Member, keys: MaskKeys, self_seed: int
) -> NDArray[np.uint64]:
    """The masked vector of ``owner``: its weighted update plus its self mask and signed pairwise masks.

    The pairwise masks are with the owner's neighbours in the committed set U2, which the chain has fixed
    by the time a participant uploads (it uploads only after the commit deadline, and only if its own
    commitment is on chain).
    """
    if keys.public != owner.public:
        raise SecAggError("the mask keys are not the owner's advertised key")
    if owner.address not in round.committed:
        raise SecAggError(f"0x{owner.address.hex()} has no commitment on chain: it must not upload")
    values = np.asarray(weighted)
    if values.dtype != np.uint64 or values.ndim != 1:
        raise SecAggError(f"a weighted update is a flat uint64 vector, got {values.dtype} {values.shape}")
    masked = values.copy()
    streams = [(self_mask_key(self_seed), True)]
    for peer in round.neighbours(owner):
        if peer.address in round.committed:
            streams.append((pair_key(round, keys.secret, owner, peer), owner.number < peer.number))
    apply_masks(masked, streams)
    return masked


def pair_key(round: SecureRound, secret: int, owner: Member, peer: Member) -> bytes:
    """The pairwise mask key of ``owner`` and ``peer`` from the owner's mask key and the peer's public key."""
    return pair_mask_key(round.seed, shared_point(secret, peer.public), owner.address, peer.address)


def masked_bytes(masked: NDArray[np.uint64]) -> bytes:
    """The storage form of a masked vector: its residues as big-endian uint64."""
    values = np.asarray(masked)
    if values.dtype != np.uint64 or values.ndim != 1:
        raise SecAggError(f"a masked vector is a flat uint64 vector, got {values.dtype} {values.shape}")
    return values.astype(_BIG_ENDIAN_UINT64).tobytes()


def masked_from_bytes(data: bytes, num_params: int) -> NDArray[np.uint64]:
    """Parse the storage form of a masked vector of ``num_params`` coordinates."""
    if not isinstance(data, bytes | bytearray) or len(data) != MASKED_LANE_BYTES * num_params:
        raise SecAggError(f"a masked vector of {num_params} coordinates is {MASKED_LANE_BYTES * num_params} bytes")
    return np.frombuffer(data, dtype=_BIG_ENDIAN_UINT64).astype(np.uint64)


def masked_layout(layout: LeafLayout) -> LeafLayout:
    """The int32 layout whose tree is the masked vector's tree: 2P halves, 2W words per leaf."""
    check_secure_leaf_width(layout.words_per_leaf)
    return LeafLayout(
        MASKED_WORDS_PER_LEAF_WORD * layout.num_params, MASKED_WORDS_PER_LEAF_WORD * layout.words_per_leaf
    )


def masked_tree(masked: NDArray[np.uint64], layout: LeafLayout) -> MerkleTree:
    """The Merkle tree of a masked vector of ``layout.num_params`` uint64 residues (``layout`` is the model's)."""
    values = np.asarray(masked)
    if values.dtype != np.uint64 or values.shape != (layout.num_params,):
        raise SecAggError(f"a masked vector is {layout.num_params} uint64 values, got {values.dtype} {values.shape}")
    return MerkleTree(masked_halves(values), masked_layout(layout))


def masked_halves(masked: NDArray[np.uint64]) -> NDArray[np.int32]:
    """The 2P int32 halves of a masked vector, high half of each residue first: the vector its Merkle tree is
    built over (with :func:`masked_layout`), and the payload of its blob."""
    halves: NDArray[np.int32] = np.frombuffer(masked_bytes(masked), dtype=_BIG_ENDIAN_INT32).astype(np.int32)
    return halves


def masked_from_halves(halves: NDArray[np.int32]) -> NDArray[np.uint64]:
    """The masked vector whose :func:`masked_halves` are ``halves`` (an even number of int32 values)."""
    values = np.asarray(halves)
    if values.dtype != np.int32 or values.ndim != 1 or values.size % MASKED_WORDS_PER_LEAF_WORD:
        raise SecAggError(f"masked halves are an even number of int32 values, got {values.dtype} {values.shape}")
    return masked_from_bytes(values.astype(_BIG_ENDIAN_INT32).tobytes(), values.size // MASKED_WORDS_PER_LEAF_WORD)


def sum_masked(vectors: Sequence[NDArray[np.uint64]]) -> NDArray[np.uint64]:
    """The sum of masked vectors in Z_2^64."""
    if not vectors:
        raise SecAggError("nothing to sum")
    total = np.zeros_like(vectors[0], dtype=np.uint64)
    for vector in vectors:
        if vector.shape != total.shape or vector.dtype != np.uint64:
            raise SecAggError("masked vectors must all be uint64 of one length")
        total += vector
    return total
