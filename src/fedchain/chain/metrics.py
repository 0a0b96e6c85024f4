"""The text a ModelEvaluated event carries (docs/protocol.md section 8.10): a JSON object of metric names to
finite numbers, written canonically (keys sorted, no spaces) so the same metrics always give the same bytes."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from fedchain.chain.errors import InvalidMetricsError

MAX_METRICS_BYTES = 1024
"""The contract's MAX_METRICS_BYTES: the longest metrics text publishEvaluation takes."""


def encode_metrics(metrics: Mapping[str, float]) -> str:
    """``metrics`` as canonical JSON; a non-finite value, an empty mapping or a text over the limit is refused."""
    if not metrics:
        raise InvalidMetricsError("no metrics to publish")
    for name, value in metrics.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise InvalidMetricsError(f"metric {name!r} must be a finite number, got {value!r}")
    text = json.dumps({str(name): float(value) for name, value in metrics.items()}, sort_keys=True,
                      separators=(",", ":"))
    if len(text.encode()) > MAX_METRICS_BYTES:
        raise InvalidMetricsError(f"metrics take {len(text.encode())} bytes as JSON, more than the {MAX_METRICS_BYTES} "
                         "a ModelEvaluated event may carry")
    return text


def format_metrics(metrics: Mapping[str, float]) -> str:
    """Metrics as a person reads them: ``name value`` pairs, four significant digits each."""
    return ", ".join(f"{name} {value:.4g}" for name, value in metrics.items())


def decode_metrics(text: str) -> dict[str, float] | None:
    """The metrics of an event's text, or None when it is not a JSON object of names to finite numbers (anyone may
    publish, so a reader skips what does not parse rather than failing on it)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data:
        return None
    metrics: dict[str, float] = {}
    for name, value in data.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            return None
        metrics[name] = float(value)
    return metrics
