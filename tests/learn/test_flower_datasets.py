"""The built-in trainer on real Flower Datasets partitions (flwr-datasets, the `flower` extra that `make test`
installs): a Hugging Face ``datasets.Dataset`` built in memory from scikit-learn's breast cancer data (nothing is
downloaded), split by flwr_datasets' own partitioners, read through ``item_keys`` and federated with the public
API."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from datasets import Dataset
from flwr_datasets.partitioner import DirichletPartitioner, IidPartitioner
from sklearn.datasets import load_breast_cancer

import fedchain
from fedchain.learn import TorchTrainer, TrainConfig, TrainerError

KEYS = ("features", "label")
HOSPITALS = 2


def _rows() -> tuple[Dataset, Dataset]:
    """Breast cancer as rows ``{"features": 30 floats, "label": 0 or 1}``: every fifth patient held out, the
    features standardized with the training rows' statistics."""
    features, labels = load_breast_cancer(return_X_y=True)
    held_out = np.arange(len(labels)) % 5 == 0
    mean, scale = features[~held_out].mean(axis=0), features[~held_out].std(axis=0)

    def rows(chosen: np.ndarray) -> Dataset:
        standardized = ((features[chosen] - mean) / scale).astype(np.float32)
        return Dataset.from_dict({"features": standardized, "label": labels[chosen]})

    return rows(~held_out), rows(held_out)


def _accuracy(outputs: torch.Tensor, truth: torch.Tensor) -> float:
    return float((outputs.argmax(1) == truth).float().mean())


def _trainer(rows: Any) -> TorchTrainer:
    torch.manual_seed(0)
    return TorchTrainer(torch.nn.Linear(30, 2), rows, metrics={"accuracy": _accuracy}, item_keys=KEYS,
                        config=TrainConfig(local_epochs=1, batch_size=16, learning_rate=0.05, seed=3))


@pytest.fixture(scope="module")
def rows() -> tuple[Dataset, Dataset]:
    return _rows()


def test_a_partition_of_flwr_datasets_is_read_by_its_columns(rows: tuple[Dataset, Dataset]) -> None:
    train, _ = rows
    partitioner = IidPartitioner(num_partitions=HOSPITALS)
    partitioner.dataset = train
    partition = partitioner.load_partition(0).with_format("torch")  # what a Flower quickstart trains on
    assert isinstance(partition, Dataset) and len(partition) == -(-len(train) // HOSPITALS)  # 228 of 455
    trainer = _trainer(partition)
    trained, examples, _ = trainer.fit(trainer.get_parameters({}), {"server-round": 0})
    _, count, metrics = trainer.evaluate(trained, {})
    assert (examples, count) == (len(partition), len(partition)) and metrics["accuracy"] > 0.9
    wrong = TorchTrainer(torch.nn.Linear(30, 2), partition, item_keys=("image", "label"))
    with pytest.raises(TrainerError, match=r"must be rows with the item_keys columns .*KeyError: 'image'"):
        wrong.fit(trained, {"server-round": 1})


def test_hospitals_holding_dirichlet_partitions_learn_together_through_the_public_api(
        rows: tuple[Dataset, Dataset]) -> None:
    train, held_out = rows
    partitioner = DirichletPartitioner(num_partitions=HOSPITALS, partition_by="label", alpha=1.0, seed=5)
    partitioner.dataset = train
    partitions = [partitioner.load_partition(hospital).with_format("torch") for hospital in range(HOSPITALS)]
    assert sum(len(partition) for partition in partitions) == len(train)
    task = fedchain.TaskSpec(rounds=2, mode="plain")
    result = fedchain.simulate(lambda hospital: _trainer(partitions[hospital]), hospitals=HOSPITALS, task=task,
                               evaluator=_trainer(held_out.with_format("torch")))
    assert [record.status for record in result.rounds] == ["finalized"] * 2
    assert all(len(record.participants) == HOSPITALS for record in result.rounds)
    scores = [record.scores for record in result.rounds]
    assert all(score is not None and score.examples == len(held_out) for score in scores)
    accuracy = [score.metrics["accuracy"] for score in scores if score is not None]
    majority = max(np.mean(held_out["label"]), 1 - np.mean(held_out["label"]))  # chance: always the larger class
    assert accuracy[-1] > 0.9 > majority
