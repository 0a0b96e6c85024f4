"""The reference scoring rule on a loss whose improvements are known exactly: a squared distance to a target."""

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from fedchain.aggregate.fedavg import FedAvg
from fedchain.aggregate.median import CoordinateMedian
from fedchain.score.constants import NO_SCORE, SCORE_ONE
from fedchain.score.errors import ScoreError
from fedchain.score.rule import (
    COPY_COSINE,
    LOSS_FLOOR,
    REFERENCE_SHARE,
    Contribution,
    at_share,
    find_copies,
    proportional_score,
    score_round,
)

TARGET = np.array([1000, -2000, 500, 0, 3000, -1000, 250, 750], dtype=np.int64)
START = np.zeros(TARGET.size, dtype=np.int32)
RULE = FedAvg(sample_cap=1000)


def distance(model: NDArray[np.int32]) -> float:
    """Mean squared distance to the target, in model units of 1000."""
    return float(np.mean(((model.astype(np.int64) - TARGET) / 1000.0) ** 2))


def toward(fraction: float, *, twist: int = 0) -> Contribution:
    """An update that moves the start ``fraction`` of the way to the target (``twist`` moves one more coordinate,
    so that two such updates are not copies)."""
    vector = np.rint(fraction * TARGET).astype(np.int32)
    vector[3] += twist
    return Contribution(vector, 10)


def test_updates_score_by_their_improvement_against_half_the_median_helpful_one() -> None:
    updates = [toward(0.4, twist=500), toward(0.06, twist=-90), toward(0.5, twist=-600), toward(0.3, twist=-250),
               toward(-0.3, twist=7)]
    scored = score_round(START, updates, rule=RULE, last_change=None, loss=distance)
    base = distance(START)
    deltas = [base - distance(at_share(START, RULE.aggregate(START, [u.vector], [10]), len(updates))) for u in updates]
    assert scored.deltas == tuple(deltas)
    assert scored.reference == pytest.approx(REFERENCE_SHARE * np.median([d for d in deltas if d > 0]))
    assert scored.floor == pytest.approx(LOSS_FLOOR * base / len(updates))  # the floor is the share's too
    assert scored.scores[0] == scored.scores[2] == scored.scores[3] == SCORE_ONE  # at least half the median
    assert scored.scores[1] == round(SCORE_ONE * (deltas[1] + scored.floor) / (scored.reference + scored.floor))
    assert 3000 < scored.scores[1] < 4000  # at its share it gains about a sixth of what the median update gains
    assert scored.scores[4] == 0  # it moves away: the loss grows
    assert not scored.copies


def test_each_update_is_applied_alone_with_the_tasks_server_step() -> None:
    seen: list[NDArray[np.int32]] = []

    def recording(model: NDArray[np.int32]) -> float:
        seen.append(model.copy())
        return distance(model)

    half_step = CoordinateMedian(sample_cap=1000, server_lr_bps=5_000)
    update = toward(0.6)
    score_round(START, [update], rule=half_step, last_change=None, loss=recording)
    assert np.array_equal(seen[0], START)
    assert np.array_equal(seen[1], half_step.aggregate(START, [update.vector], [10]))
    assert np.array_equal(seen[1], update.vector // 2)


def test_each_update_moves_the_model_by_its_share_of_the_round() -> None:
    seen: list[NDArray[np.int32]] = []

    def recording(model: NDArray[np.int32]) -> float:
        seen.append(model.copy())
        return distance(model)

    updates = [toward(0.6), toward(-0.3, twist=7), None]  # an unread update still counts in the share
    score_round(START, updates, rule=RULE, last_change=None, loss=recording)
    for update, model in zip(updates[:2], seen[1:], strict=True):
        assert update is not None
        step = update.vector.astype(np.int64)
        assert np.array_equal(model, np.sign(step) * (np.abs(step) // 3))  # truncated toward zero


def test_a_share_truncates_toward_zero_and_needs_an_update() -> None:
    previous = np.array([10, -10, 2**31 - 1, -(2**31)], dtype=np.int32)
    whole = np.array([17, -17, -(2**31), 2**31 - 1], dtype=np.int32)
    assert at_share(previous, whole, 2).tolist() == [13, -13, 0, -1]
    assert np.array_equal(at_share(previous, whole, 1), whole)
    with pytest.raises(ScoreError, match="at least one update"):
        at_share(previous, whole, 0)


def test_zeros_duplicates_and_copies_of_the_last_change_score_zero_unevaluated() -> None:
    helpful = toward(0.5)
    last_change = (np.rint(0.3 * TARGET) + np.arange(TARGET.size)).astype(np.int64)
    copied = Contribution(last_change.astype(np.int32), 40)
    sybil = Contribution(helpful.vector * 2, 1)  # a scaled copy is still a copy
    updates = [helpful, Contribution(np.zeros(TARGET.size, np.int32), 5), copied, toward(0.45, twist=500), sybil]
    evaluated: list[NDArray[np.int32]] = []
    scored = score_round(START, updates, rule=RULE, last_change=last_change,
                         loss=lambda model: evaluated.append(model) or distance(model))
    assert scored.copies == {0, 1, 2, 4}
    assert scored.scores[:3] == (0, 0, 0) and scored.scores[4] == 0
    assert scored.scores[3] == SCORE_ONE  # the one update that is no copy is the median helpful one
    assert scored.deltas[:3] == (None, None, None)
    assert len(evaluated) == 2  # L(g) and the one update that is no copy


def test_an_unread_update_is_an_abstention_and_nobodys_copy() -> None:
    update = toward(0.5)
    scored = score_round(START, [None, update, None], rule=RULE, last_change=None, loss=distance)
    assert scored.scores == (NO_SCORE, SCORE_ONE, NO_SCORE)
    assert scored.copies == frozenset()


def test_near_convergence_every_update_that_does_not_meaningfully_harm_scores_full() -> None:
    target_model = TARGET.astype(np.int32)
    updates = [Contribution(np.eye(1, TARGET.size, k, dtype=np.int32)[0] * sign, 3)
               for k, sign in [(0, 1), (1, -1), (2, 3), (4, -1)]]
    scored = score_round(target_model, updates, rule=RULE, last_change=None, loss=lambda m: 1.0 + distance(m))
    assert scored.reference == 0.0  # nothing improves on the target
    assert scored.floor == pytest.approx(LOSS_FLOOR / len(updates))
    assert all(score >= 0.998 * SCORE_ONE for score in scored.scores)  # each harms by ~1e-6 or less
    far = Contribution(np.full(TARGET.size, 500, np.int32), 3)  # its fifth raises the loss by 0.01, fifty floors
    assert score_round(target_model, [*updates, far], rule=RULE, last_change=None,
                       loss=lambda m: 1.0 + distance(m)).scores[-1] == 0


def test_the_score_is_continuous_across_the_floor() -> None:
    floor = 1e-3
    assert proportional_score(0.0, 0.0, floor) == SCORE_ONE
    assert proportional_score(0.0, floor / 100, floor) == round(SCORE_ONE / 1.01)
    assert proportional_score(-floor / 2, 0.0, floor) == SCORE_ONE // 2
    assert proportional_score(-floor, 0.0, floor) == 0
    assert proportional_score(0.05, 0.1, floor) == round(SCORE_ONE * 0.051 / 0.101)
    assert proportional_score(0.2, 0.1, floor) == SCORE_ONE
    assert proportional_score(0.0, 0.0, 0.0) == SCORE_ONE and proportional_score(-1e-9, 0.0, 0.0) == 0
    assert proportional_score(-math.inf, 0.1, floor) == 0


def test_a_model_without_a_finite_loss_scores_zero_and_a_base_without_one_is_an_error() -> None:
    broken = toward(0.9, twist=800)
    loss = lambda model: math.inf if model[0] == broken.vector[0] // 2 else distance(model)  # noqa: E731
    scored = score_round(START, [toward(0.5), broken], rule=RULE, last_change=None, loss=loss)
    assert scored.scores == (SCORE_ONE, 0) and scored.deltas[1] == -math.inf
    with pytest.raises(ScoreError, match="the loss of the round's global model is nan"):
        score_round(START, [toward(0.5)], rule=RULE, last_change=None, loss=lambda model: math.nan)


def test_shapes_must_match_the_model() -> None:
    with pytest.raises(ScoreError, match=r"update 1 has shape \(3,\), the model 8 coordinates"):
        score_round(START, [toward(0.1), Contribution(np.zeros(3, np.int32), 1)], rule=RULE, last_change=None,
                    loss=distance)
    with pytest.raises(ScoreError, match=r"the last global change has shape \(2,\)"):
        score_round(START, [toward(0.1)], rule=RULE, last_change=np.zeros(2, np.int64), loss=distance)


def test_copies_are_found_at_the_cosine_threshold() -> None:
    base = np.array([1000, 0, 0, 0], dtype=np.int32)
    angle = math.acos(COPY_COSINE)
    near = np.rint([1000 * math.cos(angle * 0.9), 1000 * math.sin(angle * 0.9), 0, 0]).astype(np.int32)
    apart = np.rint([1000 * math.cos(angle * 1.5), 1000 * math.sin(angle * 1.5), 0, 0]).astype(np.int32)
    assert find_copies([base, near], None) == {0, 1}
    assert find_copies([base, apart], None) == set()
    assert find_copies([base, apart], base.astype(np.int64)) == {0}
    assert find_copies([None, np.zeros(4, np.int32)], None) == {1}
