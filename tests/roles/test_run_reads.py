"""An agent run against a node reads one snapshot of the chain per step (`Chain.snapshot`): what its steps read
again at the same block reaches the node once."""

from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path

import pytest
import tests.roles.conftest as roles_conftest
from tests.roles.conftest import make_federation, task_template

from fedchain.chain import connection
from fedchain.chain.connection import Chain
from fedchain.chain.reads import counted_requests
from fedchain.learn import FederatedSplit

STEPS = 5


def idle_steps(tmp_path: Path, split: FederatedSplit) -> Counter[str]:
    """The requests of a participant's STEPS idle steps (waiting in the propose phase) on anvil."""
    federations = make_federation(tmp_path, split, task_template(1))
    federation = next(federations)
    try:
        for client in range(3):
            federation.add_participant(client)
        federation.add_aggregator(6)
        federation.run_until(lambda: federation.phase().name == "PROPOSE")
        participant, steps = federation.participants[0], []
        with counted_requests(federation.chain.w3) as counts:
            participant.run(poll_seconds=0, until=lambda: steps.append(1) or len(steps) == STEPS)
        return Counter(counts)
    finally:
        federations.close()


def test_each_step_reads_one_snapshot_of_the_node(tmp_path: Path, breast_cancer_clients: FederatedSplit,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    connect = connection.connect
    monkeypatch.setattr(roles_conftest, "connect", lambda target, **options: connect("anvil", **options))
    pinned = idle_steps(tmp_path / "pinned", breast_cancer_clients)
    monkeypatch.setattr(Chain, "snapshot", lambda self: contextlib.nullcontext(0))
    unpinned = idle_steps(tmp_path / "unpinned", breast_cancer_clients)

    assert pinned["eth_blockNumber"] == STEPS, "the latest block is learnt once a step"
    assert pinned["eth_call"] < unpinned["eth_call"] / 2, (pinned, unpinned)
    assert sum(pinned.values()) < sum(unpinned.values()) / 2, (pinned, unpinned)
