"""The logs of `fedchain participant|aggregator|watcher run`: ``--log-format json`` writes one JSON object per line
with the agents' structured fields, ``text`` (the default) one line per record for people."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from typer.testing import CliRunner

from fedchain.chain.coordinator import TaskStatus
from fedchain.cli import app as cli
from fedchain.deploy import runner
from tests.deploy.conftest import HOSPITALS, DeployedTask

ROLES = ("participant", "aggregator", "watcher")


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """`configure_logging` replaces the root logger's handlers: put them back after the test."""
    root, fedchain_logger = logging.getLogger(), logging.getLogger("fedchain")
    handlers, level, fedchain_level = root.handlers[:], root.level, fedchain_logger.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    fedchain_logger.setLevel(fedchain_level)


def test_json_logs_are_one_object_per_line_with_each_agents_fields_and_text_logs_one_line_per_record(
        deployed_task: DeployedTask, capsys: pytest.CaptureFixture[str], restored_logging: None) -> None:
    task, federation = deployed_task, deployed_task.federation
    for index in range(HOSPITALS):
        task.add_hospital(index)
    task.add_aggregator()
    task.add_watcher()
    watcher = federation.watchers[0]
    capsys.readouterr()
    runner.configure_logging("json")

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    federation.step_all()  # the last round's summaries; everybody settles
    runner.run_agent(watcher, poll_seconds=0.01)  # nothing is left: it starts, steps once and ends

    lines = capsys.readouterr().err.splitlines()
    records = [json.loads(line) for line in lines]
    assert records and len(records) == len(lines)
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys(), record
        assert datetime.fromisoformat(record["time"]).utcoffset() is not None
    agents = [record for record in records if record["logger"] == "fedchain.roles"]
    for record in agents:
        assert record["role"] in (*ROLES, "requester")
        assert record["message"].startswith(f"{record['role']} {record['address']} ")
        assert isinstance(record["event"], str) and record["level"] in ("INFO", "WARNING")
    summaries = {(record["role"], record["address"], record["round"]) for record in agents
                 if record["event"] == "round_summary"}
    assert len(summaries) == (HOSPITALS + 2) * 2, "one per agent and round"
    assert {(role, round) for role, _, round in summaries} == {(role, round) for role in ROLES for round in (0, 1)}
    commits = [record for record in agents if record["event"] == "commit"]
    assert len(commits) == HOSPITALS * 2 and {record["round"] for record in commits} == {0, 1}
    assert [record["event"] for record in agents if record["address"] == watcher.address][-2:] == ["start", "end"]

    runner.configure_logging("text")
    runner.run_agent(watcher, poll_seconds=0.01)
    text = capsys.readouterr().err.splitlines()
    assert len(text) == 2 and all(re.fullmatch(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d{{3}} watcher {watcher.address} "
                                               r"(on task 1, .*|task 1 has ended and nothing is left to do)", line)
                                  for line in text), text


def test_every_run_command_takes_the_log_format() -> None:
    for role in ROLES:
        refused = CliRunner().invoke(cli, [role, "run", "--log-format", "xml"])
        assert refused.exit_code == 2 and "'xml' is not one of 'text', 'json'" in refused.output
