"""Sorted coordinates of a set of updates, for the rules built on order statistics, in slices of bounded memory."""

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

COLUMN_BLOCK = 1 << 16
"""Coordinates sorted at a time: (updates x 65536) int64 values, 32 MiB at 64 updates."""


def sorted_columns(updates: tuple[NDArray[np.int64], ...]) -> Iterator[tuple[slice, NDArray[np.int64]]]:
    """For each block of coordinates, its slice and the updates' values there sorted along axis 0 (row r holds the
    r-th smallest value of each coordinate)."""
    size = updates[0].size
    for start in range(0, size, COLUMN_BLOCK):
        span = slice(start, min(start + COLUMN_BLOCK, size))
        yield span, np.sort(np.stack([update[span] for update in updates]), axis=0)
