"""Reference points for a federated run: pooled (centralized) training and each client training alone."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fedchain.learn.datasets import TabularDataset, concat_datasets
from fedchain.learn.errors import TrainerError
from fedchain.learn.metrics import EvalMetrics
from fedchain.learn.models import ModelSpec, seeded_model
from fedchain.learn.trainer import TrainConfig, derive_seed, evaluate_model, train_model

POOLED = "pooled"


@dataclass(frozen=True)
class BaselineReport:
    """Test metrics of the pooled baseline and of each client's local-only model, keyed by client name."""

    pooled: EvalMetrics
    local: Mapping[str, EvalMetrics]

    def summary(self) -> dict[str, dict[str, float | None]]:
        """``{baseline: {"accuracy": ..., "auc": ...}}`` with ``"pooled"`` first, then each client."""
        rows = {POOLED: self.pooled, **self.local}
        return {name: {"accuracy": metrics.accuracy, "auc": metrics.auc} for name, metrics in rows.items()}


def _train_and_test(
    spec: ModelSpec | Mapping[str, Any],
    init_seed: int,
    data: TabularDataset,
    test: TabularDataset,
    config: TrainConfig,
) -> EvalMetrics:
    model = seeded_model(spec, init_seed)
    train_model(model, data, config, derive_seed(config.seed, 0))
    return evaluate_model(model, test)


def run_baselines(
    spec: ModelSpec | Mapping[str, Any],
    clients: Sequence[TabularDataset],
    test: TabularDataset,
    config: TrainConfig,
    rounds: int,
    init_seed: int,
) -> BaselineReport:
    """Train the model of ``spec`` (initialized from ``init_seed``) with the federated run's budget.

    The budget is ``config.local_epochs * rounds`` epochs over the data at hand: once on the pooled
    client data (the centralized upper reference) and once per client on its own data only (what a
    hospital gets without the federation). Every model is evaluated on the shared ``test`` set.
    """
    if rounds < 1:
        raise TrainerError(f"rounds must be >= 1, got {rounds}")
    budget = replace(config, local_epochs=config.local_epochs * rounds)
    pooled = concat_datasets(clients, name=POOLED)
    return BaselineReport(
        pooled=_train_and_test(spec, init_seed, pooled, test, budget),
        local={client.name: _train_and_test(spec, init_seed, client, test, budget) for client in clients},
    )
