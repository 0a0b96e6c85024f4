"""One agent per process: build it from command-line settings, then run it until it has nothing left to do
or a SIGTERM/SIGINT asks it to stop.

The task's mode, read from the chain (``TaskParams.mode``), picks the agent: the plain participant,
aggregator and watcher for a plain task, the secure ones for a secure task (:mod:`fedchain.roles.modes`).

A stop request lets the step in progress finish (a transaction is never abandoned half-way by the
signal) and ends the process within a fraction of a second after it; a second signal stops at once,
which is also safe, since every agent resumes from the chain and its journal. Actions are logged one
line each (time, role, address, action), never a key.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Final

from eth_account.signers.local import LocalAccount

from fedchain.chain.coordinator import CoordinatorClient, Mode, TaskStatus, Token
from fedchain.deploy.amounts import MAX_AMOUNT_UNITS, base_units
from fedchain.deploy.errors import DeployError
from fedchain.roles import Agent, BaseAggregator, BaseParticipant, BaseWatcher, Journal, RoleError
from fedchain.roles.modes import AGGREGATORS, PARTICIPANTS, WATCHERS
from fedchain.storage import BlobStore

if TYPE_CHECKING:  # torch is loaded only where a participant is built: aggregators and watchers never need it
    from fedchain.deploy.task_config import TaskConfig
    from fedchain.learn import TabularDataset

LOG_FORMAT: Final = "%(asctime)s %(message)s"
STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)
logger = logging.getLogger("fedchain.deploy")


@dataclass
class StopRequest:
    """Set by the first SIGTERM or SIGINT (a plain flag: safe to set from a signal handler)."""

    requested: bool = False
    signal_name: str = ""

    def __call__(self) -> bool:
        return self.requested


def configure_logging() -> None:
    """fedchain's action lines at INFO on stderr; other libraries only at WARNING."""
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT, stream=sys.stderr, force=True)
    logging.getLogger("fedchain").setLevel(logging.INFO)


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """While inside, the first SIGTERM/SIGINT sets the yielded flag; a second raises KeyboardInterrupt."""
    request = StopRequest()

    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if request.requested:
            raise KeyboardInterrupt(name)
        request.requested, request.signal_name = True, name
        logger.info("%s received: stopping after the current step", name)

    previous = {number: signal.signal(number, handle) for number in STOP_SIGNALS}
    try:
        yield request
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_agent(agent: Agent, *, poll_seconds: float) -> None:
    """Run ``agent`` until it is finished or a signal asks it to stop."""
    if poll_seconds <= 0:
        raise DeployError(f"--poll must be > 0 seconds, got {poll_seconds}")
    role = type(agent).__name__.lower()
    logger.info("%s %s on task %d, coordinator %s, chain %d, store %r", role, agent.address, agent.task_id,
                agent.coordinator.address, agent.coordinator.chain.chain_id, agent.store)
    with stop_on_signals() as stop:
        agent.run(poll_seconds=poll_seconds, until=agent.finished, stop=stop)
    if stop.requested:
        logger.info("%s %s stopped by %s", role, agent.address, stop.signal_name)
    else:
        logger.info("%s %s: task %d has ended and nothing is left to do", role, agent.address, agent.task_id)


def task_mode(coordinator: CoordinatorClient, task_id: int) -> Mode:
    """The mode of task ``task_id``, as the chain has it; the task must exist, and be of the mode of the
    coordinator contract that holds it."""
    if coordinator.task_state(task_id).status == TaskStatus.NONE:
        raise DeployError(f"task {task_id} does not exist on coordinator {coordinator.address}")
    mode = coordinator.task_params(task_id).mode
    if mode != coordinator.MODE:
        raise DeployError(f"task {task_id} has mode {mode}, but coordinator {coordinator.address} is a "
                          f"{coordinator.CONTRACT}, whose tasks are {coordinator.MODE.label} (mode "
                          f"{coordinator.MODE.value})")
    return coordinator.MODE


def participant(coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount, *,
                config: TaskConfig, data: TabularDataset, journal: Path, stake: Decimal | None) -> BaseParticipant:
    """A participant of the task's mode training ``config``'s model on ``data``, its journal at ``journal``.

    The model the configuration builds must be the task's: same tensors, same shapes, as pinned on
    chain by the model-spec hash; and ``data`` must have as many features as the model has inputs.
    """
    from fedchain.learn import TorchTrainer, seeded_model  # noqa: PLC0415

    mode = task_mode(coordinator, task_id)
    if data.num_features != config.model.in_features:
        raise DeployError(f"the data has {data.num_features} feature columns, the model takes "
                          f"{config.model.in_features} (model.in_features)")
    client = TorchTrainer.from_spec(config.model, init_seed=config.seed, train_data=data, config=config.training)
    agent = PARTICIPANTS[mode](coordinator, store, task_id, account, client=client,
                               journal=Journal(journal, owner=account.address, task_id=task_id),
                               stake=None if stake is None else _units(coordinator, task_id, "--stake", stake))
    built = [(name, tuple(tensor.shape)) for name, tensor in seeded_model(config.model, 0).state_dict().items()]
    try:
        pinned = [(shape.name, shape.dims) for shape in agent.rules.shapes]
    except RoleError as error:
        raise DeployError(str(error)) from None
    if built != pinned:
        raise DeployError(f"the configuration's [model] builds tensors {built}, but task {task_id}'s model has "
                          f"{pinned}: use the task's configuration file")
    return agent


def aggregator(coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount, *,
               bond: Decimal | None, standby: bool) -> BaseAggregator:
    """An aggregator of the task's mode posting ``bond`` tokens (default: the task's aggregatorBond)."""
    mode = task_mode(coordinator, task_id)
    units = None if bond is None else _units(coordinator, task_id, "--bond", bond)
    return AGGREGATORS[mode](coordinator, store, task_id, account, bond=units, standby=standby)


def watcher(coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount) -> BaseWatcher:
    """A watcher of the task's mode."""
    return WATCHERS[task_mode(coordinator, task_id)](coordinator, store, task_id, account)


def _units(coordinator: CoordinatorClient, task_id: int, option: str, amount: Decimal) -> int:
    token = Token(coordinator.chain, coordinator.task_params(task_id).token)
    return base_units(option, amount, token.decimals(), low=1, high=MAX_AMOUNT_UNITS)
