"""The simulator on anvil: a local node started for the run, the dev clock moved there too, in both modes."""

from __future__ import annotations

import pytest

from fedchain.sim import parse_config
from fedchain.sim.run import run_simulation

pytestmark = pytest.mark.anvil


@pytest.mark.parametrize(("mode", "hospitals", "commit_kind"), [("plain", 2, "commit"), ("secure", 3, "commitShares")])
def test_a_small_federation_runs_on_anvil(mode: str, hospitals: int, commit_kind: str) -> None:
    config = parse_config({"mode": mode, "rounds": 2, "adversaries": [], "model": {"name": "logreg"},
                           "simulation": {"hospitals": hospitals, "partition": "iid", "chain": "anvil"}})
    result = run_simulation(config)
    assert result.chain.backend == "anvil" and result.chain.chain_id == 31337
    assert [record.status for record in result.rounds] == ["finalized", "finalized"]
    assert all(record.gas[commit_kind] > 0 and len(record.participants) == hospitals for record in result.rounds)
    assert result.final.round == 1 and result.final.scores.metrics["accuracy"] > 0.8
    assert result.slashes == ()
