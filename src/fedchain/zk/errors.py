"""Exceptions of the zero-knowledge layer; every one says which input or step failed."""

from fedchain.errors import FedchainError


class ZkError(FedchainError):
    """Base class of every error raised by fedchain.zk."""


class FixedPointError(ZkError, ValueError):
    """A fixed-point setting or value is out of what the circuit represents (scale, range, learning rate)."""


class ProofSystemError(ZkError):
    """EZKL failed at a step (settings, compilation, setup, witness, proof) or is not installed."""


class VerifierError(ZkError):
    """The Solidity verifier could not be generated, compiled or deployed."""
