"""Simulation settings: defaults are the demo's but for its label skew and training, every bad setting is an error
naming its key."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import get_args

import pytest

from fedchain.chain.coordinator import Mode
from fedchain.learn import FederatedSplit
from fedchain.learn.defaults import DEVICES
from fedchain.secagg.curve import public_key
from fedchain.secagg.params import SecureParams
from fedchain.secagg.roster import Commitment, Member, SecureRound
from fedchain.sim import ConfigError, SimulationConfig, demo_config, load_config, parse_config
from fedchain.sim.config import DEMO_ADVERSARIES, DEMO_ALPHA, DEMO_TRAINING, Device, check_hospitals, with_output
from fedchain.sim.data import load_split
from fedchain.sim.run import token_units
from fedchain.task import task_params

TOKEN = "0x" + "00" * 20


def task_template(config: SimulationConfig, hospitals: int):  # type: ignore[no-untyped-def]
    """The task's parameters as a simulation of ``hospitals`` hospitals creates them."""
    return task_params(config.task, token=TOKEN, decimals=18, hospitals=hospitals)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def demo_departures(config: SimulationConfig) -> SimulationConfig:
    """``config`` with the demo's label skew and local training."""
    return dataclasses.replace(config, task=dataclasses.replace(config.task, training=DEMO_TRAINING),
                               simulation=dataclasses.replace(config.simulation, alpha=DEMO_ALPHA))


def test_the_defaults_are_the_demo_but_for_its_skew_and_training() -> None:
    config = demo_config()
    assert config == demo_departures(parse_config({}))
    assert (config.task.rounds, config.simulation.hospitals, config.simulation.alpha,
            config.simulation.dataset) == (20, 5, 0.2, "breast_cancer")
    training = config.task.training
    assert (training.learning_rate, training.momentum, training.optimizer, training.local_epochs) == (
        0.01, 0.0, "sgd", 1)
    assert config.simulation.chain == "embedded" and config.task.mode == "secure"
    assert {(a.kind, a.round, a.hospital, a.phase) for a in config.adversaries} == {
        ("cheating_aggregator", 4, None, None), ("withholding_aggregator", 6, None, None),
        ("dropping_hospital", 9, 2, "before_upload")}


def test_the_plain_demo_keeps_its_incidents() -> None:
    config = demo_config("plain")
    assert config == demo_departures(parse_config({"mode": "plain"}))
    assert {a.kind for a in config.adversaries} == {"cheating_aggregator", "withholding_aggregator",
                                                    "out_of_range_hospital"}
    assert task_template(config, hospitals=5).mode == Mode.PLAIN


@pytest.mark.parametrize(("hospitals", "neighbours", "threshold"), [
    (3, 2, 2), (4, 4, 2), (5, 4, 3), (6, 6, 4), (7, 6, 4), (8, 8, 5), (9, 8, 5), (20, 8, 5), (64, 8, 5)])
def test_secure_defaults_survive_one_dropped_hospital(hospitals: int, neighbours: int, threshold: int) -> None:
    config = parse_config({"simulation": {"hospitals": hospitals}, "adversaries": []})
    params = task_template(config, hospitals)
    assert (params.mode, params.neighbours, params.threshold) == (Mode.SECURE, neighbours, threshold)
    seed = bytes(range(32))
    advertised = tuple(Member(index, bytes([index + 1]) * 20, public_key(index + 1), bytes([7]) * 32)
                       for index in range(hospitals))
    commitment = Commitment(bytes([1]) * 32, bytes([2]) * 32, 1)
    committed = {member.address: commitment for member in advertised}
    for dropped in advertised if hospitals > 3 else ():
        uploaded = {member.address: bytes([3]) * 32 for member in advertised if member != dropped}
        SecureRound(seed, SecureParams(neighbours, threshold), advertised, committed, uploaded).check_unmaskable(2)


def test_explicit_secure_settings_are_used_and_checked() -> None:
    config = parse_config({"simulation": {"hospitals": 12}, "task": {"neighbours": 6, "threshold": 3},
                           "adversaries": []})
    params = task_template(config, hospitals=12)
    assert (params.neighbours, params.threshold) == (6, 3)
    assert task_template(parse_config({"task": {"neighbours": 2}}), hospitals=5).threshold == 2


def test_a_file_overrides_only_what_it_states(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text('rounds = 12\nadversaries = []\n[simulation]\nalpha = 2.0\noutput = "results"\nstake = 12.5\n'
                    'chain = "anvil"\n')
    config = load_config(path)
    assert config.task.rounds == 12 and config.simulation.alpha == 2.0 and config.adversaries == ()
    assert config.simulation.output == Path("results")
    assert token_units(config.simulation.stake) == 12_500_000_000_000_000_000
    assert config.simulation.chain == "anvil" and config.task.model == demo_config().task.model


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"rounds": 0}, "rounds: must be >= 1, got 0"),
        ({"rounds": "20"}, "rounds: must be an integer"),
        ({"roundz": 3}, "roundz: unknown setting"),
        ({"simulation": {"alpha": 0}}, "simulation.alpha: must be > 0"),
        ({"simulation": {"dataset": "mnist"}}, "simulation.dataset: must be one of"),
        ({"simulation": {"hospitals": 1}}, "simulation.hospitals: must be >= 2"),
        ({"simulation": {"partition": "iid", "alpha": 1.0}}, "simulation.alpha: only used with partition"),
        ({"simulation": {"partition": "natural"}}, "simulation.partition: 'natural' needs a dataset with institutions"),
        ({"simulation": {"dataset": "lung", "partition": "natural", "hospitals": 4}},
         "simulation.hospitals: a natural split"),
        ({"simulation": {"dataset": "csv", "partition": "natural", "files": ["a.csv"]}},
         "simulation.files: a CSV federation"),
        ({"model": {"name": "logreg", "hidden": [8]}}, "model.hidden: only the mlp has hidden layers"),
        ({"model": {"depth": 3}}, "model.depth: unknown setting"),
        ({"training": {"learning_rate": -0.1}}, "training.learning_rate: must be > 0"),
        ({"rule": {"name": "krum"}}, "rule.name: must be one of 'fedavg'"),
        ({"simulation": {"stake": 5}}, "simulation.stake: 5 is below task.min_stake 10"),
        ({"simulation": {"stake": "20.0000000000000000001"}},
         "simulation.stake: 20.0000000000000000001 has more decimals than the token's 18"),
        ({"task": {"min_stake": "10.0000000000000000001"}, "simulation": {"stake": 30}},
         "task.min_stake: 10.0000000000000000001 has more decimals than the token's 18"),
        ({"task": {"words_per_leaf": 3}}, "task.words_per_leaf: must be one of 1, 2, 4, 8"),
        ({"task": {"min_participants": 6}}, "task.min_participants: 6 is more than the cohort of 5"),
        ({"simulation": {"chain": "mainnet"}}, "simulation.chain: must be one of 'embedded', 'anvil'"),
        ({"mode": "private"}, "mode: must be one of 'plain', 'secure'"),
        ({"simulation": {"hospitals": 2}},
         "task.cohort_cap: with 2 members (hospitals) and neighbours = 2, a member has 1 neighbour"),
        ({"task": {"neighbours": 3}}, "task.neighbours: must be even, got 3"),
        ({"task": {"neighbours": 256}}, "task.neighbours: must be <= 254"),
        ({"task": {"threshold": 1}}, "task.threshold: must be >= 2"),
        ({"task": {"neighbours": 4, "threshold": 6}}, "task.threshold: 6 is more than task.neighbours 4"),
        ({"task": {"threshold": 5}}, "task.threshold: with 5 members (hospitals) and neighbours = 4, a member has 4"),
        ({"simulation": {"hospitals": 12}, "task": {"neighbours": 2, "threshold": 3}},
         "task.threshold: 3 is more than task.neighbours 2"),
        ({"mode": "plain", "task": {"neighbours": 4}}, "task.neighbours: only used with mode = \"secure\""),
        ({"task": {"words_per_leaf": 8}}, "task.words_per_leaf: secure mode needs one of 1, 2, 4, got 8"),
        ({"adversaries": [{"kind": "out_of_range_hospital", "round": 1, "hospital": 0}]},
         "adversaries[0].kind: 'out_of_range_hospital' is not an incident of secure mode"),
        ({"mode": "plain", "adversaries": [{"kind": "dropping_hospital", "round": 1, "hospital": 0,
                                            "phase": "before_upload"}]},
         "adversaries[0].kind: 'dropping_hospital' is not an incident of plain mode"),
        ({"adversaries": [{"kind": "dropping_hospital", "round": 1, "hospital": 0}]}, "adversaries[0].phase: required"),
        ({"adversaries": [{"kind": "dropping_hospital", "round": 1, "hospital": 0, "phase": "later"}]},
         "adversaries[0].phase: must be one of 'before_commit', 'before_upload', 'during_unmask'"),
        ({"adversaries": [{"kind": "cheating_aggregator", "round": 1, "phase": "before_commit"}]},
         "adversaries[0].phase: not used by kind 'cheating_aggregator'"),
        ({"adversaries": [{"kind": "dropping_hospital", "round": 1, "hospital": 0, "phase": "before_commit"},
                          {"kind": "dropping_hospital", "round": 2, "hospital": 0, "phase": "during_unmask"}]},
         "adversaries[1].kind: hospital 0 is already 'dropping_hospital before_commit'"),
        ({"rounds": 5}, "adversaries[1].round: 6 is not a round of a 5-round task (these are the demo's"),
        ({"adversaries": [{"kind": "cheating_aggregator"}]}, "adversaries[0].round: required"),
        ({"mode": "plain", "adversaries": [{"kind": "silent_hospital", "round": 1}]},
         "adversaries[0].hospital: required"),
        ({"adversaries": [{"kind": "cheating_aggregator", "round": 1, "hospital": 0}]},
         "adversaries[0].hospital: not used by kind"),
        ({"mode": "plain", "adversaries": [{"kind": "silent_hospital", "round": 1, "hospital": 7}]},
         "adversaries[0].hospital: 7 is not one of the 5 hospitals"),
        ({"mode": "plain", "adversaries": [{"kind": "silent_hospital", "round": 1, "hospital": 0},
                                           {"kind": "out_of_range_hospital", "round": 2, "hospital": 0}]},
         "adversaries[1].kind: hospital 0 is already 'silent_hospital'"),
        ({"adversaries": {"kind": "silent_hospital"}}, "adversaries: must be a list of tables"),
        ({"mode": "plain", "simulation": {"validators": 3}},
         "simulation.validators: only used with a scored task (add a [scoring] table)"),
        ({"mode": "plain", "scoring": {}, "simulation": {"validators": 17}}, "simulation.validators: must be <= 16"),
        ({"scoring": {}}, "scoring: only plain tasks are scored"),
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
    config = parse_config({"simulation": {"dataset": "csv", "partition": "natural", "files": [str(bad), str(good)]}})
    with pytest.raises(ConfigError, match=r"data: .*bad\.csv: row 2, column 'a': value 'x' is not numeric"):
        load_split(config)
    other = tmp_path / "other.csv"
    other.write_text("a,label\n" + "".join(f"{row},{row % 2}\n" for row in range(20)))
    good.write_text("a,label\n" + "".join(f"{row},{row % 2}\n" for row in range(20)))
    declared = parse_config({"simulation": {"dataset": "csv", "partition": "natural", "files": [str(good), str(other)],
                                            "min_hospital_size": 1}, "data": {"features": ["b"]}})
    with pytest.raises(ConfigError, match=r"feature columns \['a'\] are not the task's data.features \['b'\]"):
        load_split(declared)


def test_settings_that_depend_on_the_data_are_checked_before_anything_starts() -> None:
    lung = {"dataset": "lung", "partition": "natural"}
    config = parse_config({"simulation": lung, "data": {"missing": "mean"}, "adversaries": [
        {"kind": "dropping_hospital", "round": 1, "hospital": 40, "phase": "before_upload"}]})
    split: FederatedSplit = load_split(config)
    with pytest.raises(ConfigError, match=r"adversaries\[0\].hospital: 40 is not one of the \d+ hospitals the data"):
        check_hospitals(config, len(split.clients), " the data gives")
    too_demanding = parse_config({"simulation": lung, "task": {"threshold": 60}, "adversaries": []})
    with pytest.raises(ConfigError, match=r"task.threshold: with \d+ members \(hospitals the data gives\)"):
        check_hospitals(too_demanding, len(split.clients), " the data gives")
    with pytest.raises(ConfigError, match=r"the task refuses missing values \(set data.missing = \"mean\""):
        load_split(parse_config({"simulation": lung, "adversaries": []}))


def test_a_scored_simulation_has_the_committee_as_its_validators_unless_it_says() -> None:
    assert parse_config({"mode": "plain", "adversaries": []}).validators == 0
    assert parse_config({"mode": "plain", "adversaries": [], "scoring": {"committee": 4}}).validators == 4
    assert parse_config({"mode": "plain", "adversaries": [], "scoring": {},
                         "simulation": {"validators": 5}}).validators == 5


def test_the_task_parameters_carry_the_settings() -> None:
    config = SimulationConfig(adversaries=DEMO_ADVERSARIES["secure"])
    params = task_template(config, hospitals=5)
    assert params.cohort_cap == 5 and params.num_rounds == 20 and params.server_lr_bps == 10_000
    assert params.clip == 8 * 2**16 and params.min_stake == 10 * 10**18 and params.aggregator_bond == 20 * 10**18


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.toml")), ids=lambda path: path.name)
def test_every_example_config_is_valid(example: Path) -> None:
    config = load_config(example)
    split = load_split(config)
    check_hospitals(config, len(split.clients), " the data gives")
    assert len(split.clients) >= 2


def test_the_breast_cancer_examples_are_the_demo_in_each_mode() -> None:
    assert load_config(EXAMPLES / "breast_cancer.toml") == demo_config()
    plain = load_config(EXAMPLES / "breast_cancer_plain.toml")
    assert plain == with_output(demo_config("plain"), Path("fedchain-out-plain"))


def test_a_simulation_offers_the_devices_the_trainer_knows() -> None:
    assert set(get_args(Device)) == set(DEVICES)
