"""A small federation on the embedded chain: requester, participants with real training, aggregators, watcher."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch
from eth_account.signers.local import LocalAccount

from fedchain.chain import Chain, connect
from fedchain.chain.coordinator import Coordinator, RoundPhase, TaskParams, TaskStatus, Token
from fedchain.learn import (
    FederatedSplit,
    ModelSpec,
    TorchTrainer,
    TrainConfig,
    federate,
    initial_parameters,
    load_breast_cancer,
)
from fedchain.roles import Agent, Aggregator, Journal, Participant, Requester, Watcher
from fedchain.storage import LocalBlobStore

WINDOW = 100
STAKE = 10**18
BOND = 2 * 10**18
REWARD = 10**18
FUNDS = 10**21
NUM_CLIENTS = 4
MODEL = ModelSpec("logreg", in_features=30, num_classes=2)
TRAINING = TrainConfig(local_epochs=1, batch_size=32, learning_rate=0.1, seed=3)
MAX_STEPS = 200


def task_template(token: str, num_rounds: int) -> TaskParams:
    """Rules of the test task; num_params and the spec hash are filled in by the requester."""
    return TaskParams(
        commit_window=WINDOW, reveal_window=WINDOW, propose_window=WINDOW, challenge_window=WINDOW,
        cohort_cap=8, min_participants=2, sample_cap=1000, num_rounds=num_rounds, max_silent_rounds=3,
        token=token, mode=0, rule=0, scale_bits=16, words_per_leaf=2, clip=2**20, num_params=0,
        server_lr_bps=10_000, unbonding_delay=WINDOW, allowlist=False, missed_reveal_slash_bps=1_000,
        silence_slash_bps=500, violation_slash_bps=5_000, aggregator_slash_bps=5_000, bounty_bps=2_000,
        aggregator_fee_bps=500, min_stake=STAKE, aggregator_bond=BOND, reward_per_round=REWARD,
        model_spec_hash=bytes(32),
    )


@dataclass
class Federation:
    """Everything a roles test drives."""

    chain: Chain
    coordinator: Coordinator
    token: Token
    store: LocalBlobStore
    requester: Requester
    split: FederatedSplit
    journal_dir: Path
    participants: list[Participant] = field(default_factory=list)
    aggregators: list[Aggregator] = field(default_factory=list)
    watchers: list[Watcher] = field(default_factory=list)

    @property
    def task_id(self) -> int:
        """The task under test."""
        return self.requester.task_id

    def account(self, index: int) -> LocalAccount:
        """Dev account ``index`` (0 is the requester)."""
        return self.chain.accounts[index]

    def trainer(self, client: int) -> TorchTrainer:
        """A fresh trainer over client ``client``'s data."""
        return TorchTrainer.from_spec(MODEL, init_seed=0, train_data=self.split.clients[client], config=TRAINING)

    def journal(self, index: int) -> Journal:
        """The journal file of dev account ``index``."""
        return Journal(self.journal_dir / f"{index}.json", owner=self.account(index).address, task_id=self.task_id)

    def add_participant(self, client: int, cls: type[Participant] = Participant, **options: Any) -> Participant:
        """A participant on dev account ``client + 1`` training on client ``client``'s data."""
        index = client + 1
        participant = cls(self.coordinator, self.store, self.task_id, self.account(index),
                          trainer=self.trainer(client), journal=self.journal(index), **options)
        self.participants.append(participant)
        return participant

    def add_aggregator(self, index: int, cls: type[Aggregator] = Aggregator, **options: Any) -> Aggregator:
        """An aggregator on dev account ``index``."""
        aggregator = cls(self.coordinator, self.store, self.task_id, self.account(index), **options)
        self.aggregators.append(aggregator)
        return aggregator

    def add_watcher(self, index: int) -> Watcher:
        """A watcher on dev account ``index``."""
        watcher = Watcher(self.coordinator, self.store, self.task_id, self.account(index))
        self.watchers.append(watcher)
        return watcher

    def agents(self) -> Sequence[Agent]:
        """Every agent, in the order they are stepped."""
        return [*self.participants, *self.watchers, *self.aggregators, self.requester]

    def step_all(self) -> None:
        """Step every agent once."""
        for agent in self.agents():
            agent.step()

    def run_until(self, done: Any, max_steps: int = MAX_STEPS) -> None:
        """Step all agents, moving the clock to the next deadline whenever nothing changes, until done()."""
        for _ in range(max_steps):
            if done():
                return
            before = self.snapshot()
            self.step_all()
            if self.snapshot() == before:
                self.advance_to_next_deadline()
        raise AssertionError(f"not done after {max_steps} steps; phase {self.phase()}")

    def run_rounds(self, rounds: int) -> None:
        """Run until ``rounds`` rounds closed (or the task ended)."""
        self.run_until(lambda: self.state().current_round >= rounds or self.state().status != TaskStatus.RUNNING)

    def state(self) -> Any:
        """The task's state."""
        return self.coordinator.task_state(self.task_id)

    def phase(self) -> RoundPhase:
        """The current round's phase."""
        return self.coordinator.round_view(self.task_id, self.state().current_round).phase

    def snapshot(self) -> tuple[int, int]:
        """What changes when any agent acted: the chain's block number and the total of action logs."""
        return int(self.chain.w3.eth.block_number), sum(len(agent.actions) for agent in self.agents())

    def advance_to_next_deadline(self) -> None:
        """Move the clock to the next deadline of the current round that lies in the future."""
        view = self.coordinator.round_view(self.task_id, self.state().current_round)
        now = self.chain.now()
        deadlines = [view.commit_end, view.reveal_end, view.propose_end, view.challenge_end]
        future = [deadline for deadline in deadlines if deadline > now]
        self.chain.advance_to(min(future) if future else now + WINDOW)


@pytest.fixture(scope="session")
def breast_cancer_clients() -> FederatedSplit:
    """Breast cancer, Dirichlet-split over the test's clients."""
    return federate(load_breast_cancer(), "dirichlet", num_clients=NUM_CLIENTS, alpha=1.0, seed=11)


@pytest.fixture(autouse=True)
def single_torch_thread() -> Iterator[None]:
    """Tiny models train fastest on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_federation(tmp_path: Path, split: FederatedSplit, num_rounds: int) -> Iterator[Federation]:
    """Deploy token and coordinator, fund accounts, create the task."""
    with connect("embedded") as chain:
        coordinator = Coordinator.deploy(chain)
        token = Token.deploy_dev(chain)
        for account in chain.accounts:
            token.mint(account.address, FUNDS, sender=chain.accounts[0])
        store = LocalBlobStore(tmp_path / "blobs")
        requester = Requester.create_task(
            coordinator, store, chain.accounts[0], template=task_template(token.address, num_rounds),
            parameters=initial_parameters(MODEL, seed=0),
            evaluator=TorchTrainer.from_spec(MODEL, init_seed=0, train_data=split.test),
        )
        yield Federation(chain=chain, coordinator=coordinator, token=token, store=store, requester=requester,
                         split=split, journal_dir=tmp_path / "journals")


@pytest.fixture
def federation(tmp_path: Path, breast_cancer_clients: FederatedSplit) -> Iterator[Federation]:
    """A two-round task, nobody joined yet."""
    yield from make_federation(tmp_path, breast_cancer_clients, num_rounds=2)
