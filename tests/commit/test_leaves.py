"""Leaf layout and word packing (docs/protocol.md §2)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedchain.commit.constants import INT32_MAX, INT32_MIN
from fedchain.commit.errors import EncodingError, LayoutError
from fedchain.commit.leaves import (
    LeafLayout,
    as_int32_vector,
    coordinates_to_words,
    lanes_to_word,
    leaf_words,
    pack_leaves,
    pad_vector,
    padding_is_zero,
    real_coordinates_in_leaf,
    word_to_lanes,
    words_to_coordinates,
)

int32s = st.integers(INT32_MIN, INT32_MAX)


@pytest.mark.parametrize(
    ("num_params", "words_per_leaf", "num_leaves", "depth", "width"),
    [(1, 1, 1, 0, 1), (8, 1, 1, 0, 1), (9, 1, 2, 1, 2), (24, 1, 3, 2, 4), (64, 8, 1, 0, 1), (65, 8, 2, 1, 2),
     (10_000_000, 8, 156_250, 18, 262_144), (2049, 2, 129, 8, 256)],
)  # fmt: skip
def test_layout_shape(num_params: int, words_per_leaf: int, num_leaves: int, depth: int, width: int) -> None:
    layout = LeafLayout(num_params, words_per_leaf)
    assert (layout.num_leaves, layout.depth, layout.width) == (num_leaves, depth, width)
    assert layout.coords_per_leaf == 8 * words_per_leaf
    assert layout.padded_length == width * 8 * words_per_leaf


@pytest.mark.parametrize(("num_params", "words_per_leaf"), [(0, 1), (-3, 1), (5, 3), (5, 16), (5, 0), (True, 1)])
def test_layout_rejects_bad_parameters(num_params: int, words_per_leaf: int) -> None:
    with pytest.raises(LayoutError):
        LeafLayout(num_params, words_per_leaf)


def test_check_index_covers_padding_leaves_only_up_to_the_width() -> None:
    layout = LeafLayout(24, 1)
    assert layout.check_index(3) == 3
    for bad in (-1, 4, True):
        with pytest.raises(LayoutError, match="leaf index"):
            layout.check_index(bad)


def test_lane_layout_is_big_endian_twos_complement() -> None:
    word = lanes_to_word([1, -1, INT32_MIN, INT32_MAX, 0, 256, -2, 0x01020304])
    assert word.hex() == (
        "00000001" "ffffffff" "80000000" "7fffffff" "00000000" "00000100" "fffffffe" "01020304"
    )  # fmt: skip
    assert word_to_lanes(word) == (1, -1, INT32_MIN, INT32_MAX, 0, 256, -2, 0x01020304)


@given(st.lists(int32s, min_size=8, max_size=8))
def test_lanes_round_trip(lanes: list[int]) -> None:
    assert list(word_to_lanes(lanes_to_word(lanes))) == lanes


@given(st.lists(int32s, min_size=1, max_size=8).map(lambda xs: xs * 8))
def test_coordinates_round_trip_through_words(coordinates: list[int]) -> None:
    words = coordinates_to_words(np.asarray(coordinates, dtype=np.int64))
    assert all(len(word) == 32 for word in words)
    assert words_to_coordinates(words).tolist() == coordinates


def test_lane_errors_are_named() -> None:
    with pytest.raises(EncodingError, match="exactly 8 lanes"):
        lanes_to_word([0] * 7)
    with pytest.raises(EncodingError, match="lane 2"):
        lanes_to_word([0, 0, 2**31, 0, 0, 0, 0, 0])
    with pytest.raises(EncodingError, match="multiple of 8"):
        coordinates_to_words(np.zeros(12, dtype=np.int32))
    with pytest.raises(EncodingError, match="word 1"):
        words_to_coordinates([bytes(32), bytes(31)])
    with pytest.raises(EncodingError, match="at least one word"):
        words_to_coordinates([])


def test_int32_vector_validation() -> None:
    assert as_int32_vector(np.array([INT32_MIN, INT32_MAX], dtype=np.int64)).dtype == np.int32
    with pytest.raises(EncodingError, match="index 1"):
        as_int32_vector(np.array([0, 2**31], dtype=np.int64))
    with pytest.raises(EncodingError, match="integers"):
        as_int32_vector(np.array([0.5]))
    with pytest.raises(EncodingError, match="flat"):
        as_int32_vector(np.zeros((2, 2), dtype=np.int32))


def test_packing_places_coordinates_in_leaf_word_lane_order_and_zero_pads() -> None:
    layout = LeafLayout(num_params=20, words_per_leaf=2)  # C = 16, two real leaves, no padding leaves
    vector = np.arange(1, 21, dtype=np.int32)
    packed = pack_leaves(vector, layout)
    assert packed.shape == (2, 64)
    assert packed.dtype == np.uint8
    second_leaf = words_to_coordinates(leaf_words(vector, layout, 1))
    assert second_leaf.tolist() == [17, 18, 19, 20] + [0] * 12
    assert bytes(packed[1]) == b"".join(leaf_words(vector, layout, 1))
    assert pad_vector(vector, layout).tolist() == [*range(1, 21), *[0] * 12]


def test_padding_leaves_are_zero_words() -> None:
    layout = LeafLayout(num_params=17, words_per_leaf=1)  # three real leaves, one padding leaf
    vector = np.full(17, -1, dtype=np.int32)
    assert leaf_words(vector, layout, 3) == (bytes(32),)
    assert bytes(pack_leaves(vector, layout)[3]) == bytes(32)


def test_vector_length_must_match_the_layout() -> None:
    layout = LeafLayout(num_params=10, words_per_leaf=1)
    with pytest.raises(LayoutError, match="expects 10"):
        pack_leaves(np.zeros(11, dtype=np.int32), layout)
    with pytest.raises(LayoutError, match="expects 10"):
        leaf_words(np.zeros(9, dtype=np.int32), layout, 0)


def test_real_coordinates_per_leaf_and_padding_check() -> None:
    layout = LeafLayout(num_params=20, words_per_leaf=1)  # leaves of 8: 8, 8, 4 real, then a padding leaf
    assert [real_coordinates_in_leaf(layout, index) for index in range(4)] == [8, 8, 4, 0]
    vector = np.arange(1, 21, dtype=np.int32)
    assert all(padding_is_zero(leaf_words(vector, layout, index), layout, index) for index in range(4))
    dirty = lanes_to_word([17, 18, 19, 20, 0, 0, 0, 1])
    assert not padding_is_zero([dirty], layout, 2)
    assert padding_is_zero([dirty], layout, 1)
    assert not padding_is_zero([lanes_to_word([0] * 7 + [1])], layout, 3)
    with pytest.raises(LayoutError, match="expects 1"):
        padding_is_zero([dirty, dirty], layout, 2)
