"""EZKL, imported on first use so that fedchain.zk imports without the ``zk`` extra installed."""

from __future__ import annotations

import importlib
from types import ModuleType

from fedchain.zk.errors import ProofSystemError

EZKL_VERSION = "23.0.5"
"""The EZKL release the circuits and the fixed-point mirror were checked against (pinned in the ``zk`` extra)."""


def ezkl() -> ModuleType:
    """The ``ezkl`` module, or a `ProofSystemError` saying how to install it."""
    try:
        module = importlib.import_module("ezkl")
    except ImportError:
        raise ProofSystemError("EZKL is not installed: pip install 'fedchain[zk]'") from None
    return module
