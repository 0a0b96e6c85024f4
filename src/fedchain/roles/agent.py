"""The common shape of every agent: bound to one task, one account and one blob store; driven by `step()`.

`step()` reads chain state and does at most what is due now, so calling it again is harmless; a test or
the simulator calls it while moving the dev chain's clock, and `run()` calls it in a loop on a real
chain until `finished()`. Every action an agent takes is appended to `actions` (a plain log for tests and
the demo) and logged as one line on the ``fedchain.roles`` logger (addresses only, never a key).

Restart safety: an agent holds nothing in memory that it cannot rebuild from the chain (a participant's
salts and updates are in its journal), so one killed at any moment carries on when started again. Its
first concern is a transaction its earlier life may have sent and not seen mined: while the account has
a transaction pending (`in_flight()`), a step does nothing, so no action is ever sent twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import ClassVar

from eth_account.signers.local import LocalAccount

from fedchain.chain import ChainError
from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import CoordinatorClient, TaskStatus, Token
from fedchain.chain.errors import ContractRevertError
from fedchain.roles.task import RoleError, TaskRules, load_rules
from fedchain.storage import BlobStore, StorageError

DEFAULT_POLL_SECONDS = 5.0
STOP_CHECK_SECONDS = 0.2
RETRIED_ERRORS = (ChainError, StorageError)
"""Failures that end one step of `run()` but not the loop: the next step reads the chain afresh (another
agent won a race, a window closed, a node or a store did not answer)."""
EXPECTED_RACES = frozenset({"WrongRoundState", "OutsideWindow", "AlreadyCommitted", "AlreadyChallenged",
                            "SeedAlreadyFixed", "NothingToSlash", "NotSilent", "NotIdle", "ProposalPending",
                            "DisputeExists", "NoOpenDispute", "WrongDisputeStep", "NotChallenged", "WrongChunk",
                            "TaskNotRunning"})
"""Reverts that mean another party acted first, or the clock moved on, between the agent's reading of the chain
and its transaction: part of a healthy run, logged as information, not as a failure."""

logger = logging.getLogger("fedchain.roles")


class Agent:
    """Base of the participant, aggregator, watcher and requester.

    ``COORDINATOR`` is the client class the agent works with: the base client for what every coordinator
    has, the plain or the secure one for the roles of a round; a subclass narrows the ``coordinator``
    attribute to it, and a client of another kind is refused at construction.
    """

    COORDINATOR: ClassVar[type[CoordinatorClient]] = CoordinatorClient
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
        self._rules: TaskRules | None = None
        self._waiting_for: int | None = None
        self._warned: set[str] = set()
        self._decimals: int | None = None

    @property
    def address(self) -> str:
        """This agent's account address."""
        return str(self.account.address)

    @property
    def rules(self) -> TaskRules:
        """The task's rules, read from the chain once."""
        if self._rules is None:
            self._rules = load_rules(self.coordinator, self.store, self.task_id)
        return self._rules

    @property
    def token(self) -> Token:
        """The task's ERC-20."""
        return Token(self.coordinator.chain, self.rules.params.token)

    def step(self) -> None:
        """Do whatever is due now; subclasses implement it."""
        raise NotImplementedError

    def finished(self) -> bool:
        """Whether nothing is left for this agent to do: the task has ended (subclasses add what they settle)."""
        return self.coordinator.task_state(self.task_id).status != TaskStatus.RUNNING

    def run(self, *, poll_seconds: float = DEFAULT_POLL_SECONDS, until: Callable[[], bool] | None = None,
            stop: Callable[[], bool] | None = None) -> None:
        """Call `step()` every ``poll_seconds`` until ``until()`` holds after a step, or ``stop()`` holds.

        A chain or storage failure (:data:`RETRIED_ERRORS`) in a step or in ``until`` ends only that step: it
        is logged and the next poll tries again. ``stop`` (a signal handler's flag, say) is checked between
        steps and while waiting, so a stop request never cuts a step short and is answered within a fraction
        of a second.
        """
        stopping = stop or (lambda: False)
        while not stopping():
            try:
                self.step()
                if until is not None and until():
                    return
            except RETRIED_ERRORS as error:
                if isinstance(error, ContractRevertError) and error.error.name in EXPECTED_RACES:
                    logger.info("%s %s %s: the chain moved on (%s); reading it again", type(self).__name__.lower(),
                                self.address, error.action, error.error.name)
                else:
                    self.warn(f"step failed, trying again in {poll_seconds:g} s: {error}")
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
            self.warn(f"waiting for transaction nonce {mined} (sent earlier) to be mined before acting")
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

    def log(self, action: str) -> None:
        """Record an action taken."""
        self.actions.append(action)
        logger.info("%s %s %s", type(self).__name__.lower(), self.address, action)

    def warn(self, message: str) -> None:
        """Log something that went wrong or holds the agent up (not an action)."""
        logger.warning("%s %s %s", type(self).__name__.lower(), self.address, message)

    def warn_once(self, message: str) -> None:
        """:meth:`warn`, unless this very message was logged before (a state that persists across steps)."""
        if message not in self._warned:
            self._warned.add(message)
            self.warn(message)
