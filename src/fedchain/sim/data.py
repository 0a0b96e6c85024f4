"""The simulated hospitals' data: a configured dataset, split among hospitals, with a held-out test set."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fedchain.learn import (
    DatasetError,
    FederatedSplit,
    LearnError,
    ModelSpec,
    TabularDataset,
    federate,
    load_breast_cancer,
    load_csv_federation,
    load_diabetes,
    load_lung,
)
from fedchain.learn.datasets import concat_datasets
from fedchain.sim.config import MAX_HOSPITALS, DataConfig, ModelConfig
from fedchain.sim.errors import ConfigError


def load_split(config: DataConfig, seed: int) -> FederatedSplit:
    """Load the dataset and split it; any problem is a :class:`ConfigError` naming the ``data`` setting."""
    try:
        split = _split(config, seed)
    except LearnError as error:
        raise ConfigError(f"data: {error}") from None
    if not 2 <= len(split.clients) <= MAX_HOSPITALS:
        raise ConfigError(f"data: the split gives {len(split.clients)} hospitals; a federation needs 2 to "
                          f"{MAX_HOSPITALS} (see data.min_hospital_size)")
    return split


def model_spec(config: ModelConfig, split: FederatedSplit) -> ModelSpec:
    """The configured model for the split's features and classes."""
    reference = split.test
    options = {"hidden": list(config.hidden)} if config.name == "mlp" else {}
    return ModelSpec(config.name, in_features=reference.num_features, num_classes=reference.num_classes,
                     options=options)


def _split(config: DataConfig, seed: int) -> FederatedSplit:
    if config.dataset == "csv":
        return federate(_csv_pool(config), "natural", seed=seed, test_fraction=config.test_fraction,
                        min_size=config.min_hospital_size)
    dataset = {"breast_cancer": load_breast_cancer, "diabetes": load_diabetes, "lung": load_lung}[config.dataset]()
    return federate(dataset, config.partition, num_clients=config.hospitals, alpha=config.alpha, seed=seed,
                    test_fraction=config.test_fraction, min_size=config.min_hospital_size)


def _csv_pool(config: DataConfig) -> TabularDataset:
    """One CSV per hospital, pooled with the file name as each row's institution."""
    stems = [path.stem for path in config.files]
    if len(set(stems)) != len(stems):
        raise DatasetError(f"the CSV files must have distinct names (one per hospital), got {stems}")
    hospitals = load_csv_federation(list(config.files), config.label_column)
    grouped = [replace(data, groups=np.full(len(data), stem)) for data, stem in zip(hospitals, stems, strict=True)]
    return concat_datasets(grouped, name="csv")
