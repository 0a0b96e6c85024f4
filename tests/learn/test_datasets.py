from pathlib import Path

import numpy as np
import pytest

from fedchain.learn import (
    DatasetError,
    TabularDataset,
    load_breast_cancer,
    load_csv,
    load_csv_federation,
    load_diabetes,
    load_lung,
    natural_partition,
)
from fedchain.learn.datasets import concat_datasets


def test_breast_cancer_shape() -> None:
    dataset = load_breast_cancer()
    assert dataset.features.shape == (569, 30)
    assert np.bincount(dataset.labels).tolist() == [212, 357]
    assert dataset.class_names == ("malignant", "benign")


def test_diabetes_is_binarized_at_the_median() -> None:
    dataset = load_diabetes()
    assert dataset.features.shape == (442, 10)
    assert np.bincount(dataset.labels).tolist() == [221, 221]
    assert dataset.class_names == ("at or below median progression", "above median progression")


def test_lung_label_and_natural_split_by_institution() -> None:
    lifelines_datasets = pytest.importorskip("lifelines.datasets", reason="lifelines is not installed")
    frame = lifelines_datasets.load_lung()
    known = frame[frame["inst"].notna() & ((frame["status"] == 1) | (frame["time"] > 365))]
    expected_counts = {str(int(inst)): count for inst, count in known["inst"].value_counts().items()}
    expected_deaths = int(((known["status"] == 1) & (known["time"] <= 365)).sum())

    dataset = load_lung()
    assert len(dataset) == len(known)
    assert int(dataset.labels.sum()) == expected_deaths
    assert dataset.class_names == ("alive after 365 days", "died within 365 days")
    assert dataset.groups is not None
    clients = natural_partition(dataset.groups)
    assert {key: part.size for key, part in clients.items()} == expected_counts
    assert len(clients) == known["inst"].nunique()
    assert list(clients) == sorted(clients, key=int)


def _write(tmp_path: Path, text: str, name: str = "hospital.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_loads_features_labels_groups_and_missing_values(tmp_path: Path) -> None:
    path = _write(tmp_path, "age,site,bmi,outcome\n50,A,22.5,1\n61,B,,0\n\n45,A,30,2\n")
    dataset = load_csv(path, label_column="outcome", group_column="site")
    assert dataset.name == "hospital"
    assert dataset.feature_names == ("age", "bmi")
    assert dataset.num_classes == 3
    assert dataset.labels.tolist() == [1, 0, 2]
    assert np.isnan(dataset.features[1, 1])
    assert dataset.groups is not None
    assert dataset.groups.tolist() == ["A", "B", "A"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "file is empty"),
        ("age,outcome\n", "no data rows"),
        ("age,bmi\n1,2\n", "column 'outcome' not found"),
        ("age,outcome\nold,1\n", "row 2, column 'age': value 'old' is not numeric"),
        ("age,outcome\n40,yes\n", "label column 'outcome': value 'yes' is not an integer"),
        ("age,outcome\n40,1.5\n", "not a non-negative integer"),
        ("age,outcome\n40,1\n41\n", "row 3 has 1 fields, the header has 2"),
        ("outcome\n1\n", "no feature columns"),
    ],
)
def test_csv_errors_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_csv(_write(tmp_path, text), label_column="outcome")


def test_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load_csv(tmp_path / "absent.csv", label_column="outcome")


def test_csv_label_out_of_declared_range(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"label 2 is not a class of the model \(num_classes = 2: labels 0..1\)"):
        load_csv(_write(tmp_path, "x,y\n1,2\n"), label_column="y", num_classes=2)


def test_csv_federation_aligns_classes_and_checks_columns(tmp_path: Path) -> None:
    first = _write(tmp_path, "x,y\n1,0\n2,1\n", "a.csv")
    second = _write(tmp_path, "x,y\n1,2\n", "b.csv")
    loaded = load_csv_federation([first, second], label_column="y")
    assert [dataset.num_classes for dataset in loaded] == [3, 3]
    other = _write(tmp_path, "z,y\n1,0\n", "c.csv")
    with pytest.raises(DatasetError, match="feature columns"):
        load_csv_federation([first, other], label_column="y")


def test_dataset_validation_and_pooling() -> None:
    with pytest.raises(DatasetError, match="labels must lie in"):
        TabularDataset("bad", np.zeros((2, 1)), np.array([0, 2]), ("x",), num_classes=2)
    with pytest.raises(DatasetError, match="2 classes but 3 class names"):
        TabularDataset("bad", np.zeros((2, 1)), np.array([0, 1]), ("x",), num_classes=2, class_names=("a", "b", "c"))
    part = TabularDataset("a", np.ones((2, 1)), np.array([0, 1]), ("x",), num_classes=2, class_names=("no", "yes"))
    pooled = concat_datasets([part, part.subset(np.array([1]))], name="both")
    assert len(pooled) == 3 and pooled.class_names == ("no", "yes")
    assert pooled.labels.tolist() == [0, 1, 1]
