"""The attack suite's pure parts: what each attack sends (the ALIE and IPM formulas), who attacks (from the seed), and
the ``[attack]`` table's checks, each bad setting an error naming its key."""

from __future__ import annotations

from statistics import NormalDist
from typing import Any, get_args

import numpy as np
import pytest

from fedchain.sim import ConfigError, parse_config
from fedchain.sim.attacks import (
    ATTACKS,
    AttackKind,
    AttackSettings,
    alie,
    attacker_count,
    baruch_z,
    finish,
    flip_labels,
    gaussian_noise,
    ipm,
    plan_attack,
    scaled,
    sign_flip,
    zero,
)
from fedchain.sim.run import simulate
from fedchain.task import TaskSpec
from fedchain.task.errors import TaskSpecError

UPDATES = np.array([[1.0, -2.0, 4.0], [3.0, 2.0, 4.0], [5.0, 0.0, 4.0]])
"""Three colluders' updates: per coordinate mean (3, 0, 4), sample standard deviation (2, 2, 0)."""


def test_alie_is_the_mean_minus_z_sample_deviations() -> None:
    assert np.allclose(alie(UPDATES, 1.5), [3 - 1.5 * 2, 0 - 1.5 * 2, 4])
    assert np.allclose(alie(UPDATES, 0.0), UPDATES.mean(axis=0))


def test_ipm_is_minus_epsilon_times_the_mean() -> None:
    assert np.allclose(ipm(UPDATES, 10.0), [-30, 0, -40])
    assert np.allclose(ipm(UPDATES[:1], 0.5), [-0.5, 1, -2])


def test_the_simple_forgeries() -> None:
    update = np.array([2.0, -3.0, 0.0])
    assert np.array_equal(sign_flip(update), [-2, 3, 0])
    assert np.array_equal(scaled(update, 4), [8, -12, 0])
    assert np.array_equal(zero(update), [0, 0, 0])
    noise = gaussian_noise(20_000, 3.0, np.random.default_rng(1))
    assert abs(noise.mean()) < 0.1 and abs(noise.std() - 3.0) < 0.1


def test_labels_flip_to_the_other_end() -> None:
    assert flip_labels(np.array([0, 1, 1, 0]), 2).tolist() == [1, 0, 0, 1]
    assert flip_labels(np.array([0, 3, 9, 4]), 10).tolist() == [9, 6, 0, 5]


def test_baruch_z_max() -> None:
    # n = 10, m = 2: s = floor(6) - 2 = 4 supporters needed, z = Phi^-1(6/10)
    assert baruch_z(10, 2) == pytest.approx(NormalDist().inv_cdf(0.6)) == pytest.approx(0.2533, abs=1e-4)
    assert baruch_z(50, 12) == pytest.approx(NormalDist().inv_cdf(36 / 50))
    assert baruch_z(10, 1) == 0.0  # one attacker of ten: the mean itself


def test_a_forgery_is_rounded_and_clipped_like_any_update() -> None:
    assert finish(np.array([0.4, 0.6, -2.5, 1e9, -1e9]), clip=100).tolist() == [0, 1, -2, 100, -100]
    assert finish(np.zeros(3), clip=1).dtype == np.int32


def test_every_kind_has_an_attack() -> None:
    assert set(ATTACKS) == set(get_args(AttackKind))


@pytest.mark.parametrize(("share", "hospitals", "count"), [(0.1, 10, 1), (0.2, 10, 2), (0.3, 10, 3), (0.29, 100, 29),
                                                           (0.1, 3, 1), (0.5, 5, 2), (0.5, 2, 1)])
def test_the_share_rounds_down_to_at_least_one_attacker(share: float, hospitals: int, count: int) -> None:
    assert attacker_count(share, hospitals) == count


def test_the_seed_picks_the_attackers() -> None:
    settings = AttackSettings(kind="sign_flip", share=0.3)
    plans = [plan_attack(settings, 10, seed) for seed in (7, 7, 8)]
    assert plans[0] == plans[1] and len(plans[0].attackers) == 3
    assert list(plans[0].attackers) == sorted(set(plans[0].attackers)) and all(0 <= a < 10 for a in plans[0].attackers)
    assert len({plan_attack(settings, 10, seed).attackers for seed in range(8)}) > 1


def test_strength_defaults() -> None:
    assert plan_attack(AttackSettings(kind="scaling"), 10, 0).strength == 10.0  # the members
    assert plan_attack(AttackSettings(kind="scaling", strength=3), 10, 0).strength == 3.0
    assert plan_attack(AttackSettings(kind="ipm"), 10, 0).strength == 10.0
    assert plan_attack(AttackSettings(kind="gaussian_noise"), 10, 0).strength == 1.0
    assert plan_attack(AttackSettings(kind="alie", share=0.3), 10, 0).strength == pytest.approx(baruch_z(10, 3))
    assert plan_attack(AttackSettings(kind="sign_flip"), 10, 0).strength is None


def test_sybils_count_their_identities() -> None:
    plan = plan_attack(AttackSettings(kind="sybil", share=0.2), 10, 0)
    assert plan.identities == 3 and plan.extra_identities() == [plan.attackers[0]] * 2 + [plan.attackers[1]] * 2
    assert plan_attack(AttackSettings(kind="sybil", share=0.2, strength=5), 10, 0).identities == 5
    # model replacement scales by the members, Sybil identities included; an honest attack has one identity each
    assert plan_attack(AttackSettings(kind="scaling"), 10, 0).extra_identities() == []


def test_colluding_validators_need_a_scored_task_and_default_to_a_minority() -> None:
    settings = AttackSettings(kind="colluding_validators", share=0.2)
    assert plan_attack(settings, 10, 0, validators=3).colluding_validators == 1
    assert plan_attack(settings, 10, 0, validators=5).colluding_validators == 2
    assert plan_attack(settings, 10, 0, validators=1).colluding_validators == 1
    assert plan_attack(AttackSettings(kind="colluding_validators", strength=2), 10, 0,
                       validators=3).colluding_validators == 2
    assert plan_attack(AttackSettings(kind="sign_flip"), 10, 0, validators=3).colluding_validators == 0
    with pytest.raises(ConfigError, match=r"^attack\.kind: colluding_validators has validators collude, and only a "
                                          r"scored task has validators: add a \[scoring\] table$"):
        plan_attack(settings, 10, 0)
    with pytest.raises(ConfigError, match=r"^attack\.strength: 4 colluding validators, but the task has 3$"):
        plan_attack(AttackSettings(kind="colluding_validators", strength=4), 10, 0, validators=3)


def test_alie_needs_two_colluders() -> None:
    with pytest.raises(ConfigError, match=r"attack\.share: alie .* needs at least 2 attackers; 0\.1 of 10 hospitals "
                                          r"gives 1"):
        plan_attack(AttackSettings(kind="alie", share=0.1), 10, 0)


def attack_config(attack: dict[str, Any], **top: Any) -> Any:
    return parse_config({"rounds": 3, "mode": "plain", "simulation": {"hospitals": 10, "partition": "iid"},
                         "adversaries": [], "attack": attack, **top})


def test_an_attack_table_is_read() -> None:
    config = attack_config({"kind": "ipm", "share": 0.3, "from_round": 1, "strength": 4})
    assert config.attack == AttackSettings(kind="ipm", share=0.3, from_round=1, strength=4.0)
    assert parse_config({}).attack is None


@pytest.mark.parametrize(("attack", "message"), [
    ({"share": 0.2}, "attack.kind: required: one of 'sign_flip', "),
    ({"kind": "poison"}, "attack.kind: must be one of 'sign_flip', "),
    ({"kind": "sign_flip", "share": 0.6}, "attack.share: must be <= 0.5, got 0.6"),
    ({"kind": "sign_flip", "share": 0}, "attack.share: must be > 0.0, got 0"),
    ({"kind": "sign_flip", "from_round": 3}, "attack.from_round: 3 is not a round of a 3-round task"),
    ({"kind": "sign_flip", "strength": 2}, "attack.strength: not used by kind 'sign_flip'"),
    ({"kind": "ipm", "strength": -1}, "attack.strength: must be > 0.0, got -1"),
    ({"kind": "sybil", "strength": 2.5}, "attack.strength: sybil's identities is a whole number, got 2.5"),
    ({"kind": "sybil", "strength": 1}, "attack.strength: sybil's identities must be >= 2, got 1"),
    ({"kind": "sybil", "from_round": 1}, "attack.from_round: not used by kind 'sybil'"),
    ({"kind": "alie", "share": 0.1}, "attack.share: alie estimates the benign spread"),
    ({"kind": "sign_flip", "rounds": 2}, "attack.rounds: unknown setting"),
    ({"kind": "colluding_validators"}, "attack.kind: colluding_validators has validators collude"),
    ({"kind": "colluding_validators", "strength": 1.5}, "attack.strength: colluding_validators's validators is a "
                                                        "whole number"),
])
def test_a_bad_attack_names_its_key(attack: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace(".", r"\.").replace("(", r"\(")):
        attack_config(attack)


def test_an_attacker_cannot_also_stage_an_incident() -> None:
    plan = plan_attack(AttackSettings(kind="sign_flip", share=0.3), 10, 0)
    incident = {"kind": "silent_hospital", "round": 1, "hospital": plan.attackers[0]}
    with pytest.raises(ConfigError, match=rf"^adversaries\[0\]\.hospital: hospital {plan.attackers[0]} is one of "
                                          r"the attackers"):
        attack_config({"kind": "sign_flip", "share": 0.3}, seed=0, adversaries=[incident])


def test_python_settings_are_checked_too() -> None:
    with pytest.raises(TaskSpecError, match=r"^attack\.share: must be <= 0\.5"):
        AttackSettings(kind="sign_flip", share=0.7)


def test_simulate_refuses_to_flip_the_labels_of_your_clients() -> None:
    with pytest.raises(ConfigError, match=r"^attack\.kind: 'label_flip' trains fedchain's built-in trainer on "
                                          r"flipped labels"):
        simulate(lambda hospital: object(), hospitals=4, task=TaskSpec(rounds=2, mode="plain"),
                 attack=AttackSettings(kind="label_flip"))
