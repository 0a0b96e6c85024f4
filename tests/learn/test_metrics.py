import numpy as np
import pytest

from fedchain.learn import TrainerError, classification_metrics


def test_binary_accuracy_and_auc() -> None:
    labels = np.array([0, 0, 1, 1])
    probabilities = np.array([[0.9, 0.1], [0.4, 0.6], [0.65, 0.35], [0.2, 0.8]])
    metrics = classification_metrics(labels, probabilities, loss=0.5)
    assert metrics.accuracy == 0.5
    assert metrics.auc == 0.75
    assert metrics.num_examples == 4
    assert metrics.as_dict() == {"accuracy": 0.5, "auc": 0.75}
    assert metrics.correct.tolist() == [True, False, False, True]  # which examples, in order


def test_auc_is_undefined_for_a_single_class() -> None:
    metrics = classification_metrics(np.array([1, 1]), np.array([[0.3, 0.7], [0.6, 0.4]]), loss=1.0)
    assert metrics.auc is None
    assert metrics.as_dict() == {"accuracy": 0.5}


def test_multiclass_macro_auc() -> None:
    labels = np.array([0, 1, 2])
    perfect = np.eye(3) * 0.8 + 0.2 / 3
    assert classification_metrics(labels, perfect, loss=0.1).auc == 1.0
    assert classification_metrics(np.array([0, 1, 1]), perfect, loss=0.1).auc is None


def test_mismatched_inputs_are_rejected() -> None:
    with pytest.raises(TrainerError, match="do not match"):
        classification_metrics(np.array([0, 1]), np.array([[0.5, 0.5]]), loss=0.0)
