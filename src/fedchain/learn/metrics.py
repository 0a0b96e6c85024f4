"""Classification metrics shared by local evaluation, global evaluation and baselines."""

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

from fedchain.learn.errors import TrainerError


@dataclass(frozen=True)
class EvalMetrics:
    """Loss, accuracy and ROC AUC of a model on ``num_examples`` labelled examples.

    ``auc`` is ``None`` when it is undefined: the labels contain a single class, or (multiclass) some
    class of the model never occurs among the labels. ``correct`` says which examples, in order, the model
    classified right (what comparing two models on the same examples needs); it takes no part in equality.
    """

    loss: float
    accuracy: float
    auc: float | None
    num_examples: int
    correct: npt.NDArray[np.bool_] = field(repr=False, compare=False)

    def as_dict(self) -> dict[str, float]:
        """Metrics as a Flower-style metrics dict: ``accuracy`` always, ``auc`` only when defined."""
        metrics = {"accuracy": self.accuracy}
        if self.auc is not None:
            metrics["auc"] = self.auc
        return metrics


def roc_auc(labels: npt.NDArray[np.int64], probabilities: npt.NDArray[np.float64]) -> float | None:
    """ROC AUC from class probabilities ``(n, num_classes)``; ``None`` when undefined.

    Binary: the AUC of the positive-class probability. Multiclass: macro-averaged one-vs-rest AUC,
    defined only when every class occurs among the labels.
    """
    num_classes = probabilities.shape[1]
    present = np.unique(labels)
    if present.size < 2:
        return None
    if num_classes == 2:
        return float(roc_auc_score(labels, probabilities[:, 1]))
    if present.size < num_classes:
        return None
    return float(roc_auc_score(labels, probabilities, multi_class="ovr", average="macro"))


def classification_metrics(
    labels: npt.NDArray[np.int64], probabilities: npt.NDArray[np.float64], loss: float
) -> EvalMetrics:
    """Accuracy and AUC of predicted class ``probabilities`` ``(n, num_classes)`` against ``labels``."""
    if probabilities.ndim != 2 or probabilities.shape[0] != labels.shape[0]:
        raise TrainerError(f"probabilities of shape {probabilities.shape} do not match {labels.shape[0]} labels")
    if labels.shape[0] == 0:
        raise TrainerError("cannot compute metrics on an empty set of examples")
    correct = np.argmax(probabilities, axis=1) == labels
    return EvalMetrics(
        loss=float(loss),
        accuracy=float(np.mean(correct)),
        auc=roc_auc(labels, probabilities),
        num_examples=int(labels.shape[0]),
        correct=correct,
    )
