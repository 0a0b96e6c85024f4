"""How far apart two honest validators' scores of honest updates are, under fedchain's reference scoring rule
(fedchain.score.rule, docs/architecture.md "Contribution scores").

    .venv/bin/python bench/bench_scores.py            # 6 settings x 4 seeds x 8 rounds of 5 hospitals
    .venv/bin/python bench/bench_scores.py --quick    # 2 settings x 1 seed x 2 rounds

Breast cancer is split over five hospitals (IID or by a Dirichlet label skew), the held-out test split into two
halves, one per validator (56 and 57 examples). Each round every hospital trains from the global model (one epoch,
batch 32, SGD at the setting's rate with the task's default momentum 0.9), both validators score the five honest
updates on their halves, and the model moves on by FedAvg. A row counts the updates the two validators scored more
than 2500 apart (the default toleranceBps: a third validator at the median would slash one of them) and the scores
below 2000 (the default minScoreBps: the update would be dropped and its hospital slashed), out of every update and
every score.
"""

import argparse
from dataclasses import dataclass

import numpy as np
import torch

from fedchain.aggregate.fedavg import FedAvg
from fedchain.client.params import Shapes, flatten, unflatten
from fedchain.commit.quantize import QuantizationSpec, dequantize, quantize_model, quantize_update
from fedchain.learn import ModelSpec, TorchTrainer, TrainConfig, federate, initial_parameters, load_breast_cancer
from fedchain.score.rule import Contribution, LossFunction, score_round

HOSPITALS = 5
TOLERANCE = 2_500
MIN_SCORE = 2_000
QUANTIZATION = QuantizationSpec(scale_bits=16, clip=2**20)
RULE = FedAvg(sample_cap=1000)


@dataclass(frozen=True)
class Setting:
    """One row: how the data is split, the model, the local learning rate."""

    partition: str
    alpha: float
    model: str
    learning_rate: float

    @property
    def label(self) -> str:
        split = "IID" if self.partition == "iid" else f"Dirichlet {self.alpha}"
        model = "MLP" if self.model == "mlp" else "logistic regression"
        return f"{split}, {model}, {self.learning_rate:g}"


FULL = (Setting("iid", 1.0, "mlp", 0.05), Setting("iid", 1.0, "mlp", 0.01), Setting("iid", 1.0, "logreg", 0.1),
        Setting("dirichlet", 1.0, "mlp", 0.05), Setting("dirichlet", 0.5, "mlp", 0.05),
        Setting("dirichlet", 1.0, "logreg", 0.1))


def loss_of(client: TorchTrainer, shapes: Shapes) -> LossFunction:
    def loss(model: np.ndarray) -> float:  # type: ignore[type-arg]
        return float(client.evaluate(unflatten(dequantize(model, QUANTIZATION), shapes, dtype=np.float32), {})[0])
    return loss


def measure(setting: Setting, seed: int, rounds: int) -> tuple[int, int, int]:
    """Updates scored more than the tolerance apart, scores below the minimum, and updates, over ``rounds`` rounds."""
    split = federate(load_breast_cancer(), setting.partition, num_clients=HOSPITALS, alpha=setting.alpha, seed=seed)
    spec = ModelSpec(setting.model, in_features=split.test.num_features, num_classes=2)
    config = TrainConfig(local_epochs=1, batch_size=32, learning_rate=setting.learning_rate, seed=3)
    vector, shapes = flatten(initial_parameters(spec, seed=0))
    hospitals = [TorchTrainer.from_spec(spec, 0, data, config=config) for data in split.clients]
    halves = np.array_split(np.random.default_rng(seed).permutation(len(split.test)), 2)
    validators = [loss_of(TorchTrainer.from_spec(spec, 0, split.test.subset(half), split.test.subset(half)), shapes)
                  for half in halves]
    model = quantize_model(vector, QUANTIZATION)
    apart = low = updates = 0
    for round in range(rounds):
        start = unflatten(dequantize(model, QUANTIZATION), shapes, dtype=np.float32)
        trained = []
        for client in hospitals:
            parameters, count, _ = client.fit(start, {"server-round": round})
            trained.append(Contribution(quantize_update(flatten(parameters)[0], model, QUANTIZATION), count))
        first, second = (score_round(model, trained, rule=RULE, last_change=None, loss=loss).scores
                         for loss in validators)
        apart += sum(abs(a - b) > TOLERANCE for a, b in zip(first, second, strict=True))
        low += sum(score < MIN_SCORE for score in (*first, *second))
        updates += len(trained)
        model = RULE.aggregate(model, [u.vector for u in trained], [u.sample_count for u in trained])
    return apart, low, updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 settings, 1 seed, 2 rounds")
    args = parser.parse_args()
    settings, seeds, rounds = (FULL[:1] + FULL[-1:], 1, 2) if args.quick else (FULL, 4, 8)
    torch.set_num_threads(1)
    print(f"{HOSPITALS} hospitals, {rounds} rounds, seeds 0..{seeds - 1}; two validators, one half of the test split "
          "each\n")
    print("| data, model, local learning rate | validators > 2500 apart | honest scores < 2000 |")
    print("|---|---|---|")
    for setting in settings:
        apart = low = updates = 0
        for seed in range(seeds):
            a, b, c = measure(setting, seed, rounds)
            apart, low, updates = apart + a, low + b, updates + c
        print(f"| {setting.label} | {apart} / {updates} | {low} / {2 * updates} |")


if __name__ == "__main__":
    main()
