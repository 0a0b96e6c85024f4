"""How sure a report can be of an accuracy, and of the difference between two models' accuracies on one test set.

Pure functions on counts. An accuracy on n test examples gets a Wilson score interval; the difference between two
models judged on the *same* examples gets Newcombe's square-and-add interval for paired proportions (Newcombe 1998,
Statistics in Medicine 17:2635, method 10), which uses how often the two models were right on the same examples.
A difference whose interval contains 0 is within noise: that test set cannot tell the two models apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CONFIDENCE = 0.95
"""The level of every interval a report shows."""
Z_95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval ``[low, high]``."""

    estimate: float
    low: float
    high: float

    @property
    def within_noise(self) -> bool:
        """Whether the interval contains 0: as a difference, not told apart from no difference."""
        return self.low <= 0.0 <= self.high


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> Interval:
    """The proportion ``successes / trials`` with its Wilson score interval (never outside [0, 1])."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes} of {trials}")
    proportion = successes / trials
    squared = z * z
    centre = (proportion + squared / (2 * trials)) / (1 + squared / trials)
    half = z / (1 + squared / trials) * math.sqrt(proportion * (1 - proportion) / trials
                                                  + squared / (4 * trials * trials))
    return Interval(proportion, max(0.0, centre - half), min(1.0, centre + half))


def paired_difference(both: int, only_first: int, only_second: int, neither: int, z: float = Z_95) -> Interval:
    """The first model's accuracy minus the second's on the same examples, from how many examples both got right,
    only the first, only the second and neither; with Newcombe's square-and-add interval for paired proportions:
    each accuracy's Wilson interval, combined with the correlation of the two models' outcomes
    (continuity-corrected as Newcombe's method 10 has it)."""
    counts = (both, only_first, only_second, neither)
    n = sum(counts)
    if min(counts) < 0 or n == 0:
        raise ValueError(f"paired outcomes must be counts of at least one example, got {counts}")
    first_correct, second_correct = both + only_first, both + only_second
    first, second = first_correct / n, second_correct / n
    first_interval, second_interval = wilson_interval(first_correct, n, z), wilson_interval(second_correct, n, z)
    phi = _correlation(counts)
    below_first, above_first = first - first_interval.low, first_interval.high - first
    below_second, above_second = second - second_interval.low, second_interval.high - second
    difference = first - second
    low = difference - math.sqrt(max(0.0, below_first ** 2 + above_second ** 2
                                     - 2 * phi * below_first * above_second))
    high = difference + math.sqrt(max(0.0, above_first ** 2 + below_second ** 2
                                      - 2 * phi * above_first * below_second))
    return Interval(difference, max(-1.0, low), min(1.0, high))


def _correlation(counts: tuple[int, int, int, int]) -> float:
    """The phi coefficient of the two models' outcomes, shrunk towards 0 by half the examples (Newcombe's
    correction); 0 where a margin is empty."""
    both, only_first, only_second, neither = counts
    n = sum(counts)
    margins = (both + only_first, only_second + neither, both + only_second, only_first + neither)
    if 0 in margins:
        return 0.0
    cross = both * neither - only_first * only_second
    if 0 <= cross <= n / 2:
        return 0.0
    corrected = cross - n / 2 if cross > 0 else cross
    return corrected / math.sqrt(math.prod(margins))
