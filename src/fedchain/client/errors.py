"""Exceptions of the client layer; every one names the method or value at fault."""

from fedchain.errors import FedchainError


class ClientError(FedchainError, ValueError):
    """A client returned values of the wrong type, or cannot be loaded or adapted."""


class ParameterError(ClientError):
    """A parameter vector or list of arrays does not match the expected shapes."""
