"""The position-binding Merkle tree over leaves of packed words (docs/protocol.md §3).

    leafHash(i, words)    = keccak(0x00 ‖ uint256(i) ‖ words[0] ‖ … ‖ words[W-1])
    nodeHash(left, right) = keccak(0x01 ‖ left ‖ right)

Trees are built one level at a time: every preimage of a level is laid out in one numpy byte array and
hashed by one call of the native kernel (:func:`~fedchain.commit.keccak.keccak256_rows`).
"""

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fedchain.commit.constants import LEAF_PREFIX, NODE_PREFIX, WORD_BYTES
from fedchain.commit.encoding import require_bytes32
from fedchain.commit.errors import LayoutError
from fedchain.commit.keccak import keccak256, keccak256_rows
from fedchain.commit.leaves import LeafLayout, pack_leaves

_INDEX_BYTES = 32
_UINT64_BYTES = 8


def leaf_hash(index: int, words: Sequence[bytes]) -> bytes:
    """Hash leaf ``index`` holding ``words`` (each 32 bytes)."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0 or index.bit_length() > 256:
        raise LayoutError(f"leaf index must be an integer in [0, 2^256), got {index!r}")
    if len(words) == 0:
        raise LayoutError("a leaf holds at least one word")
    body = b"".join(require_bytes32(word, f"word {position}") for position, word in enumerate(words))
    return keccak256(LEAF_PREFIX + index.to_bytes(_INDEX_BYTES, "big") + body)


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an inner node from its two children."""
    return keccak256(NODE_PREFIX + require_bytes32(left, "left child") + require_bytes32(right, "right child"))


def verify_proof(root: bytes, index: int, words: Sequence[bytes], siblings: Sequence[bytes], depth: int) -> bool:
    """Return whether ``words`` are leaf ``index`` of the depth-``depth`` tree with ``root``.

    A proof is valid only if ``index < 2^depth``, there are exactly ``depth`` siblings (leaf level
    first) and walking up from the leaf ends at ``root``. Malformed bytes raise an error instead.
    """
    require_bytes32(root, "root")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise LayoutError(f"depth must be a non-negative integer, got {depth!r}")
    if len(siblings) != depth or not 0 <= index < (1 << depth):
        return False
    node = leaf_hash(index, words)
    for level, sibling in enumerate(siblings):
        node = node_hash(sibling, node) if (index >> level) & 1 else node_hash(node, sibling)
    return node == root


class LeafSource(Protocol):
    """Whatever can show a tree's leaf with its path: a whole :class:`MerkleTree`, a tree rebuilt from posted
    chunks, or one leaf opened by a model dispute."""

    def leaf_words(self, index: int) -> tuple[bytes, ...]:
        """The words of leaf ``index``."""
        ...

    def proof(self, index: int) -> tuple[bytes, ...]:
        """The sibling hashes of leaf ``index``, leaf level first."""
        ...


class MerkleTree:
    """The Merkle tree of one vector under one leaf layout, with every level kept for proofs."""

    def __init__(self, vector: ArrayLike, layout: LeafLayout) -> None:
        """Pack ``vector`` (exactly ``layout.num_params`` int32 values) and hash its tree."""
        self.layout = layout
        self._leaves = pack_leaves(vector, layout)
        levels = [_hash_leaf_level(self._leaves)]
        while levels[-1].shape[0] > 1:
            levels.append(_hash_node_level(levels[-1]))
        self._levels = levels

    @property
    def root(self) -> bytes:
        """The 32-byte root."""
        return self._levels[-1].tobytes()

    def leaf_words(self, index: int) -> tuple[bytes, ...]:
        """The W words of leaf ``index`` (padding leaves are zero words)."""
        row = self._leaves[self.layout.check_index(index)].tobytes()
        return tuple(row[k : k + WORD_BYTES] for k in range(0, len(row), WORD_BYTES))

    def proof(self, index: int) -> tuple[bytes, ...]:
        """The D sibling hashes of leaf ``index``, leaf level first."""
        self.layout.check_index(index)
        return tuple(level[(index >> height) ^ 1].tobytes() for height, level in enumerate(self._levels[:-1]))

    def node(self, height: int, index: int) -> bytes:
        """The node at ``height`` above the leaves (0: a leaf's hash) and position ``index`` in its level."""
        if not 0 <= height < len(self._levels) or not 0 <= index < self._levels[height].shape[0]:
            raise LayoutError(f"no node at height {height}, index {index} in a tree of depth {self.layout.depth}")
        return bytes(self._levels[height][index].tobytes())

    def children(self, height: int, index: int) -> tuple[bytes, bytes]:
        """The two children of the inner node at ``height`` >= 1 and position ``index``."""
        if height < 1:
            raise LayoutError("a leaf has no children")
        return self.node(height - 1, 2 * index), self.node(height - 1, 2 * index + 1)

    def leaf_range_words(self, first: int, count: int) -> tuple[bytes, ...]:
        """The words of leaves ``first`` .. ``first + count - 1``, in order (padding leaves are zero words)."""
        self.layout.check_index(first)
        self.layout.check_index(first + count - 1)
        row = self._leaves[first : first + count].tobytes()
        return tuple(row[k : k + WORD_BYTES] for k in range(0, len(row), WORD_BYTES))


def merkle_root(vector: ArrayLike, layout: LeafLayout) -> bytes:
    """The root of ``vector`` under ``layout``."""
    return MerkleTree(vector, layout).root


def _hash_leaf_level(leaves: NDArray[np.uint8]) -> NDArray[np.uint8]:
    count, leaf_bytes = leaves.shape
    preimages = np.zeros((count, len(LEAF_PREFIX) + _INDEX_BYTES + leaf_bytes), dtype=np.uint8)
    preimages[:, 0] = LEAF_PREFIX[0]
    index_end = len(LEAF_PREFIX) + _INDEX_BYTES
    indices = np.arange(count, dtype=np.dtype(">u8")).view(np.uint8).reshape(count, _UINT64_BYTES)
    preimages[:, index_end - _UINT64_BYTES : index_end] = indices
    preimages[:, index_end:] = leaves
    return keccak256_rows(preimages)


def _hash_node_level(children: NDArray[np.uint8]) -> NDArray[np.uint8]:
    count = children.shape[0] // 2
    preimages = np.empty((count, len(NODE_PREFIX) + 2 * WORD_BYTES), dtype=np.uint8)
    preimages[:, 0] = NODE_PREFIX[0]
    preimages[:, 1:] = children.reshape(count, 2 * WORD_BYTES)
    return keccak256_rows(preimages)

