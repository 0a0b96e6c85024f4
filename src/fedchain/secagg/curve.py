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

from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.optimized_bn128.optimized_curve import multiply, normalize

from fedchain.secagg.constants import CURVE_B, FIELD_MODULUS, GENERATOR, GROUP_ORDER
from fedchain.secagg.errors import CurveError

Point = tuple[int, int]


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
    x, y = normalize(multiply((FQ(point[0]), FQ(point[1]), FQ(1)), scalar))
    return (int(x), int(y))
