"""Rule 0: weighted FedAvg with capped sample counts (docs/protocol.md section 4.1).

    w_k = min(n_k, sampleCap);  S_i = sum of w_k u_k[i];  C_i = tdiv(S_i, sum of w_k)

Computed in int64 with no overflow for inputs within the protocol's bounds. The one rule secure mode can apply:
it needs only the weighted sum S, which is what secure aggregation unmasks (:func:`center_of_sums`).
"""

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from fedchain.aggregate.rules import AggregationRule, truncating_divide


class FedAvg(AggregationRule):
    """Weighted FedAvg: an update counts in proportion to its capped sample count."""

    rule_id: ClassVar[int] = 0
    name: ClassVar[str] = "fedavg"
    summary: ClassVar[str] = "weighted FedAvg in integers"
    secure: ClassVar[bool] = True

    def center(self, updates: tuple[NDArray[np.int64], ...], weights: tuple[int, ...]) -> NDArray[np.int64]:
        """``tdiv(S_i, sum of w_k)`` for every coordinate."""
        weighted_sum = np.zeros_like(updates[0])
        for weight, update in zip(weights, updates, strict=True):
            weighted_sum += weight * update
        return center_of_sums(weighted_sum, sum(weights))


def center_of_sums(weighted_sums: NDArray[np.int64], total_weight: int) -> NDArray[np.int64]:
    """FedAvg's center from the weighted sums and their total weight (secure mode starts here)."""
    return truncating_divide(weighted_sums, total_weight)
