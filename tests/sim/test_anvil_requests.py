"""A simulation on anvil asks the node for its chain id once per connection, not before every view and transaction
(web3's request validation asked for it each time: half of all requests, issue #17)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import fedchain
from fedchain.chain.reads import counted_requests
from fedchain.sim.federation import Federation
from tests.sim.test_reads_per_participant import TinyClient

ROUNDS = 2
HOSPITALS = 3


def test_a_simulation_on_anvil_reads_the_chain_id_once() -> None:
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
        result = fedchain.simulate(lambda hospital: TinyClient(), hospitals=HOSPITALS, task=task, chain="anvil")
    assert [record.status for record in result.rounds] == ["finalized"] * ROUNDS
    assert counts["eth_sendRawTransaction"] > 10 and counts["eth_call"] > 10, counts
    assert counts["eth_chainId"] <= 1, counts
