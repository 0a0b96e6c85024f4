"""Errors raised by the contribution-score code."""

from fedchain.errors import FedchainError


class ScoreError(FedchainError, ValueError):
    """A score, a score word or an input of the scoring rule breaks a rule of docs/protocol.md section 12."""
