"""The numbers a report states, read from report.json's data: a metric's value as people read it, an accuracy's
confidence interval, and how the federation's final model compares with each baseline, with the interval of the
difference, so that a difference the test set cannot resolve is called within noise rather than a gain or a loss."""

from __future__ import annotations

from typing import Any

from fedchain.report.stats import CONFIDENCE, Interval, paired_difference, wilson_interval

ACCURACY_LIKE = ("accuracy", "acc")
"""Metrics (by name, or a name ending in ``_accuracy``) shown as a percentage when they are a fraction in [0, 1]."""
LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "mape")
"""Name fragments of metrics where less is better; every other metric is better higher."""
POOLED = "pooled"
"""The pooled baseline's key in report.json's ``baselines`` and ``baselines.paired``."""
LEVEL = f"{100 * CONFIDENCE:.0f}% CI"


def score(entry: dict[str, Any] | None, name: str) -> float | None:
    """Metric ``name`` (or the loss for ``"loss"``) of a report.json evaluation: a round row, ``final``, or a
    baseline's ``{loss, metrics, examples}``; None where the entry is null or has no such metric."""
    if entry is None:
        return None
    value = entry.get("loss") if name == "loss" else (entry.get("metrics") or {}).get(name)
    return None if value is None else float(value)


def accuracy_like(name: str) -> bool:
    """Whether ``name`` is an accuracy, shown as a percentage when a fraction."""
    lowered = name.lower()
    return lowered in ACCURACY_LIKE or lowered.endswith("_accuracy")


def higher_is_better(name: str) -> bool:
    """Whether a larger value of metric ``name`` is better (not a loss or an error)."""
    lowered = name.lower()
    return not any(fragment in lowered for fragment in LOWER_IS_BETTER)


def is_fraction(name: str, value: float) -> bool:
    """Whether ``value`` of metric ``name`` is an accuracy-like fraction (shown in percent, points for differences)."""
    return accuracy_like(name) and 0.0 <= value <= 1.0


def format_metric(name: str, value: float | None) -> str:
    """``value`` of metric ``name`` for people: a percentage for an accuracy-like fraction, else a number;
    ``n/a`` for a missing one."""
    if value is None:
        return "n/a"
    if is_fraction(name, value):
        return f"{100 * value:.1f}%"
    return number(value)


def number(value: float | None) -> str:
    """A metric that is no percentage: 4 decimals, or 4 significant digits when very small or large."""
    if value is None:
        return "n/a"
    if value != 0 and not 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.4f}"


def accuracy_interval(entry: dict[str, Any] | None, name: str) -> Interval | None:
    """The Wilson interval of accuracy-like metric ``name`` of an evaluation whose example count is known; None for
    any other metric or evaluation."""
    value = score(entry, name)
    examples = None if entry is None else entry.get("examples")
    if value is None or not examples or not is_fraction(name, value):
        return None
    return wilson_interval(round(value * examples), int(examples))


def format_interval(interval: Interval) -> str:
    """An accuracy's interval in percent: ``93.8 to 99.5%``."""
    return f"{100 * interval.low:.1f} to {100 * interval.high:.1f}%"


def versus(data: dict[str, Any], baseline: str) -> Interval | None:
    """The final model's accuracy minus that of ``baseline`` (``"pooled"`` or a hospital's name) on the same test
    examples, with its paired interval; None unless the report leads with accuracy and has their paired outcomes."""
    baselines = data["baselines"]
    if baselines is None or not accuracy_like(data["headline"]):
        return None
    outcomes = (baselines.get("paired") or {}).get(baseline)
    if outcomes is None:
        return None
    return paired_difference(outcomes["both"], outcomes["only_federation"], outcomes["only_baseline"],
                             outcomes["neither"])


def best_alone(data: dict[str, Any]) -> str | None:
    """The hospital whose model alone scores best on the headline metric (the first of equals); None without
    baselines."""
    baselines, headline = data["baselines"], data["headline"]
    if baselines is None or not baselines["local"]:
        return None
    sign = 1.0 if higher_is_better(headline) else -1.0
    local: dict[str, Any] = baselines["local"]
    return max(local, key=lambda name: sign * (score(local[name], headline) or 0.0))


def format_difference(difference: Interval) -> str:
    """A difference of accuracies with its interval in points, and ``within noise`` where the interval holds 0:
    ``+35.4 points (95% CI +26.0 to +44.4)``."""
    shown = (f"{100 * difference.estimate:+.1f} points ({LEVEL} {100 * difference.low:+.1f} to "
             f"{100 * difference.high:+.1f})")
    return f"{shown}, within noise" if difference.within_noise else shown


def verdict(pooled: Interval | None, alone: list[Interval]) -> str:
    """How the federation did, as the summary's CSS class: ``bad`` when it is below pooled training or some hospital
    alone beyond noise; ``good`` when, besides, it is above every hospital alone beyond noise; else ``""``."""
    if any(difference.high < 0 for difference in [*([] if pooled is None else [pooled]), *alone]):
        return "bad"
    return "good" if alone and all(difference.low > 0 for difference in alone) else ""
