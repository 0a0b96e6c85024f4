"""Rule 2: coordinate-wise trimmed mean (docs/protocol.md section 4.3).

    k = floor(n * ruleParam / 10000);  C_i = tdiv(sum of the sorted u_(k+1)[i] .. u_(n-k)[i], n - 2k)

``ruleParam`` is the fraction trimmed at each end in basis points, 1 to 4999 (so at least one value is kept).
Unweighted; robust while fewer than k updates are bad (Yin et al. 2018). Plain mode only.
"""

from typing import ClassVar, Final

import numpy as np
from numpy.typing import NDArray

from fedchain.aggregate.constants import BPS_DENOMINATOR
from fedchain.aggregate.order import sorted_columns
from fedchain.aggregate.rules import AggregationRule, RuleParameter, truncating_divide

DEFAULT_TRIM_BPS: Final = 1_000
"""The trim when a task file sets none: 10% at each end."""
MAX_TRIM_BPS: Final = 4_999
"""Under half at each end, so at least one value is kept."""


class TrimmedMean(AggregationRule):
    """The mean of every coordinate after dropping its ``param`` / 10000 smallest and largest values."""

    rule_id: ClassVar[int] = 2
    name: ClassVar[str] = "trimmed_mean"
    summary: ClassVar[str] = "coordinate-wise trimmed mean (unweighted; plain mode)"
    secure: ClassVar[bool] = False
    parameter: ClassVar[RuleParameter | None] = RuleParameter(key="trim", default_bps=DEFAULT_TRIM_BPS, low_bps=1,
                                                              high_bps=MAX_TRIM_BPS)

    def trimmed(self, n: int) -> int:
        """How many values of ``n`` are dropped at each end."""
        return n * self.param // BPS_DENOMINATOR

    def center(self, updates: tuple[NDArray[np.int64], ...], weights: tuple[int, ...]) -> NDArray[np.int64]:
        """The trimmed mean of each coordinate."""
        n = len(updates)
        k = self.trimmed(n)
        centers = np.empty_like(updates[0])
        for span, column in sorted_columns(updates):
            centers[span] = truncating_divide(column[k:n - k].sum(axis=0), n - 2 * k)
        return centers
