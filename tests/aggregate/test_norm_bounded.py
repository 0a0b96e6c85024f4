"""Rule 3, norm-bounded averaging (docs/protocol.md §4.4): the exact arithmetic against an isqrt-free reference,
the shared vectors forge checks too, and what the bound does to a model-replacement update."""

import json
from pathlib import Path

import numpy as np
import pytest

from fedchain.aggregate.errors import AggregationError
from fedchain.aggregate.fedavg import FedAvg
from fedchain.aggregate.norm_bounded import SCALE_ONE, NormBounded
from fedchain.aggregate.registry import RULES, rule_for
from fedchain.commit.encoding import to_hex

VECTORS = Path(__file__).parents[1] / "vectors" / "protocol.json"


def _reference_scale(norm_sq: int, k: int) -> int:
    """The largest s <= 2^16 with s^2 * 10^8 * N <= 2^32 * K (2^16 when N fits the bound)."""
    if norm_sq * 10**8 <= k:
        return SCALE_ONE
    low, high = 0, SCALE_ONE
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if mid * mid * 10**8 * norm_sq <= k << 32 else (low, mid - 1)
    return low


def _rule(**kwargs: int) -> NormBounded:
    values = {"sample_cap": 1000, "server_lr_bps": 10_000, "param": 500, "clip": 1000, "num_params": 12} | kwargs
    return NormBounded(**values)


def test_the_scale_matches_its_definition() -> None:
    rng = np.random.default_rng(3)
    for _ in range(2000):
        rule = _rule(clip=int(rng.integers(1, 2**31)), num_params=int(rng.integers(1, 2**40)),
                     param=int(rng.integers(1, 10_001)))
        norm_sq = int(rng.integers(0, 2**62)) << int(rng.integers(0, 70))
        assert rule.scale(norm_sq) == _reference_scale(norm_sq, rule.bound_sq_scaled)


def test_the_hard_limit_is_four_times_the_bound() -> None:
    rule = _rule()  # B^2 = 1000^2 * 12 * 500^2 / 10^8 = 30000
    assert rule.bound_sq_scaled == 30_000 * 10**8
    assert rule.scale(30_000) == SCALE_ONE and rule.scale(30_001) < SCALE_ONE
    assert not rule.over_limit(16 * 30_000) and rule.over_limit(16 * 30_000 + 1)
    assert rule.scale(4 * 30_000) == SCALE_ONE // 2, "twice the bound: half the weight"


def test_a_big_update_is_scaled_to_the_bound() -> None:
    rule = _rule()
    previous = np.zeros(12, dtype=np.int32)
    honest = [np.full(12, 10, dtype=np.int64), np.full(12, 12, dtype=np.int64)]
    attack = np.full(12, 900, dtype=np.int64)  # norm ~ 3118, 18 times B ~ 173
    counts = [100, 100, 1000]
    bounded = rule.aggregate(previous, [*honest, attack], counts)
    averaged = FedAvg(sample_cap=1000).aggregate(previous, [*honest, attack], counts)
    assert int(averaged[0]) > 700, "plain FedAvg lets the attacker replace the model"
    e = rule.effective_weight(1000, int((attack**2).sum()))
    assert e == 1000 * rule.scale(int((attack**2).sum())) >> 16 and e < 60
    assert int(bounded[0]) == (100 * 10 + 100 * 12 + e * 900) // 1200 < 60


def test_undeclared_updates_count_nothing_but_keep_their_weight() -> None:
    rule = _rule()
    updates = [np.full(12, 20, dtype=np.int64), np.full(12, 40, dtype=np.int64)]
    model = rule.aggregate_declared(np.zeros(12, dtype=np.int32), updates, [100, 100], [12 * 400, None])
    assert model.tolist() == [10] * 12
    with pytest.raises(AggregationError, match="2 updates but 1 declared norms"):
        rule.aggregate_declared(np.zeros(12, dtype=np.int32), updates, [100, 100], [1])


def test_the_rule_needs_the_tasks_clip_and_size() -> None:
    assert RULES["norm_bounded"] is NormBounded and not NormBounded.secure
    with pytest.raises(AggregationError, match="needs the task's clip and numParams"):
        rule_for(3, sample_cap=10, server_lr_bps=10_000, param=100)
    assert rule_for(3, sample_cap=10, server_lr_bps=10_000, param=100, clip=5, num_params=8) == _rule(
        sample_cap=10, param=100, clip=5, num_params=8)
    with pytest.raises(AggregationError, match=r"takes a rule parameter in \[1, 10000\]"):
        _rule(param=0)
    with pytest.raises(AggregationError, match="needs the task's clip"):
        _rule(clip=0)


def test_the_shared_vectors() -> None:
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))["normBounded"]
    assert vectors
    for case in vectors:
        rule = NormBounded(sample_cap=case["sampleCap"], server_lr_bps=case["serverLrBps"], param=case["ruleParam"],
                           clip=case["clip"], num_params=case["numParams"])
        norm_sqs = [int(n, 16) if declared else None for n, declared in zip(case["normSqs"], case["declared"],
                                                                             strict=True)]
        weights = [rule.weight(count) for count in case["sampleCounts"]]
        assert [rule.effective_weight(w, n) for w, n in zip(weights, norm_sqs, strict=True)] == case["effectiveWeights"]
        previous = [bytes.fromhex(word[2:]) for word in case["previous"]]
        updates = [[bytes.fromhex(word[2:]) for word in update] for update in case["updates"]]
        expected = rule.aggregate_leaf_declared(previous, updates, case["sampleCounts"], norm_sqs)
        assert [to_hex(word) for word in expected] == case["expected"]
