"""A simulation on anvil asks the node for its chain id once per connection, not before every view and transaction
(web3's request validation asked for it each time: half of all requests, issue #17)."""

from __future__ import annotations

from typing import Any

import pytest

import fedchain
from tests.sim.counting import TinyClient, counted_steps

ROUNDS = 2
HOSPITALS = 3


def test_a_simulation_on_anvil_reads_the_chain_id_once() -> None:
    task: Any = fedchain.TaskSpec(rounds=ROUNDS, mode="plain")
    with pytest.MonkeyPatch.context() as patch, counted_steps(patch) as counts:
        result = fedchain.simulate(lambda hospital: TinyClient(), hospitals=HOSPITALS, task=task, chain="anvil")
    assert [record.status for record in result.rounds] == ["finalized"] * ROUNDS
    assert counts["eth_sendRawTransaction"] > 10 and counts["eth_call"] > 10, counts
    assert counts["eth_chainId"] <= 1, counts
