"""The step's ONNX graph: deterministic, valid, and computing the step (in floats, by onnx's reference runtime)."""

from __future__ import annotations

import numpy as np
from onnx.reference import ReferenceEvaluator

from fedchain.zk.circuit.graph import logreg_step_graph, logreg_step_onnx
from fedchain.zk.circuit.settings import run_args
from fedchain.zk.fixed.arith import dequantize
from fedchain.zk.fixed.logreg import LogRegStep, sgd_step
from tests.zk.conftest import TINY, make_batch


def test_the_same_spec_gives_the_same_bytes() -> None:
    assert logreg_step_onnx(TINY) == logreg_step_onnx(TINY)
    assert logreg_step_onnx(TINY) != logreg_step_onnx(LogRegStep(features=4, batch=4, learning_rate=0.35, scale=8,
                                                                 logit_bound=4))


def test_the_graph_computes_the_step_in_floats() -> None:
    rng = np.random.default_rng(2)
    theta = np.round(rng.normal(0.0, 1.0, TINY.parameters) * 256).astype(np.int64)
    batch = make_batch(TINY, rng)
    session = ReferenceEvaluator(logreg_step_graph(TINY))
    echoed, updated = session.run(None, {
        "theta": dequantize(theta, TINY.scale).astype(np.float32)[None, :],
        "batch": dequantize(batch.packed, TINY.scale).astype(np.float32)[None, :]})
    assert echoed[0].tolist() == dequantize(theta, TINY.scale).tolist()
    fixed = dequantize(sgd_step(TINY, theta, batch.features, batch.labels), TINY.scale)
    assert np.abs(updated[0] - fixed).max() < 4 / 256


def test_run_args_bind_the_batch_by_hash_and_the_weights_in_the_clear() -> None:
    arguments = run_args(TINY)
    assert arguments["input_visibility"] == "hashed/public"
    assert arguments["output_visibility"] == "public"
    assert arguments["lookup_range"] == (-4 * 256, 4 * 256)
