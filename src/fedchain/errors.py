"""The root of fedchain's exception hierarchy.

Every error that fedchain raises on purpose derives from :class:`FedchainError`, so the CLI can print
it as one clear line and callers can catch fedchain's failures without catching programming errors.
"""


class FedchainError(Exception):
    """A failure fedchain detected and can explain in one line."""
