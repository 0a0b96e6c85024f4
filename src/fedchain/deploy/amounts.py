"""Token amounts on the command line and in task files: whole tokens (exact decimals) and base units."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fedchain.deploy.errors import DeployError


def parse_tokens(option: str, value: str) -> Decimal:
    """A non-negative amount of whole tokens given to ``option`` (decimals allowed, kept exact)."""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise DeployError(f"{option} {value!r} is not an amount of tokens") from None
    if not amount.is_finite() or amount < 0:
        raise DeployError(f"{option} {value!r}: must be a non-negative amount of tokens")
    return amount
