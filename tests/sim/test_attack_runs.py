"""Every attack run for real in a tiny simulation on the embedded chain (4 hospitals, 2 of them attackers from round
``FROM``), checked against what the aggregator read from the chain and the store: each attacker's update there is what
its attack makes of what it trained, in the round it attacks, and what it trained before."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from examples.digits_cnn.run import DigitsClient
from numpy.typing import NDArray

import fedchain
import fedchain.roles.aggregator as aggregator_module
from fedchain.client.api import ROUND_KEY
from fedchain.client.params import flatten, unflatten
from fedchain.commit.quantize import QuantizationSpec, dequantize, quantize_update
from fedchain.learn import TorchTrainer
from fedchain.roles import BaseParticipant
from fedchain.sim import parse_config
from fedchain.sim.attacks import alie, baruch_z, finish, flip_labels, ipm
from fedchain.sim.config import SimulationConfig
from fedchain.sim.data import load_split
from fedchain.sim.records import SimulationResult
from fedchain.sim.run import run_simulation
from fedchain.task import fit_config
from fedchain.task.learning import model_spec, train_config

HOSPITALS = 4
FROM = 1
"""The attackers train honestly in round 0 and attack in round 1."""
TOKEN = 10**18
STAKE = 20 * TOKEN


@dataclass
class Seen:
    """What each member trained (the update an honest member would send), the global model of each round, and the
    update and sample count the aggregator read for each member and round."""

    trained: dict[tuple[str, int], NDArray[np.int32]] = field(default_factory=dict)
    global_models: dict[int, NDArray[np.int32]] = field(default_factory=dict)
    revealed: dict[tuple[str, int], tuple[NDArray[np.int32], int]] = field(default_factory=dict)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    record = Seen()
    make_update, fetch_update = BaseParticipant.make_update, aggregator_module.fetch_update

    def spy_update(self: BaseParticipant, round: int, global_model: NDArray[np.int32],
                   fitted: Any) -> tuple[NDArray[np.int32], int]:
        update, count = make_update(self, round, global_model, fitted)
        record.trained[(self.address.lower(), round)] = update
        record.global_models[round] = global_model
        return update, count

    def spy_fetch(*args: Any, **kwargs: Any) -> Any:
        included = fetch_update(*args, **kwargs)
        round, reveal = args[4], args[5]
        record.revealed[(reveal.participant.lower(), round)] = (included.vector, reveal.sample_count)
        return included

    monkeypatch.setattr(BaseParticipant, "make_update", spy_update)
    monkeypatch.setattr(aggregator_module, "fetch_update", spy_fetch)
    yield record


def config_of(kind: str, mode: str = "plain", **attack: Any) -> SimulationConfig:
    return parse_config({"rounds": 2, "mode": mode, "simulation": {"hospitals": HOSPITALS, "partition": "iid"},
                         "adversaries": [], "attack": {"kind": kind, "share": 0.5, **attack}})


@dataclass(frozen=True)
class Run:
    result: SimulationResult
    attackers: list[str]
    """The attackers' (first identities') addresses, lowercase, in hospital order."""
    honest: list[str]
    clip: int


def run(kind: str, from_round: int = FROM, **attack: Any) -> Run:
    result = run_simulation(config_of(kind, from_round=from_round, **attack))
    first = [h for h in result.hospitals if h.identity_of is None]
    return Run(result=result, attackers=[h.address.lower() for h in first if h.attacker],
               honest=[h.address.lower() for h in first if not h.attacker], clip=result.quantization["clip"])


def revealed(seen: Seen, member: str, round: int) -> NDArray[np.int32]:
    return seen.revealed[(member, round)][0]


def check_honest_before_and_after(seen: Seen, outcome: Run) -> None:
    """Every attacker sent what it trained before ``FROM``, and the honest hospitals always did."""
    assert len(outcome.attackers) == 2 and len(outcome.honest) == 2
    for member in outcome.attackers:
        assert np.array_equal(revealed(seen, member, 0), seen.trained[(member, 0)])
    for member in outcome.honest:
        for round in (0, FROM):
            assert np.array_equal(revealed(seen, member, round), seen.trained[(member, round)])
    assert [record.status for record in outcome.result.rounds] == ["finalized", "finalized"]


def test_a_sign_flipper_reveals_the_negation_of_what_it_trained(seen: Seen) -> None:
    outcome = run("sign_flip")
    check_honest_before_and_after(seen, outcome)
    for member in outcome.attackers:
        trained = seen.trained[(member, FROM)]
        assert np.any(trained != 0) and np.array_equal(revealed(seen, member, FROM), -trained)
    assert all(h.misbehaviour == "sign_flip from round 1" for h in outcome.result.hospitals if h.attacker)


def test_model_replacement_sends_the_factor_times_what_it_trained_on_flipped_labels(seen: Seen) -> None:
    outcome = run("scaling", strength=3)
    check_honest_before_and_after(seen, outcome)
    for member in outcome.attackers:
        assert np.array_equal(revealed(seen, member, FROM), finish(3.0 * seen.trained[(member, FROM)], outcome.clip))
    accuracy = [record.scores.metrics["accuracy"] for record in outcome.result.rounds if record.scores is not None]
    assert accuracy[1] < accuracy[0] - 0.3  # the flipped model replaced the global one


def test_a_label_flipper_trains_on_flipped_labels(seen: Seen) -> None:
    outcome = run("label_flip")
    check_honest_before_and_after(seen, outcome)
    config = config_of("label_flip", from_round=FROM)
    split = load_split(config)
    spec = model_spec(config.task, in_features=split.test.num_features, source="test")
    params = outcome.result.quantization
    quantization = QuantizationSpec(scale_bits=params["scale_bits"], clip=params["clip"])
    global_model = seen.global_models[FROM]
    shapes = [(name, tuple(array.shape)) for name, array in zip(outcome.result.final.names,
                                                                outcome.result.final.parameters, strict=True)]
    for member in outcome.attackers:
        position = [h.address.lower() for h in outcome.result.hospitals].index(member)
        data = split.clients[position]

        def trained_on(labels: NDArray[np.int64], data: Any = data) -> NDArray[np.int32]:
            client = TorchTrainer.from_spec(spec, init_seed=config.task.seed, config=train_config(config.task),
                                            train_data=dataclasses.replace(data, labels=labels))
            start = unflatten(dequantize(global_model, quantization), shapes, dtype=np.float32)
            parameters, _, _ = client.fit(start, {**fit_config(config.task), ROUND_KEY: FROM})
            return quantize_update(flatten(parameters)[0], global_model, quantization)

        sent = revealed(seen, member, FROM)
        assert np.array_equal(sent, seen.trained[(member, FROM)])
        assert np.array_equal(sent, trained_on(flip_labels(data.labels, 2)))
        assert not np.array_equal(sent, trained_on(data.labels))


def test_gaussian_noise_replaces_the_update(seen: Seen) -> None:
    outcome = run("gaussian_noise", strength=0.01)
    check_honest_before_and_after(seen, outcome)
    units = 0.01 * 2 ** outcome.result.quantization["scale_bits"]
    sent = [revealed(seen, member, FROM).astype(np.float64) for member in outcome.attackers]
    for noise in sent:
        assert abs(noise.mean()) < 0.15 * units and abs(noise.std() / units - 1) < 0.1
    assert not np.array_equal(sent[0], sent[1])  # each its own draw


def colluders_trained(seen: Seen, outcome: Run) -> NDArray[np.float64]:
    return np.stack([seen.trained[(member, FROM)] for member in outcome.attackers]).astype(np.float64)


def test_alie_colluders_send_their_mean_minus_z_deviations(seen: Seen) -> None:
    outcome = run("alie")
    check_honest_before_and_after(seen, outcome)
    expected = finish(alie(colluders_trained(seen, outcome), baruch_z(HOSPITALS, 2)), outcome.clip)
    for member in outcome.attackers:
        assert np.array_equal(revealed(seen, member, FROM), expected)


def test_ipm_colluders_send_minus_epsilon_times_their_mean(seen: Seen) -> None:
    outcome = run("ipm", strength=2)
    check_honest_before_and_after(seen, outcome)
    expected = finish(ipm(colluders_trained(seen, outcome), 2.0), outcome.clip)
    assert np.any(expected != 0)
    for member in outcome.attackers:
        assert np.array_equal(revealed(seen, member, FROM), expected)


def test_a_zero_free_rider_sends_zeros_and_is_paid_for_its_examples(seen: Seen) -> None:
    outcome = run("free_rider_zero")
    check_honest_before_and_after(seen, outcome)
    for member in outcome.attackers:
        sent, examples = seen.revealed[(member, FROM)]
        assert not np.any(sent) and examples > 0
    rewards = outcome.result.rounds[FROM].rewards
    assert all(rewards[h.name] > 0 for h in outcome.result.hospitals)


def test_a_copier_resubmits_the_last_change_of_the_global_model(seen: Seen) -> None:
    outcome = run("free_rider_copy", from_round=0)  # a copier of round 0 sends zeros: no model has changed yet
    for member in outcome.attackers:
        assert not np.any(revealed(seen, member, 0))
        change = seen.global_models[1].astype(np.int64) - seen.global_models[0]
        assert np.any(change) and np.array_equal(revealed(seen, member, 1), finish(change.astype(np.float64),
                                                                                   outcome.clip))


def test_sybils_stake_and_send_their_hospitals_update_under_every_identity(seen: Seen) -> None:
    result = run_simulation(config_of("sybil", strength=3))
    hospitals = {h.name: h for h in result.hospitals}
    attackers = [h for h in result.hospitals if h.attacker and h.identity_of is None]
    assert len(result.hospitals) == HOSPITALS + 2 * 2 and len(attackers) == 2
    balances = {balance.party.name: balance for balance in result.balances}
    for attacker in attackers:
        identities = [attacker] + [h for h in result.hospitals if h.identity_of == attacker.name]
        assert [h.name for h in identities[1:]] == [f"{attacker.name}-sybil-1", f"{attacker.name}-sybil-2"]
        for round in (0, 1):
            sent = [seen.revealed[(h.address.lower(), round)] for h in identities]
            trained = seen.trained[(attacker.address.lower(), round)]
            assert all(np.array_equal(vector, trained) and count == attacker.examples for vector, count in sent)
        for identity in identities:
            assert balances[identity.name].withdrawn == STAKE  # each identity staked, and took it back at the end
            assert balances[identity.name].rewards_claimed > 0
            assert hospitals[identity.name].examples == attacker.examples
    assert all(len(record.participants) == HOSPITALS + 4 for record in result.rounds)


def test_a_secure_attacker_attacks_before_masking(seen: Seen) -> None:
    plain = run_simulation(config_of("sign_flip", from_round=0))
    secure = run_simulation(config_of("sign_flip", mode="secure", from_round=0))
    assert all(np.array_equal(a, b) for a, b in zip(plain.final.parameters, secure.final.parameters, strict=True))
    assert [h.attacker for h in plain.hospitals] == [h.attacker for h in secure.hospitals]
    assert plain.final.scores.metrics["accuracy"] < 0.6  # two sign flippers of four undo the learning


def test_simulate_stages_an_attack_among_your_own_clients(seen: Seen) -> None:
    task = fedchain.TaskSpec(rounds=1, mode="plain")
    result = fedchain.simulate(lambda hospital: DigitsClient(hospital, HOSPITALS), hospitals=HOSPITALS, task=task,
                               attack=fedchain.AttackSettings(kind="free_rider_zero", share=0.25))
    (attacker,) = [h for h in result.hospitals if h.attacker]
    sent, examples = seen.revealed[(attacker.address.lower(), 0)]
    assert not np.any(sent) and examples > 0
    assert np.any(seen.trained[(attacker.address.lower(), 0)])
