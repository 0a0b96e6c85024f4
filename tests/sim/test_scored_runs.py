"""Scored simulations (a `[scoring]` table) for real on the embedded chain: breast cancer split IID over five
hospitals, three validators each holding a third of the test split. Free riders and Sybils are scored out, slashed
and earn less than honest hospitals; colluding validators in a minority are outvoted and slashed, in a majority they
decide; every party's balance adds up with the validators'."""

from __future__ import annotations

from typing import Any

import pytest

from fedchain.sim import ConfigError, parse_config
from fedchain.sim.records import Balance, SimulationResult
from fedchain.sim.run import run_simulation, simulate
from fedchain.task import ScoringSettings, TaskSpec

ROUNDS = 2


def run(attack: dict[str, Any]) -> SimulationResult:
    """``attack`` (by one of the five hospitals unless it says) in a scored two-round task."""
    return run_simulation(parse_config({
        "rounds": ROUNDS, "mode": "plain", "adversaries": [], "scoring": {}, "attack": {"share": 0.2, **attack},
        "simulation": {"hospitals": 5, "partition": "iid"}}), baselines=False)


def earnings(balance: Balance) -> int:
    return balance.rewards_claimed + balance.rewards_unclaimed - balance.slashed


def by_role(result: SimulationResult) -> tuple[list[Balance], list[Balance], list[Balance]]:
    """The attackers' (identities included), the honest hospitals' and the validators' balances."""
    attackers = {hospital.name for hospital in result.hospitals if hospital.attacker or hospital.identity_of}
    hospitals = [b for b in result.balances if b.party.role == "participant"]
    return ([b for b in hospitals if b.party.name in attackers],
            [b for b in hospitals if b.party.name not in attackers],
            [b for b in result.balances if b.party.role == "validator"])


def check_balances_add_up(result: SimulationResult) -> None:
    for balance in result.balances:
        held = balance.token_balance + balance.stake + balance.bond
        explained = (balance.funded + balance.rewards_claimed + balance.fees_claimed + balance.bounties
                     - balance.slashed - balance.escrow + balance.pool_withdrawn)
        assert held == explained, balance.party


@pytest.mark.parametrize("kind", ["free_rider_zero", "sybil"])
def test_free_riders_and_sybils_are_scored_out_and_earn_less_than_honest_hospitals(kind: str) -> None:
    result = run({"kind": kind})
    attackers, honest, validators = by_role(result)
    assert attackers and len(honest) == 4 and len(validators) == 3
    scored_out = {(slash.round, slash.name) for slash in result.slashes if slash.kind == "low_score"}
    assert scored_out == {(round, b.party.name) for round in range(ROUNDS) for b in attackers}
    for record in result.rounds:
        assert record.status == "finalized" and sorted(record.dropped) == sorted(b.party.name for b in attackers)
    assert all(earnings(b) < 0 for b in attackers) and all(earnings(b) > 0 for b in honest)
    assert all(b.fees_claimed > 0 and b.slashed == 0 for b in validators), "honest validators paid, never slashed"
    check_balances_add_up(result)


def test_a_colluding_minority_of_validators_is_outvoted_and_slashed() -> None:
    result = run({"kind": "colluding_validators"})
    attackers, honest, validators = by_role(result)
    colluder = next(slash.name for slash in result.slashes if slash.kind == "validator_deviated")
    assert {slash.name for slash in result.slashes if slash.role == "validator"} == {colluder}
    assert all(earnings(b) < 0 for b in attackers) and all(earnings(b) > 0 for b in honest)
    assert sum(1 for b in validators if b.slashed) == 1
    check_balances_add_up(result)


def test_a_colluding_majority_of_validators_decides_the_scores() -> None:
    result = run({"kind": "colluding_validators", "strength": 2, "share": 0.4})  # two free riders: a round's minimum
    attackers, honest, _ = by_role(result)
    assert len(attackers) == 2
    assert all(earnings(b) > 0 for b in attackers), "the majority's scores pay the free riders"
    assert all(earnings(b) < 0 for b in honest), "and score the honest hospitals out"
    assert all(record.status == "finalized" and len(record.participants) == 2 for record in result.rounds)
    check_balances_add_up(result)


def test_simulate_refuses_a_scored_task() -> None:
    with pytest.raises(ConfigError, match=r"^scoring: simulate\(\) runs your own clients"):
        simulate(lambda hospital: object(), hospitals=4, task=TaskSpec(mode="plain", scoring=ScoringSettings()))
