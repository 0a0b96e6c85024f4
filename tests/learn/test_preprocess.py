import numpy as np
import pytest

from fedchain.learn import (
    DatasetError,
    PartitionError,
    Standardizer,
    TabularDataset,
    federate,
    load_breast_cancer,
    load_lung,
    train_test_split,
)


def test_split_is_stratified_disjoint_and_deterministic() -> None:
    dataset = load_breast_cancer()
    train, test = train_test_split(dataset, test_fraction=0.2, seed=5)
    assert len(train) + len(test) == len(dataset)
    assert np.bincount(test.labels).tolist() == [round(0.2 * 212), round(0.2 * 357)]
    again_train, _ = train_test_split(dataset, test_fraction=0.2, seed=5)
    np.testing.assert_array_equal(train.features, again_train.features)
    with pytest.raises(DatasetError, match="test_fraction"):
        train_test_split(dataset, test_fraction=1.0)


def test_standardizer_uses_training_statistics_and_imputes_mean() -> None:
    train = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, 4.0], [np.nan, 5.0, 6.0]])
    standardizer = Standardizer.fit(train)
    np.testing.assert_allclose(standardizer.mean, [2.0, 5.0, 5.0])
    np.testing.assert_allclose(standardizer.scale, [1.0, 1.0, 1.0])
    transformed = standardizer.transform(np.array([[np.nan, 7.0, 7.0]]))
    np.testing.assert_allclose(transformed, [[0.0, 2.0, 2.0]])
    with pytest.raises(DatasetError, match="have no values"):
        Standardizer.fit(np.array([[1.0, np.nan]]))
    with pytest.raises(DatasetError, match="fit on 3 features"):
        standardizer.transform(np.zeros((1, 2)))


def test_federate_standardizes_on_training_data_only() -> None:
    split = federate(load_breast_cancer(), "dirichlet", num_clients=4, alpha=0.5, seed=2, min_size=10)
    pooled = np.concatenate([client.features for client in split.clients])
    np.testing.assert_allclose(pooled.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(pooled.std(axis=0), 1.0, atol=1e-9)
    assert not np.allclose(split.test.features.mean(axis=0), 0.0, atol=1e-9)
    assert sum(len(client) for client in split.clients) + len(split.test) == 569
    assert [client.name for client in split.clients] == [f"breast_cancer/{i}" for i in range(4)]


def test_federate_natural_drops_groups_below_min_size() -> None:
    pytest.importorskip("lifelines", reason="lifelines is not installed")
    split = federate(load_lung(), "natural", seed=0, min_size=10)
    assert all(len(client) >= 10 for client in split.clients)
    assert all(not np.isnan(client.features).any() for client in split.clients)
    for client in split.clients:
        assert client.groups is not None
        assert {str(group) for group in client.groups} == {client.name.removeprefix("lung/")}


def test_federate_errors() -> None:
    dataset = TabularDataset("flat", np.arange(20.0).reshape(10, 2), np.arange(10) % 2, ("a", "b"), 2)
    with pytest.raises(PartitionError, match="no groups"):
        federate(dataset, "natural")
    with pytest.raises(PartitionError, match="unknown partition scheme"):
        federate(dataset, "random", num_clients=2)  # type: ignore[arg-type]
