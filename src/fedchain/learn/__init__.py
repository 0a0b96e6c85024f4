"""Learning layer: PyTorch models, datasets, partitioners, local training and the Trainer interface.

This layer knows nothing about chains or storage. Participants hand a :class:`Trainer` to the roles;
the requester uses the model registry for initial parameters and the baselines for reports.
"""

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
