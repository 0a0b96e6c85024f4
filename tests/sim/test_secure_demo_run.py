"""The reduced secure demo, run once through `fedchain simulate`: report.json says what the chain recorded."""

from __future__ import annotations

from typing import Any

import pytest

from fedchain.report.compare import versus
from tests.conftest import DemoRun

TOKEN = 10**18
BOND, STAKE = 20 * TOKEN, 20 * TOKEN  # the demo's aggregator bond and hospital deposit
HALF, TENTH, BOUNTY = 5_000, 1_000, 2_000  # aggregator slash, missed-upload slash and bounty, in basis points
HOSPITALS = ["hospital-0", "hospital-1", "hospital-2", "hospital-3"]
ROUND_KINDS = ("advertise", "fixRoundSeed", "commitShares", "upload", "publishUnmaskBundle", "propose", "finalize")


def by_round(demo: DemoRun, index: int) -> dict[str, Any]:
    (row,) = [row for row in demo.report["rounds"] if row["index"] == index]
    return row


def test_it_ran_in_secure_mode_and_every_round_finalized(reduced_secure_demo: DemoRun) -> None:
    report = reduced_secure_demo.report
    assert report["mode"] == report["config"]["task"]["mode"] == "secure"
    assert set(report["chain"]["contracts"]) == {"SecureCoordinator", "SecureLeafVerifier", "Registry",
                                                 "Availability", "DevToken"}
    assert [row["status"] for row in report["rounds"]] == ["finalized"] * 4
    for row in report["rounds"]:
        for kind in ROUND_KINDS:
            assert row["gas"][kind] > 21_000, (row["index"], kind)
        assert "reveal" not in row["gas"] and "commit" not in row["gas"]
        assert sorted(row["committed"]) == HOSPITALS and row["dropped"] == []
    assert report["gas_outside_rounds"]["deploy SecureCoordinator"] > 1_000_000
    assert "fedchain federation (secure mode, 4 rounds)" in reduced_secure_demo.stdout


def test_the_cheating_aggregator_is_proven_wrong_slashed_and_the_round_reaggregated(
        reduced_secure_demo: DemoRun) -> None:
    row = by_round(reduced_secure_demo, 1)
    assert [(p["aggregator"], p["outcome"]) for p in row["proposals"]] == [
        ("aggregator-b", "rejected"), ("aggregator-a", "finalized")]
    assert row["gas"]["challengeAggregate"] > 100_000
    (slash,) = row["slashes"]
    assert (slash["name"], slash["kind"], slash["round"], slash["challenger"]) == (
        "aggregator-b", "wrong_aggregate", 1, "watcher")
    assert slash["amount"] == BOND * HALF // 10_000 and slash["bounty"] == slash["amount"] * BOUNTY // 10_000
    assert sorted(row["participants"]) == HOSPITALS
    assert all(not other["reaggregated"] for other in reduced_secure_demo.report["rounds"]
               if other["index"] not in (0, 1))


def test_the_withholding_aggregator_is_disputed_rejected_unopened_and_slashed(reduced_secure_demo: DemoRun) -> None:
    row = by_round(reduced_secure_demo, 0)
    assert [(p["aggregator"], p["outcome"]) for p in row["proposals"]] == [
        ("aggregator-b", "rejected"), ("aggregator-a", "finalized")]
    assert row["reaggregated"] and row["status"] == "finalized"
    assert row["gas"]["openDispute"] > 21_000 and row["gas"]["settleDispute"] > 21_000
    assert "challengeAggregate" not in row["gas"], "no fraud proof: nobody could open the withheld tree"
    (slash,) = row["slashes"]
    assert (slash["name"], slash["kind"], slash["round"], slash["challenger"]) == (
        "aggregator-b", "withheld_model", 0, "watcher")
    assert slash["amount"] == BOND * HALF // 10_000 and slash["bounty"] == slash["amount"] * BOUNTY // 10_000
    assert "withheld" in slash["reason"]


def test_the_dropped_hospital_is_unmasked_around_and_slashed_after_the_upload_deadline(
        reduced_secure_demo: DemoRun) -> None:
    dropped_round, next_round = by_round(reduced_secure_demo, 2), by_round(reduced_secure_demo, 3)
    assert dropped_round["participants"] == ["hospital-0", "hospital-2", "hospital-3"]
    assert dropped_round["status"] == "finalized" and "hospital-1" not in dropped_round["rewards"]
    assert next_round["slashes"] == [], "slashed in its own round, once"
    (slash,) = dropped_round["slashes"]
    assert (slash["name"], slash["kind"], slash["round"], slash["challenger"]) == (
        "hospital-1", "missed_upload", 2, "watcher")
    assert slash["amount"] == STAKE * TENTH // 10_000 and slash["bounty"] == slash["amount"] * BOUNTY // 10_000
    assert "never uploaded" in slash["reason"]
    assert "hospital-1" in next_round["participants"], "it came back in the next round"
    hospitals = {h["name"]: h["misbehaviour"] for h in reduced_secure_demo.report["hospitals"]}
    assert hospitals["hospital-1"] == "dropping_hospital (before upload) in round(s) 2"
    assert [s["name"] for s in reduced_secure_demo.report["slashes"]] == ["aggregator-b", "aggregator-b", "hospital-1"]


def test_balances_add_up(reduced_secure_demo: DemoRun) -> None:
    balances = {row["name"]: row for row in reduced_secure_demo.report["balances"]}
    for row in balances.values():
        held = row["token_balance"] + row["stake"] + row["bond"]
        assert held == (row["funded"] + row["rewards_claimed"] + row["fees_claimed"] + row["bounties"]
                        - row["slashed"] - row["escrow"] + row["pool_withdrawn"])
    assert balances["hospital-1"]["stake"] + balances["hospital-1"]["withdrawn"] == STAKE - STAKE * TENTH // 10_000
    aggregator_bounty = BOND * HALF // 10_000 * BOUNTY // 10_000
    assert balances["watcher"]["bounties"] == 2 * aggregator_bounty + STAKE * TENTH // 10_000 * BOUNTY // 10_000
    for hospital in HOSPITALS:
        credited = sum(row["rewards"].get(hospital, 0) for row in reduced_secure_demo.report["rounds"])
        assert balances[hospital]["rewards_claimed"] + balances[hospital]["rewards_unclaimed"] == credited > 0


def test_the_federation_beats_the_hospitals_alone_and_is_not_below_pooled_training_beyond_noise(
        reduced_secure_demo: DemoRun) -> None:
    report = reduced_secure_demo.report
    final, baselines = report["final"]["metrics"]["accuracy"], report["baselines"]
    assert final > baselines["local_mean"]["accuracy"]
    pooled = versus(report, "pooled")
    assert pooled is not None and pooled.high >= 0
    assert pooled.estimate == pytest.approx(final - baselines["pooled"]["metrics"]["accuracy"])
