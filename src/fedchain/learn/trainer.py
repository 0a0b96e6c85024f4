"""Local training and evaluation of a torch model, and the built-in client, :class:`TorchTrainer`: on a tabular
dataset (the CSV and built-in data) or on any torch ``Dataset`` of ``(input, target)`` pairs, with any loss and
any metrics."""

import functools
import logging
from collections.abc import Callable, Mapping, Sized
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional
from torch.utils.data import Dataset, default_collate

from fedchain.client.api import ROUND_KEY, Config, Metrics, NDArrays, Scalar
from fedchain.learn.datasets import TabularDataset
from fedchain.learn.defaults import (
    CONFIG_BATCH_SIZE,
    CONFIG_LEARNING_RATE,
    CONFIG_LOCAL_EPOCHS,
    CONFIG_MOMENTUM,
    CONFIG_OPTIMIZER,
    DEFAULT_BATCH_SIZE,
    DEFAULT_LEARNING_RATE,
    DEFAULT_LOCAL_EPOCHS,
    DEFAULT_MOMENTUM,
    DEFAULT_OPTIMIZER,
    DEVICES,
    SUPPORTED_OPTIMIZERS,
)
from fedchain.learn.errors import TrainerError
from fedchain.learn.metrics import EvalMetrics, classification_metrics
from fedchain.learn.models import ModelSpec, get_model_parameters, seeded_model, set_model_parameters

OptimizerName = Literal["sgd", "adam"]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Local training hyper-parameters.

    ``seed`` makes training deterministic: batch order is drawn from it (and the round number).
    ``num_threads``, when set, calls ``torch.set_num_threads`` (a process-wide setting) so several
    simulated hospitals in one process do not oversubscribe the cores. ``device`` is ``"cpu"``, ``"cuda"``
    or ``"auto"`` (CUDA when present); ``"cuda"`` on a machine without it trains on the CPU and logs a warning.
    """

    local_epochs: int = DEFAULT_LOCAL_EPOCHS
    batch_size: int = DEFAULT_BATCH_SIZE
    learning_rate: float = DEFAULT_LEARNING_RATE
    optimizer: OptimizerName = DEFAULT_OPTIMIZER
    momentum: float = DEFAULT_MOMENTUM
    seed: int = 0
    num_threads: int | None = None
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.local_epochs < 1:
            raise TrainerError(f"local_epochs must be >= 1, got {self.local_epochs}")
        if self.batch_size < 1:
            raise TrainerError(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.learning_rate > 0:
            raise TrainerError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.optimizer not in SUPPORTED_OPTIMIZERS:
            raise TrainerError(f"unknown optimizer {self.optimizer!r}; use one of {SUPPORTED_OPTIMIZERS}")
        if not 0 <= self.momentum < 1:
            raise TrainerError(f"momentum must lie in [0, 1), got {self.momentum}")
        if self.num_threads is not None and self.num_threads < 1:
            raise TrainerError(f"num_threads must be >= 1, got {self.num_threads}")
        if self.device not in DEVICES:
            raise TrainerError(f"unknown device {self.device!r}; use one of {DEVICES}")

    def with_overrides(self, config: Mapping[str, Scalar]) -> "TrainConfig":
        """This config with ``local_epochs``, ``batch_size``, ``learning_rate``, ``optimizer`` and ``momentum``
        taken from ``config`` where it has them (the task's training settings, as a participant sends them)."""
        updates: dict[str, Any] = {}
        for key in (CONFIG_LOCAL_EPOCHS, CONFIG_BATCH_SIZE):
            if key in config:
                updates[key] = _config_int(config, key)
        for key in (CONFIG_LEARNING_RATE, CONFIG_MOMENTUM):
            if key in config:
                value = config[key]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise TrainerError(f"config {key!r} must be a number, got {value!r}")
                updates[key] = float(value)
        if CONFIG_OPTIMIZER in config:
            updates[CONFIG_OPTIMIZER] = config[CONFIG_OPTIMIZER]
        return replace(self, **updates)


def _config_int(config: Mapping[str, Scalar], key: str) -> int:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TrainerError(f"config {key!r} must be an integer, got {value!r}")
    return value


def derive_seed(seed: int, round_number: int) -> int:
    """A 63-bit seed for one training call, derived from the trainer seed and the round number."""
    state = np.random.SeedSequence([seed, round_number]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


@functools.cache
def resolve_device(name: str) -> torch.device:
    """The torch device for ``name`` (``cpu``, ``cuda``, ``auto``): ``auto`` is CUDA when present; ``cuda`` on a
    machine without it is the CPU, with one warning in the log."""
    if name not in DEVICES:
        raise TrainerError(f"unknown device {name!r}; use one of {DEVICES}")
    available = torch.cuda.is_available()
    if name == "cuda" and not available:
        logger.warning("device 'cuda' asked for, but torch finds no CUDA device here: training on the CPU")
    return torch.device("cuda" if name != "cpu" and available else "cpu")


TrainingData = TabularDataset | Dataset[Any]
"""What the built-in trainer trains on: a tabular dataset, or a torch ``Dataset`` whose items are
``(input, target)`` pairs, or rows (mappings) from which ``item_keys`` pick the input and the target (a Flower
Datasets / Hugging Face partition in torch format: ``item_keys=("image", "label")``)."""
LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``loss(outputs, targets)``: the mean loss of a batch, differentiable."""
MetricFunction = Callable[[torch.Tensor, torch.Tensor], float]
"""``metric(outputs, targets)``: one number over the whole evaluation data."""


def _tensors(dataset: TabularDataset, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    features = torch.as_tensor(dataset.features, dtype=torch.float32, device=device)
    labels = torch.as_tensor(dataset.labels, dtype=torch.int64, device=device)
    return features, labels


def _size(data: TrainingData) -> int:
    if not isinstance(data, Sized):
        raise TrainerError(f"a {type(data).__name__} has no length: give a map-style torch Dataset")
    return len(data)


class _Batches:
    """The ``(inputs, targets)`` of chosen examples: sliced from tensors for tabular data, collated from the items
    of a torch Dataset otherwise."""

    def __init__(self, data: TrainingData, device: torch.device, item_keys: tuple[str, str] | None = None) -> None:
        self.device = device
        self.item_keys = item_keys
        self.tensors = _tensors(data, device) if isinstance(data, TabularDataset) else None
        self.items: Dataset[Any] | None = None if isinstance(data, TabularDataset) else data

    def __call__(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.tensors is not None:
            features, labels = self.tensors
            return features[indices], labels[indices]
        assert self.items is not None
        try:
            batch = default_collate([self.items[int(index)] for index in indices])
            if self.item_keys is not None:
                inputs, targets = batch[self.item_keys[0]], batch[self.item_keys[1]]
            else:
                inputs, targets = batch
        except (TypeError, ValueError, KeyError, IndexError) as error:
            keys = "rows with the item_keys columns" if self.item_keys else "(input, target) pairs"
            raise TrainerError(f"the items of a {type(self.items).__name__} must be {keys} of tensors or arrays "
                               f"(got {type(error).__name__}: {error})") from None
        return torch.as_tensor(inputs).to(self.device), torch.as_tensor(targets).to(self.device)


def _make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    return torch.optim.SGD(model.parameters(), lr=config.learning_rate, momentum=config.momentum)


def train_model(model: nn.Module, dataset: TrainingData, config: TrainConfig, seed: int,
                loss_function: LossFunction = functional.cross_entropy,
                item_keys: tuple[str, str] | None = None) -> float:
    """Train ``model`` in place with ``loss_function`` (cross-entropy) for ``config.local_epochs`` epochs of
    minibatches.

    A fresh optimizer is created per call (optimizer state is not carried across rounds). The batch order
    and any randomness inside the model come from ``seed``; the caller's torch RNG state is untouched.
    The model trains on ``config.device`` (:func:`resolve_device`) and stays there.
    Returns the mean training loss of the last epoch.
    """
    size = _size(dataset)
    if size == 0:
        raise TrainerError("the training data is empty; nothing to train on")
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    device = resolve_device(config.device)
    model.to(device)
    batches = _Batches(dataset, device, item_keys)
    optimizer = _make_optimizer(model, config)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    epoch_loss = 0.0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(config.local_epochs):
            order = torch.randperm(size, generator=generator)
            total = 0.0
            for batch in torch.split(order.to(device), config.batch_size):
                inputs, targets = batches(batch)
                optimizer.zero_grad()
                loss = loss_function(model(inputs), targets)
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
                total += float(loss.detach()) * batch.numel()
            epoch_loss = total / size
    return epoch_loss


def evaluate_model(model: nn.Module, dataset: TabularDataset) -> EvalMetrics:
    """Mean cross-entropy loss, accuracy and ROC AUC of ``model`` on ``dataset``, on the model's device."""
    if len(dataset) == 0:
        raise TrainerError(f"dataset {dataset.name!r} is empty; nothing to evaluate on")
    device = next((parameter.device for parameter in model.parameters()), torch.device("cpu"))
    features, labels = _tensors(dataset, device)
    model.eval()
    with torch.no_grad():
        logits = model(features)
        loss = float(functional.cross_entropy(logits, labels))
        probabilities = torch.softmax(logits.double(), dim=1).cpu().numpy()
    return classification_metrics(dataset.labels, probabilities, loss)


def evaluate_outputs(model: nn.Module, dataset: TrainingData, loss_function: LossFunction,
                     metrics: Mapping[str, MetricFunction], batch_size: int,
                     item_keys: tuple[str, str] | None = None) -> tuple[float, int, dict[str, float]]:
    """The loss and ``metrics`` of ``model`` over all of ``dataset`` (in batches, on the model's device)."""
    size = _size(dataset)
    if size == 0:
        raise TrainerError("the evaluation data is empty; nothing to evaluate on")
    device = next((parameter.device for parameter in model.parameters()), torch.device("cpu"))
    batches = _Batches(dataset, device, item_keys)
    model.eval()
    with torch.no_grad():
        pairs = [batches(batch) for batch in torch.split(torch.arange(size), batch_size)]
        outputs = torch.cat([model(inputs) for inputs, _ in pairs])
        targets = torch.cat([batch_targets for _, batch_targets in pairs])
        loss = float(loss_function(outputs, targets))
        return loss, size, {name: float(metric(outputs, targets)) for name, metric in metrics.items()}


class TorchTrainer:
    """The built-in :class:`fedchain.client.Client`: a torch model trained on local data.

    ``train_data`` is a tabular dataset or any torch ``Dataset`` of ``(input, target)`` pairs (or of rows, whose
    input and target columns ``item_keys`` names, as a Flower Datasets partition has them). ``fit`` loads the
    given parameters, trains with ``loss`` (default: cross-entropy) and returns the new parameters, the number of
    training examples and ``{"train_loss": ...}``. The fit seed is derived from ``config.seed`` and the
    ``"server-round"`` config value (or, without one, the number of earlier fit calls), so a run is reproducible
    bit for bit. ``evaluate`` uses ``eval_data`` (default: ``train_data``) and reports ``metrics`` (name to
    ``metric(outputs, targets)``); without them, a classifier on tabular data reports ``accuracy`` and, where
    defined, ``auc``. The config dict may override the training settings per call (the task's, as a participant
    sends them).
    """

    def __init__(
        self,
        model: nn.Module,
        train_data: TrainingData,
        eval_data: TrainingData | None = None,
        config: TrainConfig | None = None,
        *,
        loss: LossFunction | None = None,
        metrics: Mapping[str, MetricFunction] | None = None,
        item_keys: tuple[str, str] | None = None,
    ) -> None:
        if _size(train_data) == 0:
            raise TrainerError("the training data is empty")
        self.model = model
        self.train_data = train_data
        self.eval_data = train_data if eval_data is None else eval_data
        self.config = TrainConfig() if config is None else config
        self.loss = loss
        self.metrics = metrics
        self.item_keys = item_keys
        self._fit_calls = 0

    @classmethod
    def from_spec(
        cls,
        spec: ModelSpec | Mapping[str, Any],
        init_seed: int,
        train_data: TabularDataset,
        eval_data: TabularDataset | None = None,
        config: TrainConfig | None = None,
    ) -> "TorchTrainer":
        """A trainer over the model of ``spec`` initialized deterministically from ``init_seed``."""
        return cls(seeded_model(spec, init_seed), train_data, eval_data, config)

    def get_parameters(self, config: Config) -> NDArrays:
        """The current model parameters in state-dict order."""
        return get_model_parameters(self.model)

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        """Train from ``parameters`` on the local training data."""
        train_config = self.config.with_overrides(config)
        round_number = _config_int(config, ROUND_KEY) if ROUND_KEY in config else self._fit_calls
        self._fit_calls += 1
        set_model_parameters(self.model, parameters)
        seed = derive_seed(train_config.seed, round_number)
        loss = train_model(self.model, self.train_data, train_config, seed, self.loss or functional.cross_entropy,
                           self.item_keys)
        return get_model_parameters(self.model), _size(self.train_data), {"train_loss": loss}

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        """Loss, example count and metrics of ``parameters`` on the local evaluation data."""
        set_model_parameters(self.model, parameters)
        if isinstance(self.eval_data, TabularDataset) and self.loss is None and self.metrics is None:
            metrics = evaluate_model(self.model, self.eval_data)
            return metrics.loss, metrics.num_examples, dict(metrics.as_dict())
        loss, count, values = evaluate_outputs(self.model, self.eval_data, self.loss or functional.cross_entropy,
                                               self.metrics or {}, self.config.batch_size, self.item_keys)
        return loss, count, dict(values)
