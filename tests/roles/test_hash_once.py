"""Every party builds each Merkle tree at most once per round (issue #17, "hash once"), counted in real small
federations, plain and secure: every ``MerkleTree`` built during an agent's step is charged to that agent and the
round current at the step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import ArrayLike
from tests.roles.conftest import NUM_CLIENTS, Federation, make_federation, secure_task_template

from fedchain.chain.coordinator import TaskStatus
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.learn import FederatedSplit

AGGREGATOR, WATCHER = 6, 7

TreeCount = Counter[tuple[str, int, bytes]]
"""How many times each (party, round, tree root) was built."""


def count_trees(monkeypatch: pytest.MonkeyPatch, federation: Federation) -> TreeCount:
    """From now on, count every tree built in a step of one of the federation's agents."""
    counts: TreeCount = Counter()
    stepping: list[tuple[str, int]] = []
    build = MerkleTree.__init__

    def counted(tree: MerkleTree, vector: ArrayLike, layout: LeafLayout) -> None:
        build(tree, vector, layout)
        if stepping:
            party, round = stepping[-1]
            counts[(party, round, tree.root)] += 1

    def counting(agent_step: Callable[[], None], party: str) -> Callable[[], None]:
        def step() -> None:
            stepping.append((party, federation.state().current_round))
            try:
                agent_step()
            finally:
                stepping.pop()
        return step

    monkeypatch.setattr(MerkleTree, "__init__", counted)
    for agent in federation.agents():
        monkeypatch.setattr(agent, "step", counting(agent.step, f"{agent.ROLE} {agent.address}"))
    return counts


def run_counted(monkeypatch: pytest.MonkeyPatch, federation: Federation) -> TreeCount:
    """Run the federation's task to its end with every party, counting the trees each party builds."""
    for client in range(NUM_CLIENTS):
        federation.add_participant(client)
    federation.add_aggregator(AGGREGATOR)
    federation.add_watcher(WATCHER)
    agents = federation.agents()
    assert len({id(agent.verified) for agent in agents}) == len(agents), "no agent shares what another verified"
    counts = count_trees(monkeypatch, federation)
    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    return counts


def assert_each_tree_once(counts: TreeCount, rounds: int) -> None:
    """Every party built each of its trees at most once a round, and every role built trees in every round (the
    requester evaluates the last model after the task's end).

    Before :class:`~fedchain.storage.VerifiedBlobs`, either two-round task built 57 trees, now 40: each plain
    participant hashed its update twice, the aggregator the model it proposed again the next round, the watcher
    the proposal it had just recomputed (and in secure mode every masked update twice), and every agent the first
    model once for its rules and again for its first round.
    """
    repeated = {f"{party} round {round} 0x{root.hex()[:8]}": count
                for (party, round, root), count in counts.items() if count > 1}
    assert not repeated, f"{sum(counts.values())} trees built, {len(counts)} distinct; built again: {repeated}"
    roles = {party.split()[0] for party, _, _ in counts}
    assert {"participant", "aggregator", "watcher"} <= roles
    assert set(range(rounds)) <= {round for _, round, _ in counts}


def test_each_party_builds_each_tree_once_a_round(monkeypatch: pytest.MonkeyPatch, federation: Federation) -> None:
    counts = run_counted(monkeypatch, federation)

    assert_each_tree_once(counts, rounds=2)


def test_each_secure_party_builds_each_tree_once_a_round(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         breast_cancer_clients: FederatedSplit) -> None:
    for federation in make_federation(tmp_path, breast_cancer_clients, secure_task_template(2)):
        counts = run_counted(monkeypatch, federation)

        assert_each_tree_once(counts, rounds=2)


def test_a_tree_asked_for_again_is_the_one_built(federation: Federation) -> None:
    watcher = federation.add_watcher(WATCHER)
    layout = watcher.rules.layout
    vector = np.arange(layout.num_params, dtype=np.int32)

    tree = watcher.verified.tree(vector, layout)

    assert watcher.verified.tree(vector.copy(), layout) is tree
    assert watcher.verified.tree(-vector, layout) is not tree
