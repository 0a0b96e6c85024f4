"""The client layer: what a participant asks of local learning, and Flower's clients adapted to it.

A :class:`Client` has Flower's ``NumPyClient`` methods; a Flower ``NumPyClient`` or ``ClientApp`` becomes one
through :mod:`fedchain.client.flower`. This layer knows nothing of chains, storage or torch.
"""

from fedchain.client.api import ROUND_KEY, Client, Config, Metrics, NDArray, NDArrays, Scalar
from fedchain.client.errors import ClientError, ParameterError
from fedchain.client.params import Shapes, flatten, unflatten

__all__ = [
    "ROUND_KEY",
    "Client",
    "ClientError",
    "Config",
    "Metrics",
    "NDArray",
    "NDArrays",
    "ParameterError",
    "Scalar",
    "Shapes",
    "flatten",
    "unflatten",
]
