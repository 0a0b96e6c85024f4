"""Packing int32 vectors into 32-byte words and Merkle leaves (docs/protocol.md §2).

A word holds 8 int32 lanes, big-endian two's complement, lane j at bytes [4j, 4j+4). A leaf holds
``8 * words_per_leaf`` consecutive coordinates; the vector is zero-padded to ``2^depth`` leaves.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fedchain.commit.constants import (
    ALLOWED_WORDS_PER_LEAF,
    INT32_MAX,
    INT32_MIN,
    LANES_PER_WORD,
    WORD_BYTES,
)
from fedchain.commit.errors import EncodingError, LayoutError

_BIG_ENDIAN_INT32 = np.dtype(">i4")


@dataclass(frozen=True)
class LeafLayout:
    """How a vector of ``num_params`` coordinates splits into leaves of ``words_per_leaf`` words."""

    num_params: int
    words_per_leaf: int

    def __post_init__(self) -> None:
        if isinstance(self.num_params, bool) or not isinstance(self.num_params, int) or self.num_params < 1:
            raise LayoutError(f"num_params must be a positive integer, got {self.num_params!r}")
        if self.words_per_leaf not in ALLOWED_WORDS_PER_LEAF or isinstance(self.words_per_leaf, bool):
            raise LayoutError(f"words_per_leaf must be one of {ALLOWED_WORDS_PER_LEAF}, got {self.words_per_leaf!r}")

    @property
    def coords_per_leaf(self) -> int:
        """C = 8W coordinates in one leaf."""
        return LANES_PER_WORD * self.words_per_leaf

    @property
    def leaf_bytes(self) -> int:
        """The byte length of one leaf's words, 32W."""
        return WORD_BYTES * self.words_per_leaf

    @property
    def num_leaves(self) -> int:
        """N = ceil(P / C), the leaves holding real coordinates."""
        return -(-self.num_params // self.coords_per_leaf)

    @property
    def depth(self) -> int:
        """D = ceil(log2 N), 0 for a single leaf."""
        return (self.num_leaves - 1).bit_length()

    @property
    def width(self) -> int:
        """2^D, the number of leaves in the tree, padding included."""
        return 1 << self.depth

    @property
    def padded_length(self) -> int:
        """2^D * C, the vector's length after zero padding."""
        return self.width * self.coords_per_leaf

    def check_index(self, index: int) -> int:
        """Return ``index`` if it names a leaf of the tree (padding leaves included), else raise."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.width:
            raise LayoutError(f"leaf index must be an integer in [0, {self.width}), got {index!r}")
        return index


def as_int32_vector(values: ArrayLike, name: str = "vector") -> NDArray[np.int32]:
    """Return ``values`` as a flat int32 array, rejecting non-integers and values outside int32."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise EncodingError(f"{name} must be a flat vector, got shape {array.shape}")
    if array.size == 0:
        return np.zeros(0, dtype=np.int32)
    if not np.issubdtype(array.dtype, np.integer):
        raise EncodingError(f"{name} must hold integers, got dtype {array.dtype}")
    if array.dtype != np.int32:
        outside = np.flatnonzero((array < INT32_MIN) | (array > INT32_MAX))
        if outside.size:
            index = int(outside[0])
            raise EncodingError(f"{name} has {int(array[index])} at index {index}, outside int32")
    return array.astype(np.int32, copy=False)


def pad_vector(vector: ArrayLike, layout: LeafLayout) -> NDArray[np.int32]:
    """Zero-extend a vector of exactly ``num_params`` int32 values to ``padded_length``."""
    values = as_int32_vector(vector)
    if values.size != layout.num_params:
        raise LayoutError(f"vector has {values.size} coordinates but the layout expects {layout.num_params}")
    padded = np.zeros(layout.padded_length, dtype=np.int32)
    padded[: values.size] = values
    return padded


def pack_leaves(vector: ArrayLike, layout: LeafLayout) -> NDArray[np.uint8]:
    """Return the words of every leaf as a ``(width, 32W)`` byte array, padding included."""
    big_endian = pad_vector(vector, layout).astype(_BIG_ENDIAN_INT32)
    return big_endian.view(np.uint8).reshape(layout.width, layout.leaf_bytes)


def leaf_words(vector: ArrayLike, layout: LeafLayout, index: int) -> tuple[bytes, ...]:
    """Return the W words of leaf ``index`` of ``vector`` (zero words for padding)."""
    layout.check_index(index)
    values = as_int32_vector(vector)
    if values.size != layout.num_params:
        raise LayoutError(f"vector has {values.size} coordinates but the layout expects {layout.num_params}")
    start = index * layout.coords_per_leaf
    coordinates = np.zeros(layout.coords_per_leaf, dtype=np.int32)
    real = values[start : start + layout.coords_per_leaf]
    coordinates[: real.size] = real
    return coordinates_to_words(coordinates)


def coordinates_to_words(coordinates: ArrayLike) -> tuple[bytes, ...]:
    """Pack a multiple of 8 int32 coordinates into 32-byte words, lane j of word k = coordinate 8k+j."""
    values = as_int32_vector(coordinates, "coordinates")
    if values.size == 0 or values.size % LANES_PER_WORD:
        raise EncodingError(f"need a positive multiple of {LANES_PER_WORD} coordinates, got {values.size}")
    data = values.astype(_BIG_ENDIAN_INT32).tobytes()
    return tuple(data[k : k + WORD_BYTES] for k in range(0, len(data), WORD_BYTES))


def words_to_coordinates(words: Sequence[bytes]) -> NDArray[np.int32]:
    """Unpack 32-byte words into their int32 lanes, in order."""
    if len(words) == 0:
        raise EncodingError("need at least one word")
    for position, word in enumerate(words):
        if not isinstance(word, bytes | bytearray) or len(word) != WORD_BYTES:
            raise EncodingError(f"word {position} must be {WORD_BYTES} bytes, got {word!r}")
    return np.frombuffer(b"".join(words), dtype=_BIG_ENDIAN_INT32).astype(np.int32)


def word_to_lanes(word: bytes) -> tuple[int, ...]:
    """Return the 8 int32 lanes of one word as Python ints."""
    return tuple(int(lane) for lane in words_to_coordinates([word]))


def lanes_to_word(lanes: Sequence[int]) -> bytes:
    """Pack exactly 8 int32 lanes into one word."""
    if len(lanes) != LANES_PER_WORD:
        raise EncodingError(f"a word holds exactly {LANES_PER_WORD} lanes, got {len(lanes)}")
    for position, lane in enumerate(lanes):
        if isinstance(lane, bool) or not isinstance(lane, int | np.integer) or not INT32_MIN <= lane <= INT32_MAX:
            raise EncodingError(f"lane {position} must be an int32, got {lane!r}")
    (word,) = coordinates_to_words(np.asarray(lanes, dtype=np.int64))
    return word


def real_coordinates_in_leaf(layout: LeafLayout, index: int) -> int:
    """How many leading coordinates of leaf ``index`` are real (the rest are padding)."""
    start = layout.check_index(index) * layout.coords_per_leaf
    return max(0, min(layout.coords_per_leaf, layout.num_params - start))


def padding_is_zero(words: Sequence[bytes], layout: LeafLayout, index: int) -> bool:
    """Return whether every padding coordinate in leaf ``index``'s ``words`` is zero, as §2 requires."""
    if len(words) != layout.words_per_leaf:
        raise LayoutError(f"leaf has {len(words)} words but the layout expects {layout.words_per_leaf}")
    coordinates = words_to_coordinates(words)
    return not np.any(coordinates[real_coordinates_in_leaf(layout, index) :])
