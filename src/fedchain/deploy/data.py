"""A hospital's training data for `fedchain participant run --data SPEC`.

- a CSV file (a header row, numeric feature columns and an integer label column): the hospital's own
  data, standardized with its own statistics (missing values become the column mean);
- ``NAME:I/N`` with NAME one of the built-in datasets (``breast_cancer``, ``diabetes``, ``lung``): part
  I (0-based) of an IID split into N parts, standardized with the pooled training statistics. Every
  process computes the same split from the same seed, so N separate processes each take one part; it
  is for trying a deployment out without data of one's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

from fedchain.deploy.errors import DeployError
from fedchain.learn import (
    LearnError,
    Standardizer,
    TabularDataset,
    federate,
    load_breast_cancer,
    load_csv,
    load_diabetes,
    load_lung,
)

BUILTIN: Final[dict[str, Callable[[], TabularDataset]]] = {
    "breast_cancer": load_breast_cancer, "diabetes": load_diabetes, "lung": load_lung}
SPLIT_SEED: Final = 0
_PART: Final = re.compile(r"^(?P<name>[a-z_]+):(?P<part>\d+)/(?P<parts>\d+)$")


def load_hospital_data(spec: str, *, label_column: str = "label") -> TabularDataset:
    """The standardized training data ``spec`` names (see the module docstring)."""
    match = _PART.match(spec)
    try:
        if match is None:
            dataset = load_csv(Path(spec), label_column)
            return Standardizer.fit(dataset.features).apply(dataset)
        return _builtin_part(spec, match["name"], int(match["part"]), int(match["parts"]))
    except LearnError as error:
        raise DeployError(f"--data {spec}: {error}") from None


def _builtin_part(spec: str, name: str, part: int, parts: int) -> TabularDataset:
    if name not in BUILTIN:
        raise DeployError(f"--data {spec}: no built-in dataset {name!r} (known: {', '.join(sorted(BUILTIN))})")
    if not 0 <= part < parts:
        raise DeployError(f"--data {spec}: part {part} is not one of the {parts} parts 0..{parts - 1}")
    split = federate(BUILTIN[name](), "iid", num_clients=parts, seed=SPLIT_SEED)
    return split.clients[part]
