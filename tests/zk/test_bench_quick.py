"""`bench/bench_zk.py --quick` run for real (one 4-feature step at 2**-8: setup, prove, native and EVM verification),
so the bench cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_zk_bench() -> None:
    subprocess.run([sys.executable, str(ROOT / "bench" / "bench_zk.py"), "--quick"], cwd=ROOT, check=True,
                   capture_output=True)
    report = json.loads((ROOT / "bench" / "results" / "zk.quick.json").read_text())
    (row,) = report["rows"]
    assert row["features"] == 4 and row["verify_gas"] > 0 and row["proof_bytes"] > 0
    assert "| 4 (5) |" in (ROOT / "bench" / "results" / "zk.quick.md").read_text()
