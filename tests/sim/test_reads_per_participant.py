"""Each participant's chain reads per round do not grow with the number of participants: the agents a simulation
steps share one read of each view per block, which spares most of them (part of issue #17)."""

from __future__ import annotations

from typing import Any

import pytest

import fedchain
from fedchain.chain import Chain
from tests.sim.counting import TinyClient, counted_steps

ROUNDS = 2
SIZES = (3, 6)
SLACK = 3.0
"""How many more requests per participant and round the larger federation may make than the smaller, a margin:
the aggregator's, watcher's and requester's requests, spread over more participants, make it fewer."""


def requests_per_participant_round(hospitals: int, *, cached: bool = True) -> float:
    """The JSON-RPC requests that reach the chain while the federation steps, per participant and round; with
    ``cached`` False the chain keeps no reads."""
    task: Any = fedchain.TaskSpec(rounds=ROUNDS, mode="plain")
    with pytest.MonkeyPatch.context() as patch, counted_steps(patch) as counts:
        if not cached:
            patch.setattr(Chain, "_read_scope", lambda self: None)
        result = fedchain.simulate(lambda hospital: TinyClient(), hospitals=hospitals, task=task)
    assert [record.status for record in result.rounds] == ["finalized"] * ROUNDS
    return sum(counts.values()) / (hospitals * ROUNDS)


def test_requests_per_participant_do_not_grow_and_most_are_spared() -> None:
    small, large = (requests_per_participant_round(size) for size in SIZES)
    assert large <= small + SLACK, f"{SIZES[0]} hospitals: {small:.1f} per participant and round, " \
                                   f"{SIZES[1]}: {large:.1f}"
    uncached = requests_per_participant_round(SIZES[0], cached=False)
    assert small <= uncached / 2, f"{small:.1f} requests per participant and round, {uncached:.1f} uncached"
