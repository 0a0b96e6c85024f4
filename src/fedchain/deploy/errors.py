"""Errors of the deployment front end: each names the file, setting, address or option that is wrong."""

from fedchain.errors import FedchainError


class DeployError(FedchainError):
    """A deployment, a deployment file, a hospital's data or an agent's setup is unusable."""
