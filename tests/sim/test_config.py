"""Simulation settings: defaults are the demo, every bad setting is an error naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedchain.learn import FederatedSplit
from fedchain.sim import ConfigError, SimulationConfig, demo_config, load_config, parse_config
from fedchain.sim.config import DEMO_ADVERSARIES, token_units
from fedchain.sim.data import load_split
from fedchain.sim.run import check_against_split, task_template

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_defaults_are_the_demo() -> None:
    config = demo_config()
    assert config == parse_config({})
    assert (config.rounds, config.data.hospitals, config.data.alpha, config.data.dataset) == (20, 5, 0.5,
                                                                                             "breast_cancer")
    assert config.chain.backend == "embedded" and config.mode == "plain"
    assert {a.kind for a in config.adversaries} == {"cheating_aggregator", "out_of_range_hospital"}


def test_a_file_overrides_only_what_it_states(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text('rounds = 12\noutput = "results"\nadversaries = []\n[data]\nalpha = 2.0\n'
                    '[task]\nstake = 12.5\n[chain]\nbackend = "anvil"\n')
    config = load_config(path)
    assert config.rounds == 12 and config.data.alpha == 2.0 and config.adversaries == ()
    assert config.output == Path("results")
    assert token_units(config.task.stake) == 12_500_000_000_000_000_000
    assert config.chain.backend == "anvil" and config.model == demo_config().model


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"rounds": 0}, "rounds: must lie in [1, 1000], got 0"),
        ({"rounds": "20"}, "rounds: must be an integer"),
        ({"roundz": 3}, "roundz: unknown setting"),
        ({"data": {"alpha": 0}}, "data.alpha: must be > 0"),
        ({"data": {"dataset": "mnist"}}, "data.dataset: must be one of"),
        ({"data": {"hospitals": 1}}, "data.hospitals: must lie in [2, 64]"),
        ({"data": {"partition": "iid", "alpha": 1.0}}, "data.alpha: only used with partition"),
        ({"data": {"partition": "natural"}}, "data.partition: 'natural' needs a dataset with institutions"),
        ({"data": {"dataset": "lung", "partition": "natural", "hospitals": 4}}, "data.hospitals: a natural split"),
        ({"data": {"dataset": "csv", "partition": "natural", "files": ["a.csv"]}}, "data.files: a CSV federation"),
        ({"model": {"name": "logreg", "hidden": [8]}}, "model.hidden: logistic regression has no hidden layers"),
        ({"model": {"depth": 3}}, "model.depth: unknown setting"),
        ({"training": {"learning_rate": -0.1}}, "training.learning_rate: must be > 0"),
        ({"rule": {"name": "krum"}}, "rule.name: must be one of 'fedavg'"),
        ({"task": {"stake": 5}}, "task.stake: 5 is below task.min_stake 10"),
        ({"task": {"words_per_leaf": 3}}, "task.words_per_leaf: must be one of 1, 2, 4, 8"),
        ({"task": {"min_participants": 6}}, "task.min_participants: 6 is more than the 5 hospitals"),
        ({"chain": {"backend": "mainnet"}}, "chain.backend: must be one of 'embedded', 'anvil'"),
        ({"mode": "secure"}, "mode: secure aggregation is not available yet"),
        ({"rounds": 5}, "adversaries[1].round: 9 is not a round of a 5-round task (these are the demo's"),
        ({"adversaries": [{"kind": "cheating_aggregator"}]}, "adversaries[0].round: required"),
        ({"adversaries": [{"kind": "silent_hospital", "round": 1}]}, "adversaries[0].hospital: required"),
        ({"adversaries": [{"kind": "cheating_aggregator", "round": 1, "hospital": 0}]},
         "adversaries[0].hospital: not used by kind"),
        ({"adversaries": [{"kind": "silent_hospital", "round": 1, "hospital": 7}]},
         "adversaries[0].hospital: 7 is not one of the 5 hospitals"),
        ({"adversaries": [{"kind": "silent_hospital", "round": 1, "hospital": 0},
                          {"kind": "out_of_range_hospital", "round": 2, "hospital": 0}]},
         "adversaries[1].kind: hospital 0 is already 'silent_hospital'"),
        ({"adversaries": {"kind": "silent_hospital"}}, "adversaries: must be a list of tables"),
    ],
)
def test_bad_settings_name_their_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert str(caught.value).startswith(message)


def test_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("rounds = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_data_problems_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,label\nx,1\n")
    good = tmp_path / "good.csv"
    good.write_text("a,label\n1,0\n")
    config = parse_config({"data": {"dataset": "csv", "partition": "natural", "files": [str(bad), str(good)]}})
    with pytest.raises(ConfigError, match=r"data: .*bad\.csv: row 2, column 'a': value 'x' is not numeric"):
        load_split(config.data, seed=0)


def test_settings_that_depend_on_the_data_are_checked_before_anything_starts() -> None:
    config = parse_config({"data": {"dataset": "lung", "partition": "natural"}, "adversaries": [
        {"kind": "silent_hospital", "round": 1, "hospital": 40}]})
    split: FederatedSplit = load_split(config.data, config.seed)
    with pytest.raises(ConfigError, match=r"adversaries\[0\].hospital: 40 is not one of the \d+ hospitals the data"):
        check_against_split(config, split)


def test_the_task_template_carries_the_settings() -> None:
    config = SimulationConfig(adversaries=DEMO_ADVERSARIES)
    params = task_template(config, hospitals=5)
    assert params.cohort_cap == 5 and params.num_rounds == 20 and params.server_lr_bps == 10_000
    assert params.clip == 8 * 2**16 and params.min_stake == 10 * 10**18 and params.aggregator_bond == 20 * 10**18


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.toml")), ids=lambda path: path.name)
def test_every_example_config_is_valid(example: Path) -> None:
    config = load_config(example)
    split = load_split(config.data, config.seed)
    check_against_split(config, split)
    assert len(split.clients) >= 2
