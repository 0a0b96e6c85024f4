"""Shared fixtures: chains to run against, and one reduced demo run shared by the sim and report tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fedchain.chain import Chain, connect


@pytest.fixture
def embedded_chain() -> Iterator[Chain]:
    """A fresh in-process py-evm chain."""
    with connect("embedded") as chain:
        yield chain


@pytest.fixture
def anvil_chain() -> Iterator[Chain]:
    """A fresh anvil node on a free loopback port, stopped after the test."""
    with connect("anvil") as chain:
        yield chain


@pytest.fixture(params=["embedded", "anvil"])
def dev_chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    """Each development chain in turn."""
    with connect(request.param) as chain:
        yield chain


REDUCED_DEMO = """
# The demo at reduced size: 3 hospitals, 3 rounds, both scripted incidents.
rounds = 3
[data]
hospitals = 3
[[adversaries]]
kind = "cheating_aggregator"
round = 1
[[adversaries]]
kind = "out_of_range_hospital"
hospital = 1
round = 2
"""


@dataclass(frozen=True)
class DemoRun:
    """One `fedchain simulate` run of the reduced demo, through the command line."""

    folder: Path
    stdout: str
    report: dict[str, Any]


@pytest.fixture(scope="session")
def reduced_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The reduced demo, run once per session by the real command; tests read its output folder."""
    work = tmp_path_factory.mktemp("reduced-demo")
    config = work / "reduced.toml"
    config.write_text(REDUCED_DEMO)
    folder = work / "out"
    result = subprocess.run([sys.executable, "-m", "fedchain", "simulate", str(config), "--out", str(folder)],
                            capture_output=True, text=True, check=False, timeout=600,
                            env={**os.environ, "COLUMNS": "160"})
    assert result.returncode == 0, result.stdout + result.stderr
    return DemoRun(folder=folder, stdout=result.stdout, report=json.loads((folder / "report.json").read_text()))
