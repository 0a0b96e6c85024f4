"""Rules 1 and 2, coordinate-wise median and trimmed mean (docs/protocol.md sections 4.2 and 4.3), against the
reference of tests/vectors, and the registry that picks a rule by name or on-chain id."""

import numpy as np
import pytest

from fedchain.aggregate import order
from fedchain.aggregate.errors import AggregationError
from fedchain.aggregate.median import CoordinateMedian
from fedchain.aggregate.registry import RULES, RULES_BY_ID, rule_for
from fedchain.aggregate.trimmed_mean import TrimmedMean
from fedchain.commit.constants import INT32_MAX, INT32_MIN
from tests.vectors import reference


def _inputs(seed: int, n: int, size: int) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    previous = rng.integers(INT32_MIN, INT32_MAX, size=size, endpoint=True).astype(np.int32)
    updates = [rng.integers(-INT32_MAX, INT32_MAX, size=size, endpoint=True).astype(np.int32) for _ in range(n)]
    return previous, updates


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10, 33])
def test_the_median_matches_the_reference(n: int) -> None:
    previous, updates = _inputs(n, n, 40)
    got = CoordinateMedian(sample_cap=5, server_lr_bps=7_000).aggregate(previous, updates, list(range(1, n + 1)))
    assert got.tolist() == reference.median(previous.tolist(), [u.tolist() for u in updates], 7_000)


@pytest.mark.parametrize(("n", "trim_bps"), [(1, 4_999), (3, 1), (5, 2_000), (10, 1_000), (10, 4_999), (33, 3_333)])
def test_the_trimmed_mean_matches_the_reference(n: int, trim_bps: int) -> None:
    previous, updates = _inputs(100 + n, n, 40)
    rule = TrimmedMean(sample_cap=5, server_lr_bps=12_000, param=trim_bps)
    got = rule.aggregate(previous, updates, [1] * n)
    assert got.tolist() == reference.trimmed_mean(previous.tolist(), [u.tolist() for u in updates], trim_bps, 12_000)


def test_sorting_in_blocks_equals_sorting_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    previous, updates = _inputs(5, 6, 1_000)
    whole = CoordinateMedian(sample_cap=1).aggregate(previous, updates, [1] * 6)
    monkeypatch.setattr(order, "COLUMN_BLOCK", 7)
    assert CoordinateMedian(sample_cap=1).aggregate(previous, updates, [1] * 6).tolist() == whole.tolist()


def test_a_minority_cannot_move_the_median_and_a_declared_count_buys_nothing() -> None:
    honest = [np.full(8, value, dtype=np.int32) for value in (10, 11, 12)]
    attackers = [np.full(8, INT32_MAX, dtype=np.int32)] * 2
    zeros = np.zeros(8, dtype=np.int32)
    median = CoordinateMedian(sample_cap=10**6).aggregate(zeros, honest + attackers, [1, 1, 1, 10**6, 10**6])
    assert median.tolist() == [12] * 8
    trimmed = TrimmedMean(sample_cap=10**6, param=2_000).aggregate(zeros, honest + attackers, [1, 1, 1, 10**6, 10**6])
    assert trimmed.tolist() == [(11 + 12 + INT32_MAX) // 3] * 8, "one of two attackers is trimmed at 20%"


def test_the_registry_lists_every_rule_by_name_and_id() -> None:
    assert {name: rule.rule_id for name, rule in RULES.items()} == {"fedavg": 0, "median": 1, "trimmed_mean": 2,
                                                                    "norm_bounded": 3}
    assert [rule.secure for rule in RULES_BY_ID.values()] == [True, False, False, False]
    assert isinstance(rule_for(2, sample_cap=1, server_lr_bps=1, param=10), TrimmedMean)
    with pytest.raises(AggregationError, match="no aggregation rule has id 4"):
        rule_for(4, sample_cap=1, server_lr_bps=1, param=0)


@pytest.mark.parametrize(("rule_id", "param"), [(0, 1), (1, 5), (2, 0), (2, 5_000)])
def test_a_parameter_the_rule_does_not_take_is_refused(rule_id: int, param: int) -> None:
    with pytest.raises(AggregationError, match="takes a rule parameter in"):
        rule_for(rule_id, sample_cap=1, server_lr_bps=1, param=param)
