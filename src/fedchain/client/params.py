"""Flattening a list of arrays into one float64 vector and back (docs/protocol.md §6 `shapes`)."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from fedchain.client.errors import ParameterError

Shapes = list[tuple[str, tuple[int, ...]]]
"""How a flat vector splits into named tensors, in order: ``[(name, dims), ...]``."""

ShapesLike = Sequence[tuple[str, Sequence[int]] | Sequence[Any]]
"""Shapes as :data:`Shapes` or as decoded from a blob header's JSON: ``[[name, [dims...]], ...]``."""


def _default_names(count: int) -> list[str]:
    return [f"param{i}" for i in range(count)]


def flatten(
    arrays: Sequence[npt.ArrayLike], names: Sequence[str] | None = None
) -> tuple[npt.NDArray[np.float64], Shapes]:
    """Concatenate ``arrays`` (C order) into one float64 vector and describe their shapes.

    ``names`` label the tensors in the returned shapes (default ``param0, param1, ...``); they must be
    unique and as many as the arrays.
    """
    array_list = [np.asarray(array) for array in arrays]
    tensor_names = list(names) if names is not None else _default_names(len(array_list))
    if len(tensor_names) != len(array_list):
        raise ParameterError(f"flatten got {len(array_list)} arrays but {len(tensor_names)} names")
    if len(set(tensor_names)) != len(tensor_names):
        raise ParameterError(f"flatten got duplicate tensor names: {tensor_names}")
    shapes: Shapes = [
        (name, tuple(int(dim) for dim in array.shape)) for name, array in zip(tensor_names, array_list, strict=True)
    ]
    if not array_list:
        return np.zeros(0, dtype=np.float64), shapes
    vector = np.concatenate([array.astype(np.float64).ravel() for array in array_list])
    return vector, shapes


def normalize_shapes(shapes: ShapesLike) -> Shapes:
    """Check ``shapes`` (name, non-negative integer dims) and return them as :data:`Shapes`."""
    normalized: Shapes = []
    for position, entry in enumerate(shapes):
        if len(entry) != 2 or not isinstance(entry[0], str) or isinstance(entry[1], str | bytes):
            raise ParameterError(f"shapes entry {position} must be [name, [dims...]], got {entry!r}")
        name, dims = entry
        if not all(isinstance(dim, int | np.integer) and not isinstance(dim, bool) for dim in dims):
            raise ParameterError(f"tensor {name!r} has non-integer dimensions {list(dims)}")
        if any(dim < 0 for dim in dims):
            raise ParameterError(f"tensor {name!r} has a negative dimension in {list(dims)}")
        normalized.append((name, tuple(int(dim) for dim in dims)))
    return normalized


def unflatten(
    vector: npt.ArrayLike,
    shapes: ShapesLike,
    dtype: npt.DTypeLike | None = None,
) -> list[npt.NDArray[np.generic]]:
    """Split a flat vector into arrays with the given shapes (inverse of :func:`flatten`).

    The arrays keep the vector's dtype unless ``dtype`` is given. The vector length must equal the sum of
    the shapes' sizes exactly.
    """
    flat = np.asarray(vector)
    if flat.ndim != 1:
        raise ParameterError(f"unflatten expects a 1-D vector, got shape {flat.shape}")
    checked = normalize_shapes(shapes)
    expected = sum(int(np.prod(dims, dtype=np.int64)) for _, dims in checked)
    if flat.size != expected:
        raise ParameterError(f"vector has {flat.size} coordinates but the shapes describe {expected}")
    if dtype is not None:
        flat = flat.astype(dtype)
    arrays: list[npt.NDArray[np.generic]] = []
    offset = 0
    for _, dims in checked:
        size = int(np.prod(dims, dtype=np.int64))
        arrays.append(flat[offset : offset + size].reshape(dims).copy())
        offset += size
    return arrays
