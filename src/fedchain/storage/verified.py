"""One agent's verified blobs and Merkle trees, so that it hashes each tree at most once (issue #17).

A :class:`VerifiedBlobs` belongs to one agent and holds only what that agent computed or checked itself:

- **trees**, by the layout and the sha256 of the int32 vector they were built from. Whatever needs a vector's
  tree (a blob's root check, the root of a blob it puts, a proof, an answer to a challenge) asks
  :meth:`VerifiedBlobs.tree`, which builds it once; hashing the vector with sha256 costs a few percent of
  building its tree.
- **blobs**, by reference, once fetched from a store and accepted by every check of
  :func:`~fedchain.storage.vectors.get_blob`: the store checked the bytes against the reference (their
  sha256), so the reference pins the content, and reading it again could only give the same blob. Only the
  header is checked again against what each later caller expects. A blob this agent put is not recorded
  as fetched: whether a store serves it is for the store to say (an aggregator that withheld its model cannot
  read it back).

Both are bounded together by :data:`DEFAULT_VERIFIED_CACHE_BYTES` (least recently used go first), and
:meth:`VerifiedBlobs.round_closed` drops what the agent last used before the round that just closed; what it
used in that round stays one round more (the round's new model, built in it, starts the next round).
"""

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from fedchain.commit.constants import WORD_BYTES
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.storage.blob import Blob, BlobKind, DataSpec, Int32Vector, TensorShape, check_ref, check_vector
from fedchain.storage.store import BlobStore
from fedchain.storage.vectors import ExpectedBlob, StoredBlob, check_expected, get_blob, put_vector

DEFAULT_VERIFIED_CACHE_BYTES = 512 * 2**20
"""How many bytes of verified blobs and trees one agent keeps: at 1M parameters a blob is about 4 MB and its
tree 8 to 12 MB, so a round of 30 updates and its models fits."""

_Key: TypeAlias = tuple[bytes, LeafLayout] | bytes
"""A tree's (vector sha256, layout), or a blob's reference."""


@dataclass
class _Entry:
    value: MerkleTree | Blob
    size: int
    used_in: int
    """The generation (rounds closed before its last use) in which it was last used."""


class VerifiedBlobs:
    """One agent's verified blobs and Merkle trees, at most ``max_bytes`` of them (see the module docstring)."""

    def __init__(self, max_bytes: int = DEFAULT_VERIFIED_CACHE_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be non-negative, got {max_bytes}")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._bytes = 0
        self._generation = 0

    @property
    def bytes_held(self) -> int:
        """The bytes of the blobs and trees held now."""
        return self._bytes

    def tree(self, vector: Int32Vector, layout: LeafLayout) -> MerkleTree:
        """The Merkle tree of ``vector`` (1-D int32, ``layout.num_params`` values) under ``layout``, built the first
        time it is asked for."""
        check_vector(vector)
        key: _Key = (hashlib.sha256(np.ascontiguousarray(vector).data).digest(), layout)
        held = self._use(key)
        if isinstance(held, MerkleTree):
            return held
        tree = MerkleTree(vector, layout)
        self._keep(key, tree, tree_bytes(layout))
        return tree

    def root_of(self, vector: Int32Vector, words_per_leaf: int) -> bytes:
        """The Merkle root of ``vector``, ``words_per_leaf`` words a leaf (a
        :data:`~fedchain.storage.blob.RootFunction` over :meth:`tree`)."""
        return self.tree(vector, LeafLayout(num_params=vector.size, words_per_leaf=words_per_leaf)).root

    def get_blob(self, store: BlobStore, ref: bytes, expected: ExpectedBlob, *, fresh: bool = False) -> Blob:
        """Blob ``ref`` after every check of :func:`~fedchain.storage.vectors.get_blob`, its root from
        :meth:`tree`; a blob already accepted is not read again unless ``fresh`` (the caller wants to know that
        ``store`` still serves it: its bytes are read and checked against ``ref`` by the store), and only its
        header is checked against ``expected``."""
        key: _Key = check_ref(ref)
        held = self._use(key)
        if isinstance(held, Blob):
            if fresh:
                store.get(ref)
            check_expected(held.header, expected, ref=ref)
            return held
        blob = get_blob(store, ref, expected, root_of=self.root_of)
        self._keep(key, blob, blob.vector.nbytes)
        return blob

    def put_vector(self, store: BlobStore, vector: Int32Vector, *, kind: BlobKind, scale_bits: int,
                   words_per_leaf: int, shapes: Iterable[TensorShape | tuple[str, Sequence[int]]],
                   data: DataSpec | None = None) -> StoredBlob:
        """:func:`~fedchain.storage.vectors.put_vector`, with the root from :meth:`tree`."""
        return put_vector(store, vector, kind=kind, scale_bits=scale_bits, words_per_leaf=words_per_leaf,
                          shapes=shapes, root_of=self.root_of, data=data)

    def round_closed(self) -> None:
        """A round closed: drop what was last used before the round that just closed."""
        self._generation += 1
        for key in [key for key, entry in self._entries.items() if entry.used_in < self._generation - 1]:
            self._drop(key)

    def _use(self, key: _Key) -> MerkleTree | Blob | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        entry.used_in = self._generation
        self._entries.move_to_end(key)
        return entry.value

    def _keep(self, key: _Key, value: MerkleTree | Blob, size: int) -> None:
        if size > self.max_bytes:
            return
        self._entries[key] = _Entry(value, size, self._generation)
        self._bytes += size
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: _Key) -> None:
        self._bytes -= self._entries.pop(key).size


def tree_bytes(layout: LeafLayout) -> int:
    """The bytes a :class:`MerkleTree` under ``layout`` holds: its packed leaves and every level of hashes."""
    return layout.width * layout.leaf_bytes + (2 * layout.width - 1) * WORD_BYTES
