"""Per-round mask keys on BN254 G1 and their Diffie-Hellman shared points (docs/protocol.md §10.2).

A mask key is a scalar ``sk`` in [1, r); its public key is the affine point ``sk * G`` with G = (1, 2),
which the EVM's ecMul precompile (0x07) recomputes when a revealed key is checked on chain. Points are
plain ``(x, y)`` integer pairs; the point at infinity is never a valid key or shared point. BN254 G1 has
cofactor 1, so every point on the curve other than infinity is in the group of order r.

The mask key only ever keys pairwise masks. It is Shamir-shared and revealed when its owner drops, so it
must never protect anything else: the share channel has its own X25519 key (:mod:`fedchain.secagg.keys`).
"""

import secrets
from dataclasses import dataclass, field

from fedchain.secagg.constants import CURVE_B, FIELD_MODULUS, GENERATOR, GROUP_ORDER
from fedchain.secagg.errors import CurveError

Point = tuple[int, int]
_WNAF_WIDTH = 5


@dataclass(frozen=True)
class MaskKeys:
    """One participant's mask key pair for one round: ``secret`` in [1, r) and ``public = secret * G``."""

    secret: int = field(repr=False)
    public: Point = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "public", public_key(self.secret))


def new_mask_keys() -> MaskKeys:
    """A fresh key pair from the operating system's cryptographic random source."""
    return MaskKeys(1 + secrets.randbelow(GROUP_ORDER - 1))


def public_key(secret: int) -> Point:
    """``secret * G`` for a scalar in [1, r)."""
    return _multiply(GENERATOR, check_scalar(secret, "mask key"))


def shared_point(secret: int, public: Point) -> Point:
    """The Diffie-Hellman point ``secret * public``; both ends of a pair compute the same point."""
    return _multiply(check_point(public), check_scalar(secret, "mask key"))


def check_scalar(value: int, name: str) -> int:
    """Return ``value`` if it is an integer in [1, r), else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < GROUP_ORDER:
        raise CurveError(f"{name} must be an integer in [1, r), r the BN254 group order")
    return value


def check_point(point: Point) -> Point:
    """Return ``point`` if it is an affine point on BN254 G1 other than infinity, else raise."""
    if not isinstance(point, tuple) or len(point) != 2:
        raise CurveError(f"a public key is an (x, y) pair, got {point!r}")
    x, y = point
    for coordinate in (x, y):
        if isinstance(coordinate, bool) or not isinstance(coordinate, int) or not 0 <= coordinate < FIELD_MODULUS:
            raise CurveError(f"public key coordinate {coordinate!r} is not an element of the BN254 base field")
    if (x, y) == (0, 0) or (y * y - x * x * x - CURVE_B) % FIELD_MODULUS:
        raise CurveError(f"public key ({x:#x}, {y:#x}) is not a point of BN254 G1")
    return (x, y)


def _multiply(point: Point, scalar: int) -> Point:
    """``scalar * point`` for a point of G1 and 0 < scalar < r: width-5 NAF over Jacobian coordinates, with the
    odd multiples P, 3P, ..., 15P in affine form for mixed additions (about six times py_ecc's speed).

    No partial sum is ever the point at infinity or equal to the added point: every partial sum is an odd
    or even multiple 2v + d with v != 0 and d odd, and |2v + d| < r. Like every pure-Python implementation
    it is not constant-time; the keys it handles are fresh every round and live on their owner's machine.
    """
    x, y = point
    table = [(x, y)]
    twice = _to_affine(*_double(x, y, 1))
    current = (x, y, 1)
    for _ in range((1 << (_WNAF_WIDTH - 2)) - 1):
        current = (*_to_affine(*_add_affine(*current, *twice)), 1)
        table.append((current[0], current[1]))
    accumulator = (0, 1, 0)
    for digit in reversed(_wnaf(scalar)):
        accumulator = _double(*accumulator)
        if digit:
            tx, ty = table[abs(digit) >> 1]
            accumulator = _add_affine(*accumulator, tx, ty if digit > 0 else FIELD_MODULUS - ty)
    return _to_affine(*accumulator)


def _wnaf(scalar: int) -> list[int]:
    """The width-5 non-adjacent form of ``scalar``, least significant digit first (digits odd, |d| < 16)."""
    digits = []
    full, half = 1 << _WNAF_WIDTH, 1 << (_WNAF_WIDTH - 1)
    while scalar:
        digit = 0
        if scalar & 1:
            digit = scalar % full
            if digit >= half:
                digit -= full
            scalar -= digit
        digits.append(digit)
        scalar >>= 1
    return digits


def _double(x: int, y: int, z: int) -> tuple[int, int, int]:
    """Jacobian doubling on y^2 = x^3 + b (dbl-2009-l); z = 0 is infinity."""
    p = FIELD_MODULUS
    if not z:
        return x, y, z
    a, b = x * x % p, y * y % p
    c = b * b % p
    d = 2 * ((x + b) * (x + b) - a - c) % p
    e = 3 * a % p
    x3 = (e * e - 2 * d) % p
    return x3, (e * (d - x3) - 8 * c) % p, 2 * y * z % p


def _add_affine(x1: int, y1: int, z1: int, x2: int, y2: int) -> tuple[int, int, int]:
    """Jacobian plus affine (madd-2007-bl), with the equal-point and opposite-point cases handled."""
    p = FIELD_MODULUS
    if not z1:
        return x2, y2, 1
    z1z1 = z1 * z1 % p
    h = (x2 * z1z1 - x1) % p
    r = 2 * (y2 * z1 * z1z1 - y1) % p
    if not h:
        return _double(x1, y1, z1) if not r else (0, 1, 0)
    hh = h * h % p
    i = 4 * hh
    j = h * i % p
    v = x1 * i % p
    x3 = (r * r - j - 2 * v) % p
    return x3, (r * (v - x3) - 2 * y1 * j) % p, ((z1 + h) * (z1 + h) - z1z1 - hh) % p


def _to_affine(x: int, y: int, z: int) -> Point:
    if not z:
        raise CurveError("scalar multiplication reached the point at infinity")
    inverse = pow(z, -1, FIELD_MODULUS)
    inverse_squared = inverse * inverse % FIELD_MODULUS
    return x * inverse_squared % FIELD_MODULUS, y * inverse_squared * inverse % FIELD_MODULUS
