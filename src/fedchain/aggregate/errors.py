"""Errors raised by the aggregation rules."""

from fedchain.errors import FedchainError


class AggregationError(FedchainError, ValueError):
    """A rule parameter or an aggregation input breaks a rule of docs/protocol.md §4."""
