"""Errors of the simulator: a bad configuration (named by its key), or a federation that cannot go on."""

from fedchain.errors import FedchainError


class SimulationError(FedchainError):
    """A simulation could not be set up or did not complete."""


class ConfigError(SimulationError, ValueError):
    """A simulation setting is unknown or has a bad value; the message starts with the setting's key."""
