"""The report's intervals against published values: Wilson's for an accuracy, Newcombe's for the difference of two
models' accuracies on the same examples."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from fedchain.report.stats import Interval, paired_difference, wilson_interval


@pytest.mark.parametrize(("successes", "trials", "low", "high"), [
    # Newcombe (1998), Two-sided confidence intervals for the single proportion, Statistics in Medicine 17:857,
    # table II, method 3 (Wilson's score interval without continuity correction)
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718),
])
def test_wilson_intervals_are_the_published_ones(successes: int, trials: int, low: float, high: float) -> None:
    interval = wilson_interval(successes, trials)
    assert interval.estimate == successes / trials
    assert (interval.low, interval.high) == pytest.approx((low, high), abs=5e-5)
    reference = binomtest(successes, trials).proportion_ci(method="wilson")
    assert (interval.low, interval.high) == pytest.approx((reference.low, reference.high), abs=1e-12)


def test_a_perfect_score_still_has_an_interval_below_it() -> None:
    interval = wilson_interval(114, 114)
    assert interval.high == 1.0 and 0.96 < interval.low < 0.97


def test_the_paired_difference_is_the_published_one() -> None:
    # Fagerland, Lydersen & Laake (2017), Statistical Analysis of Contingency Tables, chapter 8: complete response
    # before and after consolidation therapy (Cavo et al. 2012), Newcombe's square-and-add interval
    difference = paired_difference(both=59, only_first=6, only_second=16, neither=80)
    assert difference.estimate == pytest.approx(-10 / 161)
    assert (difference.low, difference.high) == pytest.approx((-0.1186, -0.0046), abs=5e-5)
    assert not difference.within_noise
    mirrored = paired_difference(both=59, only_first=16, only_second=6, neither=80)
    assert (mirrored.low, mirrored.high) == pytest.approx((-difference.high, -difference.low))


def test_models_that_disagree_rarely_are_within_noise() -> None:
    same = paired_difference(both=100, only_first=0, only_second=0, neither=14)
    assert same.estimate == 0.0 and same.within_noise
    one_better = paired_difference(both=110, only_first=2, only_second=1, neither=1)  # 98.2% against 97.4%
    assert one_better.estimate == pytest.approx(1 / 114) and one_better.within_noise
    clearly = paired_difference(both=70, only_first=40, only_second=1, neither=3)  # 96.5% against 62.3%
    assert clearly.low > 0.2 and not clearly.within_noise


def test_within_noise_means_the_interval_holds_zero() -> None:
    assert Interval(0.01, -0.02, 0.04).within_noise and Interval(0.0, 0.0, 0.1).within_noise
    assert not Interval(0.3, 0.2, 0.4).within_noise and not Interval(-0.3, -0.4, -0.2).within_noise


@pytest.mark.parametrize(("successes", "trials"), [(1, 0), (-1, 5), (6, 5)])
def test_impossible_counts_are_refused(successes: int, trials: int) -> None:
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(successes, trials)


def test_paired_outcomes_must_be_counts() -> None:
    with pytest.raises(ValueError, match="counts"):
        paired_difference(both=1, only_first=-1, only_second=0, neither=0)
    with pytest.raises(ValueError, match="counts"):
        paired_difference(both=0, only_first=0, only_second=0, neither=0)
