"""The Trainer interface: Flower's NumPyClient signatures, so a Flower client runs unchanged."""

from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Scalar = bool | bytes | float | int | str
"""A config or metrics value, as in Flower."""

Config = dict[str, Scalar]
"""Configuration sent to a trainer (Flower's ``Config``)."""

Metrics = dict[str, Scalar]
"""Metrics returned by a trainer (Flower's ``Metrics``)."""

NDArray = npt.NDArray[Any]
NDArrays = list[NDArray]
"""A model's parameters as a list of NumPy arrays (Flower's ``NDArrays``)."""

FloatArray = npt.NDArray[np.float64]
LabelArray = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.int64]


@runtime_checkable
class Trainer(Protocol):
    """What a participant needs from local learning; identical to ``flwr.client.NumPyClient``.

    ``fit`` returns the locally trained parameters, the number of training examples and metrics;
    ``evaluate`` returns the loss, the number of evaluation examples and metrics.
    """

    def get_parameters(self, config: Config) -> NDArrays:
        """The current local model parameters."""
        ...

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        """Train from ``parameters`` on the local data."""
        ...

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        """Evaluate ``parameters`` on the local evaluation data."""
        ...
