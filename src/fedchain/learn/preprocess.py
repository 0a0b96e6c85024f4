"""Held-out test split, the declared preprocessing of features (fitted on training data only), and federating
a dataset."""

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from fedchain.learn.arrays import FloatArray, IndexArray
from fedchain.learn.datasets import TabularDataset
from fedchain.learn.defaults import (
    DEFAULT_MIN_CLIENT_SIZE,
    DEFAULT_SPLIT_SEED,
    DEFAULT_TEST_FRACTION,
    MIN_FEATURE_STD,
    Missing,
    Normalization,
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
class Preprocessing:
    """How raw features become the model's inputs, as a task declares it: the columns expected (by name and order;
    empty: any), the normalization (``standardize``: ``(x - mean) / scale``; ``none``) and what a missing value
    (NaN) is: ``refuse`` (an error naming the row and column) or ``mean`` (the feature's mean, 0 once
    standardized). Statistics left out are fitted by :meth:`fitted` (a simulation pools its training data).

    It is saved with an exported model (:meth:`to_json`), so the model applies to raw data as it was trained.
    """

    features: tuple[str, ...] = ()
    normalization: Normalization = "standardize"
    mean: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()
    missing: Missing = "refuse"

    def __post_init__(self) -> None:
        if self.normalization not in ("standardize", "none"):
            raise DatasetError(f"unknown normalization {self.normalization!r}; use 'standardize' or 'none'")
        if self.missing not in ("refuse", "mean"):
            raise DatasetError(f"unknown missing-value rule {self.missing!r}; use 'refuse' or 'mean'")
        if len(self.mean) != len(self.scale) or (self.features and self.mean and len(self.mean) != len(self.features)):
            raise DatasetError(f"{len(self.mean)} means, {len(self.scale)} scales and {len(self.features)} features "
                               "do not match")
        if self.missing == "mean" and self.normalization != "standardize":
            raise DatasetError("missing = 'mean' fills in the mean of a standardization")

    @property
    def complete(self) -> bool:
        """Whether nothing is left to fit: no normalization, or its statistics are given."""
        return self.normalization == "none" or bool(self.mean)

    def fitted(self, dataset: TabularDataset) -> "Preprocessing":
        """This preprocessing with the standardization's statistics, where not given, fitted on ``dataset``
        (ignoring missing values; a constant feature is only centred)."""
        if self.complete:
            return self
        self.check(dataset)
        features = dataset.features
        all_missing = np.all(np.isnan(features), axis=0)
        if all_missing.any():
            raise DatasetError(f"{dataset.name}: feature columns {_names(dataset, all_missing)} have no values")
        mean = np.nanmean(features, axis=0)
        std = np.nanstd(features, axis=0)
        scale = np.where(std < MIN_FEATURE_STD, 1.0, std)
        return replace(self, mean=tuple(float(value) for value in mean), scale=tuple(float(value) for value in scale))

    def check(self, dataset: TabularDataset) -> None:
        """Raise a :class:`DatasetError` naming the problem unless ``dataset`` has the declared columns in order and
        (with ``missing = "refuse"``) no missing value."""
        if self.features and dataset.feature_names != self.features:
            raise DatasetError(f"{dataset.name}: feature columns {list(dataset.feature_names)} are not the task's "
                               f"data.features {list(self.features)} (names and order must match)")
        if self.mean and dataset.num_features != len(self.mean):
            raise DatasetError(f"{dataset.name}: {dataset.num_features} feature columns, but the task's "
                               f"standardization has {len(self.mean)}")
        if self.missing == "refuse":
            missing = np.argwhere(np.isnan(dataset.features))
            if missing.size:
                row, column = (int(value) for value in missing[0])
                raise DatasetError(f"{dataset.name}: example {row} (from 0; row {row + 2} of a CSV file), column "
                                   f"{dataset.feature_names[column]!r} has no value ({len(missing)} missing in all); "
                                   "the task refuses missing values (set data.missing = \"mean\" to fill in the "
                                   "feature's mean)")

    def apply(self, dataset: TabularDataset) -> TabularDataset:
        """``dataset`` checked (:meth:`check`) and transformed into the model's inputs."""
        if not self.complete:
            raise DatasetError("the standardization's statistics are not known: fit them first")
        self.check(dataset)
        return dataset.with_features(self.transform(dataset.features))

    def transform(self, features: FloatArray) -> FloatArray:
        """Raw features ``(n, d)`` as the model's inputs (missing values filled in as declared)."""
        if self.normalization == "none":
            return features.copy()
        mean, scale = np.asarray(self.mean), np.asarray(self.scale)
        standardized: FloatArray = (features - mean) / scale
        return np.nan_to_num(standardized, nan=0.0) if self.missing == "mean" else standardized

    def to_json(self) -> dict[str, Any]:
        """The preprocessing as JSON-ready data (``preprocessing.json`` beside an exported model)."""
        return {"features": list(self.features), "normalization": self.normalization, "mean": list(self.mean),
                "scale": list(self.scale), "missing": self.missing}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Preprocessing":
        """Read what :meth:`to_json` wrote."""
        try:
            return cls(features=tuple(data["features"]), normalization=data["normalization"],
                       mean=tuple(float(value) for value in data["mean"]),
                       scale=tuple(float(value) for value in data["scale"]), missing=data["missing"])
        except (KeyError, TypeError, ValueError) as error:
            raise DatasetError(f"not a preprocessing description: {error}") from None


@dataclass(frozen=True)
class FeatureSummary:
    """What a hospital shares so the consortium can agree on standardization statistics without pooling data:
    per feature, the count of values, their sum and their sum of squares (missing values left out)."""

    features: tuple[str, ...]
    count: tuple[int, ...]
    total: tuple[float, ...]
    squares: tuple[float, ...]

    @classmethod
    def of(cls, dataset: TabularDataset) -> "FeatureSummary":
        """The summary of ``dataset``'s features."""
        present = ~np.isnan(dataset.features)
        values = np.where(present, dataset.features, 0.0)
        return cls(features=dataset.feature_names, count=tuple(int(n) for n in present.sum(axis=0)),
                   total=tuple(float(v) for v in values.sum(axis=0)),
                   squares=tuple(float(v) for v in (values**2).sum(axis=0)))

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return {"features": list(self.features), "count": list(self.count), "total": list(self.total),
                "squares": list(self.squares)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FeatureSummary":
        """Read what :meth:`to_json` wrote."""
        try:
            summary = cls(features=tuple(str(name) for name in data["features"]),
                          count=tuple(int(n) for n in data["count"]), total=tuple(float(v) for v in data["total"]),
                          squares=tuple(float(v) for v in data["squares"]))
        except (KeyError, TypeError, ValueError) as error:
            raise DatasetError(f"not a feature summary: {error}") from None
        if not len(summary.features) == len(summary.count) == len(summary.total) == len(summary.squares):
            raise DatasetError("not a feature summary: its lists differ in length")
        return summary


def agreed_statistics(summaries: list[FeatureSummary]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The pooled per-feature mean and scale (standard deviation; 1 for a constant feature) of the hospitals whose
    ``summaries`` are given: what a task file's ``data.mean`` and ``data.scale`` fix."""
    if not summaries:
        raise DatasetError("no feature summaries to combine")
    features = summaries[0].features
    for summary in summaries[1:]:
        if summary.features != features:
            raise DatasetError(f"feature summaries of different columns: {list(summary.features)} and "
                               f"{list(features)}")
    count = np.sum([summary.count for summary in summaries], axis=0).astype(np.float64)
    if np.any(count == 0):
        raise DatasetError(f"feature columns {[f for f, n in zip(features, count, strict=True) if n == 0]} have no "
                           "values at any hospital")
    mean = np.sum([summary.total for summary in summaries], axis=0) / count
    variance = np.maximum(np.sum([summary.squares for summary in summaries], axis=0) / count - mean**2, 0.0)
    std = np.sqrt(variance)
    scale = np.where(std < MIN_FEATURE_STD, 1.0, std)
    return tuple(float(v) for v in mean), tuple(float(v) for v in scale)


def _names(dataset: TabularDataset, mask: Any) -> list[str]:
    return [name for name, chosen in zip(dataset.feature_names, mask, strict=True) if chosen]


PartitionScheme = Literal["iid", "dirichlet", "natural"]


@dataclass(frozen=True, eq=False)
class FederatedSplit:
    """Per-client training sets and a held-out test set, all preprocessed, and the preprocessing (fitted)."""

    clients: list[TabularDataset]
    test: TabularDataset
    preprocessing: Preprocessing


def federate(
    dataset: TabularDataset,
    scheme: PartitionScheme,
    num_clients: int = 0,
    alpha: float = 1.0,
    seed: int = DEFAULT_SPLIT_SEED,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    min_size: int = DEFAULT_MIN_CLIENT_SIZE,
    preprocessing: Preprocessing | None = None,
) -> FederatedSplit:
    """Simulate a federation: hold out a stratified test set, preprocess, split the rest among clients.

    ``preprocessing`` (default: standardize, refuse missing values) is applied to both parts; statistics it
    leaves out are fitted on the pooled training portion only (a simulation convenience: real hospitals use the
    statistics their task fixes). ``scheme`` is ``"iid"`` or ``"dirichlet"``
    (with ``num_clients``, ``alpha``, ``min_size``) or ``"natural"`` (one client per group value of the
    dataset's groups, ``num_clients`` ignored; groups with fewer than ``min_size`` training examples are
    left out). Client datasets are named ``<dataset>/<client key>``.
    """
    train, test = train_test_split(dataset, test_fraction, seed)
    prepared = (preprocessing or Preprocessing()).fitted(train)
    train, test = prepared.apply(train), prepared.apply(test)
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
    return FederatedSplit(clients=clients, test=test, preprocessing=prepared)
