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
# The plain demo at reduced size: 3 hospitals, 3 rounds, both scripted incidents.
mode = "plain"
rounds = 3
[simulation]
hospitals = 3
[[adversaries]]
kind = "cheating_aggregator"
round = 1
[[adversaries]]
kind = "out_of_range_hospital"
hospital = 1
round = 2
"""


REDUCED_SECURE_DEMO = """
# The secure demo at reduced size: 4 hospitals (a complete graph that survives one dropout), 4 rounds, the
# three scripted incidents, and a round after the dropout's so that its slash falls inside the run.
rounds = 4
[simulation]
hospitals = 4
[[adversaries]]
kind = "withholding_aggregator"
round = 0
[[adversaries]]
kind = "cheating_aggregator"
round = 1
[[adversaries]]
kind = "dropping_hospital"
hospital = 1
round = 2
phase = "before_upload"
"""


@dataclass(frozen=True)
class DemoRun:
    """One `fedchain simulate` run of the reduced demo, through the command line."""

    folder: Path
    stdout: str
    report: dict[str, Any]


def simulate(work: Path, config_text: str) -> DemoRun:
    """Run `fedchain simulate` on ``config_text`` in ``work`` through the real command; return its output."""
    config = work / "config.toml"
    config.write_text(config_text)
    folder = work / "out"
    result = subprocess.run([sys.executable, "-m", "fedchain", "simulate", str(config), "--out", str(folder)],
                            capture_output=True, text=True, check=False, timeout=600,
                            env={**os.environ, "COLUMNS": "160"})
    assert result.returncode == 0, result.stdout + result.stderr
    return DemoRun(folder=folder, stdout=result.stdout, report=json.loads((folder / "report.json").read_text()))


@pytest.fixture(scope="session")
def reduced_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The reduced plain demo, run once per session by the real command; tests read its output folder."""
    return simulate(tmp_path_factory.mktemp("reduced-demo"), REDUCED_DEMO)


@pytest.fixture(scope="session")
def reduced_secure_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The reduced secure demo, run once per session by the real command."""
    return simulate(tmp_path_factory.mktemp("reduced-secure-demo"), REDUCED_SECURE_DEMO)
