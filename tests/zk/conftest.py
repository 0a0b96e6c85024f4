"""Shared fixtures of the zero-knowledge tests: the smallest step that exercises the whole path, its circuit's
artifacts (built once per session, in the session's temporary folder: every run sets up from scratch), one real
proof of one real step, and its verifier deployed on an embedded chain."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from fedchain.chain import Chain, connect
from fedchain.zk.evm.onchain import DeployedVerifier, deploy_verifier
from fedchain.zk.evm.solidity import compiled_verifier
from fedchain.zk.fixed.arith import Ints, quantize
from fedchain.zk.fixed.logreg import LogRegStep, new_salt, pack_batch, sgd_step
from fedchain.zk.proof.artifacts import CircuitArtifacts, circuit_artifacts
from fedchain.zk.proof.poseidon import poseidon
from fedchain.zk.proof.prover import StepProof, prove_step
from fedchain.zk.proof.statement import Statement

TINY = LogRegStep(features=4, batch=4, learning_rate=0.3, scale=8, logit_bound=4)
"""4 features, 4 samples, at 2**-8 with logits clipped to ±4: a 2**12-row circuit that proves in seconds."""


@dataclass(frozen=True)
class Batch:
    """A batch as a hospital holds it: fixed-point features, labels, salt, and the packed private input."""

    features: Ints
    labels: Ints
    salt: Ints
    packed: Ints


def make_batch(spec: LogRegStep, rng: np.random.Generator, spread: float = 1.0) -> Batch:
    """A random batch of ``spec``'s shape."""
    features = quantize(rng.normal(0.0, spread, (spec.batch, spec.features)), spec.scale)
    labels = rng.integers(0, 2, spec.batch)
    salt = new_salt(rng)
    return Batch(features, labels, salt, pack_batch(spec, features, labels, salt))


@dataclass(frozen=True)
class ProvenStep:
    """One real step and its proof: the global model, the batch, the update and the statement the chain holds."""

    theta: Ints
    batch: Batch
    update: Ints
    statement: Statement
    proof: StepProof


@pytest.fixture(scope="session")
def tiny_artifacts(tmp_path_factory: pytest.TempPathFactory) -> CircuitArtifacts:
    """TINY's circuit: settings, compilation, a local SRS (testing only) and keys, built once per session."""
    return circuit_artifacts(TINY, cache=tmp_path_factory.mktemp("zk-cache"))


@pytest.fixture(scope="session")
def proven(tiny_artifacts: CircuitArtifacts) -> ProvenStep:
    """A real proof of a real step (with one logit beyond the clip bound, so the clip is exercised)."""
    rng = np.random.default_rng(15)
    theta = quantize(rng.normal(0.0, 1.0, TINY.parameters), TINY.scale)
    batch = make_batch(TINY, rng, spread=2.0)
    update = sgd_step(TINY, theta, batch.features, batch.labels)
    statement = Statement.of(theta, poseidon(batch.packed), update)
    return ProvenStep(theta, batch, update, statement, prove_step(tiny_artifacts, TINY, theta, batch.packed))


@pytest.fixture(scope="session")
def session_chain() -> Iterator[Chain]:
    """One embedded chain for the session's verifier."""
    with connect("embedded") as chain:
        yield chain


@pytest.fixture(scope="session")
def deployed(tiny_artifacts: CircuitArtifacts, session_chain: Chain) -> DeployedVerifier:
    """TINY's Solidity verifier, compiled offline and deployed on the embedded chain."""
    return deploy_verifier(session_chain, compiled_verifier(tiny_artifacts))


def cache_of(artifacts: CircuitArtifacts) -> Path:
    """The cache folder an artifacts' folder sits in (``<cache>/circuits/<key>``)."""
    return artifacts.folder.parent.parent
