import numpy as np
import pytest

from fedchain.learn import (
    DatasetError,
    PartitionError,
    Preprocessing,
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


def _table(features: list[list[float]], names: tuple[str, ...] = ("a", "b", "c")) -> TabularDataset:
    rows = np.array(features, dtype=np.float64)
    return TabularDataset(name="hospital.csv", features=rows, labels=np.zeros(len(rows), dtype=np.int64),
                          feature_names=names, num_classes=2)


def test_preprocessing_fits_training_statistics_and_imputes_the_mean_only_when_declared() -> None:
    train = _table([[1.0, 5.0, np.nan], [3.0, 5.0, 4.0], [np.nan, 5.0, 6.0]])
    fitted = Preprocessing(missing="mean").fitted(train)
    np.testing.assert_allclose(fitted.mean, [2.0, 5.0, 5.0])
    np.testing.assert_allclose(fitted.scale, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(fitted.transform(np.array([[np.nan, 7.0, 7.0]])), [[0.0, 2.0, 2.0]])
    missing = r"hospital.csv: example 0 \(from 0; row 2 of a CSV file\), column 'c' has no value \(2 missing"
    with pytest.raises(DatasetError, match=missing):
        Preprocessing().fitted(train)
    with pytest.raises(DatasetError, match="have no values"):
        Preprocessing(missing="mean").fitted(_table([[1.0, 2.0, np.nan]]))


def test_preprocessing_checks_the_declared_columns_by_name_and_order() -> None:
    declared = Preprocessing(features=("a", "b", "c"), mean=(0.0, 0.0, 0.0), scale=(1.0, 2.0, 4.0))
    np.testing.assert_allclose(declared.apply(_table([[1.0, 2.0, 4.0]])).features, [[1.0, 1.0, 1.0]])
    with pytest.raises(DatasetError, match=r"feature columns \['b', 'a', 'c'\] are not the task's data.features"):
        declared.apply(_table([[1.0, 2.0, 4.0]], names=("b", "a", "c")))
    with pytest.raises(DatasetError, match="statistics are not known"):
        Preprocessing().apply(_table([[1.0, 2.0, 4.0]]))
    assert Preprocessing.from_json(declared.to_json()).to_json() == declared.to_json()
    raw = _table([[10.0, 20.0, 30.0]])
    np.testing.assert_array_equal(Preprocessing(normalization="none").apply(raw).features, raw.features)


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
    with pytest.raises(DatasetError, match="the task refuses missing values"):
        federate(load_lung(), "natural", seed=0, min_size=10)
    split = federate(load_lung(), "natural", seed=0, min_size=10, preprocessing=Preprocessing(missing="mean"))
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
