"""Input checks shared by the rules, and applying a rule to one leaf's words."""

import numpy as np
import pytest

from fedchain.aggregate.errors import AggregationError
from fedchain.aggregate.fedavg import FedAvg
from fedchain.aggregate.rules import AggregationRule, aggregate_leaf, check_inputs
from fedchain.commit.constants import INT32_MAX, INT32_MIN
from fedchain.commit.leaves import LeafLayout, coordinates_to_words, leaf_words, words_to_coordinates

ZEROS = np.zeros(8, dtype=np.int32)


def test_fedavg_is_an_aggregation_rule() -> None:
    rule: AggregationRule = FedAvg(sample_cap=4)
    assert rule.rule_id == 0


def test_check_inputs_widens_to_int64() -> None:
    checked = check_inputs(ZEROS, [ZEROS + 1], [3])
    assert checked.previous.dtype == np.int64
    assert checked.updates[0].tolist() == [1] * 8
    assert checked.sample_counts == (3,)


@pytest.mark.parametrize(
    ("previous", "updates", "counts", "problem"),
    [
        (ZEROS, [], [], "between 1 and 256"),
        (ZEROS, [ZEROS] * 257, [1] * 257, "between 1 and 256"),
        (ZEROS, [ZEROS], [1, 2], "2 sample counts"),
        (ZEROS, [np.zeros(9, dtype=np.int32)], [1], "update 0 has 9"),
        (ZEROS, [ZEROS], [0], "sample count 0"),
        (ZEROS, [ZEROS], [True], "sample count 0"),
        (ZEROS, [np.full(8, INT32_MIN, dtype=np.int64)], [1], "update 0"),
        (np.full(8, 2**31, dtype=np.int64), [ZEROS], [1], "previous model"),
        (np.full(8, 2**63, dtype=np.uint64), [ZEROS], [1], "previous model"),
        (np.zeros(8), [ZEROS], [1], "integer vector"),
        (np.zeros((2, 4), dtype=np.int32), [ZEROS], [1], "flat"),
    ],
)
def test_check_inputs_names_the_problem(
    previous: np.ndarray, updates: list[np.ndarray], counts: list[int], problem: str
) -> None:
    with pytest.raises(AggregationError, match=problem):
        check_inputs(previous, updates, counts)


def test_aggregating_one_leaf_equals_that_leaf_of_the_whole_aggregate() -> None:
    rng = np.random.default_rng(7)
    layout = LeafLayout(num_params=100, words_per_leaf=2)
    previous = rng.integers(INT32_MIN, INT32_MAX, size=100, endpoint=True).astype(np.int32)
    updates = [rng.integers(-INT32_MAX, INT32_MAX, size=100, endpoint=True).astype(np.int32) for _ in range(5)]
    counts = [3, 900, 40, 1, 77]
    rule = FedAvg(sample_cap=50, server_lr_bps=12_345)
    whole = rule.aggregate(previous, updates, counts)
    for index in range(layout.width):
        leaf = aggregate_leaf(
            rule,
            leaf_words(previous, layout, index),
            [leaf_words(update, layout, index) for update in updates],
            counts,
        )
        assert leaf == leaf_words(whole, layout, index)


def test_aggregate_leaf_rejects_malformed_words() -> None:
    words = coordinates_to_words(ZEROS)
    with pytest.raises(AggregationError, match="malformed"):
        aggregate_leaf(FedAvg(sample_cap=1), words, [(bytes(31),)], [1])
    assert words_to_coordinates(aggregate_leaf(FedAvg(sample_cap=1), words, [words], [1])).tolist() == [0] * 8
