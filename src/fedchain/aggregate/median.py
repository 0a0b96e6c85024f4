"""Rule 1: coordinate-wise median (docs/protocol.md section 4.2).

    C_i = the middle of the sorted u_1[i], ..., u_n[i];  for an even n, tdiv(lower + upper middle, 2)

Unweighted, so a declared sample count buys no influence; robust to any minority of updates (Yin et al. 2018).
Plain mode only: it needs every update, not their sum.
"""

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from fedchain.aggregate.order import sorted_columns
from fedchain.aggregate.rules import AggregationRule, truncating_divide


class CoordinateMedian(AggregationRule):
    """The median of every coordinate over the included updates."""

    rule_id: ClassVar[int] = 1
    name: ClassVar[str] = "median"
    summary: ClassVar[str] = "coordinate-wise median (unweighted; plain mode)"
    secure: ClassVar[bool] = False

    def center(self, updates: tuple[NDArray[np.int64], ...], weights: tuple[int, ...]) -> NDArray[np.int64]:
        """The median of each coordinate."""
        n = len(updates)
        centers = np.empty_like(updates[0])
        for span, column in sorted_columns(updates):
            if n % 2:
                centers[span] = column[n // 2]
            else:
                centers[span] = truncating_divide(column[n // 2 - 1] + column[n // 2], 2)
        return centers
