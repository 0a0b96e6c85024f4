"""EZKL's Solidity verifier, compiled offline and deployed on the embedded chain, accepts the real proof and
rejects it for another model, batch or update."""

from __future__ import annotations

import os

import numpy as np

from fedchain.zk.evm.onchain import DeployedVerifier, verify_on_chain
from fedchain.zk.evm.solidity import EIP170_LIMIT, vka_words
from fedchain.zk.proof.statement import Statement
from tests.zk.conftest import TINY, ProvenStep


def test_the_evm_verifier_accepts_the_real_proof(deployed: DeployedVerifier, proven: ProvenStep) -> None:
    assert deployed.compiled.runtime_size <= EIP170_LIMIT
    verdict = verify_on_chain(deployed, proven.proof.proof, proven.statement)
    assert verdict.accepted
    assert 300_000 < verdict.gas < 3_000_000


def test_the_evm_verifier_rejects_another_model_batch_update_or_proof(deployed: DeployedVerifier,
                                                                     proven: ProvenStep) -> None:
    unit = np.eye(TINY.parameters, dtype=np.int64)[0]
    statements = (Statement.of(proven.theta - unit, proven.statement.batch_hash, proven.update),
                  Statement.of(proven.theta, proven.statement.batch_hash ^ 1, proven.update),
                  Statement.of(proven.theta, proven.statement.batch_hash, proven.update + unit))
    for statement in statements:
        assert not verify_on_chain(deployed, proven.proof.proof, statement).accepted
    changed = bytearray(proven.proof.proof)
    changed[64] ^= 1
    assert not verify_on_chain(deployed, bytes(changed), proven.statement).accepted


def test_rendering_left_the_proxy_settings_alone(deployed: DeployedVerifier) -> None:
    assert os.environ.get("HTTPS_PROXY") != "http://127.0.0.1:9"


def test_vka_words_read_ezkls_file() -> None:
    data = (2).to_bytes(8, "little") + bytes(range(32)) + bytes(32)
    assert vka_words(data) == (bytes(range(32)), bytes(32))
