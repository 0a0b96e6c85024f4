"""The metrics text of a ModelEvaluated event: canonical JSON out, only well-formed metrics back."""

from __future__ import annotations

import pytest

from fedchain.chain import InvalidMetricsError
from fedchain.chain.metrics import MAX_METRICS_BYTES, decode_metrics, encode_metrics


def test_metrics_are_written_canonically_and_read_back() -> None:
    text = encode_metrics({"loss": 0.5, "accuracy": 1})
    assert text == '{"accuracy":1.0,"loss":0.5}'
    assert decode_metrics(text) == {"accuracy": 1.0, "loss": 0.5}


@pytest.mark.parametrize(("metrics", "problem"), [
    ({}, "no metrics"),
    ({"loss": float("nan")}, "'loss' must be a finite number"),
    ({"auc": True}, "'auc' must be a finite number"),
    ({f"metric_{index:04d}": 0.125 for index in range(100)}, f"more than the {MAX_METRICS_BYTES}"),
])
def test_metrics_an_event_cannot_carry_are_refused_by_name(metrics: dict[str, float], problem: str) -> None:
    with pytest.raises(InvalidMetricsError, match=problem):
        encode_metrics(metrics)


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", "{}", '{"loss": "low"}', '{"loss": NaN}',
                                  '{"ok": false}'])
def test_text_that_is_not_an_object_of_finite_numbers_reads_as_none(text: str) -> None:
    assert decode_metrics(text) is None
