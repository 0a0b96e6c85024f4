"""Offline datasets as feature tables: sklearn's breast cancer, diabetes and digits (8x8 images, one pixel a
column), lifelines' lung, and users' CSV files; :data:`BUILTIN_DATASETS` names the built-in ones.

Nothing here downloads: the sklearn and lifelines datasets ship inside those packages. Missing feature
values are kept as NaN and imputed when the features are standardized (see ``preprocess``).
"""

import csv
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn import datasets as sklearn_datasets

from fedchain.learn.arrays import FloatArray, IndexArray, LabelArray
from fedchain.learn.defaults import LUNG_GROUP_COLUMN, LUNG_HORIZON_DAYS
from fedchain.learn.errors import DatasetError


@dataclass(frozen=True, eq=False)
class TabularDataset:
    """Features ``(n, d)`` (float64, NaN = missing), integer labels ``0..num_classes-1`` and optional groups.

    ``groups`` holds one value per example naming its natural owner (for example a hospital), used by
    the natural partitioner. ``class_names``, where known, says what each label means (for reports).
    """

    name: str
    features: FloatArray
    labels: LabelArray
    feature_names: tuple[str, ...]
    num_classes: int
    groups: npt.NDArray[Any] | None = None
    class_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.features.ndim != 2:
            raise DatasetError(f"dataset {self.name!r}: features must be 2-D, got shape {self.features.shape}")
        count, width = self.features.shape
        if self.labels.shape != (count,):
            raise DatasetError(f"dataset {self.name!r}: {count} feature rows but labels of shape {self.labels.shape}")
        if len(self.feature_names) != width:
            raise DatasetError(f"dataset {self.name!r}: {width} feature columns but {len(self.feature_names)} names")
        if self.num_classes < 2:
            raise DatasetError(f"dataset {self.name!r}: num_classes must be >= 2, got {self.num_classes}")
        if count and (self.labels.min() < 0 or self.labels.max() >= self.num_classes):
            raise DatasetError(
                f"dataset {self.name!r}: labels must lie in [0, {self.num_classes}), "
                f"got range [{self.labels.min()}, {self.labels.max()}]"
            )
        if self.groups is not None and self.groups.shape != (count,):
            raise DatasetError(f"dataset {self.name!r}: {count} rows but groups of shape {self.groups.shape}")
        if self.class_names is not None and len(self.class_names) != self.num_classes:
            raise DatasetError(f"dataset {self.name!r}: {self.num_classes} classes but {len(self.class_names)} class "
                               "names")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_features(self) -> int:
        """Number of feature columns."""
        return int(self.features.shape[1])

    def subset(self, indices: IndexArray, name: str | None = None) -> "TabularDataset":
        """The examples at ``indices`` (in that order), groups included."""
        return replace(
            self,
            name=self.name if name is None else name,
            features=self.features[indices],
            labels=self.labels[indices],
            groups=None if self.groups is None else self.groups[indices],
        )

    def with_features(self, features: FloatArray) -> "TabularDataset":
        """The same examples with replaced (for example standardized) features."""
        return replace(self, features=features)


def load_breast_cancer() -> TabularDataset:
    """Wisconsin diagnostic breast cancer: 569 examples, 30 features, label 0 = malignant, 1 = benign."""
    bunch = sklearn_datasets.load_breast_cancer()
    return TabularDataset(
        name="breast_cancer",
        features=np.asarray(bunch.data, dtype=np.float64),
        labels=np.asarray(bunch.target, dtype=np.int64),
        feature_names=tuple(str(name) for name in bunch.feature_names),
        num_classes=2,
        class_names=tuple(str(name) for name in bunch.target_names),
    )


def load_diabetes() -> TabularDataset:
    """sklearn's diabetes data (442 patients, 10 features) as a binary classification task.

    The original target is a quantitative measure of disease progression one year after baseline. It is
    binarized at its median over the whole dataset: label 1 means progression strictly above the median
    (140.5), label 0 at or below it, which gives two near-equal classes. The median only defines the
    label; it uses no feature information.
    """
    bunch = sklearn_datasets.load_diabetes(scaled=False)
    target = np.asarray(bunch.target, dtype=np.float64)
    return TabularDataset(
        name="diabetes",
        features=np.asarray(bunch.data, dtype=np.float64),
        labels=(target > np.median(target)).astype(np.int64),
        feature_names=tuple(str(name) for name in bunch.feature_names),
        num_classes=2,
        class_names=("at or below median progression", "above median progression"),
    )


DIGITS_SIDE = 8
"""The digits are ``DIGITS_SIDE`` x ``DIGITS_SIDE`` images."""


def load_digits() -> TabularDataset:
    """sklearn's handwritten digits (UCI optdigits test set): 1797 images of 8x8 pixels, each pixel a feature
    (``pixel_<row>_<column>``, grey levels 0..16, row by row, as :class:`fedchain.learn.models.ImageCNN` reshapes
    them), label the digit 0..9."""
    bunch = sklearn_datasets.load_digits()
    return TabularDataset(
        name="digits",
        features=np.asarray(bunch.data, dtype=np.float64),
        labels=np.asarray(bunch.target, dtype=np.int64),
        feature_names=tuple(f"pixel_{row}_{column}" for row in range(DIGITS_SIDE) for column in range(DIGITS_SIDE)),
        num_classes=10,
        class_names=tuple(str(digit) for digit in range(10)),
    )


LUNG_FEATURES = ("age", "sex", "ph.ecog", "ph.karno", "pat.karno", "meal.cal", "wt.loss")
"""Columns of lifelines' lung data used as features (``time`` and ``status`` define the label)."""


def _lifelines_lung_frame() -> Any:
    try:
        from lifelines.datasets import load_lung as lifelines_load  # noqa: PLC0415 (optional extra)
    except ImportError as error:
        raise DatasetError("the lung dataset needs the optional package lifelines: pip install lifelines") from error
    return lifelines_load()


def load_lung(horizon_days: int = LUNG_HORIZON_DAYS) -> TabularDataset:
    """NCCTG advanced lung cancer data from lifelines, grouped by institution (``inst``).

    Label: death within ``horizon_days`` (default 365) of enrolment, i.e. 1 if ``status == 1`` (died)
    and ``time <= horizon_days``, 0 if ``time > horizon_days`` (known alive at the horizon). Patients
    censored before the horizon have an unknown label and are dropped, as is the one patient without an
    institution. Remaining missing feature values stay NaN and are imputed with the training mean at
    standardization. ``groups`` holds the institution code as an integer.
    """
    frame = _lifelines_lung_frame()
    time = frame["time"].to_numpy(dtype=np.float64)
    died = frame["status"].to_numpy(dtype=np.int64) == 1
    institution = frame[LUNG_GROUP_COLUMN].to_numpy(dtype=np.float64)
    known_label = died | (time > horizon_days)
    keep = known_label & ~np.isnan(institution)
    labels = (died & (time <= horizon_days)).astype(np.int64)
    return TabularDataset(
        name="lung",
        features=frame.loc[keep, list(LUNG_FEATURES)].to_numpy(dtype=np.float64),
        labels=labels[keep],
        feature_names=LUNG_FEATURES,
        num_classes=2,
        groups=institution[keep].astype(np.int64),
        class_names=(f"alive after {horizon_days} days", f"died within {horizon_days} days"),
    )


BUILTIN_DATASETS: Mapping[str, Callable[[], TabularDataset]] = {
    "breast_cancer": load_breast_cancer,
    "diabetes": load_diabetes,
    "digits": load_digits,
    "lung": load_lung,
}
"""The datasets a simulation names (``simulation.dataset``) and their loaders; users' CSV files are the other kind."""


def _parse_feature(text: str, path: Path, row: int, column: str) -> float:
    stripped = text.strip()
    if stripped == "":
        return math.nan
    try:
        return float(stripped)
    except ValueError:
        raise DatasetError(f"{path}: row {row}, column {column!r}: value {text!r} is not numeric") from None


def _parse_label(text: str, path: Path, row: int, column: str) -> int:
    try:
        value = float(text.strip())
    except ValueError:
        raise DatasetError(
            f"{path}: row {row}, label column {column!r}: value {text!r} is not an integer class index"
        ) from None
    if not value.is_integer() or value < 0:
        raise DatasetError(f"{path}: row {row}, label column {column!r}: value {text!r} is not a non-negative integer")
    return int(value)


def load_csv(
    path: str | Path,
    label_column: str,
    group_column: str | None = None,
    num_classes: int | None = None,
    name: str | None = None,
) -> TabularDataset:
    """Load one hospital's CSV file: a header row, numeric feature columns and an integer label column.

    Labels must be class indices ``0..num_classes-1`` (``num_classes`` defaults to ``max(label) + 1``,
    at least 2). Empty feature cells are missing values (NaN). ``group_column``, if given, is kept as
    the dataset's groups (as strings) and not used as a feature. Raises :class:`DatasetError` for an
    empty file, a missing column, a non-numeric feature value or a row of the wrong length.
    """
    csv_path = Path(path)
    if not csv_path.is_file():
        raise DatasetError(f"{csv_path}: no such file")
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise DatasetError(f"{csv_path}: file is empty (no header row)")
    header = [cell.strip() for cell in rows[0]]
    records = rows[1:]
    if not records:
        raise DatasetError(f"{csv_path}: file has a header but no data rows")
    for required in (label_column, group_column):
        if required is not None and required not in header:
            raise DatasetError(f"{csv_path}: column {required!r} not found; columns are {header}")
    if len(set(header)) != len(header):
        raise DatasetError(f"{csv_path}: duplicate column names in header {header}")
    label_index = header.index(label_column)
    group_index = None if group_column is None else header.index(group_column)
    feature_indices = [i for i in range(len(header)) if i not in (label_index, group_index)]
    if not feature_indices:
        raise DatasetError(f"{csv_path}: no feature columns besides the label column {label_column!r}")
    features = np.empty((len(records), len(feature_indices)), dtype=np.float64)
    labels = np.empty(len(records), dtype=np.int64)
    groups: list[str] = []
    for row_number, record in enumerate(records, start=2):
        if len(record) != len(header):
            raise DatasetError(f"{csv_path}: row {row_number} has {len(record)} fields, the header has {len(header)}")
        position = row_number - 2
        for column, index in enumerate(feature_indices):
            features[position, column] = _parse_feature(record[index], csv_path, row_number, header[index])
        labels[position] = _parse_label(record[label_index], csv_path, row_number, label_column)
        if group_index is not None:
            groups.append(record[group_index].strip())
    classes = max(int(labels.max()) + 1, 2) if num_classes is None else num_classes
    if labels.max() >= classes:
        row = int(np.argmax(labels >= classes)) + 2
        raise DatasetError(f"{csv_path}: row {row}: label {int(labels[row - 2])} is not a class of the model "
                           f"(num_classes = {classes}: labels 0..{classes - 1})")
    return TabularDataset(
        name=csv_path.stem if name is None else name,
        features=features,
        labels=labels,
        feature_names=tuple(header[i] for i in feature_indices),
        num_classes=classes,
        groups=None if group_index is None else np.asarray(groups, dtype=np.str_),
    )


def load_csv_federation(paths: Sequence[str | Path], label_column: str) -> list[TabularDataset]:
    """Load one CSV per hospital and check they agree: same feature columns in the same order.

    Every dataset gets the same ``num_classes`` (the largest label over all files plus one), so a class
    missing at one hospital still has its output unit.
    """
    if not paths:
        raise DatasetError("load_csv_federation needs at least one CSV path")
    loaded = [load_csv(path, label_column) for path in paths]
    reference = loaded[0]
    for dataset, path in zip(loaded[1:], paths[1:], strict=True):
        if dataset.feature_names != reference.feature_names:
            raise DatasetError(
                f"{path}: feature columns {list(dataset.feature_names)} differ from "
                f"{paths[0]}: {list(reference.feature_names)}"
            )
    num_classes = max(dataset.num_classes for dataset in loaded)
    return [replace(dataset, num_classes=num_classes) for dataset in loaded]


def concat_datasets(datasets: Sequence[TabularDataset], name: str) -> TabularDataset:
    """Pool datasets with the same feature columns and classes into one (groups kept only if all have)."""
    if not datasets:
        raise DatasetError("concat_datasets needs at least one dataset")
    first = datasets[0]
    for dataset in datasets[1:]:
        if dataset.feature_names != first.feature_names or dataset.num_classes != first.num_classes:
            raise DatasetError(
                f"cannot pool dataset {dataset.name!r} with {first.name!r}: feature columns or classes differ"
            )
    all_grouped = all(dataset.groups is not None for dataset in datasets)
    return TabularDataset(
        name=name,
        features=np.concatenate([dataset.features for dataset in datasets]),
        labels=np.concatenate([dataset.labels for dataset in datasets]),
        feature_names=first.feature_names,
        num_classes=first.num_classes,
        class_names=first.class_names,
        groups=(
            np.concatenate([dataset.groups for dataset in datasets if dataset.groups is not None])
            if all_grouped
            else None
        ),
    )
