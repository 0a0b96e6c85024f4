"""Held-out test split, standardization fit on training data only, and federating a dataset."""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from fedchain.learn.arrays import FloatArray, IndexArray
from fedchain.learn.datasets import TabularDataset
from fedchain.learn.defaults import (
    DEFAULT_MIN_CLIENT_SIZE,
    DEFAULT_SPLIT_SEED,
    DEFAULT_TEST_FRACTION,
    MIN_FEATURE_STD,
)
from fedchain.learn.errors import DatasetError, PartitionError
from fedchain.learn.partition import dirichlet_partition, iid_partition, natural_partition


def train_test_split(
    dataset: TabularDataset,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    seed: int = DEFAULT_SPLIT_SEED,
) -> tuple[TabularDataset, TabularDataset]:
    """Stratified split: from each class, ``round(test_fraction * class size)`` examples go to test.

    Deterministic per ``seed``; both parts keep the dataset's order (sorted indices).
    """
    if not 0 < test_fraction < 1:
        raise DatasetError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    test_parts: list[IndexArray] = []
    for label in np.unique(dataset.labels):
        members = rng.permutation(np.flatnonzero(dataset.labels == label)).astype(np.int64)
        test_parts.append(members[: round(test_fraction * members.size)])
    test_indices = np.sort(np.concatenate(test_parts))
    train_mask = np.ones(len(dataset), dtype=bool)
    train_mask[test_indices] = False
    train_indices = np.flatnonzero(train_mask).astype(np.int64)
    if test_indices.size == 0 or train_indices.size == 0:
        raise DatasetError(
            f"dataset {dataset.name!r} with {len(dataset)} examples gives an empty "
            f"{'test' if test_indices.size == 0 else 'training'} split at test_fraction={test_fraction}"
        )
    return (
        dataset.subset(train_indices, name=f"{dataset.name}/train"),
        dataset.subset(test_indices, name=f"{dataset.name}/test"),
    )


@dataclass(frozen=True, eq=False)
class Standardizer:
    """Per-feature centring and scaling; missing values (NaN) become 0, i.e. the training mean."""

    mean: FloatArray
    scale: FloatArray

    @classmethod
    def fit(cls, features: FloatArray) -> "Standardizer":
        """Statistics of ``features``, ignoring NaN; a constant feature is only centred."""
        if features.ndim != 2 or features.shape[0] == 0:
            raise DatasetError(f"cannot fit a standardizer on features of shape {features.shape}")
        all_missing = np.all(np.isnan(features), axis=0)
        if all_missing.any():
            raise DatasetError(f"feature columns {np.flatnonzero(all_missing).tolist()} have no values")
        mean = np.nanmean(features, axis=0)
        std = np.nanstd(features, axis=0)
        return cls(mean=mean, scale=np.where(std < MIN_FEATURE_STD, 1.0, std))

    def transform(self, features: FloatArray) -> FloatArray:
        """Standardized features with NaN replaced by 0."""
        if features.ndim != 2 or features.shape[1] != self.mean.size:
            raise DatasetError(f"standardizer fit on {self.mean.size} features got features of shape {features.shape}")
        standardized = (features - self.mean) / self.scale
        return np.nan_to_num(standardized, nan=0.0)

    def apply(self, dataset: TabularDataset) -> TabularDataset:
        """``dataset`` with standardized features."""
        return dataset.with_features(self.transform(dataset.features))


PartitionScheme = Literal["iid", "dirichlet", "natural"]


@dataclass(frozen=True, eq=False)
class FederatedSplit:
    """Standardized per-client training sets, a standardized held-out test set, and the statistics."""

    clients: list[TabularDataset]
    test: TabularDataset
    standardizer: Standardizer


def federate(
    dataset: TabularDataset,
    scheme: PartitionScheme,
    num_clients: int = 0,
    alpha: float = 1.0,
    seed: int = DEFAULT_SPLIT_SEED,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    min_size: int = DEFAULT_MIN_CLIENT_SIZE,
) -> FederatedSplit:
    """Simulate a federation: hold out a stratified test set, standardize, split the rest among clients.

    The standardizer is fit on the pooled training portion only (a simulation convenience: real
    hospitals would each standardize with agreed statistics). ``scheme`` is ``"iid"`` or ``"dirichlet"``
    (with ``num_clients``, ``alpha``, ``min_size``) or ``"natural"`` (one client per group value of the
    dataset's groups, ``num_clients`` ignored; groups with fewer than ``min_size`` training examples are
    left out). Client datasets are named ``<dataset>/<client key>``.
    """
    train, test = train_test_split(dataset, test_fraction, seed)
    standardizer = Standardizer.fit(train.features)
    train, test = standardizer.apply(train), standardizer.apply(test)
    if scheme == "natural":
        if train.groups is None:
            raise PartitionError(f"dataset {dataset.name!r} has no groups for a natural partition")
        keyed = {key: part for key, part in natural_partition(train.groups).items() if part.size >= min_size}
        if not keyed:
            raise PartitionError(f"no group of dataset {dataset.name!r} has >= {min_size} training examples")
    elif scheme == "iid":
        keyed = {str(i): part for i, part in enumerate(iid_partition(len(train), num_clients, seed))}
    elif scheme == "dirichlet":
        parts = dirichlet_partition(train.labels, num_clients, alpha, seed, min_size=min_size)
        keyed = {str(i): part for i, part in enumerate(parts)}
    else:
        raise PartitionError(f"unknown partition scheme {scheme!r}; use 'iid', 'dirichlet' or 'natural'")
    clients = [train.subset(part, name=f"{dataset.name}/{key}") for key, part in keyed.items()]
    return FederatedSplit(clients=clients, test=test, standardizer=standardizer)
