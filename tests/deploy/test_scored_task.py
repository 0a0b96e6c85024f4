"""`fedchain task create` with a `[scoring]` table creates a scored task (docs/protocol.md section 12) whose committee
rules are the table's, the score window and the seat's stake derived from the task's reveal window and minimum stake."""

from __future__ import annotations

from pathlib import Path

from fedchain.chain import connect
from fedchain.chain.coordinator import Coordinator
from fedchain.chain.scoring import ScoringParams
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
