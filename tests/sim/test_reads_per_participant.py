"""Each participant's chain reads per round do not grow with the number of participants: the agents a simulation
steps share one read of each view per block, which spares most of them (part of issue #17)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

import fedchain
from fedchain.chain import Chain
from fedchain.chain.reads import counted_requests
from fedchain.client import NDArrays
from fedchain.client.api import Config, Metrics
from fedchain.sim.federation import Federation

ROUNDS = 2
SIZES = (3, 6)
SLACK = 3.0
"""How many more requests per participant and round the larger federation may make than the smaller, a margin:
the aggregator's, watcher's and requester's requests, spread over more participants, make it fewer."""


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


def requests_per_participant_round(hospitals: int, *, cached: bool = True) -> float:
    """The JSON-RPC requests that reach the chain while the federation steps, per participant and round; with
    ``cached`` False the chain keeps no reads."""
    counts: Counter[str] = Counter()
    advance = Federation.advance

    def counted_advance(self: Federation) -> bool:
        with counted_requests(self.chain.w3) as step:
            changed = advance(self)
        counts.update(step)
        return changed

    task: Any = fedchain.TaskSpec(rounds=ROUNDS, mode="plain")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Federation, "advance", counted_advance)
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
