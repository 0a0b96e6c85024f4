"""examples/digits_cnn: a newcomer's own CNN, training loop and image data through the public API, in under 40
lines, run at tiny size; the model learns."""

from __future__ import annotations

from pathlib import Path

from examples.digits_cnn.run import DigitsClient, run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits_cnn" / "run.py"


def test_the_example_is_under_40_lines() -> None:
    assert len(EXAMPLE.read_text().splitlines()) < 40


def test_a_tiny_federation_of_the_example_learns_digits() -> None:
    result = run(rounds=3, hospitals=3)
    assert [record.status for record in result.rounds] == ["finalized"] * 3
    accuracy = [record.scores.metrics["accuracy"] for record in result.rounds if record.scores is not None]
    assert len(accuracy) == 3 and accuracy[-1] > 0.5  # ten classes: chance is 0.1
    assert accuracy[-1] > accuracy[0]
    assert all(len(record.participants) == 3 for record in result.rounds)
    assert [name for name, _ in result.final.shapes()] == [f"param{i}" for i in range(6)]
    assert result.baselines is None and result.hospitals[0].source == DigitsClient.__name__
