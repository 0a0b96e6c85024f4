"""The verifier on a chain: deployed once per circuit, then each proof checked by a transaction, its gas recorded.

A proof is sent with the public instances built from the statement (what the chain holds), never those the
prover attached, exactly as a contract calling the verifier would build them from its own storage.
"""

from __future__ import annotations

from dataclasses import dataclass

from web3.contract import Contract

from fedchain.chain.connection import Chain
from fedchain.chain.errors import ChainError
from fedchain.zk.errors import VerifierError
from fedchain.zk.evm.solidity import CompiledVerifier
from fedchain.zk.proof.statement import Statement

VERIFY_KIND = "zk verify step"
"""The gas record's kind of a proof's verification."""


@dataclass(frozen=True)
class DeployedVerifier:
    """A verifier deployed on ``chain`` (and, for the reusable one, its circuit's VKA registered)."""

    chain: Chain
    contract: Contract
    compiled: CompiledVerifier
    deploy_gas: int
    register_gas: int = 0


@dataclass(frozen=True)
class EvmVerdict:
    """What the EVM said of a proof: accepted or not, and the gas of the verifying transaction (0 when refused)."""

    accepted: bool
    gas: int


def deploy_verifier(chain: Chain, compiled: CompiledVerifier) -> DeployedVerifier:
    """Deploy the verifier (and register its VKA with the reusable one)."""
    factory = chain.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    receipt = chain.send(factory.constructor(), kind=f"deploy {compiled.name}")
    address = receipt["contractAddress"]
    if address is None:
        raise VerifierError(f"deploying {compiled.name} produced no contract address")
    contract = chain.w3.eth.contract(address=address, abi=compiled.abi)
    register_gas = 0
    if compiled.reusable:
        registered = chain.send(contract.functions.registerVka(list(compiled.vka)), kind="zk register vka")
        register_gas = int(registered["gasUsed"])
    return DeployedVerifier(chain, contract, compiled, int(receipt["gasUsed"]), register_gas)


def verify_on_chain(verifier: DeployedVerifier, proof: bytes, statement: Statement) -> EvmVerdict:
    """Check ``proof`` against ``statement`` in the EVM: a call first (a refused proof reverts or returns false,
    and is not sent), then, if accepted, the transaction whose gas is the verification's cost."""
    instances = statement.instances()
    functions = verifier.contract.functions
    call = functions.verifyProof(proof, instances, list(verifier.compiled.vka)) if verifier.compiled.reusable \
        else functions.verifyProof(proof, instances)
    try:
        result = verifier.chain.call(call)
    except ChainError:
        return EvmVerdict(False, 0)
    accepted = bool(result[0] if isinstance(result, (list, tuple)) else result)
    if not accepted:
        return EvmVerdict(False, 0)
    receipt = verifier.chain.send(call, kind=VERIFY_KIND)
    return EvmVerdict(True, int(receipt["gasUsed"]))
