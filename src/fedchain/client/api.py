"""The client interface: Flower's NumPyClient signatures, so a Flower client runs unchanged.

A participant hands its :class:`Client` the global model's arrays and a config (:data:`Config`): the round
(``"server-round"``, as Flower's strategies send it) and the task's training settings and own keys, as a
Flower strategy's ``on_fit_config_fn`` would.
"""

from collections.abc import Mapping
from typing import Any, Final, Protocol, runtime_checkable

import numpy.typing as npt

Scalar = bool | bytes | float | int | str
"""A config or metrics value, as in Flower."""

Config = dict[str, Scalar]
"""Configuration sent to a trainer (Flower's ``Config``)."""

Metrics = dict[str, Scalar]
"""Metrics returned by a trainer (Flower's ``Metrics``)."""


def numeric_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The metrics that are numbers, as floats (strings, bytes and booleans are left out)."""
    return {name: float(value) for name, value in metrics.items()
            if isinstance(value, int | float) and not isinstance(value, bool)}

NDArray = npt.NDArray[Any]
NDArrays = list[NDArray]
"""A model's parameters as a list of NumPy arrays (Flower's ``NDArrays``)."""

ROUND_KEY: Final = "server-round"
"""The config key that carries the round number (Flower's Message-API strategies use the same key)."""


@runtime_checkable
class Client(Protocol):
    """What a participant needs from local learning; the methods of ``flwr.client.NumPyClient``.

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
