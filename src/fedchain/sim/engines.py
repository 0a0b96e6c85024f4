"""Training engines: where the hospitals' local training runs in a simulation (``simulation.engine``).

- ``local``: each hospital's ``fit`` runs in the simulating process, inside its participant's step, one after
  another (what fedchain always did);
- ``ray``: each ``fit`` runs as a Ray task (one CPU each) on a Ray cluster, so a round's trainings run in
  parallel, on as many cores or machines as the cluster has. ``simulation.ray_address`` joins an existing cluster
  (``ray.init(address=...)``); left empty, a local cluster of ``simulation.ray_cpus`` CPUs (default: the
  machine's) is started for the run and shut down after it; a Ray this process has already initialized is used
  as it is and left running. The tasks are stateless, as in Flower's simulation: each hospital's client is
  pickled into Ray's object store once, and every task unpickles a fresh copy of it, gets the round's parameters
  and its config, and returns ``fit``'s arrays, example count and metrics. A worker trains on one torch thread, as the
  simulating process does, so both engines give the same updates bit for bit. ``get_parameters`` and
  ``evaluate`` stay in the simulating process.

An engine is opened for one run (:func:`open_engine`) and wraps each hospital's client (:meth:`TrainingEngine
.client`); a wrapped client's ``start_fit`` returns a :class:`~fedchain.client.jobs.TrainingJob` at once, the
participant keeps stepping while it runs and commits when it is done, and :class:`fedchain.sim.Federation`
waits for a job rather than move the clock while one runs. Ray is imported only when its engine is opened (it is
the optional extra ``fedchain[ray]``), and this module imports nothing heavy, since Ray's workers load it to run
:func:`fit_in_worker`.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Protocol

from fedchain.client.api import Client, Config, Metrics, NDArrays
from fedchain.client.jobs import FitResult
from fedchain.sim.errors import ConfigError, SimulationError

if TYPE_CHECKING:
    from fedchain.sim.config import SimulationSettings

RAY_EXTRA: Final = "pip install 'fedchain[ray]'"
RAY_TASK_CPUS: Final = 1
"""What each training task asks of the cluster: a cluster of N CPUs trains N hospitals at once."""


class TrainingEngine(Protocol):
    """Where the hospitals' ``fit`` runs: :meth:`client` wraps each hospital's client for it."""

    name: str

    def client(self, client: Client) -> Client:
        """``client``, training on this engine."""
        ...


class LocalEngine:
    """Every ``fit`` runs in this process, in the step that starts it: the clients are used as they are."""

    name = "local"

    def client(self, client: Client) -> Client:
        """``client`` itself."""
        return client


def fit_in_worker(pickled: bytes, parameters: NDArrays, config: Config) -> FitResult:
    """One hospital's training in a Ray worker: ``fit`` of a fresh copy of the client (``pickled``) on one torch
    thread (if the client uses torch), as in the simulating process, so that the result is the local engine's bit for
    bit."""
    client = pickle.loads(pickled)  # its own, writable copy (Ray's zero-copy arrays are read-only)
    torch = sys.modules.get("torch")  # the client's module loaded it when the client was unpickled
    if torch is not None:
        torch.set_num_threads(1)
    # arrays from Ray's object store are read-only views of shared memory; a client gets its own, as in-process
    writable = [array if array.flags.writeable else array.copy() for array in parameters]
    arrays, count, metrics = client.fit(writable, config)
    return list(arrays), int(count), dict(metrics)


class RayJob:
    """One ``fit`` running as a Ray task."""

    def __init__(self, ray: Any, ref: Any) -> None:
        self._ray = ray
        self._ref = ref

    def done(self) -> bool:
        """Whether the task has finished."""
        return self.wait(timeout=0)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the task has finished or ``timeout`` seconds passed."""
        ready, _ = self._ray.wait([self._ref], timeout=timeout, fetch_local=False)
        return bool(ready)

    def result(self) -> FitResult:
        """The task's result; a failed ``fit`` raises here (Ray's error is also the original exception's type)."""
        arrays, count, metrics = self._ray.get(self._ref)
        return arrays, count, metrics


class RayClient:
    """A hospital's client whose ``fit`` runs as a Ray task on a copy of the client from the object store;
    ``get_parameters`` and ``evaluate`` run here, on the client itself."""

    def __init__(self, client: Client, engine: RayEngine) -> None:
        self.client = client
        self.engine = engine
        try:
            pickled = engine.ray.cloudpickle.dumps(client)
        except Exception as error:  # whatever the pickler says about an object it cannot pickle
            raise SimulationError(f"a {type(client).__name__} cannot be sent to Ray's workers: {error}") from error
        self.stored = engine.ray.put(pickled)

    def get_parameters(self, config: Config) -> NDArrays:
        """The client's own."""
        return self.client.get_parameters(config)

    def start_fit(self, parameters: NDArrays, config: Config) -> RayJob:
        """Submit the training as a Ray task and return at once."""
        return RayJob(self.engine.ray, self.engine.fit.remote(self.stored, parameters, config))

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        """Train as a Ray task and wait for it."""
        return self.start_fit(parameters, config).result()

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        """The client's own, in this process."""
        return self.client.evaluate(parameters, config)


class RayEngine:
    """Every ``fit`` runs as a Ray task on the cluster ``ray`` (the initialized module) is connected to."""

    name = "ray"

    def __init__(self, ray: Any) -> None:
        self.ray = ray
        self.fit = ray.remote(num_cpus=RAY_TASK_CPUS)(fit_in_worker)

    def client(self, client: Client) -> Client:
        """``client``, training as Ray tasks."""
        return RayClient(client, self)


def import_ray() -> Any:
    """The ``ray`` module, or a :class:`ConfigError` saying how to install it."""
    try:
        import ray  # noqa: PLC0415 (optional: only this engine needs it)
    except ImportError:
        raise ConfigError(f'simulation.engine: "ray" needs Ray, which is not installed: {RAY_EXTRA}') from None
    return ray


@contextmanager
def local_engine(settings: SimulationSettings) -> Iterator[TrainingEngine]:
    """The local engine (nothing to start or stop)."""
    yield LocalEngine()


@contextmanager
def ray_engine(settings: SimulationSettings) -> Iterator[TrainingEngine]:
    """The Ray engine on the cluster at ``settings.ray_address``, else on a local cluster of ``settings.ray_cpus``
    CPUs started here and shut down on the way out; a Ray already initialized in this process is used as it is."""
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        with _ray_noise():
            if settings.ray_address is not None:
                ray.init(address=settings.ray_address, logging_level=logging.WARNING)
            else:
                ray.init(num_cpus=settings.ray_cpus or os.cpu_count() or 1, include_dashboard=False,
                         logging_level=logging.WARNING)
            gc.collect()  # what ray.init left in reference cycles goes now, while its warnings are ignored
    try:
        yield RayEngine(ray)
    finally:
        if started:
            with _ray_noise():
                ray.shutdown()
                gc.collect()  # Ray's handles of the daemons it started go now, while their warnings are ignored


@contextmanager
def _ray_noise() -> Iterator[None]:
    """Ignore the warnings Ray 2.55 gives about itself when it starts and stops a local cluster: a future change to
    the GPU variables of tasks that ask for no GPU, and the /dev/null files and daemon processes whose Python handles
    it drops without closing or waiting for them (some in reference cycles, hence the collections above, lest they
    surface at a random later moment)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", ResourceWarning)
        yield


ENGINES: Final[Mapping[str, Callable[[SimulationSettings], AbstractContextManager[TrainingEngine]]]] = \
    MappingProxyType({"local": local_engine, "ray": ray_engine})
"""Each ``simulation.engine`` and how to open it for a run."""


def open_engine(settings: SimulationSettings) -> AbstractContextManager[TrainingEngine]:
    """The engine ``settings.engine`` names, open for the duration of a ``with`` block."""
    return ENGINES[settings.engine](settings)
