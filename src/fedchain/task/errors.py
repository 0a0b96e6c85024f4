"""The task schema's error."""

from fedchain.errors import FedchainError


class TaskSpecError(FedchainError, ValueError):
    """A task setting is missing, of the wrong type, out of range, or contradicts another; the message starts with
    its dotted key."""
