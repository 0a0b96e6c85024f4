"""Exceptions of the learning layer; every one names the offending input in its message."""


class LearnError(Exception):
    """Base class of every error raised by fedchain.learn."""


class ModelSpecError(LearnError, ValueError):
    """A model spec names an unknown model or carries invalid options."""


class DatasetError(LearnError, ValueError):
    """A dataset cannot be loaded or is malformed (missing column, non-numeric value, empty file)."""


class PartitionError(LearnError, ValueError):
    """A partition of the data among clients is impossible with the requested settings."""


class TrainerError(LearnError, ValueError):
    """A trainer got an invalid configuration or returned values of the wrong type."""
