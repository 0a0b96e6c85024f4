import logging
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from fedchain.client import Client
from fedchain.learn import (
    FederatedSplit,
    ModelSpec,
    TorchTrainer,
    TrainConfig,
    TrainerError,
    initial_parameters,
)
from fedchain.learn.trainer import resolve_device

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


def test_any_torch_dataset_with_any_loss_and_metrics() -> None:
    generator = torch.Generator().manual_seed(3)
    inputs = torch.randn(96, 3, generator=generator)
    targets = inputs @ torch.tensor([1.5, -2.0, 0.5]) + 0.3
    train, test = TensorDataset(inputs[:64], targets[:64]), TensorDataset(inputs[64:], targets[64:])
    model = torch.nn.Linear(3, 1)

    def squared_error(outputs: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(outputs.squeeze(1), truth)

    def absolute_error(outputs: torch.Tensor, truth: torch.Tensor) -> float:
        return float((outputs.squeeze(1) - truth).abs().mean())

    trainer = TorchTrainer(model, train, test, TrainConfig(local_epochs=30, learning_rate=0.1, momentum=0.0),
                           loss=squared_error, metrics={"mae": absolute_error})
    start = trainer.get_parameters({})
    before, count, first = trainer.evaluate(start, {})
    trained, examples, fit_metrics = trainer.fit(start, {"server-round": 0})
    after, _, last = trainer.evaluate(trained, {})
    assert (count, examples, set(first), set(last)) == (32, 64, {"mae"}, {"mae"})
    assert after < before / 10 and last["mae"] < first["mae"] / 3 and fit_metrics["train_loss"] < before
    unpaired = TorchTrainer(torch.nn.Linear(3, 1), [torch.zeros(3)] * 4, loss=squared_error)  # type: ignore[arg-type]
    with pytest.raises(TrainerError, match=r"must be \(input, target\) pairs"):
        unpaired.fit(unpaired.get_parameters({}), {"server-round": 0})


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: nothing to fall back from")
def test_cuda_without_a_gpu_falls_back_to_the_cpu_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    resolve_device.cache_clear()
    with caplog.at_level(logging.WARNING, logger="fedchain.learn.trainer"):
        assert resolve_device("cuda") == torch.device("cpu")
    assert "device 'cuda' asked for, but torch finds no CUDA device here: training on the CPU" in caplog.text
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(TrainerError, match=r"unknown device 'gpu'; use one of \('cpu', 'cuda', 'auto'\)"):
        TrainConfig(device="gpu")
