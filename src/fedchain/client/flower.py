"""Flower clients as fedchain :class:`~fedchain.client.api.Client` objects, unchanged.

:class:`NumPyClientAdapter` runs a Flower ``NumPyClient`` (or any object with its three methods): it relies
only on the method signatures, and checks the returned values the way Flower's own client wrapper does, so
a client that Flower would reject fails here too, with a message naming the method and the offending value.
"""

from typing import Any

import numpy as np

from fedchain.client.api import Client, Config, Metrics, NDArrays
from fedchain.client.errors import ClientError


def _check_arrays(method: str, arrays: Any) -> NDArrays:
    if not isinstance(arrays, list):
        raise ClientError(f"{method} must return a list of NumPy arrays, got {type(arrays).__name__}")
    for position, array in enumerate(arrays):
        if not isinstance(array, np.ndarray):
            raise ClientError(f"{method} returned a {type(array).__name__} at position {position}, not an ndarray")
    return arrays


def _check_triple(method: str, result: Any) -> tuple[Any, Any, Any]:
    if not isinstance(result, tuple) or len(result) != 3:
        raise ClientError(f"{method} must return a 3-tuple, got {type(result).__name__}")
    first, count, metrics = result
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ClientError(f"{method} must return a non-negative int example count, got {count!r}")
    if not isinstance(metrics, dict):
        raise ClientError(f"{method} must return a metrics dict, got {type(metrics).__name__}")
    return first, count, metrics


class NumPyClientAdapter:
    """A :class:`Client` that delegates to a ``flwr.client.NumPyClient`` (or any object with its methods)."""

    def __init__(self, client: Client) -> None:
        for method in ("get_parameters", "fit", "evaluate"):
            if not callable(getattr(client, method, None)):
                raise ClientError(f"{type(client).__name__} has no {method}() method of a Flower NumPyClient")
        self.client = client

    def get_parameters(self, config: Config) -> NDArrays:
        """The client's current parameters."""
        return _check_arrays("get_parameters", self.client.get_parameters(config))

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        """The client's ``fit``, with Flower's return-type checks."""
        arrays, count, metrics = _check_triple("fit", self.client.fit(parameters, config))
        return _check_arrays("fit", arrays), count, metrics

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        """The client's ``evaluate``, with Flower's return-type checks."""
        loss, count, metrics = _check_triple("evaluate", self.client.evaluate(parameters, config))
        if not isinstance(loss, float):
            raise ClientError(f"evaluate must return a float loss, got {type(loss).__name__}")
        return loss, count, metrics
