"""The Merkle sum tree of an update's per-leaf squared norms, and the norm declaration word (docs/protocol.md §4.4).

A norm-bounded task (rule 3) scales each update by its squared L2 norm. Its owner declares the squared norm of
every leaf of its update (``leafNorms``, the leaves that hold real coordinates); the contract builds this tree
over them (the update tree's shape, a leaf past the list holding 0) and stores its root and sum:

    normLeafHash(i, v)           = keccak(0x02 ‖ uint256(i) ‖ uint256(v))
    normNodeHash(lh, ls, rh, rs) = keccak(0x03 ‖ lh ‖ uint256(ls) ‖ rh ‖ uint256(rs))
    declaration(r, root, total)  = top 224 bits of keccak(abi.encode(uint256 r, bytes32 root, uint256 total))
                                   | (r + 1)

A node's sum is its children's by construction, so the root's sum is the update's squared norm, and a false leaf
value is provable at that one leaf: its path (sibling hashes and sums) against the declared root, beside the
update's leaf under its revealed root.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from eth_abi.abi import encode
from numpy.typing import ArrayLike

from fedchain.commit.constants import WORD_BYTES
from fedchain.commit.encoding import require_bytes32, require_uint256
from fedchain.commit.errors import LayoutError
from fedchain.commit.keccak import keccak256
from fedchain.commit.leaves import LeafLayout, as_int32_vector, words_to_coordinates

NORM_LEAF_PREFIX: Final = b"\x02"
NORM_NODE_PREFIX: Final = b"\x03"
MAX_NORM_DEPTH: Final = 11
"""The deepest norm tree a norm-bounded task may have (NormTree.MAX_DEPTH)."""
NORM_VALUE_LIMIT: Final = 1 << 128
"""A leaf value must be below this (NormTree.VALUE_LIMIT)."""
_ROUND_MASK: Final = (1 << 32) - 1


def norm_leaf_hash(index: int, value: int) -> bytes:
    """Hash norm leaf ``index`` holding ``value``."""
    return keccak256(NORM_LEAF_PREFIX + _uint(index, "leaf index") + _uint(value, "leaf value"))


def norm_node_hash(left_hash: bytes, left_sum: int, right_hash: bytes, right_sum: int) -> bytes:
    """Hash an inner node from its children's hashes and sums."""
    return keccak256(NORM_NODE_PREFIX + require_bytes32(left_hash, "left hash") + _uint(left_sum, "left sum")
                     + require_bytes32(right_hash, "right hash") + _uint(right_sum, "right sum"))


def leaf_norms(vector: ArrayLike, layout: LeafLayout) -> tuple[int, ...]:
    """The squared norm of each leaf that holds real coordinates (the declaration's ``leafNorms``)."""
    values = as_int32_vector(vector).astype(np.int64)
    if values.size != layout.num_params:
        raise LayoutError(f"vector has {values.size} coordinates but the layout expects {layout.num_params}")
    padded = np.zeros(layout.num_leaves * layout.coords_per_leaf, dtype=object)
    padded[: values.size] = [int(v) for v in values]
    squares = padded.reshape(layout.num_leaves, layout.coords_per_leaf) ** 2
    return tuple(int(row.sum()) for row in squares)


def leaf_norm_of_words(words: Sequence[bytes]) -> int:
    """The squared norm of one leaf from its words (every lane, padding included)."""
    return sum(int(v) ** 2 for v in words_to_coordinates(words))


@dataclass(frozen=True)
class NormPath:
    """A norm leaf's path: sibling hashes and sums from the leaf level up."""

    hashes: tuple[bytes, ...]
    sums: tuple[int, ...]


class NormTree:
    """The sum tree of depth ``depth`` over ``values`` (leaves past them hold 0)."""

    def __init__(self, values: Sequence[int], depth: int) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= MAX_NORM_DEPTH:
            raise LayoutError(f"a norm tree's depth must be in [0, {MAX_NORM_DEPTH}], got {depth!r}")
        width = 1 << depth
        if len(values) > width:
            raise LayoutError(f"{len(values)} leaf values do not fit a tree of {width} leaves")
        leaves = [int(v) for v in values] + [0] * (width - len(values))
        for index, value in enumerate(leaves):
            if not 0 <= value < NORM_VALUE_LIMIT:
                raise LayoutError(f"norm leaf {index} holds {value}, outside [0, 2^128)")
        self.values: tuple[int, ...] = tuple(leaves)
        self.depth = depth
        level = [(norm_leaf_hash(i, v), v) for i, v in enumerate(leaves)]
        self._levels = [level]
        while len(level) > 1:
            level = [(norm_node_hash(*level[2 * i], *level[2 * i + 1]), level[2 * i][1] + level[2 * i + 1][1])
                     for i in range(len(level) // 2)]
            self._levels.append(level)

    @classmethod
    def of_vector(cls, vector: ArrayLike, layout: LeafLayout) -> "NormTree":
        """The tree a member declares for its update ``vector``."""
        return cls(leaf_norms(vector, layout), layout.depth)

    @property
    def root(self) -> bytes:
        """The root hash (the declaration's normRoot)."""
        return self._levels[-1][0][0]

    @property
    def total(self) -> int:
        """The root's sum: the update's squared L2 norm (normSq)."""
        return self._levels[-1][0][1]

    def path(self, index: int) -> NormPath:
        """The path of leaf ``index``."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.values):
            raise LayoutError(f"norm leaf index must be in [0, {len(self.values)}), got {index!r}")
        siblings = [self._levels[k][(index >> k) ^ 1] for k in range(self.depth)]
        return NormPath(tuple(h for h, _ in siblings), tuple(s for _, s in siblings))


def norm_root_from(index: int, value: int, path: NormPath) -> tuple[bytes, int]:
    """The root hash and sum that leaf ``index`` holding ``value`` and ``path`` lead to."""
    node, total = norm_leaf_hash(index, value), value
    for level, (sibling, sibling_sum) in enumerate(zip(path.hashes, path.sums, strict=True)):
        if (index >> level) & 1:
            node = norm_node_hash(sibling, sibling_sum, node, total)
        else:
            node = norm_node_hash(node, total, sibling, sibling_sum)
        total += sibling_sum
    return node, total


def norm_declaration(round: int, norm_root: bytes, norm_sq: int) -> bytes:
    """The member's declaration word of ``round`` (``normDeclarationOf``)."""
    values = [require_uint256(round, "round"), require_bytes32(norm_root, "norm root"), require_uint256(norm_sq,
                                                                                                        "norm_sq")]
    digest = int.from_bytes(keccak256(encode(["uint256", "bytes32", "uint256"], values)), "big")
    return ((digest & ~_ROUND_MASK) | (round + 1)).to_bytes(WORD_BYTES, "big")


def declared_in(word: bytes, round: int) -> bool:
    """Whether the declaration word ``word`` is of ``round``."""
    return int.from_bytes(require_bytes32(word, "declaration"), "big") & _ROUND_MASK == round + 1


def _uint(value: int, name: str) -> bytes:
    return require_uint256(value, name).to_bytes(WORD_BYTES, "big")
