"""Training as a job: the optional asynchronous side of the client interface.

A participant starts its round's training with :func:`start_fit` and keeps stepping while it runs; it commits
once the job is done. A client that can train elsewhere (a Ray task, another process, a remote node) has
``start_fit(parameters, config)``, which returns at once with a :class:`TrainingJob`; any other :class:`Client`
trains in ``fit`` as it always did, and its result comes back as a job that is already done
(:class:`FinishedJob`), so a plain client behaves exactly as before.
"""

from typing import Protocol, runtime_checkable

from fedchain.client.api import Client, Config, Metrics, NDArrays

FitResult = tuple[NDArrays, int, Metrics]
"""What ``fit`` returns: the trained parameters, the number of training examples and metrics."""


@runtime_checkable
class TrainingJob(Protocol):
    """One ``fit`` under way: ask whether it is done, wait for it, take its result."""

    def done(self) -> bool:
        """Whether the training has finished (successfully or not); never blocks."""
        ...

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the training has finished or ``timeout`` seconds passed (None: no limit); whether it is
        done. Raises nothing the training raised (:meth:`result` does)."""
        ...

    def result(self) -> FitResult:
        """What ``fit`` returned, waiting for it if need be; raises what ``fit`` raised."""
        ...


@runtime_checkable
class AsyncClient(Client, Protocol):
    """A :class:`Client` that can also start its ``fit`` without waiting for it."""

    def start_fit(self, parameters: NDArrays, config: Config) -> TrainingJob:
        """Start training from ``parameters`` with ``config`` (as ``fit`` would) and return at once."""
        ...


class FinishedJob:
    """A job whose training is over: the result of a ``fit`` that ran in the caller."""

    def __init__(self, result: FitResult) -> None:
        self._result = result

    def done(self) -> bool:
        """Always."""
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Done already."""
        return True

    def result(self) -> FitResult:
        """The result ``fit`` returned."""
        return self._result


def start_fit(client: Client, parameters: NDArrays, config: Config) -> TrainingJob:
    """Start ``client``'s training: its own ``start_fit`` where it has one, else its ``fit``, run here and now (an
    exception it raises propagates from this call, as from ``fit``)."""
    if isinstance(client, AsyncClient):
        return client.start_fit(parameters, config)
    return FinishedJob(client.fit(parameters, config))
