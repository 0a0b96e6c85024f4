"""A hospital's training data for `fedchain participant run --data SPEC`, checked against the task and prepared
the way the task declares (its ``[data]`` table) before anything is staked:

- a CSV file: a header row with the task's ``data.features`` in order (when the task lists them) and its
  ``data.label_column``; labels must be class indices below ``model.num_classes``; a missing value is refused
  unless the task says ``data.missing = "mean"``;
- ``NAME:I/N`` with NAME one of the built-in datasets (``breast_cancer``, ``diabetes``, ``lung``): part I
  (0-based) of an IID split into N parts of its training portion. Every process computes the same split, so N
  separate processes each take one part; it is for trying a deployment out without data of one's own;
- ``NAME:test``: the held-out test portion of a built-in dataset, which no part includes (validation data for
  the requester's evaluations, `fedchain requester run --data`).

A deployment standardizes with the statistics the task fixes (``data.mean``, ``data.scale``), never with a
hospital's own: `fedchain data summary` and `fedchain data stats` compute agreed ones from per-hospital
summaries (counts, sums and sums of squares), without pooling any row. `fedchain task create` puts the task's
preprocessing in its model blob, which the chain pins (the model-spec hash): every participant, the requester and
`fedchain export-model` check their task file's ``[data]`` against it
(:func:`fedchain.deploy.taskfile.check_task_data`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

from fedchain.deploy.errors import DeployError
from fedchain.learn import (
    LearnError,
    Preprocessing,
    TabularDataset,
    load_breast_cancer,
    load_csv,
    load_diabetes,
    load_lung,
    train_test_split,
)
from fedchain.learn.partition import iid_partition
from fedchain.learn.preprocess import FeatureSummary, agreed_statistics
from fedchain.task.learning import preprocessing_of
from fedchain.task.schema import TaskSpec

BUILTIN: Final[dict[str, Callable[[], TabularDataset]]] = {
    "breast_cancer": load_breast_cancer, "diabetes": load_diabetes, "lung": load_lung}
SPLIT_SEED: Final = 0
_PART: Final = re.compile(r"^(?P<name>[a-z_]+):(?:(?P<part>\d+)/(?P<parts>\d+)|(?P<test>test))$")


def deployment_preprocessing(task: TaskSpec) -> Preprocessing:
    """The task's preprocessing, which a deployment must fix completely (no hospital fits its own statistics)."""
    preprocessing = preprocessing_of(task.data)
    if not preprocessing.complete:
        raise DeployError("data.mean: the task standardizes its features but fixes no statistics; every hospital "
                          "must use the same ones: compute them with `fedchain data summary` (at each hospital) and "
                          "`fedchain data stats` (from the summaries), or set data.normalization = \"none\"")
    return preprocessing


def load_raw_data(spec: str, task: TaskSpec) -> TabularDataset:
    """The data ``spec`` names (see the module docstring), as it is: checked for its labels, not prepared."""
    match = _PART.match(spec)
    try:
        if match is None:
            return load_csv(Path(spec), task.data.label_column, num_classes=task.model.num_classes)
        if match["test"]:
            return _builtin_split(spec, match["name"], task)[1]
        return _builtin_part(spec, match["name"], int(match["part"]), int(match["parts"]), task)
    except LearnError as error:
        raise DeployError(f"--data {spec}: {error}") from None


def load_hospital_data(spec: str, task: TaskSpec) -> TabularDataset:
    """The data ``spec`` names, checked against the task (columns, labels, missing values) and prepared as it
    declares."""
    preprocessing = deployment_preprocessing(task)
    dataset = load_raw_data(spec, task)
    try:
        return preprocessing.apply(dataset)
    except LearnError as error:
        raise DeployError(f"--data {spec}: {error}") from None


def _builtin_part(spec: str, name: str, part: int, parts: int, task: TaskSpec) -> TabularDataset:
    if not 0 <= part < parts:
        raise DeployError(f"--data {spec}: part {part} is not one of the {parts} parts 0..{parts - 1}")
    train, _ = _builtin_split(spec, name, task)
    return train.subset(iid_partition(len(train), parts, SPLIT_SEED)[part], name=f"{name}/{part}")


def _builtin_split(spec: str, name: str, task: TaskSpec) -> tuple[TabularDataset, TabularDataset]:
    """The training and test portions of built-in dataset ``name``, the same in every process."""
    if name not in BUILTIN:
        raise DeployError(f"--data {spec}: no built-in dataset {name!r} (known: {', '.join(sorted(BUILTIN))})")
    dataset = BUILTIN[name]()
    if dataset.num_classes > task.model.num_classes:
        raise DeployError(f"--data {spec}: {name} has {dataset.num_classes} classes, the task's model.num_classes "
                          f"is {task.model.num_classes}")
    return train_test_split(dataset, seed=SPLIT_SEED)


def agreed_statistics_of(paths: list[Path]) -> tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]]:
    """The features and agreed mean and scale from the hospitals' summary files (`fedchain data summary`)."""
    summaries = []
    for path in paths:
        try:
            summaries.append(FeatureSummary.from_json(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, LearnError) as error:
            raise DeployError(f"{path}: {error}") from None
    try:
        mean, scale = agreed_statistics(summaries)
    except LearnError as error:
        raise DeployError(str(error)) from None
    return summaries[0].features, mean, scale
