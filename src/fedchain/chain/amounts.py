"""Token amounts as people read them: base units shown in whole tokens of the token's decimals."""

from __future__ import annotations

from decimal import Decimal


def whole_tokens(units: int, decimals: int) -> str:
    """``units`` base units of a token with ``decimals`` as a plain number of whole tokens (``12.5``, ``0``)."""
    return f"{Decimal(units).scaleb(-decimals).normalize():f}"
