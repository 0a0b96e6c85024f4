"""The client layer: what a participant asks of local learning, and Flower's clients adapted to it.

A :class:`Client` has Flower's ``NumPyClient`` methods; a Flower ``NumPyClient`` or ``ClientApp`` becomes one
through :mod:`fedchain.client.flower`. An :class:`AsyncClient` can also start its training as a
:class:`TrainingJob` and return at once (:mod:`fedchain.client.jobs`). This layer knows nothing of chains, storage
or torch.
"""

from fedchain.client.api import ROUND_KEY, Client, Config, Metrics, NDArray, NDArrays, Scalar
from fedchain.client.errors import ClientError, ParameterError
from fedchain.client.jobs import AsyncClient, FinishedJob, FitResult, TrainingJob, start_fit
from fedchain.client.params import Shapes, flatten, unflatten

__all__ = [
    "ROUND_KEY",
    "AsyncClient",
    "Client",
    "ClientError",
    "Config",
    "FinishedJob",
    "FitResult",
    "Metrics",
    "NDArray",
    "NDArrays",
    "ParameterError",
    "Scalar",
    "Shapes",
    "TrainingJob",
    "flatten",
    "start_fit",
    "unflatten",
]
