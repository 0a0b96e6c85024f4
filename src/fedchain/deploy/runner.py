"""One agent per process: build it from command-line settings, then run it until it has nothing left to do
or a SIGTERM/SIGINT asks it to stop.

The task's mode, read from the chain (``TaskParams.mode``), picks the agent: the plain participant,
aggregator and watcher for a plain task, the secure ones for a secure task (:mod:`fedchain.roles.modes`).

A stop request lets the step in progress finish (a transaction is never abandoned half-way by the
signal) and ends the process within a fraction of a second after it; a second signal stops at once,
which is also safe, since every agent resumes from the chain and its journal.

Logs go to stderr, never with a key: in the ``text`` format one line per record (time, role, address, what
happened), in the ``json`` format one JSON object per line (:class:`JsonFormatter`) with the same text and
the structured fields the agents attach (docs/deployment.md, "Logs").
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Final, Literal

from eth_account.signers.local import LocalAccount
from web3 import Web3

from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import Coordinator, CoordinatorClient, Mode, TaskStatus, Token
from fedchain.chain.keys import DEFAULT_KEY_ENV
from fedchain.chain.modes import MODES
from fedchain.client import Client, ClientError
from fedchain.client.flower import ClientAppAdapter
from fedchain.client.load import as_client, load_object
from fedchain.deploy.deployment import DEFAULT_DEPLOYMENT_FILE
from fedchain.deploy.errors import DeployError
from fedchain.deploy.taskfile import check_task_data
from fedchain.roles import (
    Agent,
    BaseAggregator,
    BaseParticipant,
    BaseWatcher,
    Journal,
    Requester,
    RoleError,
    Validator,
)
from fedchain.roles.audit import AuditedParticipant
from fedchain.roles.journal import JournalError
from fedchain.roles.modes import AGGREGATORS, PARTICIPANTS, WATCHERS
from fedchain.storage import BlobStore
from fedchain.task import TaskSpec, fit_config
from fedchain.task.params import MAX_AMOUNT_UNITS, base_units

if TYPE_CHECKING:  # torch is loaded only where a participant is built: aggregators and watchers never need it
    from fedchain.learn import TabularDataset

LogFormat = Literal["text", "json"]
"""How logs are written: ``text`` for people, ``json`` (one object per line) for machines."""
TEXT_FORMAT: Final = "%(asctime)s %(message)s"
RECORD_ATTRIBUTES: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
"""What every log record has; anything else on a record was given to it with ``extra=``."""
STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)
logger = logging.getLogger("fedchain.deploy")


@dataclass
class StopRequest:
    """Set by the first SIGTERM or SIGINT (a plain flag: safe to set from a signal handler)."""

    requested: bool = False
    signal_name: str = ""

    def __call__(self) -> bool:
        return self.requested


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object on one line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``
    (the text line's), the exception if any, and every field the record was given with ``extra=`` (an agent's
    ``role``, ``address``, ``event``, ``round`` where known, and what the line states)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's JSON line (values JSON cannot hold are written as their text)."""
        time = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, object] = {"time": time, "level": record.levelname, "logger": record.name,
                                   "message": record.getMessage()}
        line |= {key: value for key, value in vars(record).items() if key not in RECORD_ATTRIBUTES}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(log_format: LogFormat) -> None:
    """fedchain's lines at INFO on stderr, in ``log_format``; other libraries only at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
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
    agent.note("start", f"on task {agent.task_id}, coordinator {agent.coordinator.address}, chain "
               f"{agent.coordinator.chain.chain_id}, store {agent.store!r}")
    with stop_on_signals() as stop:
        agent.run(poll_seconds=poll_seconds, until=agent.finished, stop=stop)
    if stop.requested:
        agent.note("stop", f"stopped by {stop.signal_name}", signal=stop.signal_name)
    else:
        agent.note("end", f"task {agent.task_id} has ended and nothing is left to do")


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


def default_journal(task_id: int, address: str) -> Path:
    """A participant's journal unless one is given: ``fedchain-journal-TASK-ADDRESS.json`` in the current folder,
    one file per task and account."""
    return Path(f"fedchain-journal-{task_id}-{address}.json")


def partitions(task: TaskSpec, hospital: int, hospitals: int | None) -> int:
    """How many hospitals a client is told there are (a ClientApp's ``num-partitions``): as given, else the task's
    cohort cap, else at least enough for ``hospital``."""
    return hospitals or task.task.cohort_cap or hospital + 1


def builtin_client(task: TaskSpec, data: TabularDataset, *, device: str = "cpu") -> Client:
    """The built-in trainer: the task's model and training settings on ``data`` (already checked and prepared)."""
    from fedchain.learn import TorchTrainer  # noqa: PLC0415
    from fedchain.task.learning import model_spec, train_config  # noqa: PLC0415

    spec = model_spec(task, in_features=data.num_features, source=f"the data ({data.name})")
    return TorchTrainer.from_spec(spec, init_seed=task.seed, train_data=data,
                                  config=train_config(task, device=device))


def user_client(path: str, *, app: bool, task: TaskSpec, hospital: int, hospitals: int) -> Client:
    """The client at import path ``path``: a Flower ``ClientApp`` (``app``), or a function ``client_fn(hospital)``
    returning a client (a Flower NumPyClient or anything with its methods)."""
    try:
        found = load_object(path, "ClientApp" if app else "client function")
        if not app:
            if not callable(found):
                raise DeployError(f"--client {path}: is a {type(found).__name__}, not a function client_fn(hospital)")
            found = found(hospital)
        return as_client(found, hospital=hospital, hospitals=hospitals, run_config=dict(task.config))
    except ClientError as error:
        raise DeployError(f"--{'app' if app else 'client'} {path}: {error}") from None


def participant(coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount, *,
                task: TaskSpec, client: Client, journal: Path, stake: Decimal | None,
                data: TabularDataset | None = None) -> BaseParticipant:
    """A participant of the task's mode training with ``client``, its journal at ``journal``.

    Before anything is staked: the task file's mode must be the chain's, its ``[data]`` the preprocessing the task's
    model pins, and the client's model (where it can say: a Flower ClientApp has no ``get_parameters``) must be the
    task's: same tensors, same shapes, as pinned on chain by the model-spec hash. Each round its ``fit`` gets the
    task's training settings and own keys.

    An audited task's member (docs/protocol.md section 13) trains the task's step circuit on ``data`` (the built-in
    trainer's prepared training data) instead, and proves its drawn steps (`fedchain.roles.audit.AuditedParticipant`);
    `fedchain.deploy.audited` lists what is checked before it stakes (the task file's [audit] table, the data, the
    circuit against the task's verifier, a restarted member's dataset).
    """
    mode = _task_file_mode(coordinator, task_id, task)
    options: dict[str, Any] = {}
    if isinstance(coordinator, Coordinator) and (task.audit is not None or coordinator.audit_params(task_id).audited):
        from fedchain.deploy.audited import audited_options, check_audit_table  # noqa: PLC0415

        if check_audit_table(coordinator, task_id, task):
            options = audited_options(coordinator, task_id, task, data)
    units = None if stake is None else _units(coordinator, task_id, "--stake", stake)
    _check_funds(coordinator, task_id, account.address, units)
    notes = Journal(journal, owner=account.address, task_id=task_id)
    cls = AuditedParticipant if options else PARTICIPANTS[mode]
    agent = cls(coordinator, store, task_id, account, client=client, fit_config=fit_config(task), journal=notes,
                stake=units, **options)
    _check_data(agent, task, task_id)
    _check_model(agent, client, task_id)
    if isinstance(agent, AuditedParticipant):
        from fedchain.deploy.audited import check_audited_member  # noqa: PLC0415

        check_audited_member(agent, task_id, notes)
    try:
        notes.lock()  # last: a participant refused above holds nothing
    except JournalError as error:
        raise DeployError(str(error)) from None
    return agent


def validator(coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount, *,
              task: TaskSpec, client: Client, journal: Path) -> Validator:
    """A validator of a scored plain task (docs/protocol.md section 12) scoring with ``client``'s ``evaluate`` on
    its held-out data, its journal at ``journal``.

    Before anything is staked: the task must be scored (which only plain tasks are), the task file's mode and
    ``[data]`` must be the chain's, the client's model the task's, and the account must hold the seat's stake
    (``validatorStake``) and ether for gas.
    """
    _task_file_mode(coordinator, task_id, task)
    if not isinstance(coordinator, Coordinator) or not coordinator.scoring_params(task_id).scored:
        raise DeployError(f"task {task_id} is not scored: it has no validator committee (a task file's [scoring] "
                          "table creates one)")
    seat = coordinator.scoring_params(task_id).validator_stake
    if not coordinator.validator_seat(task_id, account.address).joined:
        _check_holdings(coordinator, task_id, account.address, seat, "taking a validator seat in")
    notes = Journal(journal, owner=account.address, task_id=task_id)
    agent = Validator(coordinator, store, task_id, account, client=client, journal=notes)
    _check_data(agent, task, task_id)
    _check_model(agent, client, task_id)
    try:
        notes.lock()  # last: a validator refused above holds nothing
    except JournalError as error:
        raise DeployError(str(error)) from None
    return agent


def _task_file_mode(coordinator: CoordinatorClient, task_id: int, task: TaskSpec) -> Mode:
    """The task's mode, which the task file's must be."""
    mode = task_mode(coordinator, task_id)
    if MODES[task.mode] != mode:
        raise DeployError(f"the task file has mode = \"{task.mode}\", but task {task_id} is {mode.label}: use the "
                          "task's own file")
    return mode


def _check_data(agent: Agent, task: TaskSpec, task_id: int) -> None:
    """The task file's ``[data]`` must be the preprocessing the task's model blob carries (pinned on chain)."""
    try:
        pinned = agent.rules.data
    except RoleError as error:
        raise DeployError(str(error)) from None
    check_task_data(pinned, task, task_id)


def _check_model(agent: Agent, client: Client, task_id: int) -> None:
    """The client's model must be the task's (a ClientApp, which cannot say, gets the task's tensor names)."""
    try:
        shapes = agent.rules.shapes
    except RoleError as error:
        raise DeployError(str(error)) from None
    pinned = [tuple(shape.dims) for shape in shapes]
    if isinstance(client, ClientAppAdapter):
        if client.array_names is None:  # the app loads the arrays by the model's names (to_torch_state_dict)
            client.array_names = [shape.name for shape in shapes]
        return  # a ClientApp has no get_parameters: its arrays are checked against the task's when it trains
    built = [tuple(array.shape) for array in client.get_parameters({})]
    if built != pinned:
        raise DeployError(f"the client's model has tensors of shapes {built}, but task {task_id}'s model has "
                          f"{pinned}: build the task's model (the task file's [model])")


def _check_funds(coordinator: CoordinatorClient, task_id: int, address: str, stake: int | None) -> None:
    """A member-to-be must hold its stake in the task's token and some ether for gas: refused here, with the
    amounts, rather than a join that reverts on every poll."""
    if coordinator.member(task_id, address).joined:
        return
    needed = coordinator.task_params(task_id).min_stake if stake is None else stake
    _check_holdings(coordinator, task_id, address, needed, "joining")


def _check_holdings(coordinator: CoordinatorClient, task_id: int, address: str, needed: int, what: str) -> None:
    """``address`` must hold ``needed`` of the task's token and some ether, or ``what`` task ``task_id`` would
    revert on every poll."""
    token_address = coordinator.task_params(task_id).token
    token = Token(coordinator.chain, token_address)
    held, decimals = token.balance_of(address), token.decimals()
    if held < needed:
        raise DeployError(f"{address} holds {whole_tokens(held, decimals)} tokens of {token_address}, but {what} "
                          f"task {task_id} stakes {whole_tokens(needed, decimals)}: fund the account first")
    if coordinator.chain.w3.eth.get_balance(Web3.to_checksum_address(address)) == 0:
        raise DeployError(f"{address} has no ether to pay for gas: fund the account first")


def aggregator(coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount, *,
               bond: Decimal | None, standby: bool) -> BaseAggregator:
    """An aggregator of the task's mode posting ``bond`` tokens (default: the task's aggregatorBond)."""
    mode = task_mode(coordinator, task_id)
    units = None if bond is None else _units(coordinator, task_id, "--bond", bond)
    return AGGREGATORS[mode](coordinator, store, task_id, account, bond=units, standby=standby)


def watcher(coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount) -> BaseWatcher:
    """A watcher of the task's mode."""
    return WATCHERS[task_mode(coordinator, task_id)](coordinator, store, task_id, account)


def requester(coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount, *,
              task: TaskSpec, evaluator: Client | None) -> Requester:
    """The requester of task ``task_id`` (or any account with validation data): evaluates every anchored model with
    ``evaluator`` and publishes the metrics; the task's requester also withdraws the pool after the end. The task
    file must be the task's (its mode, its ``[data]``, and the evaluator's model the task's)."""
    _task_file_mode(coordinator, task_id, task)
    agent = Requester(coordinator, store, task_id, account, evaluator=evaluator)
    _check_data(agent, task, task_id)
    if evaluator is not None:
        _check_model(agent, evaluator, task_id)
    return agent


def _units(coordinator: CoordinatorClient, task_id: int, option: str, amount: Decimal) -> int:
    token = Token(coordinator.chain, coordinator.task_params(task_id).token)
    return base_units(option, amount, token.decimals(), low=1, high=MAX_AMOUNT_UNITS)


def participate(client: object, *, task: TaskSpec, task_id: int, store: str, rpc: str | None = None,
                key_env: str = DEFAULT_KEY_ENV, deployment: Path = DEFAULT_DEPLOYMENT_FILE,
                coordinator: str | None = None, journal: Path | None = None, stake: Decimal | None = None,
                hospital: int = 0, hospitals: int | None = None, poll_seconds: float = 2.0,
                log_format: LogFormat = "text") -> None:
    """Take part in task ``task_id`` on a real chain with your own ``client`` (a Flower NumPyClient or ClientApp,
    or anything with NumPyClient's methods) until the task is over or a signal stops the process: what `fedchain
    participant run --client` does, from Python. ``rpc`` defaults to $FEDCHAIN_RPC, the key to $FEDCHAIN_PRIVATE_KEY;
    logs go to stderr in ``log_format``."""
    from fedchain.deploy.deployment import coordinator_at, node_chain  # noqa: PLC0415
    from fedchain.storage import open_store  # noqa: PLC0415

    try:
        adapted = as_client(client, hospital=hospital, hospitals=partitions(task, hospital, hospitals),
                            run_config=dict(task.config))
    except ClientError as error:
        raise DeployError(f"client: {error}") from None
    blobs = open_store(store)
    configure_logging(log_format)
    with node_chain(rpc, key_env=key_env) as chain:
        node = coordinator_at(chain, coordinator=coordinator, deployment_file=deployment)
        account = chain.accounts[0]
        path = journal or default_journal(task_id, account.address)
        run_agent(participant(node, blobs, task_id, account, task=task, client=adapted, journal=path, stake=stake),
                  poll_seconds=poll_seconds)
