"""Learning layer: PyTorch models, datasets, partitioners, local training and the Trainer interface.

This layer knows nothing about chains or storage. :class:`TorchTrainer` is the built-in
:class:`fedchain.client.Client`; the requester uses the model registry for initial parameters and the
baselines for reports.

Attributes are loaded on first use (PEP 562), so importing one submodule does not load torch,
scikit-learn and the rest of this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedchain.lazy import lazy_attributes

if TYPE_CHECKING:
    from fedchain.learn.baselines import BaselineReport, run_baselines
    from fedchain.learn.datasets import (
        TabularDataset,
        load_breast_cancer,
        load_csv,
        load_csv_federation,
        load_diabetes,
        load_digits,
        load_lung,
    )
    from fedchain.learn.errors import (
        DatasetError,
        LearnError,
        ModelSpecError,
        PartitionError,
        TrainerError,
    )
    from fedchain.learn.metrics import EvalMetrics, classification_metrics
    from fedchain.learn.models import (
        ImageCNN,
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
    from fedchain.learn.partition import (
        dirichlet_partition,
        iid_partition,
        mean_label_entropy,
        natural_partition,
    )
    from fedchain.learn.preprocess import FederatedSplit, Preprocessing, federate, train_test_split
    from fedchain.learn.trainer import TorchTrainer, TrainConfig, evaluate_model, train_model

_HOME: dict[str, str] = {
    "BaselineReport": "fedchain.learn.baselines",
    "DatasetError": "fedchain.learn.errors",
    "EvalMetrics": "fedchain.learn.metrics",
    "FederatedSplit": "fedchain.learn.preprocess",
    "ImageCNN": "fedchain.learn.models",
    "LearnError": "fedchain.learn.errors",
    "LogisticRegression": "fedchain.learn.models",
    "ModelSpec": "fedchain.learn.models",
    "ModelSpecError": "fedchain.learn.errors",
    "PartitionError": "fedchain.learn.errors",
    "Preprocessing": "fedchain.learn.preprocess",
    "TabularDataset": "fedchain.learn.datasets",
    "TabularMLP": "fedchain.learn.models",
    "TorchTrainer": "fedchain.learn.trainer",
    "TrainConfig": "fedchain.learn.trainer",
    "TrainerError": "fedchain.learn.errors",
    "build_model": "fedchain.learn.models",
    "classification_metrics": "fedchain.learn.metrics",
    "dirichlet_partition": "fedchain.learn.partition",
    "evaluate_model": "fedchain.learn.trainer",
    "federate": "fedchain.learn.preprocess",
    "get_model_parameters": "fedchain.learn.models",
    "iid_partition": "fedchain.learn.partition",
    "initial_parameters": "fedchain.learn.models",
    "load_breast_cancer": "fedchain.learn.datasets",
    "load_csv": "fedchain.learn.datasets",
    "load_csv_federation": "fedchain.learn.datasets",
    "load_diabetes": "fedchain.learn.datasets",
    "load_digits": "fedchain.learn.datasets",
    "load_lung": "fedchain.learn.datasets",
    "mean_label_entropy": "fedchain.learn.partition",
    "model_parameter_names": "fedchain.learn.models",
    "natural_partition": "fedchain.learn.partition",
    "run_baselines": "fedchain.learn.baselines",
    "seeded_model": "fedchain.learn.models",
    "set_model_parameters": "fedchain.learn.models",
    "train_model": "fedchain.learn.trainer",
    "train_test_split": "fedchain.learn.preprocess",
}

__all__ = [
    "BaselineReport",
    "DatasetError",
    "EvalMetrics",
    "FederatedSplit",
    "ImageCNN",
    "LearnError",
    "LogisticRegression",
    "ModelSpec",
    "ModelSpecError",
    "PartitionError",
    "Preprocessing",
    "TabularDataset",
    "TabularMLP",
    "TorchTrainer",
    "TrainConfig",
    "TrainerError",
    "build_model",
    "classification_metrics",
    "dirichlet_partition",
    "evaluate_model",
    "federate",
    "get_model_parameters",
    "iid_partition",
    "initial_parameters",
    "load_breast_cancer",
    "load_csv",
    "load_csv_federation",
    "load_diabetes",
    "load_digits",
    "load_lung",
    "mean_label_entropy",
    "model_parameter_names",
    "natural_partition",
    "run_baselines",
    "seeded_model",
    "set_model_parameters",
    "train_model",
    "train_test_split",
]


__getattr__ = lazy_attributes(__name__, globals(), _HOME)
