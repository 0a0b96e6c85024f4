"""The new global model from the unmasked weighted sum (docs/protocol.md §10.9).

Secure mode ends in the same integer form as plain mode (docs/protocol.md §4): the unmasked sum S is the
plain rule's ``S_i = Σ_k w_k u_k[i]`` over the survivors, so the same rule finishes it:

    S'_i = clamp(S_i, -clip * Wt, clip * Wt)    (honest inputs never reach the bounds)
    A_i  = tdiv(S'_i, Wt);  Δ_i = tdiv(A_i * serverLrBps, 10000);  g'_i = clamp(g_i + Δ_i, int32)

The clamp is there because masked inputs cannot be range-checked: it bounds what a participant that masks
an out-of-range update can do to one coordinate, and keeps every intermediate within int64.
"""

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fedchain.aggregate.constants import BPS_DENOMINATOR, MAX_SERVER_LR_BPS
from fedchain.aggregate.fedavg import truncating_divide
from fedchain.commit.constants import INT32_MAX, INT32_MIN
from fedchain.commit.leaves import as_int32_vector
from fedchain.secagg.constants import MAX_COHORT, MAX_WEIGHT
from fedchain.secagg.errors import SecAggError


def secure_fedavg(
    previous: ArrayLike, weighted_sum: NDArray[np.int64], total_weight: int, *, clip: int, server_lr_bps: int
) -> NDArray[np.int32]:
    """The next global model from the previous one and the unmasked weighted sum of the survivors."""
    model = as_int32_vector(previous, "previous model").astype(np.int64)
    sums = np.asarray(weighted_sum)
    if sums.dtype != np.int64 or sums.shape != model.shape:
        raise SecAggError(f"the weighted sum must be int64 of shape {model.shape}, got {sums.dtype} {sums.shape}")
    for name, value, high in (
        ("total weight", total_weight, MAX_COHORT * MAX_WEIGHT),
        ("clip", clip, INT32_MAX),
        ("server_lr_bps", server_lr_bps, MAX_SERVER_LR_BPS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise SecAggError(f"{name} must be an integer in [1, {high}], got {value!r}")
    bound = clip * total_weight
    average = truncating_divide(np.clip(sums, -bound, bound), total_weight)
    step = truncating_divide(average * server_lr_bps, BPS_DENOMINATOR)
    new_model: NDArray[np.int32] = np.clip(model + step, INT32_MIN, INT32_MAX).astype(np.int32)
    return new_model
