import numpy as np
import pytest

from fedchain.client import ParameterError, flatten, unflatten


def test_round_trip_restores_arrays_and_names() -> None:
    rng = np.random.default_rng(0)
    arrays: list[np.ndarray] = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(4,)), np.array(2.5)]
    vector, shapes = flatten(arrays, names=["w", "b", "scale"])
    assert vector.dtype == np.float64
    assert vector.shape == (17,)
    assert shapes == [("w", (3, 4)), ("b", (4,)), ("scale", ())]
    restored = unflatten(vector, shapes)
    for original, back in zip(arrays, restored, strict=True):
        assert back.shape == original.shape
        np.testing.assert_array_equal(back, original.astype(np.float64))


def test_unflatten_accepts_json_shapes_and_casts() -> None:
    restored = unflatten(np.arange(6, dtype=np.float64), [["a", [2, 2]], ["b", [2]]], dtype=np.float32)
    assert [array.dtype for array in restored] == [np.float32, np.float32]
    np.testing.assert_array_equal(restored[0], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(restored[1], [4, 5])


def test_default_names_and_empty_list() -> None:
    _, shapes = flatten([np.zeros(2), np.zeros((1, 1))])
    assert [name for name, _ in shapes] == ["param0", "param1"]
    vector, empty_shapes = flatten([])
    assert vector.size == 0
    assert empty_shapes == []


def test_length_mismatch_is_rejected() -> None:
    with pytest.raises(ParameterError, match="5 coordinates but the shapes describe 6"):
        unflatten(np.zeros(5), [("a", (2, 3))])


def test_bad_names_are_rejected() -> None:
    with pytest.raises(ParameterError, match="2 arrays but 1 names"):
        flatten([np.zeros(1), np.zeros(1)], names=["a"])
    with pytest.raises(ParameterError, match="duplicate"):
        flatten([np.zeros(1), np.zeros(1)], names=["a", "a"])


def test_malformed_shapes_are_rejected() -> None:
    with pytest.raises(ParameterError, match="entry 0 must be"):
        unflatten(np.zeros(2), [[2, [2]]])
    with pytest.raises(ParameterError, match="non-integer dimensions"):
        unflatten(np.zeros(2), [["a", [2.0]]])
    with pytest.raises(ParameterError, match="negative dimension"):
        unflatten(np.zeros(2), [["a", [-2]]])


def test_non_vector_input_is_rejected() -> None:
    with pytest.raises(ParameterError, match="1-D"):
        unflatten(np.zeros((2, 2)), [("a", (4,))])
