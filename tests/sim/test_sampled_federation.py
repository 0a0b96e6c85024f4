"""A federation with more members than its cohort takes (part of issue #17): every round the chain samples who may
enter, only picked members commit, the seats go round, and the members left out of a round cost the chain no
views of their own, so a round's views do not grow with the number of registered members."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

import fedchain
from fedchain.chain.cohort import cohort_includes
from fedchain.chain.coordinator import TaskStatus
from fedchain.chain.reads import counted_requests
from fedchain.client import NDArrays
from fedchain.client.api import Config, Metrics
from fedchain.sim.federation import Federation

ROUNDS = 3
COHORT = 4
SIZES = (20, 40)


class TinyClient:
    """A four-weight NumPy model that moves a little each fit."""

    def get_parameters(self, config: Config) -> NDArrays:
        """Zeros."""
        return [np.zeros(4, dtype=np.float32)]

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        """One small step."""
        return [array + np.float32(0.01) for array in parameters], 10, {}

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        """A fixed score."""
        return 0.5, 10, {"accuracy": 0.5}


def run(members: int) -> tuple[Any, Counter[str], list[Federation]]:
    """A plain task of ROUNDS rounds with COHORT seats among ``members`` members; its result, the JSON-RPC requests
    (by method) that reached the chain while the federation stepped through rounds 1 on, and the federation."""
    counts: Counter[str] = Counter()
    seen: list[Federation] = []
    advance = Federation.advance

    def counted_advance(self: Federation) -> bool:
        if not seen:
            seen.append(self)
        state = self.state()  # rounds 1 on: every member joined in round 0, and the claims come after the last
        measured = state.current_round >= 1 and state.status == TaskStatus.RUNNING
        with counted_requests(self.chain.w3) as step:
            changed = advance(self)
        if measured:
            counts.update(step)
        return changed

    task = fedchain.TaskSpec(rounds=ROUNDS, mode="plain", task=fedchain.OnChainRules(cohort_cap=COHORT))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Federation, "advance", counted_advance)
        result = fedchain.simulate(lambda hospital: TinyClient(), hospitals=members, task=task)
    return result, counts, seen


def test_only_picked_members_enter_the_seats_go_round_and_idle_members_read_nothing_of_their_own() -> None:
    views = {}
    for members in SIZES:
        result, counts, (federation,) = run(members)
        assert [record.status for record in result.rounds] == ["finalized"] * ROUNDS
        addresses = {hospital.name: hospital.address for hospital in result.hospitals}
        entered: set[str] = set()
        for record in result.rounds:
            view = federation.coordinator.round_view(federation.task_id, record.index)
            if view.sampled_from:  # round 0 opened at the second join, before most members were in
                picked = {name for name, address in addresses.items()
                          if cohort_includes(view.cohort_seed, view.sampled_from, COHORT, address)}
                assert set(record.committed) <= picked, f"round {record.index}: only picked members commit"
            assert 0 < len(record.committed) <= COHORT
            entered |= set(record.committed)
        assert len(entered) > COHORT, "the seats went round, not to the same first members"
        views[members] = counts["eth_call"]
    small, large = (views[size] for size in SIZES)
    # twice the members, the same cohort: the extra members' steps read only what the others already read
    assert large <= small * 1.25, f"eth_call over the rounds: {small} with {SIZES[0]} members, {large} with {SIZES[1]}"
