"""The interface every leaf-local aggregation rule implements, and its checked inputs.

A rule maps the previous global model and the cohort's quantized updates to the next global model,
coordinate by coordinate, in integers. Because it is leaf-local, the same call works on whole vectors
(the aggregator) and on the coordinates of a single leaf (a fraud proof), see :func:`aggregate_leaf`.
"""

from collections.abc import Sequence
from typing import NamedTuple, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fedchain.aggregate.constants import MAX_UPDATES
from fedchain.aggregate.errors import AggregationError
from fedchain.commit.constants import INT32_MAX, INT32_MIN
from fedchain.commit.errors import EncodingError
from fedchain.commit.leaves import coordinates_to_words, words_to_coordinates


class AggregationRule(Protocol):
    """A leaf-local aggregation rule over int32 vectors."""

    @property
    def rule_id(self) -> int:
        """The rule's number on chain."""
        ...

    def aggregate(
        self, previous: ArrayLike, updates: Sequence[ArrayLike], sample_counts: Sequence[int]
    ) -> NDArray[np.int32]:
        """Return the next global model from ``previous`` and the included ``updates``."""
        ...


class CheckedInputs(NamedTuple):
    """Aggregation inputs after validation, widened to int64."""

    previous: NDArray[np.int64]
    updates: tuple[NDArray[np.int64], ...]
    sample_counts: tuple[int, ...]


def check_inputs(previous: ArrayLike, updates: Sequence[ArrayLike], sample_counts: Sequence[int]) -> CheckedInputs:
    """Validate shapes and bounds: int32 ``previous``, 1..256 updates with |u| ≤ 2^31-1, counts ≥ 1."""
    previous_vector = _int64_vector(previous, "previous model", INT32_MIN)
    if not 1 <= len(updates) <= MAX_UPDATES:
        raise AggregationError(f"need between 1 and {MAX_UPDATES} updates, got {len(updates)}")
    if len(sample_counts) != len(updates):
        raise AggregationError(f"got {len(updates)} updates but {len(sample_counts)} sample counts")
    update_vectors = tuple(_int64_vector(update, f"update {k}", -INT32_MAX) for k, update in enumerate(updates))
    for k, update in enumerate(update_vectors):
        if update.shape != previous_vector.shape:
            raise AggregationError(
                f"update {k} has {update.size} coordinates but the previous model has {previous_vector.size}"
            )
    for k, count in enumerate(sample_counts):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
            raise AggregationError(f"sample count {k} must be a positive integer, got {count!r}")
    return CheckedInputs(previous_vector, update_vectors, tuple(int(count) for count in sample_counts))


def aggregate_leaf(
    rule: AggregationRule,
    previous: Sequence[bytes],
    updates: Sequence[Sequence[bytes]],
    sample_counts: Sequence[int],
) -> tuple[bytes, ...]:
    """Apply ``rule`` to one leaf: the words of the previous model and of each update at that leaf."""
    try:
        previous_coordinates = words_to_coordinates(previous)
        update_coordinates = [words_to_coordinates(words) for words in updates]
    except EncodingError as error:
        raise AggregationError(f"malformed leaf words: {error}") from error
    return coordinates_to_words(rule.aggregate(previous_coordinates, update_coordinates, sample_counts))


def _int64_vector(values: ArrayLike, name: str, lowest: int) -> NDArray[np.int64]:
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise AggregationError(f"{name} must be a flat integer vector, got dtype {array.dtype}, shape {array.shape}")
    if array.dtype == np.uint64 and array.size and int(array.max()) > INT32_MAX:
        raise AggregationError(f"{name} has a value above {INT32_MAX}")
    widened = array.astype(np.int64)
    outside = np.flatnonzero((widened < lowest) | (widened > INT32_MAX))
    if outside.size:
        index = int(outside[0])
        raise AggregationError(f"{name} has {int(widened[index])} at index {index}, outside [{lowest}, {INT32_MAX}]")
    return widened
