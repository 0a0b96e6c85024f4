"""A federation with more members than its cohort takes (part of issue #17): every round the chain samples who may
enter, only picked members commit, the seats go round, and the members left out of a round cost the chain no
views of their own, so a round's views do not grow with the number of registered members."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import fedchain
from fedchain.chain.cohort import cohort_includes
from fedchain.chain.coordinator import TaskStatus
from fedchain.sim.federation import Federation
from tests.sim.counting import TinyClient, counted_steps

ROUNDS = 3
COHORT = 4
SIZES = (20, 40)


def run(members: int) -> tuple[Any, Counter[str], list[Federation]]:
    """A plain task of ROUNDS rounds with COHORT seats among ``members`` members; its result, the JSON-RPC requests
    (by method) that reached the chain while the federation stepped through rounds 1 on, and the federation."""
    seen: list[Federation] = []

    def measured(federation: Federation) -> bool:
        """Rounds 1 on: every member joined in round 0, and the claims come after the last round."""
        if not seen:
            seen.append(federation)
        state = federation.state()
        return state.current_round >= 1 and state.status == TaskStatus.RUNNING

    task = fedchain.TaskSpec(rounds=ROUNDS, mode="plain", task=fedchain.OnChainRules(cohort_cap=COHORT))
    with pytest.MonkeyPatch.context() as patch, counted_steps(patch, measured) as counts:
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
