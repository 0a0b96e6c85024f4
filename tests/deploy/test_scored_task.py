"""`fedchain task create` with a `[scoring]` table creates a scored task (docs/protocol.md section 12) whose committee
rules are the table's, the score window and the seat's stake derived from the task's reveal window and minimum stake;
`fedchain validator run`'s agent scores its rounds, and is refused before it stakes anything when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedchain.chain import connect
from fedchain.chain.coordinator import Coordinator, TaskStatus
from fedchain.chain.scoring import ScoringParams
from fedchain.deploy import runner
from fedchain.deploy.data import load_hospital_data
from fedchain.deploy.errors import DeployError
from fedchain.task.read import parse_task
from tests.deploy.conftest import RAW_CONFIG, deploy_task


def test_a_scoring_table_creates_a_scored_task(tmp_path: Path) -> None:
    config = parse_task({**RAW_CONFIG, "scoring": {"committee": 2, "min_score_bps": 0}})
    with connect("embedded") as chain:
        task = deploy_task(chain, tmp_path, config)
        assert isinstance(task.coordinator, Coordinator)
        assert task.coordinator.scoring_params(task.created.task_id) == ScoringParams(
            committee=2, score_window=100, min_score_bps=0, validator_stake=10 * 10**18)
        assert "createScoredTask" in {record.kind for record in chain.gas_records}


def test_a_task_without_one_is_not_scored(tmp_path: Path) -> None:
    with connect("embedded") as chain:
        task = deploy_task(chain, tmp_path, parse_task(RAW_CONFIG))
        assert isinstance(task.coordinator, Coordinator)
        assert not task.coordinator.scoring_params(task.created.task_id).scored


def test_a_validator_built_as_the_command_line_builds_it_scores_every_round(tmp_path: Path) -> None:
    """`fedchain validator run`'s agent (runner.validator) on a scored task run by command-line-built hospitals,
    aggregator and watcher: it takes a seat before round 0 opens and scores every update of both rounds."""
    config = parse_task({**RAW_CONFIG, "scoring": {"committee": 1}})
    with connect("embedded") as chain:
        task = deploy_task(chain, tmp_path, config)
        task_id, federation = task.created.task_id, task.federation
        held_out = runner.builtin_client(config, load_hospital_data("breast_cancer:test", config))
        federation.validators.append(runner.validator(
            task.coordinator, federation.store, task_id, chain.accounts[8], task=config, client=held_out,
            journal=tmp_path / "validator.json"))
        with pytest.raises(DeployError, match=r"journal .*validator.json is in use by process \d+"):
            runner.validator(task.coordinator, federation.store, task_id, chain.accounts[8], task=config,
                             client=held_out, journal=tmp_path / "validator.json")
        for index in range(3):
            task.add_hospital(index)
        task.add_aggregator()
        task.add_watcher()
        federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

        coordinator = task.coordinator
        assert isinstance(coordinator, Coordinator)
        for round in (0, 1):
            assert coordinator.score_round(task_id, round).reveals == 1
            for participant in federation.participants:
                assert coordinator.median_score(task_id, round, participant.address)[0] == 1
        assert coordinator.validator_slashes(task_id) == []


def test_the_runner_refuses_a_validator_before_anything_is_staked(tmp_path: Path) -> None:
    unscored, costly = parse_task(RAW_CONFIG), parse_task({**RAW_CONFIG, "scoring": {"validator_stake": 5000}})
    for config, message in ((unscored, r"task 1 is not scored: it has no validator committee"),
                            (costly, r"holds 1000 tokens of 0x[0-9a-fA-F]{40}, but taking a validator seat in task 1 "
                                     r"stakes 5000: fund the account first")):
        with connect("embedded") as chain:
            task = deploy_task(chain, tmp_path / config.mode / str(len(message)), config)
            held_out = runner.builtin_client(config, load_hospital_data("breast_cancer:test", config))
            with pytest.raises(DeployError, match=message):
                runner.validator(task.coordinator, task.federation.store, task.created.task_id, chain.accounts[8],
                                 task=config, client=held_out, journal=tmp_path / "refused.json")
            assert not (tmp_path / "refused.json").exists()
