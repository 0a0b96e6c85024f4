"""A simulated federation learns scikit-learn's digits with the built-in CNN: `dataset = "digits"`, `model.name =
"cnn"`, nothing else."""

from __future__ import annotations

from typing import get_args

from fedchain.learn.datasets import BUILTIN_DATASETS
from fedchain.sim import parse_config
from fedchain.sim.config import Dataset
from fedchain.sim.run import run_simulation


def test_a_simulation_names_every_built_in_dataset() -> None:
    assert set(get_args(Dataset)) == {*BUILTIN_DATASETS, "csv"}


def test_three_hospitals_learn_digits_with_the_cnn() -> None:
    config = parse_config({"rounds": 2, "mode": "plain", "model": {"name": "cnn", "num_classes": 10},
                           "simulation": {"dataset": "digits", "hospitals": 3, "partition": "iid"},
                           "adversaries": []})
    result = run_simulation(config)
    assert [record.status for record in result.rounds] == ["finalized", "finalized"]
    accuracy = [record.scores.metrics["accuracy"] for record in result.rounds if record.scores is not None]
    assert accuracy[-1] > 0.6  # ten classes: chance is 0.1
    assert result.final.names[:2] == ("features.0.weight", "features.0.bias")
    assert result.quantization["num_params"] == 1898
    assert result.hospitals[0].label_counts is not None and len(result.hospitals[0].label_counts) == 10
