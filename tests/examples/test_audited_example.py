"""examples/breast_cancer_audited.toml, cut to two rounds, run for real: the federation's watcher draws and opens the
audits after every reveal deadline, every honest hospital proves its drawn step with a real EZKL proof that the
task's real EZKL verifier accepts on the embedded chain, and the untrained hospital (three times the update it
trained, a trajectory scaled to match) tries to prove its drawn step, is refused, and is dropped and slashed when
its proof window ends. The circuit's keys are set up from scratch in the test's own cache."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from fedchain.report import write_report
from fedchain.sim.config import parse_config
from fedchain.sim.run import run_simulation

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "breast_cancer_audited.toml"
BPS = 10_000


@pytest.mark.slow
def test_the_audited_example_catches_the_untrained_hospital(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDCHAIN_ZK_CACHE", str(tmp_path / "zk-cache"))
    raw = tomllib.loads(EXAMPLE.read_text())
    assert raw["adversaries"] == [{"kind": "untrained_hospital", "round": 1, "hospital": 2}]
    raw["rounds"] = 2  # the incident is in round 1; the example's third round adds nothing new
    raw["simulation"]["output"] = str(tmp_path / "out")
    config = parse_config(raw, base=EXAMPLE.parent)
    result = run_simulation(config, baselines=False)

    by_round = {record.index: record for record in result.rounds}
    assert all(record.status == "finalized" for record in result.rounds)
    assert by_round[0].participants == ("hospital-0", "hospital-1", "hospital-2") and by_round[0].dropped == ()
    assert by_round[1].dropped == ("hospital-2",) and "hospital-2" not in by_round[1].participants

    # Every revealed update was drawn (audit_bps = 10000): one audit each, opened by the watcher.
    audits = {(audit.round, audit.name): audit for audit in result.audits}
    assert set(audits) == {(round, f"hospital-{h}") for round in (0, 1) for h in range(3)}
    assert all(audit.drawn and audit.opened_by == "watcher" for audit in result.audits)
    for key, audit in audits.items():
        if key == (1, "hospital-2"):
            continue
        assert audit.outcome == "proven" and audit.refused == 0 and audit.slashed == 0
        assert audit.prove_gas is not None and 500_000 < audit.prove_gas < 3_000_000
        assert audit.prove_seconds is not None and audit.prove_seconds > 0
    cheat = audits[(1, "hospital-2")]
    assert cheat.outcome == "failed" and cheat.refused == 1 and cheat.prove_gas is None
    assert cheat.settle_gas is not None and cheat.settle_gas > 0

    stake = int(config.simulation.stake * 10**18)
    (slash,) = result.slashes
    assert (slash.round, slash.name, slash.kind, slash.challenger) == (1, "hospital-2", "failed_audit", "watcher")
    assert slash.amount == cheat.slashed == stake * config.task.task.violation_slash_bps // BPS
    assert slash.bounty == slash.amount * config.task.task.bounty_bps // BPS
    balances = {balance.party.name: balance for balance in result.balances}
    assert balances["hospital-2"].slashed == slash.amount and balances["hospital-0"].slashed == 0

    folder = tmp_path / "out"
    write_report(result, folder)
    report = json.loads((folder / "report.json").read_text())
    assert [audit["outcome"] for audit in report["audits"]].count("failed") == 1
    html = (folder / "report.html").read_text()
    assert "Training audits" in html and "no valid proof in time" in html
    gas = [f"{audit.prove_gas:,}" for audit in result.audits if audit.prove_gas is not None]
    print("proveStep gas:", gas, "settleAudit gas:", cheat.settle_gas,
          "proof seconds:", [round(audit.prove_seconds or 0, 1) for audit in result.audits])
