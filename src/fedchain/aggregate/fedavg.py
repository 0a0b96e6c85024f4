"""Rule 0: weighted FedAvg with capped sample counts and a server learning rate (docs/protocol.md §4).

    w_k = min(n_k, sampleCap);  S_i = Σ w_k u_k[i];  A_i = tdiv(S_i, Σ w_k)
    Δ_i = tdiv(A_i * serverLrBps, 10000);  g'_i = clamp(g_i + Δ_i, int32)

Computed in int64 with no overflow for inputs within the protocol's bounds; ``tdiv`` truncates toward
zero like Solidity's signed ``/``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fedchain.aggregate.constants import BPS_DENOMINATOR, FEDAVG_RULE_ID, MAX_SAMPLE_CAP, MAX_SERVER_LR_BPS
from fedchain.aggregate.errors import AggregationError
from fedchain.aggregate.rules import check_inputs
from fedchain.commit.constants import INT32_MAX, INT32_MIN


@dataclass(frozen=True)
class FedAvg:
    """Weighted FedAvg: ``sample_cap`` in [1, 2^20], ``server_lr_bps`` in [1, 100000] (10000 = 1)."""

    sample_cap: int
    server_lr_bps: int = BPS_DENOMINATOR
    rule_id: ClassVar[int] = FEDAVG_RULE_ID

    def __post_init__(self) -> None:
        if not _is_int(self.sample_cap) or not 1 <= self.sample_cap <= MAX_SAMPLE_CAP:
            raise AggregationError(f"sample_cap must be an integer in [1, {MAX_SAMPLE_CAP}], got {self.sample_cap!r}")
        if not _is_int(self.server_lr_bps) or not 1 <= self.server_lr_bps <= MAX_SERVER_LR_BPS:
            raise AggregationError(
                f"server_lr_bps must be an integer in [1, {MAX_SERVER_LR_BPS}], got {self.server_lr_bps!r}"
            )

    def weight(self, sample_count: int) -> int:
        """The weight ``min(n, sampleCap)`` of an update revealed with ``sample_count`` samples."""
        return min(sample_count, self.sample_cap)

    def aggregate(
        self, previous: ArrayLike, updates: Sequence[ArrayLike], sample_counts: Sequence[int]
    ) -> NDArray[np.int32]:
        """Return the next global model (int32) from ``previous`` and the included updates."""
        inputs = check_inputs(previous, updates, sample_counts)
        weights = [self.weight(count) for count in inputs.sample_counts]
        weighted_sum = np.zeros_like(inputs.previous)
        for weight, update in zip(weights, inputs.updates, strict=True):
            weighted_sum += weight * update
        average = truncating_divide(weighted_sum, sum(weights))
        step = truncating_divide(average * self.server_lr_bps, BPS_DENOMINATOR)
        new_model: NDArray[np.int32] = np.clip(inputs.previous + step, INT32_MIN, INT32_MAX).astype(np.int32)
        return new_model


def truncating_divide(numerators: NDArray[np.int64], denominator: int) -> NDArray[np.int64]:
    """Divide element-wise, rounding toward zero (Solidity's signed ``/``), exactly in int64."""
    if denominator == 0:
        raise AggregationError("division by zero")
    return (numerators - np.fmod(numerators, denominator)) // denominator


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
