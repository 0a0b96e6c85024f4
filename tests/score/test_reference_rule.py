"""The reference scoring rule on real training: breast cancer split IID over five hospitals, logistic regression and
the MLP, two FedAvg rounds of honest training, then a round in which hospital 0 attacks with each forgery of
:mod:`fedchain.sim.attacks`; two validators score it, each on its own half of the held-out test split."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pytest
import torch
from numpy.typing import NDArray

from fedchain.aggregate.fedavg import FedAvg
from fedchain.client.params import Shapes, flatten, unflatten
from fedchain.commit.quantize import QuantizationSpec, dequantize, quantize_model, quantize_update
from fedchain.learn import ModelSpec, TorchTrainer, TrainConfig, federate, initial_parameters, load_breast_cancer
from fedchain.learn.datasets import TabularDataset
from fedchain.score.rule import Contribution, LossFunction, RoundScores, score_round
from fedchain.sim.attacks import finish, flip_labels, gaussian_noise, ipm, scaled, sign_flip, zero

HOSPITALS = 5
WARM_ROUNDS = 2
QUANTIZATION = QuantizationSpec(scale_bits=16, clip=2**20)
RULE = FedAvg(sample_cap=1000)
LOW = 2_000
"""A forged update scores below this (the default minScoreBps: it is dropped and its owner slashed)."""
HONEST = 6_000
"""An honest update scores at least this."""
TOLERANCE = 2_500
"""Two honest validators score an honest update at most this far apart (the default toleranceBps)."""
FORGERIES = ("sign_flip", "scaling", "gaussian_noise", "label_flip", "ipm", "free_rider_zero", "free_rider_copy",
             "sybil")


@dataclass(frozen=True)
class Scene:
    """Round 2 of the federation: its global model and last change, every hospital's honest update and hospital 0's
    update trained on flipped labels, and each validator's loss."""

    previous: NDArray[np.int32]
    last_change: NDArray[np.int64]
    honest: list[Contribution]
    flipped: Contribution
    validators: list[LossFunction]

    def forged(self, kind: str) -> list[Contribution]:
        """What hospital 0 sends instead of its honest update (as many updates as it has identities)."""
        own = self.honest[0]
        units = own.vector.astype(np.float64)
        colluders = np.stack([update.vector for update in self.honest[:2]]).astype(np.float64)
        forged = {
            "sign_flip": lambda: sign_flip(units),
            "scaling": lambda: scaled(self.flipped.vector.astype(np.float64), HOSPITALS),
            "gaussian_noise": lambda: gaussian_noise(units.size, QUANTIZATION.scale, np.random.default_rng(5)),
            "label_flip": lambda: self.flipped.vector.astype(np.float64),
            "ipm": lambda: ipm(colluders, 10.0),
            "free_rider_zero": lambda: zero(units),
            "free_rider_copy": lambda: self.last_change.astype(np.float64),
            "sybil": lambda: units,
        }[kind]()
        update = Contribution(finish(forged, QUANTIZATION.clip), own.sample_count)
        return [update] * (3 if kind == "sybil" else 1)

    def score(self, kind: str | None) -> list[RoundScores]:
        """Each validator's scores of the round in which hospital 0 sends ``kind`` (honest: None); hospital 0's
        updates come last."""
        updates = [*self.honest[1:], *(self.honest[:1] if kind is None else self.forged(kind))]
        return [score_round(self.previous, updates, rule=RULE, last_change=self.last_change, loss=loss)
                for loss in self.validators]


def loss_of(client: TorchTrainer, shapes: Shapes) -> LossFunction:
    """A validator's loss of a quantized model: its client's evaluation on its held-out data."""
    def loss(model: NDArray[np.int32]) -> float:
        parameters = unflatten(dequantize(model, QUANTIZATION), shapes, dtype=np.float32)
        return float(client.evaluate(parameters, {})[0])
    return loss


def build_scene(model: str, learning_rate: float) -> Scene:
    split = federate(load_breast_cancer(), "iid", num_clients=HOSPITALS, seed=11)
    spec = ModelSpec(model, in_features=30, num_classes=2)
    config = TrainConfig(local_epochs=1, batch_size=32, learning_rate=learning_rate, seed=3)
    vector, shapes = flatten(initial_parameters(spec, seed=0))
    hospitals = [TorchTrainer.from_spec(spec, 0, data, config=config) for data in split.clients]
    flipped_data: TabularDataset = replace(split.clients[0], labels=flip_labels(split.clients[0].labels, 2))
    poisoned = TorchTrainer.from_spec(spec, 0, flipped_data, config=config)
    order = np.random.default_rng(0).permutation(len(split.test))
    halves = np.array_split(order, 2)
    validators = [loss_of(TorchTrainer.from_spec(spec, 0, split.test.subset(half), split.test.subset(half)), shapes)
                  for half in halves]

    def train(client: TorchTrainer, global_model: NDArray[np.int32], round: int) -> Contribution:
        start = unflatten(dequantize(global_model, QUANTIZATION), shapes, dtype=np.float32)
        trained, count, _ = client.fit(start, {"server-round": round})
        return Contribution(quantize_update(flatten(trained)[0], global_model, QUANTIZATION), count)

    model_vector = quantize_model(vector, QUANTIZATION)
    change = np.zeros(model_vector.size, dtype=np.int64)
    for round in range(WARM_ROUNDS):
        updates = [train(client, model_vector, round) for client in hospitals]
        following = RULE.aggregate(model_vector, [u.vector for u in updates], [u.sample_count for u in updates])
        change = following.astype(np.int64) - model_vector
        model_vector = following
    return Scene(previous=model_vector, last_change=change,
                 honest=[train(client, model_vector, WARM_ROUNDS) for client in hospitals],
                 flipped=train(poisoned, model_vector, WARM_ROUNDS), validators=validators)


@pytest.fixture(scope="module", params=[("logreg", 0.1), ("mlp", 0.05)], ids=["logreg", "mlp"])
def scene(request: pytest.FixtureRequest) -> Iterator[Scene]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield build_scene(*request.param)
    torch.set_num_threads(threads)


def test_honest_updates_score_high_and_validators_agree(scene: Scene) -> None:
    first, second = scene.score(None)
    for a, b in zip(first.scores, second.scores, strict=True):
        assert a >= HONEST and b >= HONEST
        assert abs(a - b) <= TOLERANCE
    assert not first.copies and not second.copies


@pytest.mark.parametrize("kind", FORGERIES)
def test_every_forgery_scores_low_and_the_honest_updates_stay_high(scene: Scene, kind: str) -> None:
    honest = HOSPITALS - 1
    for scored in scene.score(kind):
        assert all(score < LOW for score in scored.scores[honest:]), (kind, scored.scores)
        assert all(score >= HONEST for score in scored.scores[:honest]), (kind, scored.scores)
