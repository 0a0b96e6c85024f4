"""The task configuration file: the example parses, every bad key is named, amounts stay exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedchain.deploy import TaskConfigError
from fedchain.deploy.task_config import load_task_config, parse_task_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "deploy" / "task.toml"
TOKEN = "0x" + "11" * 20


def test_the_example_file_gives_the_task_parameters() -> None:
    config = load_task_config(EXAMPLE)
    params = config.task_params(TOKEN, 18)
    assert (config.rounds, config.model.name, config.model.in_features) == (5, "logreg", 30)
    assert (params.commit_window, params.reveal_window, params.propose_window, params.challenge_window) == (
        40, 30, 30, 15)
    assert params.min_stake == 10 * 10**18 and params.aggregator_bond == 20 * 10**18
    assert params.clip == 8 * 2**16 and params.server_lr_bps == 10_000 and params.token == TOKEN


def test_decimal_amounts_are_exact_and_limited_by_the_tokens_decimals() -> None:
    config = parse_task_config({"model": {"name": "logreg", "in_features": 3}, "task": {"reward_per_round": "0.5"}})
    assert config.task_params(TOKEN, 6).reward_per_round == 500_000
    tiny = parse_task_config({"model": {"name": "logreg", "in_features": 3}, "task": {"min_stake": "0.0001"}})
    with pytest.raises(TaskConfigError, match=r"task.min_stake: 0.0001 has more decimals than the token's 2"):
        tiny.task_params(TOKEN, 2)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "model.name: required"),
        ({"model": {"name": "cnn", "in_features": 3}}, "model.name: must be one of 'mlp', 'logreg', got 'cnn'"),
        ({"model": {"name": "logreg", "in_features": 3}, "rouds": 2}, "rouds: unknown setting"),
        ({"model": {"name": "logreg", "in_features": 3}, "task": {"commit_window": 0}},
         "task.commit_window: must lie in [1, 4294967295], got 0"),
        ({"model": {"name": "logreg", "in_features": 3}, "task": {"min_participants": 5, "cohort_cap": 4}},
         "task.min_participants: must lie in [1, 4], got 5"),
        ({"model": {"name": "logreg", "in_features": 3}, "task": {"members": ["0xnope"]}},
         "task.members: '0xnope' is not an address"),
        ({"model": {"name": "logreg", "in_features": 3, "hidden": [4]}}, "model.hidden: logistic regression has"),
        ({"model": {"name": "logreg", "in_features": 3}, "task": {"words_per_leaf": 3}},
         "task.words_per_leaf: must be one of (1, 2, 4, 8), got 3"),
    ],
)
def test_a_bad_setting_is_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(TaskConfigError) as caught:
        parse_task_config(raw)
    assert str(caught.value).startswith(message)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match="no such task configuration file"):
        load_task_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("rounds = = 3\n")
    with pytest.raises(TaskConfigError, match=r"broken.toml: not valid TOML"):
        load_task_config(broken)
