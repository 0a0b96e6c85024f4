"""A challenged tree put on chain in chunks, and read back (docs/protocol.md §11.2; Solidity: ``Chunks``).

A chunk is the whole subtree of ``2^c`` consecutive leaves (padding leaves included), sent as its leaves'
words in order with the path from the subtree's root to the tree's root, so the contract checks each chunk
on its own and each fits one transaction whatever the model's size: ``c`` is the largest height with
``2^c * words_per_leaf <= MAX_CHUNK_WORDS``, at most the tree's depth. Only the chunks that hold real leaves
are posted; the padding-only subtrees after them enter through the posted paths. A masked vector's tree
(secure mode) is the tree of its int32 halves (docs/protocol.md §6), chunked the same way.

:class:`PostedTree` rebuilds what a reader needs from posted chunks: the vector, and each real leaf with its
Merkle path under the challenged root, taken from the posted paths (so it holds even when a cheater's
padding subtrees are not zero).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from fedchain.commit.errors import LayoutError
from fedchain.commit.leaves import LeafLayout, words_to_coordinates
from fedchain.commit.merkle import MerkleTree, leaf_hash, node_hash

MAX_CHUNK_WORDS: Final = 2048
"""Most leaf words in one chunk (64 KiB of calldata)."""


def chunk_levels(depth: int, words_per_leaf: int) -> int:
    """Height c of a chunk's subtree: the largest with ``2^c * words_per_leaf <= MAX_CHUNK_WORDS``, at most
    ``depth``."""
    levels = (MAX_CHUNK_WORDS // words_per_leaf).bit_length() - 1
    return min(depth, levels)


def chunk_count(layout: LeafLayout) -> int:
    """How many chunks hold the tree's real leaves: ``ceil(N / 2^c)``."""
    size = 1 << chunk_levels(layout.depth, layout.words_per_leaf)
    return -(-layout.num_leaves // size)


@dataclass(frozen=True)
class Chunk:
    """One posted chunk: its index, its leaves' words in order and its subtree's path to the root."""

    index: int
    words: tuple[bytes, ...]
    path: tuple[bytes, ...]


def chunk_of(tree: MerkleTree, index: int) -> Chunk:
    """Chunk ``index`` of ``tree``, as its owner posts it."""
    layout = tree.layout
    levels = chunk_levels(layout.depth, layout.words_per_leaf)
    if not 0 <= index < chunk_count(layout):
        raise LayoutError(f"chunk index must be in [0, {chunk_count(layout)}), got {index}")
    words = tree.leaf_range_words(index << levels, 1 << levels)
    path = tuple(tree.node(height, (index >> (height - levels)) ^ 1) for height in range(levels, layout.depth))
    return Chunk(index=index, words=words, path=path)


class PostedTree:
    """A tree known from its posted chunks (all of them, in order), checked against ``root``."""

    def __init__(self, root: bytes, layout: LeafLayout, chunks: Sequence[Chunk]) -> None:
        self.layout = layout
        self.root = root
        self._levels = chunk_levels(layout.depth, layout.words_per_leaf)
        expected = chunk_count(layout)
        if [chunk.index for chunk in chunks] != list(range(expected)):
            raise LayoutError(f"need chunks 0..{expected - 1} in order, got {[chunk.index for chunk in chunks]}")
        self._chunks = tuple(chunks)
        self._subtrees = [self._subtree(chunk) for chunk in chunks]
        for chunk, subtree in zip(chunks, self._subtrees, strict=True):
            if _walk(subtree[-1][0], chunk.index, chunk.path) != root:
                raise LayoutError(f"chunk {chunk.index} does not lead to the root 0x{root.hex()}")

    def _subtree(self, chunk: Chunk) -> list[list[bytes]]:
        width = 1 << self._levels
        words_per_leaf = self.layout.words_per_leaf
        if len(chunk.words) != width * words_per_leaf or len(chunk.path) != self.layout.depth - self._levels:
            raise LayoutError(f"chunk {chunk.index} has {len(chunk.words)} words and {len(chunk.path)} siblings")
        first = chunk.index << self._levels
        level = [leaf_hash(first + i, chunk.words[i * words_per_leaf : (i + 1) * words_per_leaf])
                 for i in range(width)]
        levels = [level]
        while len(level) > 1:
            level = [node_hash(level[2 * i], level[2 * i + 1]) for i in range(len(level) // 2)]
            levels.append(level)
        return levels

    @property
    def vector(self) -> NDArray[np.int32]:
        """The tree's real coordinates (the first ``num_params``)."""
        words = [word for chunk in self._chunks for word in chunk.words]
        return np.ascontiguousarray(words_to_coordinates(words)[: self.layout.num_params])

    def leaf_words(self, index: int) -> tuple[bytes, ...]:
        """The words of leaf ``index`` (a leaf of a posted chunk)."""
        chunk, offset = self._locate(index)
        words_per_leaf = self.layout.words_per_leaf
        return self._chunks[chunk].words[offset * words_per_leaf : (offset + 1) * words_per_leaf]

    def proof(self, index: int) -> tuple[bytes, ...]:
        """The D sibling hashes of leaf ``index``, leaf level first: inside its chunk, then the chunk's path."""
        chunk, offset = self._locate(index)
        inside = tuple(level[(offset >> height) ^ 1] for height, level in enumerate(self._subtrees[chunk][:-1]))
        return inside + self._chunks[chunk].path

    def _locate(self, index: int) -> tuple[int, int]:
        chunk = self.layout.check_index(index) >> self._levels
        if chunk >= len(self._chunks):
            raise LayoutError(f"leaf {index} is a padding leaf of no posted chunk")
        return chunk, index - (chunk << self._levels)


def _walk(node: bytes, index: int, path: Sequence[bytes]) -> bytes:
    for height, sibling in enumerate(path):
        node = node_hash(sibling, node) if (index >> height) & 1 else node_hash(node, sibling)
    return node
