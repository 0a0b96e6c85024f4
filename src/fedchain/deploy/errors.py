"""Errors of the deployment front end: each names the file, setting, address or option that is wrong."""

from fedchain.errors import FedchainError


class DeployError(FedchainError):
    """A deployment, a deployment file, a task configuration or an agent's setup is unusable."""


class TaskConfigError(DeployError):
    """A task configuration (TOML) has a bad key or value; the message starts with the key."""
