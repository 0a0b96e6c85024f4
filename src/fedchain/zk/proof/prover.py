"""Proving one training step and verifying a proof against a statement, in Python (EZKL's native verifier)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from fedchain.zk.errors import ProofSystemError
from fedchain.zk.fixed.arith import Ints
from fedchain.zk.fixed.logreg import LogRegStep, check_weights
from fedchain.zk.proof.artifacts import CircuitArtifacts
from fedchain.zk.proof.ezkl_api import ezkl
from fedchain.zk.proof.felts import felt_from_hex, felts_hex, to_signed
from fedchain.zk.proof.statement import Statement

T = TypeVar("T")


@dataclass(frozen=True)
class StepProof:
    """A proof of one training step and the statement it was made for."""

    proof: bytes
    """The proof's bytes, as the EVM verifier takes them."""
    instances: tuple[int, ...]
    """The public instances the prover used (field elements); verifiers rebuild them from a statement instead."""
    document: dict[str, Any]
    """EZKL's proof file (its JSON), which its native verifier reads."""

    def statement(self) -> Statement:
        """The statement the proof claims (read from its own instances; trust only a statement from the chain)."""
        parameters = (len(self.instances) - 2) // 2
        signed = [to_signed(value) for value in self.instances]
        return Statement(tuple(signed[2:2 + parameters]), self.instances[1], tuple(signed[2 + parameters:]))


def _ezkl_step(step: str, thunk: Callable[[], T]) -> T:
    try:
        result = thunk()
    except RuntimeError as error:
        raise ProofSystemError(f"EZKL failed to {step}: {error}") from None
    if result is False:
        raise ProofSystemError(f"EZKL failed to {step}")
    return result


def input_document(spec: LogRegStep, theta: Ints, packed: Ints) -> dict[str, Any]:
    """EZKL's input file for the step: the fixed-point integers as the reals they stand for, which EZKL quantizes
    back to exactly those integers (each is a multiple of 2**-scale below 2**24 in magnitude)."""
    weights = check_weights(spec, theta)
    unit = 2.0**-spec.scale
    return {"input_data": [[float(v) * unit for v in weights], [float(v) * unit for v in np.asarray(packed)]]}


def _witness(artifacts: CircuitArtifacts, spec: LogRegStep, theta: Ints, packed: Ints, folder: Path) -> Path:
    """Write the circuit's input for ``theta`` and ``packed`` into ``folder`` and generate its witness there."""
    module = ezkl()
    (folder / "input.json").write_text(json.dumps(input_document(spec, theta, packed)))
    _ezkl_step("generate the witness", lambda: module.gen_witness(
        str(folder / "input.json"), str(artifacts.compiled), str(folder / "witness.json")))
    return folder / "witness.json"


def circuit_outputs(artifacts: CircuitArtifacts, spec: LogRegStep, theta: Ints, packed: Ints) -> tuple[Ints, Ints]:
    """What the circuit computes for these inputs (EZKL's witness, no proof): the echoed input weights and the new
    weights, as fixed-point integers. :func:`fedchain.zk.fixed.logreg.sgd_step` must equal the second."""
    with tempfile.TemporaryDirectory(prefix="fedchain-zk-") as scratch:
        witness = json.loads(_witness(artifacts, spec, theta, packed, Path(scratch)).read_text())
    echoed, updated = ([to_signed(felt_from_hex(text)) for text in column] for column in witness["outputs"])
    return np.asarray(echoed, dtype=np.int64), np.asarray(updated, dtype=np.int64)


def prove_step(artifacts: CircuitArtifacts, spec: LogRegStep, theta: Ints, packed: Ints) -> StepProof:
    """Prove the step from ``theta`` on the packed batch (`fedchain.zk.fixed.logreg.pack_batch`): its witness, then
    the proof. The proof's new weights are :func:`fedchain.zk.fixed.logreg.sgd_step`'s."""
    module = ezkl()
    with tempfile.TemporaryDirectory(prefix="fedchain-zk-") as scratch:
        folder = Path(scratch)
        witness = _witness(artifacts, spec, theta, packed, folder)
        _ezkl_step("prove", lambda: module.prove(str(witness), str(artifacts.compiled),
                                                 str(artifacts.proving_key), str(folder / "proof.json"),
                                                 str(artifacts.srs)))
        document: dict[str, Any] = json.loads((folder / "proof.json").read_text())
    instances = tuple(felt_from_hex(text) for column in document["instances"] for text in column)
    return StepProof(bytes.fromhex(document["hex_proof"].removeprefix("0x")), instances, document)


def verify_step(artifacts: CircuitArtifacts, proof: StepProof, statement: Statement) -> bool:
    """Whether ``proof`` proves ``statement`` (EZKL's native verifier, with the statement's instances, never the
    proof's own). False for any mismatch: another model, another batch, another update, a changed proof."""
    document = dict(proof.document)
    document["instances"] = [felts_hex(statement.instances())]
    document["hex_proof"] = "0x" + proof.proof.hex()
    document["proof"] = list(proof.proof)
    module = ezkl()
    with tempfile.TemporaryDirectory(prefix="fedchain-zk-") as scratch:
        path = Path(scratch) / "proof.json"
        path.write_text(json.dumps(document))
        try:
            return bool(module.verify(str(path), str(artifacts.settings), str(artifacts.verifying_key),
                                      str(artifacts.srs)))
        except RuntimeError:
            return False
