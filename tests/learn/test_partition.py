import numpy as np
import pytest

from fedchain.learn import (
    PartitionError,
    dirichlet_partition,
    iid_partition,
    load_breast_cancer,
    mean_label_entropy,
    natural_partition,
)


def _assert_disjoint_cover(parts: list[np.ndarray], total: int) -> None:
    joined = np.concatenate(parts)
    assert joined.size == total
    assert np.array_equal(np.sort(joined), np.arange(total))


@pytest.fixture(scope="module")
def labels() -> np.ndarray:
    return load_breast_cancer().labels


def test_dirichlet_is_disjoint_covering_and_respects_min_size(labels: np.ndarray) -> None:
    parts = dirichlet_partition(labels, num_clients=6, alpha=0.3, seed=1, min_size=20)
    assert len(parts) == 6
    _assert_disjoint_cover(parts, labels.size)
    assert min(part.size for part in parts) >= 20
    assert all(np.array_equal(part, np.sort(part)) for part in parts)


def test_dirichlet_is_deterministic_per_seed(labels: np.ndarray) -> None:
    first = dirichlet_partition(labels, 5, alpha=0.5, seed=3)
    again = dirichlet_partition(labels, 5, alpha=0.5, seed=3)
    other = dirichlet_partition(labels, 5, alpha=0.5, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_smaller_alpha_means_more_label_skew(labels: np.ndarray) -> None:
    def mean_entropy(alpha: float) -> float:
        return float(
            np.mean(
                [
                    mean_label_entropy(labels, dirichlet_partition(labels, 5, alpha, seed, min_size=5), 2)
                    for seed in range(5)
                ]
            )
        )

    skewed, moderate, near_iid = mean_entropy(0.1), mean_entropy(1.0), mean_entropy(100.0)
    assert skewed < moderate < near_iid
    pooled_entropy = mean_label_entropy(labels, [np.arange(labels.size)], 2)
    assert near_iid == pytest.approx(pooled_entropy, abs=0.05)


def test_dirichlet_impossible_min_size_is_a_clear_error(labels: np.ndarray) -> None:
    with pytest.raises(PartitionError, match="at least 200 examples each"):
        dirichlet_partition(labels, num_clients=3, alpha=1.0, seed=0, min_size=200)
    with pytest.raises(PartitionError, match="in 5 attempts"):
        dirichlet_partition(labels, num_clients=10, alpha=0.01, seed=0, min_size=50, max_attempts=5)
    with pytest.raises(PartitionError, match="alpha must be > 0"):
        dirichlet_partition(labels, num_clients=2, alpha=0.0, seed=0)


def test_iid_partition_is_balanced_and_deterministic() -> None:
    parts = iid_partition(103, num_clients=4, seed=9)
    _assert_disjoint_cover(parts, 103)
    assert sorted(part.size for part in parts) == [25, 26, 26, 26]
    assert all(np.array_equal(a, b) for a, b in zip(parts, iid_partition(103, 4, seed=9), strict=True))
    with pytest.raises(PartitionError, match="4 clients"):
        iid_partition(3, num_clients=4, seed=0)


def test_natural_partition_groups_by_value() -> None:
    parts = natural_partition(np.array(["b", "a", "b", "c", "a"]))
    assert list(parts) == ["a", "b", "c"]
    assert [part.tolist() for part in parts.values()] == [[1, 4], [0, 2], [3]]
    with pytest.raises(PartitionError, match="non-empty"):
        natural_partition(np.array([]))
