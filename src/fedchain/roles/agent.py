"""The common shape of every agent: bound to one task, one account and one blob store; driven by `step()`.

`step()` reads chain state and does at most what is due now, so calling it again is harmless; a test or
the simulator calls it while moving the dev chain's clock, and `run()` calls it in a loop on a real
chain. Every action an agent takes is appended to `actions` (a plain log for tests and the demo).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from eth_account.signers.local import LocalAccount

from fedchain.chain.coordinator import Coordinator, Token
from fedchain.roles.task import TaskRules, load_rules
from fedchain.storage import BlobStore

DEFAULT_POLL_SECONDS = 5.0


class Agent:
    """Base of the participant, aggregator, watcher and requester."""

    def __init__(self, coordinator: Coordinator, store: BlobStore, task_id: int, account: LocalAccount) -> None:
        self.coordinator = coordinator
        self.store = store
        self.task_id = task_id
        self.account = account
        self.actions: list[str] = []
        self._rules: TaskRules | None = None

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

    def run(self, *, poll_seconds: float = DEFAULT_POLL_SECONDS, until: Callable[[], bool] | None = None) -> None:
        """Call `step()` every ``poll_seconds`` until ``until()`` is true (forever if None)."""
        while until is None or not until():
            self.step()
            time.sleep(poll_seconds)

    def ensure_allowance(self, amount: int) -> None:
        """Approve the coordinator to pull ``amount`` of the task token, if not already allowed."""
        if self.token.allowance(self.address, self.coordinator.address) < amount:
            self.token.approve(self.coordinator.address, amount, sender=self.account)

    def log(self, action: str) -> None:
        """Record an action taken."""
        self.actions.append(action)
