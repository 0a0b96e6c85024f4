"""The global model from the unmasked sum (docs/protocol.md §10.9)."""

import numpy as np
import pytest

from fedchain.aggregate.fedavg import FedAvg
from fedchain.secagg.aggregate import secure_fedavg
from fedchain.secagg.errors import SecAggError


@pytest.mark.parametrize("lr", [10_000, 3_333, 100_000, 1])
def test_equals_plain_fedavg_on_honest_inputs(lr: int) -> None:
    rng = np.random.default_rng(lr)
    clip, cap = 2**20, 500
    previous = rng.integers(-(2**31), 2**31, size=200, dtype=np.int64).astype(np.int32)
    updates = [rng.integers(-clip, clip + 1, size=200).astype(np.int32) for _ in range(9)]
    counts = [int(c) for c in rng.integers(1, 2 * cap, size=9)]
    weights = [min(c, cap) for c in counts]
    weighted_sum = sum(w * u.astype(np.int64) for w, u in zip(weights, updates, strict=True))
    assert isinstance(weighted_sum, np.ndarray)
    expected = FedAvg(cap, lr).aggregate(previous, updates, counts)
    got = secure_fedavg(previous, weighted_sum, sum(weights), clip=clip, server_lr_bps=lr)
    assert got.dtype == np.int32
    assert np.array_equal(got, expected)


def test_out_of_range_sums_are_clamped_to_clip_times_weight() -> None:
    sums = np.array([10**12, -(10**12), 299, -301], dtype=np.int64)
    model = secure_fedavg(np.zeros(4, dtype=np.int32), sums, 3, clip=100, server_lr_bps=10_000)
    assert model.tolist() == [100, -100, 99, -100]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weighted_sum": np.zeros(3, dtype=np.int64)}, "shape"),
        ({"weighted_sum": np.zeros(4, dtype=np.uint64)}, "int64"),
        ({"total_weight": 0}, "total weight"),
        ({"total_weight": 2**28 + 1}, "total weight"),
        ({"clip": 0}, "clip"),
        ({"server_lr_bps": 100_001}, "server_lr_bps"),
    ],
)
def test_bad_inputs_are_rejected(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "previous": np.zeros(4, dtype=np.int32),
        "weighted_sum": np.zeros(4, dtype=np.int64),
        "total_weight": 1,
        "clip": 1,
        "server_lr_bps": 10_000,
    }
    arguments.update(kwargs)
    with pytest.raises(SecAggError, match=message):
        secure_fedavg(**arguments)  # type: ignore[arg-type]
