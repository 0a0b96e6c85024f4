"""The reduced plain demo, run once through `fedchain simulate`: report.json says what the chain recorded."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch

from fedchain.learn import ModelSpec, Preprocessing, evaluate_model, load_breast_cancer, train_test_split
from tests.conftest import DemoRun

TOKEN = 10**18
BOND, STAKE = 20 * TOKEN, 20 * TOKEN  # the demo's aggregator bond and hospital deposit
HALF = 5_000  # the demo's aggregator and violation slash, in basis points
BOUNTY = 2_000
ROUND_KINDS = ("commit", "reveal", "propose", "finalize")


def by_round(demo: DemoRun, index: int) -> dict[str, Any]:
    (row,) = [row for row in demo.report["rounds"] if row["index"] == index]
    return row


def test_every_round_finalizes_with_metrics_in_range(reduced_demo: DemoRun) -> None:
    assert reduced_demo.report["mode"] == "plain"
    rounds = reduced_demo.report["rounds"]
    assert [row["index"] for row in rounds] == [0, 1, 2]
    for row in rounds:
        assert row["status"] == "finalized"
        assert 0.5 < row["metrics"]["accuracy"] <= 1.0 and 0.5 < row["metrics"]["auc"] <= 1.0 and row["loss"] > 0
        assert row["model_root"].startswith("0x") and len(row["model_root"]) == 66
    final = reduced_demo.report["final"]
    assert final["round"] == 2 and final["model_root"] == rounds[-1]["model_root"]
    assert final["metrics"] == rounds[-1]["metrics"] and report_headline(reduced_demo) == "accuracy"
    assert final["anchor_tx"].startswith("0x") and len(final["anchor_tx"]) == 66


def report_headline(run: DemoRun) -> str:
    """The metric the report leads with."""
    headline: str = run.report["headline"]
    return headline


def test_gas_is_recorded_per_round_and_kind(reduced_demo: DemoRun) -> None:
    for row in reduced_demo.report["rounds"]:
        for kind in ROUND_KINDS:
            assert row["gas"][kind] > 21_000
        assert row["gas_total"] == sum(row["gas"].values())
    assert by_round(reduced_demo, 0)["gas"]["join"] > 0
    assert by_round(reduced_demo, 1)["gas"]["challengeAggregate"] > 100_000
    assert by_round(reduced_demo, 2)["gas"]["proveViolation"] > 50_000
    assert reduced_demo.report["gas_outside_rounds"]["deploy FedCoordinator"] > 1_000_000


def test_the_cheating_aggregator_is_slashed_and_the_round_reaggregated(reduced_demo: DemoRun) -> None:
    row = by_round(reduced_demo, 1)
    assert [(p["aggregator"], p["outcome"]) for p in row["proposals"]] == [
        ("aggregator-b", "rejected"), ("aggregator-a", "finalized")]
    assert row["reaggregated"] is True
    (slash,) = row["slashes"]
    assert (slash["role"], slash["name"], slash["kind"]) == ("aggregator", "aggregator-b", "wrong_aggregate")
    assert slash["amount"] == BOND * HALF // 10_000 and slash["bounty"] == slash["amount"] * BOUNTY // 10_000
    assert slash["challenger"] == "watcher"
    assert "fraud proof" in slash["reason"]
    assert row["rewards"]["aggregator-a"] > 0 and "aggregator-b" not in row["rewards"]
    assert all(not other["reaggregated"] for other in reduced_demo.report["rounds"] if other["index"] != 1)


def test_the_out_of_range_hospital_is_dropped_and_slashed(reduced_demo: DemoRun) -> None:
    row = by_round(reduced_demo, 2)
    assert row["dropped"] == ["hospital-1"]
    assert sorted(row["committed"]) == ["hospital-0", "hospital-1", "hospital-2"]
    assert "hospital-1" not in row["participants"] and len(row["participants"]) == 2
    assert "hospital-1" not in row["rewards"]
    (slash,) = row["slashes"]
    assert (slash["role"], slash["name"], slash["kind"]) == ("participant", "hospital-1", "bad_update")
    assert slash["amount"] == STAKE * HALF // 10_000
    assert "outside the clipping range" in slash["reason"]
    assert [s["name"] for s in reduced_demo.report["slashes"]] == ["aggregator-b", "hospital-1"]


def test_balances_add_up_with_the_token_balances(reduced_demo: DemoRun) -> None:
    balances = {row["name"]: row for row in reduced_demo.report["balances"]}
    assert set(balances) == {"requester", "hospital-0", "hospital-1", "hospital-2", "aggregator-a", "aggregator-b",
                             "watcher"}
    for row in balances.values():
        held = row["token_balance"] + row["stake"] + row["bond"]
        assert held == (row["funded"] + row["rewards_claimed"] + row["fees_claimed"] + row["bounties"]
                        - row["slashed"] - row["escrow"] + row["pool_withdrawn"])
    assert balances["requester"]["escrow"] == 3 * 5 * TOKEN  # rounds x reward per round
    assert balances["hospital-1"]["stake"] + balances["hospital-1"]["withdrawn"] == STAKE // 2
    assert balances["hospital-0"]["stake"] + balances["hospital-0"]["withdrawn"] == STAKE
    assert balances["aggregator-b"]["slashed"] == BOND // 2  # it topped its bond up again after the slash
    assert balances["aggregator-b"]["bond"] + balances["aggregator-b"]["withdrawn"] == BOND
    assert balances["watcher"]["bounties"] == 2 * (10 * TOKEN * BOUNTY // 10_000)
    for hospital in ("hospital-0", "hospital-2"):
        credited = sum(row["rewards"].get(hospital, 0) for row in reduced_demo.report["rounds"])
        assert balances[hospital]["rewards_claimed"] + balances[hospital]["rewards_unclaimed"] == credited > 0
    fees = sum(row["rewards"].get("aggregator-a", 0) for row in reduced_demo.report["rounds"])
    assert balances["aggregator-a"]["fees_unclaimed"] + balances["aggregator-a"]["fees_claimed"] == fees


def test_baselines_and_chain_are_reported(reduced_demo: DemoRun) -> None:
    report = reduced_demo.report
    baselines = report["baselines"]
    assert set(baselines["local"]) == {"hospital-0", "hospital-1", "hospital-2"}
    assert 0.5 < baselines["pooled"]["metrics"]["accuracy"] <= 1.0
    mean = sum(row["metrics"]["accuracy"] for row in baselines["local"].values()) / 3
    assert abs(baselines["local_mean"]["accuracy"] - mean) < 1e-12
    examples, final = report["final"]["examples"], report["final"]["metrics"]["accuracy"]
    assert sum(baselines["test_label_counts"]) == examples == baselines["pooled"]["examples"] > 100
    assert set(baselines["paired"]) == {"pooled", "hospital-0", "hospital-1", "hospital-2"}
    for name, outcomes in baselines["paired"].items():  # the same test examples, one by one
        entry = baselines["pooled"] if name == "pooled" else baselines["local"][name]
        assert sum(outcomes.values()) == examples
        assert outcomes["both"] + outcomes["only_federation"] == round(final * examples)
        assert outcomes["both"] + outcomes["only_baseline"] == round(entry["metrics"]["accuracy"] * examples)
    assert report["chain"]["backend"] == "embedded" and report["chain"]["task_id"] == 1
    assert set(report["chain"]["contracts"]) == {"FedCoordinator", "LeafVerifier", "Registry", "Availability",
                                                 "DevToken"}
    assert [h["misbehaviour"] is not None for h in report["hospitals"]] == [False, True, False]
    assert report["config"]["task"]["rounds"] == 3 and report["config"]["simulation"]["hospitals"] == 3


def test_output_that_is_not_a_terminal_gets_one_whole_line_per_round(reduced_demo: DemoRun) -> None:
    lines = reduced_demo.stdout.splitlines()
    assert lines[0].startswith("fedchain federation (plain mode, 3 rounds)")
    rounds = [line for line in lines if line.startswith("round ")]
    assert [line.split(":")[0] for line in rounds] == ["round 1/3 finalized", "round 2/3 finalized",
                                                       "round 3/3 finalized"]
    assert "re-aggregated" in rounds[1] and "wrong aggregate" in rounds[1], "the incident is on the round's line"
    assert all("accuracy " in line and "included" in line for line in rounds)
    assert any(line.startswith("final model") for line in lines) and "report.html" in reduced_demo.stdout


def test_the_saved_model_with_its_preprocessing_gives_the_reported_accuracy_on_raw_data(reduced_demo: DemoRun) -> None:
    report = reduced_demo.report
    preprocessing = Preprocessing.from_json(json.loads((reduced_demo.folder / "preprocessing.json").read_text()))
    assert report["final"]["preprocessing_file"] == "preprocessing.json"
    assert len(preprocessing.mean) == 30 and preprocessing.missing == "refuse"
    state = torch.load(reduced_demo.folder / "model.pt", weights_only=True)
    model = ModelSpec("mlp", in_features=30, num_classes=2, options={"hidden": [16]}).build()
    model.load_state_dict(state)
    _, raw_test = train_test_split(load_breast_cancer(), test_fraction=0.2, seed=report["config"]["task"]["seed"])
    assert not np.allclose(raw_test.features.mean(axis=0), 0.0, atol=1.0), "the test rows are raw"
    metrics = evaluate_model(model, preprocessing.apply(raw_test))
    assert metrics.accuracy == report["final"]["metrics"]["accuracy"]
    unprepared = evaluate_model(model, raw_test)
    assert unprepared.accuracy < metrics.accuracy, "without its preprocessing the model is worse"
