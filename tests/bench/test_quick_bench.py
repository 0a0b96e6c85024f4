"""The round bench's quick variant, run for real (`bench/bench_rounds.py --quick`: 530 parameters, 3 hospitals, 2
rounds; the in-process loop, Flower's simulation and fedchain plain on the embedded chain), so that `make bench`
cannot rot: every setup finishes with positive CPU and wall time per round, and the three reach the same accuracy
round by round."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUPS = ("inprocess", "flower", "plain-embedded")
TOLERANCE = 0.02
"""Accuracy on the 114 held-out examples: two examples' worth (fedchain starts from the quantized initial model)."""

pytestmark = pytest.mark.slow


def test_quick_round_bench(tmp_path: Path) -> None:
    out = tmp_path / "rounds.json"
    subprocess.run([sys.executable, str(ROOT / "bench" / "bench_rounds.py"), "--quick", "--out", str(out)],
                   cwd=ROOT, check=True, timeout=170, env={**os.environ, "FLWR_TELEMETRY_ENABLED": "0"})
    report = json.loads(out.read_text())
    assert report["cores"] == os.cpu_count()
    assert report["command"].startswith(".venv/bin/python bench/bench_rounds.py --quick")
    assert out.with_suffix(".md").read_text().count("\n| 530 |") == len(SETUPS)
    runs = {run["setup"]: run for run in report["runs"]}
    assert set(runs) == set(SETUPS)
    for setup, run in runs.items():
        assert run["finished"], f"{setup}: {run.get('reason')}"
        assert run["params"] == 530
        assert len(run["per_round"]) == run["rounds"] == 2
        for measured in run["per_round"]:
            assert measured["cpu"] > 0, setup
            assert measured["wall"] > 0, setup
            assert measured["fit_cpu"] > 0, setup
        assert run["median"]["cpu"] > 0 and run["median"]["wall"] > 0
    loop = runs["inprocess"]["accuracies"]
    for setup in ("flower", "plain-embedded"):
        differences = [abs(a - b) for a, b in zip(runs[setup]["accuracies"], loop, strict=True)]
        assert max(differences) <= TOLERANCE, (setup, runs[setup]["accuracies"], loop)
    assert report["comparison"]["accuracy_max_diff"]["530"]["plain-embedded"] <= TOLERANCE


def test_quick_scale_bench(tmp_path: Path) -> None:
    """`bench/bench_scale.py --quick`: 10 and 40 members with a cohort of 8, 2 rounds, every round finalized with
    at most the cohort's updates, its time and memory reported."""
    out = tmp_path / "scale.json"
    subprocess.run([sys.executable, str(ROOT / "bench" / "bench_scale.py"), "--quick", "--out", str(out)],
                   cwd=ROOT, check=True, timeout=300)
    report = json.loads(out.read_text())
    assert report["cores"] == os.cpu_count()
    assert [result["members"] for result in report["results"]] == [10, 40]
    for result in report["results"]:
        assert "error" not in result, result
        assert result["finalized"] == len(result["rounds"]) == 2
        for measured in result["rounds"]:
            assert 0 < measured["included"] <= result["cohort"] == 8
            assert measured["wall_s"] > 0 and measured["cpu_s"] > 0 and measured["rss_mib"] > 0
    assert out.with_suffix(".md").read_text().count("| plain, embedded, local |") == 2
