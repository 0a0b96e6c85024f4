"""Rule 3: norm-bounded averaging (docs/protocol.md section 4.4).

Each included update u is scaled down to the task's L2 bound B by its declared squared norm N_u, and counts with
an effective weight:

    B^2 * 10^8 = K = clip^2 * numParams * ruleParam^2      (ruleParam: B in bps of the largest norm, clip * sqrt(P))
    s_u = 2^16                                             if N_u * 10^8 <= K
        = isqrt(floor(2^32 * K / (10^8 * N_u)))            otherwise (below 2^16)
    e_u = floor(w_u * s_u / 2^16)                          (0 for an update whose norm was never declared)
    C_i = tdiv(sum of e_u * u_k[i], sum of w_u)

A declaration above the hard limit (N_u * 10^8 > 16 K: the norm is over 4 B) is refused on chain, so its update
stays undeclared and is dropped. Plain mode only: secure aggregation unmasks only the sum, and the norm of a masked
update would need its owner's proof (issue #15's zk work).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fedchain.aggregate.errors import AggregationError
from fedchain.aggregate.fedavg import center_of_sums
from fedchain.aggregate.rules import AggregationRule, RuleParameter, apply_step, check_inputs, leaf_coordinates
from fedchain.commit.constants import MAX_CLIP
from fedchain.commit.leaves import coordinates_to_words

SCALE_ONE: Final = 1 << 16
"""A scale of 1, in units of 2^-16."""
BPS_SQUARED: Final = 10**8
"""The denominator of ruleParam^2."""
HARD_LIMIT: Final = 4
"""The hard limit as a multiple of the bound: a norm above it cannot be declared."""
MAX_BOUND_BPS: Final = 10_000
"""The bound equals the largest norm the clip allows."""
DEFAULT_BOUND_BPS: Final = 20
"""The bound when a task file sets none: 0.2% of the largest norm the clip allows (at the default clip of 8, 0.52 for
breast cancer's MLP and 0.70 for the digits CNN). A bound helps only near the honest updates' norms, which are far
below what the clip allows: measured at 5 to 9 bps of clip * sqrt(P) for the MLP and 19 to 26 for the CNN (10
hospitals, IID, rounds 0 to 5); at 10% (1000 bps) a 10-fold model replacement passed unscaled. A task should set
its bound at about twice an honest update's norm, measured in a clean run."""
MAX_NUM_PARAMS: Final = 1 << 40


@dataclass(frozen=True)
class NormBounded(AggregationRule):
    """Weighted averaging with every update scaled down to the task's L2 bound (``param`` bps of clip * sqrt(P)).

    ``clip`` and ``num_params`` are the task's (TaskParams.clip, numParams): the bound is relative to them.
    """

    clip: int = 0
    num_params: int = 0
    rule_id: ClassVar[int] = 3
    name: ClassVar[str] = "norm_bounded"
    summary: ClassVar[str] = "weighted FedAvg, each update scaled down to an L2 norm bound (plain mode)"
    secure: ClassVar[bool] = False
    parameter: ClassVar[RuleParameter | None] = RuleParameter(key="norm_bound", default_bps=DEFAULT_BOUND_BPS,
                                                              low_bps=1, high_bps=MAX_BOUND_BPS)

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.clip, bool) or not isinstance(self.clip, int) or not 1 <= self.clip <= MAX_CLIP:
            raise AggregationError(f"{self.name} needs the task's clip in [1, {MAX_CLIP}], got {self.clip!r}")
        if (isinstance(self.num_params, bool) or not isinstance(self.num_params, int)
                or not 1 <= self.num_params <= MAX_NUM_PARAMS):
            raise AggregationError(f"{self.name} needs the task's numParams in [1, 2^40], got {self.num_params!r}")

    @property
    def bound_sq_scaled(self) -> int:
        """K = clip^2 * numParams * ruleParam^2, the squared bound times 10^8."""
        return self.clip * self.clip * self.num_params * self.param * self.param

    def scale(self, norm_sq: int) -> int:
        """s = min(1, B / sqrt(normSq)) in units of 2^-16, rounded down exactly as on chain."""
        if norm_sq * BPS_SQUARED <= self.bound_sq_scaled:
            return SCALE_ONE
        return math.isqrt((self.bound_sq_scaled << 32) // (norm_sq * BPS_SQUARED))

    def effective_weight(self, weight: int, norm_sq: int | None) -> int:
        """e = floor(w * s / 2^16); 0 for an update whose norm was not declared (``None``)."""
        return 0 if norm_sq is None else weight * self.scale(norm_sq) >> 16

    def over_limit(self, norm_sq: int) -> bool:
        """Whether a squared norm is above the hard limit (the chain refuses to record it)."""
        return norm_sq * BPS_SQUARED > HARD_LIMIT * HARD_LIMIT * self.bound_sq_scaled

    def center(self, updates: tuple[NDArray[np.int64], ...], weights: tuple[int, ...]) -> NDArray[np.int64]:
        """The center of whole updates, each declared with its own true squared norm."""
        norms = tuple(int((update.astype(object) ** 2).sum()) for update in updates)
        return self.center_declared(updates, weights, norms)

    def center_declared(
        self, updates: tuple[NDArray[np.int64], ...], weights: tuple[int, ...], norm_sqs: Sequence[int | None]
    ) -> NDArray[np.int64]:
        """``tdiv(sum of e_u * u, sum of w_u)`` with the declared squared norms (``None``: not declared)."""
        if len(norm_sqs) != len(updates):
            raise AggregationError(f"got {len(updates)} updates but {len(norm_sqs)} declared norms")
        weighted_sum = np.zeros_like(updates[0])
        for weight, update, norm_sq in zip(weights, updates, norm_sqs, strict=True):
            weighted_sum += self.effective_weight(weight, norm_sq) * update
        return center_of_sums(weighted_sum, sum(weights))

    def aggregate_declared(
        self,
        previous: ArrayLike,
        updates: Sequence[ArrayLike],
        sample_counts: Sequence[int],
        norm_sqs: Sequence[int | None],
    ) -> NDArray[np.int32]:
        """The next global model as the chain defines it: from the members' declared squared norms."""
        inputs = check_inputs(previous, updates, sample_counts)
        weights = tuple(self.weight(count) for count in inputs.sample_counts)
        return apply_step(inputs.previous, self.center_declared(inputs.updates, weights, norm_sqs),
                          self.server_lr_bps)

    def aggregate_leaf_declared(
        self,
        previous: Sequence[bytes],
        updates: Sequence[Sequence[bytes]],
        sample_counts: Sequence[int],
        norm_sqs: Sequence[int | None],
    ) -> tuple[bytes, ...]:
        """One leaf of the next model (a fraud proof's arithmetic), padding coordinates not cleared."""
        previous_coordinates, update_coordinates = leaf_coordinates(previous, updates)
        return coordinates_to_words(self.aggregate_declared(previous_coordinates, update_coordinates, sample_counts,
                                                            norm_sqs))
