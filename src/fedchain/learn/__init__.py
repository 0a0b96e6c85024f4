"""Learning layer: PyTorch models, datasets, partitioners, local training and the Trainer interface.

This layer knows nothing about chains or storage. Participants hand a :class:`Trainer` to the roles;
the requester uses the model registry for initial parameters and the baselines for reports.

Attributes are loaded on first use (PEP 562): importing ``fedchain.learn.api`` or ``fedchain.learn.params``
(what the roles need) does not load torch, scikit-learn or the rest of this package, so an aggregator or
a watcher process starts in a second rather than several.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fedchain.learn.api import Config, Metrics, NDArrays, Scalar, Trainer
    from fedchain.learn.baselines import BaselineReport, run_baselines
    from fedchain.learn.datasets import (
        TabularDataset,
        load_breast_cancer,
        load_csv,
        load_csv_federation,
        load_diabetes,
        load_lung,
    )
    from fedchain.learn.errors import (
        DatasetError,
        LearnError,
        ModelSpecError,
        ParameterError,
        PartitionError,
        TrainerError,
    )
    from fedchain.learn.flower import FlowerClientTrainer
    from fedchain.learn.metrics import EvalMetrics, classification_metrics
    from fedchain.learn.models import (
        LogisticRegression,
        ModelSpec,
        TabularMLP,
        build_model,
        get_model_parameters,
        initial_parameters,
        model_parameter_names,
        seeded_model,
        set_model_parameters,
    )
    from fedchain.learn.params import Shapes, flatten, unflatten
    from fedchain.learn.partition import (
        dirichlet_partition,
        iid_partition,
        mean_label_entropy,
        natural_partition,
    )
    from fedchain.learn.preprocess import FederatedSplit, Standardizer, federate, train_test_split
    from fedchain.learn.trainer import TorchTrainer, TrainConfig, evaluate_model, train_model

_HOME: dict[str, str] = {
    "BaselineReport": "fedchain.learn.baselines",
    "Config": "fedchain.learn.api",
    "DatasetError": "fedchain.learn.errors",
    "EvalMetrics": "fedchain.learn.metrics",
    "FederatedSplit": "fedchain.learn.preprocess",
    "FlowerClientTrainer": "fedchain.learn.flower",
    "LearnError": "fedchain.learn.errors",
    "LogisticRegression": "fedchain.learn.models",
    "Metrics": "fedchain.learn.api",
    "ModelSpec": "fedchain.learn.models",
    "ModelSpecError": "fedchain.learn.errors",
    "NDArrays": "fedchain.learn.api",
    "ParameterError": "fedchain.learn.errors",
    "PartitionError": "fedchain.learn.errors",
    "Scalar": "fedchain.learn.api",
    "Shapes": "fedchain.learn.params",
    "Standardizer": "fedchain.learn.preprocess",
    "TabularDataset": "fedchain.learn.datasets",
    "TabularMLP": "fedchain.learn.models",
    "TorchTrainer": "fedchain.learn.trainer",
    "TrainConfig": "fedchain.learn.trainer",
    "Trainer": "fedchain.learn.api",
    "TrainerError": "fedchain.learn.errors",
    "build_model": "fedchain.learn.models",
    "classification_metrics": "fedchain.learn.metrics",
    "dirichlet_partition": "fedchain.learn.partition",
    "evaluate_model": "fedchain.learn.trainer",
    "federate": "fedchain.learn.preprocess",
    "flatten": "fedchain.learn.params",
    "get_model_parameters": "fedchain.learn.models",
    "iid_partition": "fedchain.learn.partition",
    "initial_parameters": "fedchain.learn.models",
    "load_breast_cancer": "fedchain.learn.datasets",
    "load_csv": "fedchain.learn.datasets",
    "load_csv_federation": "fedchain.learn.datasets",
    "load_diabetes": "fedchain.learn.datasets",
    "load_lung": "fedchain.learn.datasets",
    "mean_label_entropy": "fedchain.learn.partition",
    "model_parameter_names": "fedchain.learn.models",
    "natural_partition": "fedchain.learn.partition",
    "run_baselines": "fedchain.learn.baselines",
    "seeded_model": "fedchain.learn.models",
    "set_model_parameters": "fedchain.learn.models",
    "train_model": "fedchain.learn.trainer",
    "train_test_split": "fedchain.learn.preprocess",
    "unflatten": "fedchain.learn.params",
}

__all__ = [
    "BaselineReport",
    "Config",
    "DatasetError",
    "EvalMetrics",
    "FederatedSplit",
    "FlowerClientTrainer",
    "LearnError",
    "LogisticRegression",
    "Metrics",
    "ModelSpec",
    "ModelSpecError",
    "NDArrays",
    "ParameterError",
    "PartitionError",
    "Scalar",
    "Shapes",
    "Standardizer",
    "TabularDataset",
    "TabularMLP",
    "TorchTrainer",
    "TrainConfig",
    "Trainer",
    "TrainerError",
    "build_model",
    "classification_metrics",
    "dirichlet_partition",
    "evaluate_model",
    "federate",
    "flatten",
    "get_model_parameters",
    "iid_partition",
    "initial_parameters",
    "load_breast_cancer",
    "load_csv",
    "load_csv_federation",
    "load_diabetes",
    "load_lung",
    "mean_label_entropy",
    "model_parameter_names",
    "natural_partition",
    "run_baselines",
    "seeded_model",
    "set_model_parameters",
    "train_model",
    "train_test_split",
    "unflatten",
]


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use, and keep the attribute."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
