"""The one task schema: defaults usable as they are, every bad value named by its dotted key, in Python and in
TOML, and the same keys with the same defaults in a task file and a simulation file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fedchain.chain.coordinator import Mode
from fedchain.chain.scoring import ScoringParams
from fedchain.learn.models import MODEL_BUILDERS
from fedchain.sim import parse_config
from fedchain.storage import DataSpec
from fedchain.task import (
    DataSettings,
    ModelSettings,
    OnChainRules,
    TaskSpec,
    TaskSpecError,
    TrainingSettings,
    data_spec,
    fit_config,
    load_task,
    scoring_params,
    task_params,
)
from fedchain.task.learning import preprocessing_of
from fedchain.task.read import parse_task
from fedchain.task.schema import BUILTIN_MODELS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOKEN = "0x" + "11" * 20
MODEL = {"name": "logreg", "in_features": 3}
COHORT = {"cohort_cap": 5}


def test_the_defaults_make_a_valid_secure_task() -> None:
    spec = TaskSpec()
    params = task_params(spec, token=TOKEN, decimals=18, hospitals=5)
    assert (params.mode, params.num_rounds, params.cohort_cap, params.neighbours, params.threshold) == (
        Mode.SECURE, 20, 5, 4, 3)
    assert params.clip == 8 * 2**16 and params.min_stake == 10 * 10**18 and params.commit_window == 300
    assert fit_config(spec) == {"local_epochs": 1, "batch_size": 16, "learning_rate": 0.05, "optimizer": "sgd",
                                "momentum": 0.9}


def test_a_key_has_the_same_default_in_a_task_file_a_simulation_file_and_python() -> None:
    assert parse_task({}) == TaskSpec() == parse_config({}).task
    changed = {"rounds": 3, "training": {"learning_rate": 0.2}, "task": {"commit_window": 40}}
    assert parse_task(changed) == parse_config({**changed, "adversaries": []}).task == TaskSpec(
        rounds=3, training=TrainingSettings(learning_rate=0.2), task=OnChainRules(commit_window=40))


def test_python_values_are_checked_and_normalized_like_toml_ones() -> None:
    spec = TaskSpec(model=ModelSettings(hidden=[8, 4]), task=OnChainRules(min_stake="0.5", clip=2))  # type: ignore[arg-type]
    assert spec.model.hidden == (8, 4) and spec.task.min_stake == Decimal("0.5") and spec.task.clip == 2.0
    with pytest.raises(TaskSpecError, match=r"^training.learning_rate: must be > 0.0, got 0$"):
        TrainingSettings(learning_rate=0)
    with pytest.raises(TaskSpecError, match=r"^model: must be a ModelSettings, got a table"):
        TaskSpec(model={"name": "mlp"})  # type: ignore[arg-type]
    with pytest.raises(TaskSpecError, match=r"config.learning_rate: a reserved key"):
        TaskSpec(config={"learning_rate": 1.0})


def test_the_task_files_give_the_task_parameters() -> None:
    plain = load_task(EXAMPLES / "deploy" / "task.toml")
    params = task_params(plain, token=TOKEN, decimals=18)
    assert (plain.rounds, plain.model.name, plain.inputs) == (5, "logreg", 30)
    assert (params.commit_window, params.reveal_window, params.propose_window, params.challenge_window) == (
        40, 30, 30, 15)
    assert params.min_stake == 10 * 10**18 and params.aggregator_bond == 20 * 10**18
    assert (params.mode, params.neighbours, params.threshold) == (Mode.PLAIN, 0, 0)
    assert len(plain.data.mean) == len(plain.data.scale) == 30
    secure = task_params(load_task(EXAMPLES / "deploy" / "secure_task.toml"), token=TOKEN, decimals=18)
    assert (secure.mode, secure.cohort_cap, secure.neighbours, secure.threshold) == (Mode.SECURE, 4, 4, 2)


@pytest.mark.parametrize("cohort", [3, 4, 5, 8, 9, 16, 256])
def test_secure_defaults_follow_the_cohort_whoever_gives_it(cohort: int) -> None:
    from_file = task_params(parse_task({"task": {"cohort_cap": cohort}}), token=TOKEN, decimals=18)
    from_hospitals = task_params(TaskSpec(), token=TOKEN, decimals=18, hospitals=cohort)
    assert (from_file.neighbours, from_file.threshold) == (from_hospitals.neighbours, from_hospitals.threshold)
    assert 2 <= from_file.threshold <= from_file.neighbours and from_file.neighbours % 2 == 0


def test_decimal_amounts_are_exact_and_limited_by_the_tokens_decimals() -> None:
    assert task_params(parse_task({"task": {**COHORT, "reward_per_round": "0.5"}}), token=TOKEN,
                       decimals=6).reward_per_round == 500_000
    with pytest.raises(TaskSpecError, match=r"task.min_stake: 0.0001 has more decimals than the token's 2"):
        task_params(parse_task({"task": {**COHORT, "min_stake": "0.0001"}}), token=TOKEN, decimals=2)
    with pytest.raises(TaskSpecError, match=r"task.cohort_cap: required in a task file"):
        task_params(TaskSpec(), token=TOKEN, decimals=18)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"model": {"name": "cnn net"}}, "model.name: 'cnn net' is neither a model name"),
        ({"rouds": 2}, "rouds: unknown setting"),
        ({"task": {"commit_window": 0}}, "task.commit_window: must be >= 10, got 0"),
        ({"task": {"commit_window": "x"}}, "task.commit_window: must be an integer, got a string 'x'"),
        ({"task": {"min_participants": 5, "cohort_cap": 4}}, "task.min_participants: 5 is more than task.cohort_cap 4"),
        ({"task": {"members": ["0xnope"], "allowlist": True}}, "task.members: '0xnope' is not an address"),
        ({"task": {"members": [TOKEN]}}, "task.members: only used with allowlist = true"),
        ({"model": {"name": "logreg", "hidden": [4]}}, "model.hidden: only the mlp has hidden layers"),
        ({"task": {"words_per_leaf": 3}}, "task.words_per_leaf: must be one of 1, 2, 4, 8, got 3"),
        ({"mode": "masked"}, "mode: must be one of 'plain', 'secure', got 'masked'"),
        ({"mode": "plain", "task": {"neighbours": 4}}, 'task.neighbours: only used with mode = "secure"'),
        ({"task": {"neighbours": 3}}, "task.neighbours: must be even, got 3"),
        ({"task": {"neighbours": 4, "threshold": 6}}, "task.threshold: 6 is more than task.neighbours 4"),
        ({"task": {"words_per_leaf": 8}}, "task.words_per_leaf: secure mode needs one of 1, 2, 4, got 8"),
        ({"task": {"clip": 100_000}}, "task.clip: 100000.0 x 2^16 = 6553600000 must lie in"),
        ({"data": {"normalization": "none", "mean": [1.0]}}, 'data.mean: only used with normalization = "standardize"'),
        ({"data": {"mean": [1.0, 2.0], "scale": [1.0]}}, "data.scale: 1 scales for 2 means"),
        ({"data": {"mean": [1.0], "scale": [0.0]}}, "data.scale: every scale must be > 0"),
        ({"data": {"features": ["a", "a"]}}, "data.features: names a column twice"),
        ({"data": {"features": ["a", "b"]}, "model": MODEL}, "model.in_features: 3, but data.features lists 2"),
        ({"data": {"normalization": "none", "missing": "mean"}}, 'data.missing: "mean" fills in the task\'s mean'),
        ({"config": {"learning_rate": 0.1}}, "config.learning_rate: a reserved key"),
        ({"config": {"nested": {"a": 1}}}, "config.nested: must be a boolean, number or string"),
        ({"config": 3}, "config: must be a table, got an integer 3"),
        ({"task": {"min_stake": 0}}, "task.min_stake: must be > 0, got 0"),
        ({"task": {"reward_per_round": "-1"}}, "task.reward_per_round: must be >= 0, got -1"),
        ({"task": {"min_stake": "x"}}, "task.min_stake: 'x' is not an amount of tokens"),
        ({"task": {"min_stake": "nan"}}, "task.min_stake: must be a finite amount of at most"),
        ({"task": {"min_stake": "2000000000000"}}, "task.min_stake: must be a finite amount of at most"),
        ({"model": {"hidden": []}}, "model.hidden: must list at least one width"),
        ({"model": {"hidden": [8, 5000]}}, "model.hidden[1]: must be <= 4096, got 5000"),
        ({"model": {"hidden": 8}}, "model.hidden: must be a list, got an integer 8"),
        ({"data": {"label_column": ""}}, "data.label_column: must be a non-empty string"),
        ({"task": {"allowlist": 1}}, "task.allowlist: must be true or false, got an integer 1"),
        ({"rounds": "3"}, "rounds: must be an integer, got a string '3'"),
    ],
)
def test_a_bad_setting_is_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(TaskSpecError) as caught:
        parse_task(raw)
    assert str(caught.value).startswith(message)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(TaskSpecError, match="no such task file"):
        load_task(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("rounds = = 3\n")
    with pytest.raises(TaskSpecError, match=r"broken.toml: not valid TOML"):
        load_task(broken)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[training]\nlearning_rate = -1\n")
    with pytest.raises(TaskSpecError, match=r"wrong.toml: training.learning_rate: must be > 0.0, got -1"):
        load_task(wrong)


def test_data_settings_of_a_declared_csv() -> None:
    data = DataSettings(features=("age", "bp"), mean=(50.0, 120.0), scale=(10.0, 15.0), missing="mean")
    spec = TaskSpec(data=data, model=ModelSettings(name="logreg"))
    assert spec.inputs == 2 and preprocessing_of(spec.data).complete


def test_the_declared_preprocessing_is_what_the_task_file_says_that_changes_the_models_inputs() -> None:
    data = DataSettings(features=("age", "bp"), mean=(50, 120.5), scale=(10.0, 15.0), missing="mean",
                        label_column="outcome")
    pinned = data_spec(data)
    assert pinned == DataSpec(features=("age", "bp"), normalization="standardize", mean=(50.0, 120.5),
                              scale=(10.0, 15.0), missing="mean")
    assert data_spec(DataSettings(features=("age", "bp"), mean=(50, 120.5), scale=(10.0, 15.0), missing="mean")) \
        == pinned, "the label column only names a CSV column: not part of the pinned preprocessing"
    assert data_spec(DataSettings(normalization="none")) == DataSpec((), "none", (), (), "refuse")
    assert data_spec(DataSettings()) is None, "statistics still to fit (a simulation's) pin nothing"
    task_file = load_task(EXAMPLES / "deploy" / "task.toml")
    declared = data_spec(task_file.data)
    assert declared is not None and declared.mean == task_file.data.mean


def test_the_rule_is_picked_by_name_with_its_own_parameter() -> None:
    median = parse_task({"mode": "plain", "rule": {"name": "median"}})
    assert (task_params(median, token=TOKEN, decimals=18, hospitals=5).rule, median.rule.param_bps) == (1, 0)
    trimmed = parse_task({"mode": "plain", "rule": {"name": "trimmed_mean"}})
    params = task_params(trimmed, token=TOKEN, decimals=18, hospitals=5)
    assert (params.rule, params.rule_param) == (2, 1_000), "the trim defaults to 10% at each end"
    set_trim = parse_task({"mode": "plain", "rule": {"name": "trimmed_mean", "trim": 0.25}})
    assert task_params(set_trim, token=TOKEN, decimals=18, hospitals=5).rule_param == 2_500


@pytest.mark.parametrize(("raw", "message"), [
    ({"mode": "plain", "rule": {"name": "krum"}}, r"^rule.name: must be one of 'fedavg', 'median', 'trimmed_mean'"),
    ({"mode": "plain", "rule": {"name": "median", "trim": 0.1}}, r"^rule.trim: not a setting of rule 'median'"),
    ({"mode": "plain", "rule": {"trim": 0.1}}, r"^rule.trim: not a setting of rule 'fedavg'"),
    ({"mode": "plain", "rule": {"name": "trimmed_mean", "trim": 0.5}}, r"^rule.trim: must be <= 0.4999, got 0.5"),
    ({"rule": {"name": "median"}}, r"^rule.name: 'median' works in plain mode only"),
])
def test_a_rule_that_cannot_apply_is_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(TaskSpecError, match=message):
        parse_task(raw)


def test_a_scoring_table_scores_the_task_with_defaults_taken_from_the_task() -> None:
    unscored = parse_task({"mode": "plain"})
    assert unscored.scoring is None
    assert scoring_params(unscored, task_params(unscored, token=TOKEN, decimals=18, hospitals=5), decimals=18) is None
    scored = parse_task({"mode": "plain", "task": {"reveal_window": 120, "min_stake": 3}, "scoring": {}})
    params = task_params(scored, token=TOKEN, decimals=18, hospitals=5)
    assert scoring_params(scored, params, decimals=18) == ScoringParams(
        committee=3, score_window=120, min_score_bps=2_000, tolerance_bps=2_500, validator_slash_bps=1_000,
        validator_fee_bps=500, validator_stake=3 * 10**18)
    chosen = parse_task({"mode": "plain", "scoring": {"committee": 5, "score_window": 60, "min_score_bps": 0,
                                                      "validator_stake": "0.5"}})
    params = task_params(chosen, token=TOKEN, decimals=6, hospitals=5)
    assert scoring_params(chosen, params, decimals=6) == ScoringParams(
        committee=5, score_window=60, min_score_bps=0, validator_stake=500_000)


@pytest.mark.parametrize(("raw", "message"), [
    ({"scoring": {}}, r"^scoring: only plain tasks are scored .*set mode = \"plain\", or leave out \[scoring\]"),
    ({"mode": "plain", "scoring": {"committee": 17}}, r"^scoring.committee: must be <= 16, got 17$"),
    ({"mode": "plain", "scoring": {"score_window": 5}}, r"^scoring.score_window: must be >= 10, got 5$"),
    ({"mode": "plain", "scoring": {"tolerance_bps": 0}}, r"^scoring.tolerance_bps: must be >= 1, got 0$"),
    ({"mode": "plain", "scoring": {"min_score_bps": 10_001}}, r"^scoring.min_score_bps: must be <= 10000"),
    ({"mode": "plain", "scoring": {"validator_fee_bps": 9_600}},
     r"^scoring.validator_fee_bps: 9600 and task.aggregator_fee_bps 500 are more than 10000 together$"),
    ({"mode": "plain", "scoring": {"validator_stake": 0}}, r"^scoring.validator_stake: must be > 0, got 0$"),
    ({"mode": "plain", "scoring": {"seats": 3}}, r"^scoring.seats: unknown setting"),
    ({"mode": "plain", "scoring": 3}, r"^scoring: must be a table"),
])
def test_a_bad_scoring_setting_is_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(TaskSpecError, match=message):
        parse_task(raw)


def test_the_schema_knows_every_built_in_model_without_loading_torch() -> None:
    built_in = {name for name, builder in MODEL_BUILDERS.items() if builder.__module__ == "fedchain.learn.models"}
    assert set(BUILTIN_MODELS) == built_in == {"mlp", "logreg", "cnn"}
