"""What every leaf-local aggregation rule shares: its parameters, its checked inputs and its tail.

A rule maps the previous global model and the cohort's quantized updates to the next global model,
coordinate by coordinate, in integers (docs/protocol.md section 4):

    w_k = min(n_k, sampleCap)                      the weight of update k (its revealed sample count n_k)
    C_i = center(u_1[i], ..., u_n[i]; w)           the rule's own part, in int64
    g'_i = clamp(g_i + tdiv(C_i * serverLrBps, 10000), int32)

Each rule is a subclass of :class:`AggregationRule` in a module of this package, listed in
:mod:`fedchain.aggregate.registry` (the Solidity side: contracts/src/rules, listed in RuleRegistry.sol). Because
every rule is leaf-local, the same call works on whole vectors (the aggregator) and on the coordinates of a single
leaf (a fraud proof), see :func:`aggregate_leaf`.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fedchain.aggregate.constants import BPS_DENOMINATOR, MAX_SAMPLE_CAP, MAX_SERVER_LR_BPS, MAX_UPDATES
from fedchain.aggregate.errors import AggregationError
from fedchain.commit.constants import INT32_MAX, INT32_MIN
from fedchain.commit.errors import EncodingError
from fedchain.commit.leaves import coordinates_to_words, words_to_coordinates


@dataclass(frozen=True)
class RuleParameter:
    """A rule's one parameter (the chain's ``ruleParam``): its key in a task file's ``[rule]`` table, its default
    and its range, in basis points of a fraction."""

    key: str
    default_bps: int
    low_bps: int
    high_bps: int


@dataclass(frozen=True)
class AggregationRule(ABC):
    """A leaf-local aggregation rule over int32 vectors: ``sample_cap`` in [1, 2^20], ``server_lr_bps`` in
    [1, 100000] (10000 = 1), ``param`` the chain's ``ruleParam`` (0 for a rule without a parameter)."""

    sample_cap: int
    server_lr_bps: int = BPS_DENOMINATOR
    param: int = 0
    rule_id: ClassVar[int]
    """The rule's id on chain (the AggregationRule enum of contracts/src/FedTypes.sol)."""
    name: ClassVar[str]
    """The rule's name in a task file's ``[rule] name``."""
    summary: ClassVar[str]
    """What the rule does, in a line."""
    secure: ClassVar[bool]
    """Whether secure mode can apply it: only from the weighted sum of the updates, the one thing unmasked."""
    parameter: ClassVar[RuleParameter | None] = None
    """The rule's parameter, if it has one."""

    def __post_init__(self) -> None:
        if not _is_int(self.sample_cap) or not 1 <= self.sample_cap <= MAX_SAMPLE_CAP:
            raise AggregationError(f"sample_cap must be an integer in [1, {MAX_SAMPLE_CAP}], got {self.sample_cap!r}")
        if not _is_int(self.server_lr_bps) or not 1 <= self.server_lr_bps <= MAX_SERVER_LR_BPS:
            raise AggregationError(
                f"server_lr_bps must be an integer in [1, {MAX_SERVER_LR_BPS}], got {self.server_lr_bps!r}"
            )
        low, high = (0, 0) if self.parameter is None else (self.parameter.low_bps, self.parameter.high_bps)
        if not _is_int(self.param) or not low <= self.param <= high:
            raise AggregationError(f"{self.name} takes a rule parameter in [{low}, {high}], got {self.param!r}")

    def weight(self, sample_count: int) -> int:
        """The weight ``min(n, sampleCap)`` of an update revealed with ``sample_count`` samples."""
        return min(sample_count, self.sample_cap)

    def aggregate(
        self, previous: ArrayLike, updates: Sequence[ArrayLike], sample_counts: Sequence[int]
    ) -> NDArray[np.int32]:
        """Return the next global model (int32) from ``previous`` and the included ``updates``."""
        inputs = check_inputs(previous, updates, sample_counts)
        weights = tuple(self.weight(count) for count in inputs.sample_counts)
        return apply_step(inputs.previous, self.center(inputs.updates, weights), self.server_lr_bps)

    @abstractmethod
    def center(self, updates: tuple[NDArray[np.int64], ...], weights: tuple[int, ...]) -> NDArray[np.int64]:
        """The rule's center of every coordinate, before the server step (inputs checked, int64)."""


def apply_step(previous: NDArray[np.int64], centers: NDArray[np.int64], server_lr_bps: int) -> NDArray[np.int32]:
    """The tail every rule shares: ``clamp(g + tdiv(C * serverLrBps, 10000), int32)``."""
    step = truncating_divide(centers * server_lr_bps, BPS_DENOMINATOR)
    new_model: NDArray[np.int32] = np.clip(previous + step, INT32_MIN, INT32_MAX).astype(np.int32)
    return new_model


def truncating_divide(numerators: NDArray[np.int64], denominator: int) -> NDArray[np.int64]:
    """Divide element-wise, rounding toward zero (Solidity's signed ``/``), exactly in int64."""
    if denominator == 0:
        raise AggregationError("division by zero")
    return (numerators - np.fmod(numerators, denominator)) // denominator


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
    previous_coordinates, update_coordinates = leaf_coordinates(previous, updates)
    return coordinates_to_words(rule.aggregate(previous_coordinates, update_coordinates, sample_counts))


def leaf_coordinates(previous: Sequence[bytes], updates: Sequence[Sequence[bytes]]
                     ) -> tuple[NDArray[np.int32], list[NDArray[np.int32]]]:
    """The coordinates of one leaf's words, the previous model's and each update's (a fraud proof's inputs);
    :class:`AggregationError` for malformed words."""
    try:
        return words_to_coordinates(previous), [words_to_coordinates(words) for words in updates]
    except EncodingError as error:
        raise AggregationError(f"malformed leaf words: {error}") from error


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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
