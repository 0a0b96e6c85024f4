"""Splitting a dataset among clients: IID, Dirichlet label skew (non-IID) and natural groups.

Every partitioner returns, per client, a sorted int64 array of example indices; the arrays are disjoint
and together cover every example.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from fedchain.learn.arrays import IndexArray, LabelArray
from fedchain.learn.defaults import DEFAULT_MIN_CLIENT_SIZE, DIRICHLET_MAX_ATTEMPTS
from fedchain.learn.errors import PartitionError


def _check_clients(num_samples: int, num_clients: int, min_size: int) -> None:
    if num_clients < 1:
        raise PartitionError(f"num_clients must be >= 1, got {num_clients}")
    if min_size < 0:
        raise PartitionError(f"min_size must be >= 0, got {min_size}")
    if num_clients * min_size > num_samples:
        raise PartitionError(
            f"cannot give {num_clients} clients at least {min_size} examples each from {num_samples} examples"
        )


def iid_partition(num_samples: int, num_clients: int, seed: int) -> list[IndexArray]:
    """Shuffle the examples with ``seed`` and deal them into ``num_clients`` near-equal parts."""
    _check_clients(num_samples, num_clients, min_size=1)
    order = np.random.default_rng(seed).permutation(num_samples).astype(np.int64)
    return [np.sort(part) for part in np.array_split(order, num_clients)]


def _dirichlet_draw(labels: LabelArray, num_clients: int, alpha: float, rng: np.random.Generator) -> list[IndexArray]:
    shares: list[list[IndexArray]] = [[] for _ in range(num_clients)]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label)).astype(np.int64)
        proportions = rng.dirichlet(np.full(num_clients, alpha))
        cuts = (np.cumsum(proportions)[:-1] * members.size).astype(np.int64)
        for client, part in enumerate(np.split(members, cuts)):
            shares[client].append(part)
    return [np.sort(np.concatenate(parts)) for parts in shares]


def dirichlet_partition(
    labels: LabelArray,
    num_clients: int,
    alpha: float,
    seed: int,
    min_size: int = DEFAULT_MIN_CLIENT_SIZE,
    max_attempts: int = DIRICHLET_MAX_ATTEMPTS,
) -> list[IndexArray]:
    """Label-skewed split: each class is divided among clients in Dirichlet(``alpha``) proportions.

    Small ``alpha`` (e.g. 0.1) gives each client few classes; large ``alpha`` approaches IID. The draw is
    repeated (same RNG stream, so deterministic per ``seed``) until every client has at least
    ``min_size`` examples; :class:`PartitionError` if that is impossible or not reached in
    ``max_attempts`` draws.
    """
    label_array = np.asarray(labels, dtype=np.int64)
    if label_array.ndim != 1:
        raise PartitionError(f"labels must be 1-D, got shape {label_array.shape}")
    if not alpha > 0:
        raise PartitionError(f"alpha must be > 0, got {alpha}")
    _check_clients(label_array.size, num_clients, min_size)
    rng = np.random.default_rng(seed)
    for _ in range(max_attempts):
        parts = _dirichlet_draw(label_array, num_clients, alpha, rng)
        if min(part.size for part in parts) >= min_size:
            return parts
    raise PartitionError(
        f"no Dirichlet(alpha={alpha}) split of {label_array.size} examples gave all {num_clients} clients "
        f">= {min_size} examples in {max_attempts} attempts; raise alpha or lower min_size"
    )


def natural_partition(groups: npt.ArrayLike) -> dict[str, IndexArray]:
    """One client per distinct group value (e.g. hospital id), keyed by ``str(value)`` in sorted order."""
    group_array: npt.NDArray[Any] = np.asarray(groups)
    if group_array.ndim != 1 or group_array.size == 0:
        raise PartitionError(f"groups must be a non-empty 1-D array, got shape {group_array.shape}")
    values, inverse = np.unique(group_array, return_inverse=True)
    return {str(value): np.flatnonzero(inverse == position).astype(np.int64) for position, value in enumerate(values)}


def label_entropy(labels: LabelArray, num_classes: int) -> float:
    """Shannon entropy in bits of the label distribution of ``labels`` (0 for an empty array)."""
    if labels.size == 0:
        return 0.0
    frequencies = np.bincount(labels, minlength=num_classes) / labels.size
    nonzero = frequencies[frequencies > 0]
    return float(-(nonzero * np.log2(nonzero)).sum())


def mean_label_entropy(labels: LabelArray, partition: Sequence[IndexArray], num_classes: int) -> float:
    """Mean per-client label entropy in bits: lower means more label skew across clients."""
    if not partition:
        raise PartitionError("mean_label_entropy needs at least one client")
    return float(np.mean([label_entropy(labels[part], num_classes) for part in partition]))
