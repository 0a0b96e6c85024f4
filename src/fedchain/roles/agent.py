"""The common shape of every agent: bound to one task, one account and one blob store; driven by `step()`.

`step()` reads chain state and does at most what is due now, so calling it again is harmless; a test or
the simulator calls it while moving the dev chain's clock, and `run()` calls it in a loop on a real
chain until `finished()`. Every action an agent takes is appended to `actions` (a plain log for tests and
the demo) and logged as one line on the ``fedchain.roles`` logger (addresses only, never a key).

Logging: every line an agent logs reads ``ROLE ADDRESS TEXT`` and carries structured fields for machines
(``extra=``): ``role``, ``address``, ``event`` (an action's name, ``round_summary``, ``step_failed``, ...),
``round`` where the line is about one, and what else the line states (amounts, addresses). A state that
persists across steps (a missing input, a window missed, a node that does not answer) is logged once, when it
begins (``once=``), not at every poll. When a round closes, each role logs one line saying what came of it
(:meth:`Agent.report_closed_rounds`).

Restart safety: an agent holds nothing in memory that it cannot rebuild from the chain (a participant's
salts and updates are in its journal), so one killed at any moment carries on when started again. Its
first concern is a transaction its earlier life may have sent and not seen mined: while the account has
a transaction pending (`in_flight()`), a step does nothing, so no action is ever sent twice.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import ClassVar

from eth_account.signers.local import LocalAccount

from fedchain.chain import ChainError
from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import CoordinatorClient, RoundStatus, RoundView, TaskState, TaskStatus, Token
from fedchain.chain.errors import ContractRevertError
from fedchain.client.jobs import TrainingJob
from fedchain.roles.task import RoleError, TaskRules, load_rules
from fedchain.storage import BlobStore, StorageError, VerifiedBlobs

DEFAULT_POLL_SECONDS = 5.0
STOP_CHECK_SECONDS = 0.2
RETRIED_ERRORS = (ChainError, StorageError)
"""Failures that end one step of `run()` but not the loop: the next step reads the chain afresh (another
agent won a race, a window closed, a node or a store did not answer)."""
EXPECTED_RACES = frozenset({"WrongRoundState", "OutsideWindow", "AlreadyCommitted", "AlreadyChallenged",
                            "SeedAlreadyFixed", "NothingToSlash", "NotSilent", "NotIdle", "ProposalPending",
                            "DisputeExists", "NoOpenDispute", "WrongDisputeStep", "NotChallenged", "WrongChunk",
                            "TaskNotRunning", "NotIncluded"})
"""Reverts that mean another party acted first, or the clock moved on, between the agent's reading of the chain
and its transaction: part of a healthy run, logged as information, not as a failure."""
ACTION_NAME_END = re.compile(r"[ :]")
"""Where an action's name, its ``event``, ends in its log text (``commit`` of ``commit:3``, ``propose`` of
``propose 3``)."""

logger = logging.getLogger("fedchain.roles")


def utc_time(timestamp: int) -> str:
    """A chain timestamp as a person reads it: ``2025-05-01 12:00:00 UTC``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Agent:
    """Base of the participant, aggregator, watcher and requester.

    ``COORDINATOR`` is the client class the agent works with: the base client for what every coordinator
    has, the plain or the secure one for the roles of a round; a subclass narrows the ``coordinator``
    attribute to it, and a client of another kind is refused at construction. ``ROLE`` names the role in
    every log line.
    """

    COORDINATOR: ClassVar[type[CoordinatorClient]] = CoordinatorClient
    ROLE: ClassVar[str] = "agent"
    coordinator: CoordinatorClient

    def __init__(self, coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount) -> None:
        if not isinstance(coordinator, self.COORDINATOR):
            raise RoleError(f"{type(self).__name__} works with a {self.COORDINATOR.__name__} client, "
                            f"got a {type(coordinator).__name__}")
        self.coordinator = coordinator
        self.store = store
        self.task_id = task_id
        self.account = account
        self.actions: list[str] = []
        self.verified = VerifiedBlobs()
        """The blobs and Merkle trees this agent fetched, checked or built itself, so it hashes each tree once (kept
        while their round is open and the next, never shared with another agent)."""
        self._rules: TaskRules | None = None
        self._waiting_for: int | None = None
        self._said: set[Hashable] = set()
        self._reported_below: int | None = None
        self._decimals: int | None = None

    @property
    def address(self) -> str:
        """This agent's account address."""
        return str(self.account.address)

    @property
    def rules(self) -> TaskRules:
        """The task's rules, read from the chain once."""
        if self._rules is None:
            self._rules = load_rules(self.coordinator, self.store, self.task_id, verified=self.verified)
        return self._rules

    @property
    def token(self) -> Token:
        """The task's ERC-20."""
        return Token(self.coordinator.chain, self.rules.params.token)

    def step(self) -> None:
        """Do whatever is due now; subclasses implement it."""
        raise NotImplementedError

    def pending_job(self) -> TrainingJob | None:
        """A job this agent started and its last step found running (a participant's training); None for most
        agents. A simulation never moves the clock while an agent has one: it waits for the job, then steps again."""
        return None

    def finished(self) -> bool:
        """Whether nothing is left for this agent to do: the task has ended (subclasses add what they settle)."""
        return self.coordinator.task_state(self.task_id).status != TaskStatus.RUNNING

    def run(self, *, poll_seconds: float = DEFAULT_POLL_SECONDS, until: Callable[[], bool] | None = None,
            stop: Callable[[], bool] | None = None) -> None:
        """Call `step()` every ``poll_seconds`` until ``until()`` holds after a step, or ``stop()`` holds. A step and
        ``until`` read one snapshot of the chain (`Chain.snapshot`): the latest block learnt once, following the
        step's own transactions.

        A chain or storage failure (:data:`RETRIED_ERRORS`) in a step or in ``until`` ends only that step: it
        is logged and the next poll tries again. The same failure again is not logged again; the first step
        that succeeds after failures says so. ``stop`` (a signal handler's flag, say) is checked between steps
        and while waiting, so a stop request never cuts a step short and is answered within a fraction of a
        second.
        """
        stopping = stop or (lambda: False)
        failure, failures = "", 0
        while not stopping():
            try:
                with self.coordinator.chain.snapshot():  # one consistent read of the chain per step
                    self.step()
                    done = until is not None and until()
                if failures:
                    self.note("step_recovered", f"steps work again after {failures} failed ones")
                    failure, failures = "", 0
                if done:
                    return
            except RETRIED_ERRORS as error:
                if isinstance(error, ContractRevertError) and error.error.name in EXPECTED_RACES:
                    self.note("race_lost", f"{error.action}: the chain moved on ({error.error.name}); reading it "
                              "again", action=error.action, error=error.error.name)
                else:
                    failures += 1
                    if str(error) != failure:
                        failure = str(error)
                        self.warn(f"step failed, trying again every {poll_seconds:g} s (logged again if it fails "
                                  f"differently): {error}", event="step_failed")
            wake = time.monotonic() + poll_seconds
            while not stopping() and (left := wake - time.monotonic()) > 0:
                time.sleep(min(left, STOP_CHECK_SECONDS))

    def in_flight(self) -> bool:
        """Whether a transaction of this account waits to be mined (sent before a crash, say); logged once."""
        mined, sent = self.coordinator.chain.transaction_counts(self.address)
        if sent <= mined:
            self._waiting_for = None
            return False
        if self._waiting_for != mined:
            self._waiting_for = mined
            self.warn(f"waiting for transaction nonce {mined} (sent earlier) to be mined before acting",
                      event="pending_transaction", nonce=mined)
        return True

    def ensure_allowance(self, amount: int) -> None:
        """Approve the coordinator to pull ``amount`` of the task token, if not already allowed."""
        if self.token.allowance(self.address, self.coordinator.address) < amount:
            self.token.approve(self.coordinator.address, amount, sender=self.account)

    def tokens(self, units: int) -> str:
        """``units`` base units of the task's token in whole tokens, as a log line shows them."""
        if self._decimals is None:
            self._decimals = self.token.decimals()
        return f"{whole_tokens(units, self._decimals)} tokens"

    # -- rounds that closed --------------------------------------------------------------------------

    def report_closed_rounds(self, state: TaskState) -> None:
        """Log one summary line (:meth:`round_summary`) for each round that closed since the last call; a process
        starts with the round current when it first looks, so a restarted agent does not repeat old rounds. Each
        closed round lets :attr:`verified` drop what it no longer needs."""
        first = state.current_round if self._reported_below is None else self._reported_below
        for round in range(first, state.current_round):
            self.verified.round_closed()
            view = self.coordinator.round_view(self.task_id, round)
            text, fields = self.round_summary(round, view)
            self.note("round_summary", text, round=round, status=view.status.name.lower(), **fields)
        self._reported_below = state.current_round

    def round_summary(self, round: int, view: RoundView) -> tuple[str, dict[str, object]]:
        """The summary line of closed ``round`` (whose view is ``view``) and its structured fields; roles that
        report their rounds implement it."""
        raise NotImplementedError

    def outcome(self, round: int, view: RoundView) -> str:
        """How closed ``round`` ended, in words: ``round 3 finalized``, or why it failed."""
        if view.status == RoundStatus.FINALIZED:
            return f"round {round} finalized"
        needed = self.rules.params.min_participants
        if view.included < needed:
            return f"round {round} failed: {view.included} inputs included, {needed} needed"
        return f"round {round} failed: no model was proposed and finalized in time ({view.included} inputs included)"

    # -- logging -------------------------------------------------------------------------------------

    def log(self, action: str, *, round: int | None = None, **fields: object) -> None:
        """Record an action taken (its ``event`` is the action's name: the first word of ``action``)."""
        self.actions.append(action)
        self._emit(logging.INFO, ACTION_NAME_END.split(action, maxsplit=1)[0], action, round, fields)

    def note(self, event: str, message: str, *, round: int | None = None, once: Hashable | None = None,
             **fields: object) -> None:
        """Log information that is not an action (a round's summary, what the agent waits for); with ``once``,
        only the first time that key is given."""
        if self._first_time(once):
            self._emit(logging.INFO, event, message, round, fields)

    def warn(self, message: str, *, event: str = "problem", round: int | None = None, once: Hashable | None = None,
             **fields: object) -> None:
        """Log something that went wrong or holds the agent up (not an action); with ``once``, only the first
        time that key is given (a state that persists across steps is said once, not at every poll)."""
        if self._first_time(once):
            self._emit(logging.WARNING, event, message, round, fields)

    def _first_time(self, key: Hashable | None) -> bool:
        if key is None:
            return True
        if key in self._said:
            return False
        self._said.add(key)
        return True

    def _emit(self, level: int, event: str, message: str, round: int | None, fields: dict[str, object]) -> None:
        extra: dict[str, object] = {"role": self.ROLE, "address": self.address, "event": event}
        if round is not None:
            extra["round"] = round
        logger.log(level, "%s %s %s", self.ROLE, self.address, message, extra={**extra, **fields})
