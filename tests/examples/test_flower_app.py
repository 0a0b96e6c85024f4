"""examples/flower_app: an unmodified Flower ClientApp (Message API) drives fedchain participants, in a simulation
through the public API, in both modes, with the config a strategy would send reaching it."""

from __future__ import annotations

import pytest
from examples.flower_app.client_app import app
from examples.flower_app.task import Net

import fedchain

CONFIG = {"lr": 0.1, "local-epochs": 1, "batch-size": 32}


@pytest.mark.parametrize("mode", ["plain", "secure"])
def test_an_unmodified_client_app_trains_a_federation(mode: str) -> None:
    task = fedchain.TaskSpec(rounds=2, mode=mode, config=CONFIG)  # type: ignore[arg-type]
    initial = Net().state_dict()
    result = fedchain.simulate(lambda hospital: app, hospitals=3, task=task, initial=initial)
    assert [record.status for record in result.rounds] == ["finalized", "finalized"]
    assert all(len(record.participants) == 3 for record in result.rounds)
    scores = [record.scores for record in result.rounds]
    assert all(score is not None and set(score.metrics) == {"eval_acc"} for score in scores)
    assert scores[-1] is not None and scores[-1].headline == "eval_acc" and scores[-1].metrics["eval_acc"] > 0.3
    assert [name for name, _ in result.final.shapes()] == list(initial)  # the app's own state-dict names
    assert result.hospitals[0].source == "ClientApp"


def test_a_client_app_without_an_initial_model_is_a_clear_error() -> None:
    with pytest.raises(fedchain.ClientError, match="a Flower ClientApp has no get_parameters"):
        fedchain.simulate(lambda hospital: app, hospitals=3, task=fedchain.TaskSpec(rounds=1, config=CONFIG))
