"""Rule 0, weighted FedAvg (docs/protocol.md §4)."""

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain.aggregate.errors import AggregationError
from fedchain.aggregate.fedavg import FedAvg, truncating_divide
from fedchain.commit.constants import INT32_MAX, INT32_MIN


def solidity_div(numerator: int, denominator: int) -> int:
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def reference_fedavg(
    previous: Sequence[int], updates: Sequence[Sequence[int]], counts: Sequence[int], cap: int, lr_bps: int
) -> list[int]:
    """Per coordinate, in Python ints."""
    weights = [min(count, cap) for count in counts]
    result = []
    for i, old in enumerate(previous):
        weighted = sum(weight * update[i] for weight, update in zip(weights, updates, strict=True))
        step = solidity_div(solidity_div(weighted, sum(weights)) * lr_bps, 10_000)
        result.append(min(INT32_MAX, max(INT32_MIN, old + step)))
    return result


def test_truncating_divide_rounds_toward_zero() -> None:
    numerators = np.array([7, -7, 6, -6, 0, -1, 1, -(2**58) - 1], dtype=np.int64)
    assert truncating_divide(numerators, 3).tolist() == [solidity_div(int(n), 3) for n in numerators]
    assert truncating_divide(numerators, -3).tolist() == [solidity_div(int(n), -3) for n in numerators]
    with pytest.raises(AggregationError, match="zero"):
        truncating_divide(numerators, 0)


def test_weighted_average_with_cap_and_negative_truncation() -> None:
    rule = FedAvg(sample_cap=2)
    result = rule.aggregate(
        np.array([10, 10, 0], dtype=np.int32),
        [np.array([3, -1, -5], dtype=np.int32), np.array([0, 0, 0], dtype=np.int32)],
        [1, 50],  # weights 1 and 2: sums 3, -1, -5 over 3
    )
    assert result.tolist() == [11, 10, -1]
    assert result.dtype == np.int32


def test_server_learning_rate_scales_and_truncates_the_step() -> None:
    rule = FedAvg(sample_cap=10, server_lr_bps=5_000)
    result = rule.aggregate(np.zeros(4, dtype=np.int32), [np.array([3, -3, 100, -1], dtype=np.int32)], [1])
    assert result.tolist() == [1, -1, 50, 0]


def test_result_clamps_at_int32_bounds() -> None:
    rule = FedAvg(sample_cap=1, server_lr_bps=100_000)
    previous = np.array([INT32_MAX, INT32_MIN, INT32_MAX - 1], dtype=np.int32)
    update = np.array([1, -1, -INT32_MAX], dtype=np.int32)
    assert rule.aggregate(previous, [update], [1]).tolist() == [INT32_MAX, INT32_MIN, INT32_MIN]


def test_largest_intermediates_stay_exact() -> None:
    rule = FedAvg(sample_cap=2**20, server_lr_bps=100_000)
    updates = [np.array([INT32_MAX, -INT32_MAX], dtype=np.int32)] * 256
    previous = np.array([INT32_MIN, INT32_MAX], dtype=np.int32)
    expected = reference_fedavg(previous.tolist(), [u.tolist() for u in updates], [2**64] * 256, 2**20, 100_000)
    assert rule.aggregate(previous, updates, [2**64] * 256).tolist() == expected == [INT32_MAX, INT32_MIN]


@settings(max_examples=80, deadline=None)
@given(
    cap=st.integers(1, 2**20),
    lr_bps=st.integers(1, 100_000),
    length=st.integers(1, 24),
    cohort=st.integers(1, 12),
    data=st.data(),
)
def test_vectorized_equals_per_coordinate_reference(
    cap: int, lr_bps: int, length: int, cohort: int, data: st.DataObject
) -> None:
    magnitude = data.draw(st.sampled_from([10, 2**16, INT32_MAX]))
    int32s = st.integers(INT32_MIN, INT32_MAX)
    previous = data.draw(st.lists(int32s, min_size=length, max_size=length))
    updates = [
        data.draw(st.lists(st.integers(-magnitude, magnitude), min_size=length, max_size=length)) for _ in range(cohort)
    ]
    counts = data.draw(st.lists(st.integers(1, 2**22), min_size=cohort, max_size=cohort))
    rule = FedAvg(sample_cap=cap, server_lr_bps=lr_bps)
    result = rule.aggregate(np.array(previous, dtype=np.int32), [np.array(u, dtype=np.int32) for u in updates], counts)
    assert result.tolist() == reference_fedavg(previous, updates, counts, cap, lr_bps)


@pytest.mark.parametrize(
    ("cap", "lr_bps"), [(0, 10_000), (2**20 + 1, 10_000), (5, 0), (5, 100_001), (True, 10_000), (5, 1.5)]
)
def test_parameters_out_of_range_are_rejected(cap: int, lr_bps: int) -> None:
    with pytest.raises(AggregationError):
        FedAvg(sample_cap=cap, server_lr_bps=lr_bps)


def test_rule_id_is_zero() -> None:
    assert FedAvg(sample_cap=1).rule_id == 0
