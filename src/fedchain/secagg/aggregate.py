"""The new global model from the unmasked weighted sum (docs/protocol.md §10.9).

Secure mode ends in the same integer form as plain mode (docs/protocol.md §4): the unmasked sum S is the
plain rule's ``S_i = Σ_k w_k u_k[i]`` over the survivors, so the same rule finishes it:

    S'_i = clamp(S_i, -clip * Wt, clip * Wt)    (honest inputs never reach the bounds)
    C_i  = tdiv(S'_i, Wt)                        (FedAvg's center, :func:`fedchain.aggregate.fedavg.center_of_sums`)
    g'_i = clamp(g_i + tdiv(C_i * serverLrBps, 10000), int32)   (every rule's tail, :func:`apply_step`)

The clamp is there because masked inputs cannot be range-checked: it bounds what a participant that masks
an out-of-range update can do to one coordinate, and keeps every intermediate within int64.
"""

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fedchain.aggregate.constants import MAX_SERVER_LR_BPS
from fedchain.aggregate.fedavg import center_of_sums
from fedchain.aggregate.rules import apply_step
from fedchain.commit.constants import INT32_MAX
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
    return apply_step(model, center_of_sums(np.clip(sums, -bound, bound), total_weight), server_lr_bps)
