"""A small federation on the embedded chain: requester, participants with real training, aggregators, watcher.

The driving logic lives in :class:`fedchain.sim.Federation`; this file only fixes the test task's rules,
the model and the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from fedchain.chain import connect
from fedchain.chain.coordinator import Mode, TaskParams
from fedchain.learn import (
    FederatedSplit,
    ModelSpec,
    TorchTrainer,
    TrainConfig,
    federate,
    initial_parameters,
    load_breast_cancer,
)
from fedchain.sim import Federation
from fedchain.storage import BlobNotFoundError, BlobStore, LocalBlobStore, blob_ref, ref_hex

WINDOW = 100
STAKE = 10**18
BOND = 2 * 10**18
REWARD = 10**18
DEPOSIT = 10**17
FUNDS = 10**21
NUM_CLIENTS = 4
MODEL = ModelSpec("logreg", in_features=30, num_classes=2)
TRAINING = TrainConfig(local_epochs=1, batch_size=32, learning_rate=0.1, seed=3)

NEIGHBOURS, THRESHOLD = 4, 2
"""Secure tasks: with 4 clients the graph is complete, and a round survives one dropout (each survivor keeps 2
surviving neighbours) but not two."""

__all__ = ["BOND", "DEPOSIT", "FUNDS", "NEIGHBOURS", "NUM_CLIENTS", "REWARD", "STAKE", "THRESHOLD", "WINDOW",
           "Federation", "LosingStore", "earned", "make_federation", "secure_task_template"]


def task_template(num_rounds: int) -> TaskParams:
    """Rules of the test task; the token, num_params and the spec hash are filled in at launch."""
    return TaskParams(
        commit_window=WINDOW, reveal_window=WINDOW, propose_window=WINDOW, challenge_window=WINDOW,
        cohort_cap=8, min_participants=2, sample_cap=1000, num_rounds=num_rounds, max_silent_rounds=3,
        token="0x" + "00" * 20, mode=0, rule=0, scale_bits=16, words_per_leaf=2, clip=2**20, num_params=0,
        server_lr_bps=10_000, unbonding_delay=WINDOW, allowlist=False, missed_reveal_slash_bps=1_000,
        silence_slash_bps=500, violation_slash_bps=5_000, aggregator_slash_bps=5_000, bounty_bps=2_000,
        aggregator_fee_bps=500, min_stake=STAKE, aggregator_bond=BOND, reward_per_round=REWARD,
        availability_window=WINDOW, availability_bond=DEPOSIT, model_spec_hash=bytes(32),
    )


def secure_task_template(num_rounds: int) -> TaskParams:
    """The test task in secure mode."""
    return replace(task_template(num_rounds), mode=Mode.SECURE, neighbours=NEIGHBOURS, threshold=THRESHOLD)


class LosingStore:
    """A participant's view of a store that lost some blobs for good: it reads and writes ``inner``, but a blob
    under one of the ``lost`` references is never there, and putting it again keeps nothing."""

    def __init__(self, inner: BlobStore, lost: set[bytes]) -> None:
        self.inner, self.lost = inner, lost

    def put(self, data: bytes) -> bytes:
        ref = blob_ref(data)
        return ref if ref in self.lost else self.inner.put(data)

    def get(self, ref: bytes) -> bytes:
        if ref in self.lost:
            raise BlobNotFoundError(f"blob {ref_hex(ref)} was lost")
        return self.inner.get(ref)

    def has(self, ref: bytes) -> bool:
        return ref not in self.lost and self.inner.has(ref)


def earned(federation: Federation, participant: str) -> int:
    """What ``participant``'s reveals in finalized rounds earned, from the events alone (weight times the
    round's rewardPerWeight, docs/protocol.md section 8.5)."""
    events = federation.coordinator.contract.events
    task = {"taskId": federation.task_id}
    finalized = {int(log.args.round): int(log.args.rewardPerWeight)
                 for log in events.RoundFinalized().get_logs(from_block=0, argument_filters=task)}
    reveals = events.Revealed().get_logs(from_block=0, argument_filters={"taskId": federation.task_id,
                                                                         "participant": participant})
    return sum(int(log.args.weight) * finalized.get(int(log.args.round), 0) for log in reveals)


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


def make_federation(tmp_path: Path, split: FederatedSplit, template: TaskParams) -> Iterator[Federation]:
    """Deploy token and coordinator, fund accounts, create the task; client c trains on split.clients[c]."""
    with connect("embedded") as chain:
        yield Federation.launch(
            chain, LocalBlobStore(tmp_path / "blobs"), tmp_path / "journals", template=template,
            parameters=initial_parameters(MODEL, seed=0), funds=FUNDS,
            evaluator=TorchTrainer.from_spec(MODEL, init_seed=0, train_data=split.test),
            client_for=lambda client: TorchTrainer.from_spec(MODEL, init_seed=0, train_data=split.clients[client],
                                                              config=TRAINING),
        )


@pytest.fixture
def federation(tmp_path: Path, breast_cancer_clients: FederatedSplit) -> Iterator[Federation]:
    """A two-round task, nobody joined yet."""
    yield from make_federation(tmp_path, breast_cancer_clients, task_template(2))


@pytest.fixture
def secure_federation(tmp_path: Path, breast_cancer_clients: FederatedSplit) -> Iterator[Federation]:
    """A one-round secure task, nobody joined yet."""
    yield from make_federation(tmp_path, breast_cancer_clients, secure_task_template(1))
