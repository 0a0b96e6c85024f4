"""The task configuration file: the examples parse, every bad key is named, amounts stay exact, a secure task's
neighbours and threshold default from its cohort cap as the simulator's do from its hospitals."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedchain.chain.coordinator import Mode
from fedchain.deploy import TaskConfigError
from fedchain.deploy.task_config import load_task_config, parse_task_config
from fedchain.sim.config import demo_config
from fedchain.sim.run import task_template

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "deploy" / "task.toml"
SECURE_EXAMPLE = EXAMPLE.with_name("secure_task.toml")
TOKEN = "0x" + "11" * 20
MODEL = {"name": "logreg", "in_features": 3}


def test_the_example_file_gives_the_task_parameters() -> None:
    config = load_task_config(EXAMPLE)
    params = config.task_params(TOKEN, 18)
    assert (config.rounds, config.model.name, config.model.in_features) == (5, "logreg", 30)
    assert (params.commit_window, params.reveal_window, params.propose_window, params.challenge_window) == (
        40, 30, 30, 15)
    assert params.min_stake == 10 * 10**18 and params.aggregator_bond == 20 * 10**18
    assert params.clip == 8 * 2**16 and params.server_lr_bps == 10_000 and params.token == TOKEN
    assert (params.mode, params.neighbours, params.threshold) == (Mode.PLAIN, 0, 0)


def test_the_secure_example_gives_a_secure_task() -> None:
    params = load_task_config(SECURE_EXAMPLE).task_params(TOKEN, 18)
    assert (params.mode, params.cohort_cap, params.neighbours, params.threshold) == (Mode.SECURE, 4, 4, 2)
    assert (params.commit_window, params.reveal_window, params.words_per_leaf) == (40, 30, 2)


@pytest.mark.parametrize("cohort", [3, 4, 5, 8, 9, 16, 256])
def test_secure_defaults_follow_the_cohort_cap_as_the_simulators_follow_its_hospitals(cohort: int) -> None:
    config = parse_task_config({"mode": "secure", "model": MODEL, "task": {"cohort_cap": cohort}})
    deployed = config.task_params(TOKEN, 18)
    simulated = task_template(demo_config("secure"), hospitals=cohort)
    assert (deployed.neighbours, deployed.threshold) == (simulated.neighbours, simulated.threshold)
    assert 2 <= deployed.threshold <= deployed.neighbours and deployed.neighbours % 2 == 0


def test_secure_settings_as_given() -> None:
    config = parse_task_config({"mode": "secure", "model": MODEL,
                                "task": {"cohort_cap": 40, "neighbours": 16, "threshold": 9, "words_per_leaf": 4}})
    assert (config.mode, config.rules.neighbours, config.rules.threshold) == (Mode.SECURE, 16, 9)
    lowered = parse_task_config({"mode": "secure", "model": MODEL, "task": {"cohort_cap": 40, "neighbours": 2}})
    assert (lowered.rules.neighbours, lowered.rules.threshold) == (2, 2), "t defaults from the k given"


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
         "task.commit_window: must lie in [10, 4294967295], got 0"),
        ({"model": {"name": "logreg", "in_features": 3}, "task": {"min_participants": 5, "cohort_cap": 4}},
         "task.min_participants: must lie in [1, 4], got 5"),
        ({"model": {"name": "logreg", "in_features": 3}, "task": {"members": ["0xnope"]}},
         "task.members: '0xnope' is not an address"),
        ({"model": {"name": "logreg", "in_features": 3, "hidden": [4]}}, "model.hidden: logistic regression has"),
        ({"model": {"name": "logreg", "in_features": 3}, "task": {"words_per_leaf": 3}},
         "task.words_per_leaf: must be one of (1, 2, 4, 8), got 3"),
        ({"model": MODEL, "mode": "masked"}, "mode: must be one of 'plain', 'secure', got 'masked'"),
        ({"model": MODEL, "task": {"neighbours": 4}}, 'task.neighbours: only used with mode = "secure"'),
        ({"model": MODEL, "mode": "plain", "task": {"threshold": 2}}, 'task.threshold: only used with mode = "secure"'),
        ({"model": MODEL, "mode": "secure", "task": {"neighbours": 3}}, "task.neighbours: must be even, got 3"),
        ({"model": MODEL, "mode": "secure", "task": {"neighbours": 256}},
         "task.neighbours: must lie in [2, 254], got 256"),
        ({"model": MODEL, "mode": "secure", "task": {"threshold": 1}}, "task.threshold: must lie in [2, 254], got 1"),
        ({"model": MODEL, "mode": "secure", "task": {"neighbours": 4, "threshold": 6}},
         "task.threshold: 6 is more than task.neighbours 4"),
        ({"model": MODEL, "mode": "secure", "task": {"cohort_cap": 2}},
         "task.cohort_cap: with cohort_cap = 2 a member has at most 1 neighbour to share its secrets with, fewer "
         "than the threshold 2 (secure mode needs a cohort of at least 3)"),
        ({"model": MODEL, "mode": "secure", "task": {"cohort_cap": 4, "threshold": 4}},
         "task.threshold: with cohort_cap = 4 a member has at most 3 neighbours to share its secrets with, fewer "
         "than the threshold 4"),
        ({"model": MODEL, "mode": "secure", "task": {"words_per_leaf": 8}},
         "task.words_per_leaf: secure mode needs one of (1, 2, 4), got 8"),
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
