"""The fixed-point step: its settings, its packing, its closeness to float SGD, and its equality with the circuit."""

from __future__ import annotations

import numpy as np
import pytest

from fedchain.zk.errors import FixedPointError
from fedchain.zk.fixed.arith import dequantize, quantize, rescale, sigmoid
from fedchain.zk.fixed.logreg import SALT_WORDS, LogRegStep, pack_batch, sgd_step
from fedchain.zk.proof.artifacts import CircuitArtifacts
from fedchain.zk.proof.prover import circuit_outputs
from tests.zk.conftest import TINY, make_batch


def float_step(theta: np.ndarray, features: np.ndarray, labels: np.ndarray, rate: float) -> np.ndarray:
    augmented = np.concatenate([features, np.ones((len(labels), 1))], axis=1)
    errors = 1.0 / (1.0 + np.exp(-(augmented @ theta))) - labels
    result: np.ndarray = theta - rate / len(labels) * augmented.T @ errors
    return result


def test_step_is_float_sgd_up_to_the_fixed_point_error() -> None:
    spec = LogRegStep(features=6, batch=8, learning_rate=0.1, scale=13, logit_bound=8)
    rng = np.random.default_rng(3)
    theta = rng.normal(0.0, 0.5, spec.parameters)
    features = rng.normal(0.0, 1.0, (spec.batch, spec.features))
    labels = rng.integers(0, 2, spec.batch)
    fixed = sgd_step(spec, quantize(theta, spec.scale), quantize(features, spec.scale), labels)
    exact = float_step(dequantize(quantize(theta, spec.scale), spec.scale),
                       dequantize(quantize(features, spec.scale), spec.scale), labels,
                       spec.step_size / 2**spec.scale * spec.batch)
    assert np.abs(dequantize(fixed, spec.scale) - exact).max() < 4 * 2.0**-spec.scale


def test_packing_lays_out_features_labels_and_salt() -> None:
    rng = np.random.default_rng(1)
    batch = make_batch(TINY, rng)
    packed = batch.packed
    assert packed.shape == (TINY.packed_length,)
    assert packed[:16].tolist() == batch.features.ravel().tolist()
    assert packed[16:20].tolist() == (batch.labels * 2**TINY.scale).tolist()
    assert packed[20:].tolist() == batch.salt.tolist()
    with pytest.raises(FixedPointError):
        pack_batch(TINY, batch.features, batch.labels + 1, batch.salt)
    with pytest.raises(FixedPointError):
        pack_batch(TINY, batch.features, batch.labels, np.zeros(SALT_WORDS - 1, dtype=np.int64))


@pytest.mark.parametrize("rate", [0.5, 0.25])
def test_a_power_of_two_step_size_is_refused(rate: float) -> None:
    # EZKL folds a power-of-two multiplier into the scale and rounds once, later: not the mirrored step.
    with pytest.raises(FixedPointError, match="power of two"):
        LogRegStep(features=4, batch=4, learning_rate=rate, scale=8)


def test_other_settings_out_of_range_are_refused() -> None:
    for bad in ({"features": 0}, {"scale": 17}, {"logit_bound": 0}, {"learning_rate": 1e-6}):
        with pytest.raises(FixedPointError):
            LogRegStep(**{"features": 4, "batch": 4, "learning_rate": 0.3, **bad})  # type: ignore[arg-type]


def test_the_python_step_equals_the_circuit_exactly(tiny_artifacts: CircuitArtifacts) -> None:
    """EZKL's witness (what the circuit computes) against sgd_step, on random batches, on batches whose logits
    pass the clip bound, and on coarse values whose products land on rounding ties."""
    rng = np.random.default_rng(7)
    clipped = ties = 0
    for trial in range(36):
        if trial % 3 == 2:  # coarse multiples: rescaled products often end in exactly one half
            theta = rng.integers(-40, 40, TINY.parameters) * 8
            features = rng.integers(-16, 16, (TINY.batch, TINY.features)) * 16
            labels = rng.integers(0, 2, TINY.batch)
            packed = pack_batch(TINY, features, labels, rng.integers(0, 2**22, SALT_WORDS))
        else:
            theta = quantize(rng.normal(0.0, 0.4 if trial % 3 == 0 else 2.5, TINY.parameters), TINY.scale)
            batch = make_batch(TINY, rng, spread=1.5)
            features, labels, packed = batch.features, batch.labels, batch.packed
        raw = features @ theta[:-1]
        clipped += int((np.abs(rescale(raw, TINY.scale) + theta[-1]) > TINY.logit_bound << TINY.scale).any())
        ties += int((raw % 2**TINY.scale == 2 ** (TINY.scale - 1)).any())
        ties += int((features.T @ (sigmoid(np.clip(rescale(raw, TINY.scale) + theta[-1], -1024, 1024), TINY.scale)
                                    - labels * 2**TINY.scale) % 2**TINY.scale == 2 ** (TINY.scale - 1)).any())
        echoed, updated = circuit_outputs(tiny_artifacts, TINY, theta, packed)
        assert echoed.tolist() == theta.tolist()
        assert updated.tolist() == sgd_step(TINY, theta, features, labels).tolist(), f"trial {trial}"
    assert clipped >= 3 and ties >= 3
