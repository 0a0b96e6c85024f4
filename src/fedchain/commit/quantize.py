"""Fixed-point quantization of models and updates (docs/protocol.md §1).

A real x becomes ``rint(x * 2^s)`` in float64 (round half to even). A global model is clamped to int32;
an update (local model minus the dequantized global model) is clamped to ``[-clip, clip]``.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fedchain.commit.constants import INT32_MAX, INT32_MIN, MAX_CLIP, MAX_SCALE_BITS, MIN_CLIP
from fedchain.commit.errors import QuantizationError


@dataclass(frozen=True)
class QuantizationSpec:
    """A task's quantization: ``scale_bits`` fractional bits and the update clipping bound ``clip``."""

    scale_bits: int
    clip: int

    def __post_init__(self) -> None:
        if not _is_int(self.scale_bits) or not 0 <= self.scale_bits <= MAX_SCALE_BITS:
            raise QuantizationError(f"scale_bits must be an integer in [0, {MAX_SCALE_BITS}], got {self.scale_bits!r}")
        if not _is_int(self.clip) or not MIN_CLIP <= self.clip <= MAX_CLIP:
            raise QuantizationError(f"clip must be an integer in [{MIN_CLIP}, {MAX_CLIP}], got {self.clip!r}")

    @property
    def scale(self) -> float:
        """The factor ``2^scale_bits`` between a real value and its integer."""
        return float(2**self.scale_bits)


def quantize_model(values: ArrayLike, spec: QuantizationSpec) -> NDArray[np.int32]:
    """Quantize a flat vector of model parameters to int32, saturating at the int32 bounds."""
    scaled = np.rint(_finite_float64(values, "model") * spec.scale)
    return np.clip(scaled, INT32_MIN, INT32_MAX).astype(np.int32)


def quantize_update(local: ArrayLike, global_q: ArrayLike, spec: QuantizationSpec) -> NDArray[np.int32]:
    """Quantize ``local - dequantize(global_q)``, clipped to ``[-clip, clip]``."""
    local_values = _finite_float64(local, "local model")
    global_values = dequantize(global_q, spec)
    if local_values.shape != global_values.shape:
        raise QuantizationError(
            f"local model has shape {local_values.shape} but the global model has shape {global_values.shape}"
        )
    scaled = np.rint((local_values - global_values) * spec.scale)
    return np.clip(scaled, -spec.clip, spec.clip).astype(np.int32)


def dequantize(quantized: ArrayLike, spec: QuantizationSpec) -> NDArray[np.float64]:
    """Return ``quantized / 2^scale_bits`` in float64; the caller casts to its model's dtype."""
    array = np.asarray(quantized)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise QuantizationError(f"expected a flat integer vector, got dtype {array.dtype} with shape {array.shape}")
    return array.astype(np.float64) / spec.scale


def _finite_float64(values: ArrayLike, name: str) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise QuantizationError(f"{name} must be a flat vector, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise QuantizationError(f"{name} has a non-finite value {array[bad[0]]} at index {int(bad[0])}")
    return array


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
