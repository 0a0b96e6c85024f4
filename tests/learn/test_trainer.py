from collections.abc import Iterator

import numpy as np
import pytest
import torch

from fedchain.client import Client
from fedchain.learn import (
    FederatedSplit,
    ModelSpec,
    TorchTrainer,
    TrainConfig,
    TrainerError,
    initial_parameters,
)

FAST = TrainConfig(local_epochs=2, batch_size=16, learning_rate=0.05, seed=1)


def _trainer(split: FederatedSplit, spec: ModelSpec, config: TrainConfig = FAST) -> TorchTrainer:
    return TorchTrainer.from_spec(spec, 0, split.clients[0], split.test, config)


def test_torch_trainer_is_a_trainer(breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec) -> None:
    assert isinstance(_trainer(breast_cancer_split, mlp_spec), Client)


def test_fit_reduces_loss_and_improves_accuracy(breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec) -> None:
    trainer = _trainer(breast_cancer_split, mlp_spec)
    start = initial_parameters(mlp_spec, seed=0)
    loss_before, count, metrics_before = trainer.evaluate(start, {})
    trained, num_examples, fit_metrics = trainer.fit(start, {})
    loss_after, _, metrics_after = trainer.evaluate(trained, {})
    assert count == len(breast_cancer_split.test)
    assert num_examples == len(breast_cancer_split.clients[0])
    assert isinstance(fit_metrics["train_loss"], float)
    assert loss_after < loss_before
    accuracy_after = float(metrics_after["accuracy"])
    assert accuracy_after > float(metrics_before["accuracy"])
    assert accuracy_after > 0.9
    assert float(metrics_after["auc"]) > 0.95


def test_same_seed_gives_bit_identical_parameters(breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec) -> None:
    start = initial_parameters(mlp_spec, seed=0)
    first, _, _ = _trainer(breast_cancer_split, mlp_spec).fit(start, {"server-round": 4})
    second, _, _ = _trainer(breast_cancer_split, mlp_spec).fit(start, {"server-round": 4})
    other_seed, _, _ = _trainer(
        breast_cancer_split, mlp_spec, TrainConfig(local_epochs=2, batch_size=16, learning_rate=0.05, seed=2)
    ).fit(start, {"server-round": 4})
    other_round, _, _ = _trainer(breast_cancer_split, mlp_spec).fit(start, {"server-round": 5})
    for a, b in zip(first, second, strict=True):
        assert a.tobytes() == b.tobytes()
    assert first[0].tobytes() != other_seed[0].tobytes()
    assert first[0].tobytes() != other_round[0].tobytes()


def test_round_defaults_to_the_number_of_earlier_fits(breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec) -> None:
    start = initial_parameters(mlp_spec, seed=0)
    sequential = _trainer(breast_cancer_split, mlp_spec)
    sequential.fit(start, {})
    second_call, _, _ = sequential.fit(start, {})
    explicit, _, _ = _trainer(breast_cancer_split, mlp_spec).fit(start, {"server-round": 1})
    assert all(a.tobytes() == b.tobytes() for a, b in zip(second_call, explicit, strict=True))


@pytest.fixture
def restore_torch_threads() -> Iterator[None]:
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("restore_torch_threads")
def test_config_overrides_and_adam(breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec) -> None:
    adam = TrainConfig(optimizer="adam", learning_rate=0.01, local_epochs=1, num_threads=1)
    trainer = _trainer(breast_cancer_split, mlp_spec, adam)
    start = initial_parameters(mlp_spec, seed=0)
    one_epoch, _, _ = trainer.fit(start, {"server-round": 0})
    three_epochs, _, _ = trainer.fit(start, {"server-round": 0, "local_epochs": 3})
    assert torch.get_num_threads() == 1
    assert not np.array_equal(one_epoch[0], three_epochs[0])
    assert float(trainer.evaluate(three_epochs, {})[2]["accuracy"]) > 0.9
    with pytest.raises(TrainerError, match="'local_epochs' must be an integer"):
        trainer.fit(start, {"local_epochs": 1.5})
    with pytest.raises(TrainerError, match="'learning_rate' must be a number"):
        trainer.fit(start, {"learning_rate": "fast"})


def test_get_parameters_returns_the_current_model(breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec) -> None:
    trainer = _trainer(breast_cancer_split, mlp_spec)
    trained, _, _ = trainer.fit(initial_parameters(mlp_spec, seed=0), {})
    assert all(np.array_equal(a, b) for a, b in zip(trainer.get_parameters({}), trained, strict=True))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"local_epochs": 0}, "local_epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'"),
        ({"momentum": 1.0}, "momentum"),
        ({"num_threads": 0}, "num_threads"),
    ],
)
def test_train_config_validation(options: dict[str, object], message: str) -> None:
    with pytest.raises(TrainerError, match=message):
        TrainConfig(**options)  # type: ignore[arg-type]
