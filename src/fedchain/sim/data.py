"""The simulated hospitals' data: a configured dataset, split among hospitals, with a held-out test set, prepared
the way the task declares (``[data]``: columns, normalization, missing values)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fedchain.learn import (
    DatasetError,
    FederatedSplit,
    LearnError,
    TabularDataset,
    federate,
    load_csv_federation,
)
from fedchain.learn.datasets import BUILTIN_DATASETS, concat_datasets
from fedchain.sim.config import MAX_HOSPITALS, SimulationConfig
from fedchain.sim.errors import ConfigError
from fedchain.task.learning import preprocessing_of


def load_split(config: SimulationConfig) -> FederatedSplit:
    """Load the dataset, split it and prepare it; any problem is a :class:`ConfigError` naming the setting."""
    try:
        split = _split(config)
    except LearnError as error:
        raise ConfigError(f"data: {error}") from None
    if not 2 <= len(split.clients) <= MAX_HOSPITALS:
        raise ConfigError(f"simulation: the split gives {len(split.clients)} hospitals; a federation needs 2 to "
                          f"{MAX_HOSPITALS} (see simulation.min_hospital_size)")
    classes = config.task.model.num_classes
    if split.test.num_classes > classes:
        raise ConfigError(f"model.num_classes: {classes}, but the data has labels up to {split.test.num_classes - 1}")
    return split


def _split(config: SimulationConfig) -> FederatedSplit:
    simulation, seed = config.simulation, config.task.seed
    preprocessing = preprocessing_of(config.task.data)
    if simulation.dataset == "csv":
        return federate(_csv_pool(config), "natural", seed=seed, test_fraction=simulation.test_fraction,
                        min_size=simulation.min_hospital_size, preprocessing=preprocessing)
    dataset = BUILTIN_DATASETS[simulation.dataset]()
    return federate(dataset, simulation.partition, num_clients=simulation.hospitals, alpha=simulation.alpha,
                    seed=seed, test_fraction=simulation.test_fraction, min_size=simulation.min_hospital_size,
                    preprocessing=preprocessing)


def _csv_pool(config: SimulationConfig) -> TabularDataset:
    """One CSV per hospital, pooled with the file name as each row's institution."""
    files = config.simulation.files
    stems = [path.stem for path in files]
    if len(set(stems)) != len(stems):
        raise DatasetError(f"the CSV files must have distinct names (one per hospital), got {stems}")
    hospitals = load_csv_federation(list(files), config.task.data.label_column)
    grouped = [replace(data, groups=np.full(len(data), stem)) for data, stem in zip(hospitals, stems, strict=True)]
    return concat_datasets(grouped, name="csv")
