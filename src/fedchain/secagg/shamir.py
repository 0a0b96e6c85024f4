"""Shamir secret sharing over the BN254 scalar field F_r (docs/protocol.md §10.6).

A secret s is the constant term of a random polynomial f of degree t - 1; the holder with advertise
index a gets the share f(a + 1). Any t shares give s back by Lagrange interpolation at 0; fewer reveal
nothing about it.
"""

import secrets
from collections.abc import Mapping, Sequence

from fedchain.secagg.constants import GROUP_ORDER
from fedchain.secagg.errors import RoundFailedError, SecAggError


def share_point(holder_index: int) -> int:
    """The evaluation point x = a + 1 of the holder with advertise index ``a``."""
    if isinstance(holder_index, bool) or not isinstance(holder_index, int) or not 0 <= holder_index < GROUP_ORDER - 1:
        raise SecAggError(f"holder index must be a non-negative integer, got {holder_index!r}")
    return holder_index + 1


def random_coefficients(threshold: int) -> tuple[int, ...]:
    """The t - 1 random higher coefficients of a sharing polynomial, from the OS random source."""
    return tuple(secrets.randbelow(GROUP_ORDER) for _ in range(threshold - 1))


def split(secret: int, coefficients: Sequence[int], holders: Sequence[int]) -> dict[int, int]:
    """Shares of ``secret`` for each holder index: f(a + 1) with f = secret + c_1 x + ... + c_{t-1} x^{t-1}."""
    _check_element(secret, "secret")
    for position, coefficient in enumerate(coefficients):
        _check_element(coefficient, f"coefficient {position + 1}")
    if len(set(holders)) != len(holders):
        raise SecAggError("share holders must be distinct")
    if len(holders) < len(coefficients) + 1:
        raise SecAggError(f"{len(holders)} holders cannot hold a sharing of threshold {len(coefficients) + 1}")
    polynomial = (secret, *coefficients)
    return {holder: _evaluate(polynomial, share_point(holder)) for holder in holders}


def combine(shares: Mapping[int, int], threshold: int) -> int:
    """Interpolate f(0) from exactly ``threshold`` of ``shares`` (holder index -> share), the lowest indices."""
    if len(shares) < threshold:
        raise RoundFailedError(f"{len(shares)} shares cannot reconstruct a secret of threshold {threshold}")
    chosen = sorted(shares)[:threshold]
    points = [share_point(holder) for holder in chosen]
    secret = 0
    for holder, x_j in zip(chosen, points, strict=True):
        numerator, denominator = 1, 1
        for x_m in points:
            if x_m != x_j:
                numerator = numerator * x_m % GROUP_ORDER
                denominator = denominator * (x_m - x_j) % GROUP_ORDER
        value = _check_element(shares[holder], f"share of holder {holder}")
        secret = (secret + value * numerator * pow(denominator, -1, GROUP_ORDER)) % GROUP_ORDER
    return secret


def _evaluate(polynomial: Sequence[int], x: int) -> int:
    value = 0
    for coefficient in reversed(polynomial):
        value = (value * x + coefficient) % GROUP_ORDER
    return value


def _check_element(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < GROUP_ORDER:
        raise SecAggError(f"{name} must be an element of F_r, an integer in [0, r)")
    return value
