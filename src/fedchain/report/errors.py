"""Errors of reports and model verification."""

from fedchain.errors import FedchainError


class ReportError(FedchainError):
    """A report, model or anchor file cannot be written or read."""


class VerificationError(ReportError):
    """A model could not be checked against its anchor (the file, the anchor or the chain is unusable)."""
