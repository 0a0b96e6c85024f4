"""EZKL's fixed-point arithmetic: rounding halves away from zero, exact rescaling, the sigmoid table."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from fedchain.zk.errors import FixedPointError
from fedchain.zk.fixed.arith import dequantize, quantize, rescale, round_half_away, sigmoid


def test_round_half_away_rounds_ties_away_from_zero() -> None:
    assert round_half_away([0.5, 1.5, 2.5, -0.5, -1.5, 0.49, -0.51]).tolist() == [1, 2, 3, -1, -2, 0, -1]


def test_rescale_is_exact_rational_rounding() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.integers(-2**40, 2**40, 2000), np.arange(-40, 41) * 128])  # the second: ties
    for shift in (1, 7, 8, 13):
        expected = []
        for value in values.tolist():
            exact = Fraction(value, 2**shift)
            floor = exact.numerator // exact.denominator
            rest = exact - floor
            rounded = floor + 1 if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and value > 0) else floor
            expected.append(rounded)
        assert rescale(values, shift).tolist() == expected


def test_quantize_round_trips_and_refuses_what_float32_cannot_hold() -> None:
    values = quantize([0.25, -1.0 / 3.0, 3.0], 8)
    assert values.tolist() == [64, -85, 768]
    assert dequantize(values, 8).tolist() == [0.25, -85 / 256, 3.0]
    with pytest.raises(FixedPointError):
        quantize([2.0**16], 8)
    with pytest.raises(FixedPointError):
        quantize([1.0], 0)


def test_sigmoid_table_at_its_ends_and_middle() -> None:
    assert sigmoid(np.array([0, -4 * 256, 4 * 256]), 8).tolist() == [128, round(256 / (1 + np.exp(4))),
                                                                      round(256 / (1 + np.exp(-4)))]
