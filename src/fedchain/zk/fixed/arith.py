"""EZKL's fixed-point arithmetic, reproduced bit for bit.

A real number ``x`` is held as the integer ``round(x * 2**scale)``; EZKL rounds half away from zero, both when it
quantizes an input and when it rescales a product (``a * b`` at scale ``2 * scale`` is divided by ``2**scale``
and rounded the same way). A sigmoid is a lookup table: ``round(sigmoid(q / 2**scale) * 2**scale)`` for each
integer ``q`` of the table's range. These functions are what the circuit computes, so a value computed with
them is the value the proof certifies (tests/zk/fixed/test_logreg.py compares them with EZKL's witness).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fedchain.zk.errors import FixedPointError

Ints = npt.NDArray[np.int64]
"""An array of fixed-point integers."""

MAX_SCALE = 16
"""The largest scale accepted: products of two values stay far inside int64 and EZKL's range checks."""

MAX_MAGNITUDE = 2**23
"""The largest magnitude of an input integer: EZKL reads inputs as float32, exact up to 2**24."""


def round_half_away(values: npt.ArrayLike) -> Ints:
    """Round to the nearest integer, halves away from zero (Rust's ``f64::round``, which EZKL uses)."""
    array = np.asarray(values, dtype=np.float64)
    return (np.sign(array) * np.floor(np.abs(array) + 0.5)).astype(np.int64)


def quantize(values: npt.ArrayLike, scale: int) -> Ints:
    """Real values as fixed-point integers at ``scale``, as EZKL quantizes its inputs; refuses values too large."""
    check_scale(scale)
    quantized = round_half_away(np.asarray(values, dtype=np.float64) * 2.0**scale)
    if quantized.size and int(np.abs(quantized).max()) > MAX_MAGNITUDE:
        raise FixedPointError(f"a value exceeds {MAX_MAGNITUDE / 2**scale:g} in magnitude at scale {scale}")
    return quantized


def dequantize(values: Ints, scale: int) -> npt.NDArray[np.float64]:
    """Fixed-point integers at ``scale`` as the real values they stand for."""
    return np.asarray(values, dtype=np.float64) / 2.0**scale


def rescale(values: Ints, shift: int) -> Ints:
    """Divide by ``2**shift`` and round half away from zero, exactly (EZKL's rebase after a product)."""
    array = np.asarray(values, dtype=np.int64)
    if shift == 0:
        return array.copy()
    half = np.int64(1) << np.int64(shift - 1)
    magnitude = (np.abs(array) + half) >> np.int64(shift)
    signed: Ints = (np.sign(array) * magnitude).astype(np.int64)
    return signed


def sigmoid(values: Ints, scale: int) -> Ints:
    """EZKL's sigmoid lookup: ``round(sigmoid(q / 2**scale) * 2**scale)`` for each fixed-point ``q``."""
    real = np.asarray(values, dtype=np.float64) / 2.0**scale
    return round_half_away(2.0**scale / (1.0 + np.exp(-real)))


def check_scale(scale: int) -> None:
    """Refuse a scale EZKL's arithmetic here does not represent exactly."""
    if not 1 <= scale <= MAX_SCALE:
        raise FixedPointError(f"scale must lie in 1..{MAX_SCALE}, not {scale}")
