"""Quantization (docs/protocol.md §1)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fedchain.commit.constants import INT32_MAX, INT32_MIN
from fedchain.commit.errors import QuantizationError
from fedchain.commit.quantize import QuantizationSpec, dequantize, quantize_model, quantize_update


@pytest.mark.parametrize(("scale_bits", "clip"), [(-1, 1), (31, 1), (8, 0), (8, 2**31), (True, 5), (8, 1.5), (8.0, 5)])
def test_spec_rejects_out_of_range_parameters(scale_bits: object, clip: object) -> None:
    with pytest.raises(QuantizationError):
        QuantizationSpec(scale_bits, clip)  # type: ignore[arg-type]


def test_spec_accepts_the_bounds() -> None:
    assert QuantizationSpec(0, 1).scale == 1.0
    assert QuantizationSpec(30, INT32_MAX).scale == 2.0**30


def test_model_rounds_half_to_even_and_saturates() -> None:
    spec = QuantizationSpec(scale_bits=1, clip=1)
    values = np.array([0.25, 0.75, -0.25, -0.75, 1.25, 2.0**40, -(2.0**40)])
    assert quantize_model(values, spec).tolist() == [0, 2, 0, -2, 2, INT32_MAX, INT32_MIN]


def test_model_of_float32_input_is_exact() -> None:
    spec = QuantizationSpec(scale_bits=16, clip=1)
    values = np.array([0.5, -1.5, 3.0000001], dtype=np.float32)
    assert quantize_model(values, spec).tolist() == [
        32768,
        -98304,
        int(np.rint(np.float64(values[2]) * 2**16)),
    ]


def test_update_is_difference_to_dequantized_global_and_clipped() -> None:
    spec = QuantizationSpec(scale_bits=4, clip=10)
    global_q = np.array([16, 16, 16, -32], dtype=np.int32)
    local = np.array([1.5, 0.0, 100.0, -2.0])
    assert quantize_update(local, global_q, spec).tolist() == [8, -10, 10, 0]
    assert quantize_update(local, global_q, spec).dtype == np.int32


def test_dequantize_divides_by_the_scale() -> None:
    spec = QuantizationSpec(scale_bits=2, clip=1)
    result = dequantize(np.array([4, -3, INT32_MIN], dtype=np.int32), spec)
    assert result.dtype == np.float64
    assert result.tolist() == [1.0, -0.75, INT32_MIN / 4]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_rejected_with_their_index(bad: float) -> None:
    spec = QuantizationSpec(8, 100)
    with pytest.raises(QuantizationError, match="index 1"):
        quantize_model(np.array([0.0, bad]), spec)
    with pytest.raises(QuantizationError, match="index 1"):
        quantize_update(np.array([0.0, bad]), np.zeros(2, dtype=np.int32), spec)


def test_shape_errors_are_named() -> None:
    spec = QuantizationSpec(8, 100)
    with pytest.raises(QuantizationError, match="flat"):
        quantize_model(np.zeros((2, 2)), spec)
    with pytest.raises(QuantizationError, match="shape"):
        quantize_update(np.zeros(3), np.zeros(2, dtype=np.int32), spec)
    with pytest.raises(QuantizationError, match="integer"):
        dequantize(np.zeros(2), spec)


@given(
    scale_bits=st.integers(0, 30),
    values=arrays(np.float64, st.integers(1, 50), elements=st.floats(-1.0, 1.0)),
)
def test_round_trip_error_is_at_most_half_a_step(scale_bits: int, values: np.ndarray) -> None:
    spec = QuantizationSpec(scale_bits, INT32_MAX)
    error = np.abs(dequantize(quantize_model(values, spec), spec) - values)
    assert np.all(error <= 2.0 ** -(scale_bits + 1))


@given(
    scale_bits=st.integers(0, 24),
    clip=st.integers(1, INT32_MAX),
    global_q=arrays(np.int32, 20),
    delta=arrays(np.float64, 20, elements=st.floats(-1e6, 1e6)),
)
def test_update_stays_within_the_clip(scale_bits: int, clip: int, global_q: np.ndarray, delta: np.ndarray) -> None:
    spec = QuantizationSpec(scale_bits, clip)
    update = quantize_update(dequantize(global_q, spec) + delta, global_q, spec)
    assert np.all(np.abs(update.astype(np.int64)) <= clip)
