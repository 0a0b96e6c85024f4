"""A real proof of a real step verifies natively; a proof for another model, batch or update does not."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from fedchain.zk.errors import ProofSystemError
from fedchain.zk.fixed.logreg import pack_batch
from fedchain.zk.proof.artifacts import SRS_ENV, CircuitArtifacts, circuit_artifacts
from fedchain.zk.proof.poseidon import poseidon
from fedchain.zk.proof.prover import StepProof, verify_step
from fedchain.zk.proof.statement import Statement
from tests.zk.conftest import TINY, ProvenStep, cache_of


def test_a_real_proof_verifies_against_what_the_chain_holds(tiny_artifacts: CircuitArtifacts,
                                                            proven: ProvenStep) -> None:
    assert proven.proof.instances == tuple(proven.statement.instances())
    assert proven.proof.statement() == proven.statement
    assert verify_step(tiny_artifacts, proven.proof, proven.statement)


def test_the_batch_hash_is_the_packed_batch_poseidon(proven: ProvenStep) -> None:
    assert proven.proof.instances[1] == poseidon(proven.batch.packed)
    resalted = pack_batch(TINY, proven.batch.features, proven.batch.labels, proven.batch.salt ^ 1)
    assert poseidon(resalted) != poseidon(proven.batch.packed)


def test_a_proof_for_another_model_batch_or_update_is_rejected(tiny_artifacts: CircuitArtifacts,
                                                               proven: ProvenStep) -> None:
    unit = np.eye(TINY.parameters, dtype=np.int64)[1]
    other_model = Statement.of(proven.theta + unit, proven.statement.batch_hash, proven.update)
    other_batch = Statement.of(proven.theta, proven.statement.batch_hash + 1, proven.update)
    other_update = Statement.of(proven.theta, proven.statement.batch_hash, proven.update - unit)
    for statement in (other_model, other_batch, other_update):
        assert not verify_step(tiny_artifacts, proven.proof, statement)


def test_a_changed_proof_is_rejected(tiny_artifacts: CircuitArtifacts, proven: ProvenStep) -> None:
    data = bytearray(proven.proof.proof)
    data[100] ^= 1
    changed = StepProof(bytes(data), proven.proof.instances, proven.proof.document)
    assert not verify_step(tiny_artifacts, changed, proven.statement)


def test_the_cache_reuses_a_circuits_artifacts(tiny_artifacts: CircuitArtifacts) -> None:
    started = time.perf_counter()
    again = circuit_artifacts(TINY, cache=cache_of(tiny_artifacts))
    assert again == tiny_artifacts
    assert time.perf_counter() - started < 1.0
    assert tiny_artifacts.logrows == 12


def test_the_same_circuit_and_srs_give_the_same_keys_in_another_cache(tiny_artifacts: CircuitArtifacts,
                                                                        tmp_path: Path) -> None:
    """A hospital derives the keys of a task's circuit itself, from the task file and the SRS the task's creator
    used: set up again in another cache (another machine), they are byte for byte the same, so its verifier is the
    task's (EZKL's settings list the range checks in a run-dependent order; fedchain sorts them)."""
    (tmp_path / "srs").mkdir()
    shutil.copy(tiny_artifacts.srs, tmp_path / "srs" / tiny_artifacts.srs.name)
    again = circuit_artifacts(TINY, cache=tmp_path)
    assert again.folder != tiny_artifacts.folder and again.folder.name == tiny_artifacts.folder.name
    assert again.verifying_key.read_bytes() == tiny_artifacts.verifying_key.read_bytes()


def test_fedchain_zk_srs_names_the_srs_every_circuit_is_set_up_from(tiny_artifacts: CircuitArtifacts,
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A consortium sets $FEDCHAIN_ZK_SRS once (its ceremony's file; here the tests' local one, copied elsewhere)
    and every command sets its circuits up from it, in a cache of its own, to the same keys."""
    ceremony = tmp_path / "ceremony.srs"
    shutil.copy(tiny_artifacts.srs, ceremony)
    monkeypatch.setenv(SRS_ENV, str(ceremony))
    again = circuit_artifacts(TINY, cache=tmp_path / "cache")
    assert again.srs == ceremony
    assert not (tmp_path / "cache" / "srs").exists()  # no local SRS was generated
    assert again.verifying_key.read_bytes() == tiny_artifacts.verifying_key.read_bytes()
    monkeypatch.setenv(SRS_ENV, str(tmp_path / "missing.srs"))
    with pytest.raises(ProofSystemError, match=r"FEDCHAIN_ZK_SRS=.*missing.srs: no such SRS file"):
        circuit_artifacts(TINY, cache=tmp_path / "cache")
