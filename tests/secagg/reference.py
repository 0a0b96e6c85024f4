"""Straightforward reference implementations of docs/protocol.md §10 for checking fedchain.secagg.

Written from the specifications (RFC 8439 for ChaCha20, the curve equation for BN254, the shuffle and the
ring rule of §10.5) with Python ints and loops, sharing no code with fedchain (the keccak comes from
pycryptodome, the ABI words are concatenated by hand), so agreement between the two is evidence.
"""

import itertools
from collections.abc import Sequence

from Crypto.Hash import keccak as pycryptodome_keccak

MASK32 = (1 << 32) - 1
P = 21888242871839275222246405745257275088696311157297823662689037894645226208583
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617


def keccak(data: bytes) -> bytes:
    """Ethereum's keccak-256 via pycryptodome."""
    return pycryptodome_keccak.new(data=data, digest_bits=256).digest()


def word(value: int) -> bytes:
    """A uint256 as a 32-byte big-endian ABI word."""
    return value.to_bytes(32, "big")


def address_word(address: bytes) -> bytes:
    """An address as an ABI word: 12 zero bytes, then its 20 bytes."""
    assert len(address) == 20
    return bytes(12) + address


def tag(name: str) -> bytes:
    """keccak of a domain-tag name."""
    return keccak(name.encode())


# ChaCha20, RFC 8439 section 2.3, with a general 96-bit nonce.


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (32 - bits))) & MASK32


def _quarter(state: list[int], a: int, b: int, c: int, d: int) -> None:
    state[a] = (state[a] + state[b]) & MASK32
    state[d] = _rotl(state[d] ^ state[a], 16)
    state[c] = (state[c] + state[d]) & MASK32
    state[b] = _rotl(state[b] ^ state[c], 12)
    state[a] = (state[a] + state[b]) & MASK32
    state[d] = _rotl(state[d] ^ state[a], 8)
    state[c] = (state[c] + state[d]) & MASK32
    state[b] = _rotl(state[b] ^ state[c], 7)


def chacha20_block(key: bytes, counter: int, nonce: bytes) -> bytes:
    """The 64-byte ChaCha20 block for a 32-bit ``counter`` and a 12-byte ``nonce`` (RFC 8439 2.3)."""
    assert len(key) == 32 and len(nonce) == 12 and 0 <= counter <= MASK32
    constants = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    key_words = [int.from_bytes(key[4 * i : 4 * i + 4], "little") for i in range(8)]
    nonce_words = [int.from_bytes(nonce[4 * i : 4 * i + 4], "little") for i in range(3)]
    initial = constants + key_words + [counter] + nonce_words
    state = list(initial)
    for _ in range(10):
        _quarter(state, 0, 4, 8, 12)
        _quarter(state, 1, 5, 9, 13)
        _quarter(state, 2, 6, 10, 14)
        _quarter(state, 3, 7, 11, 15)
        _quarter(state, 0, 5, 10, 15)
        _quarter(state, 1, 6, 11, 12)
        _quarter(state, 2, 7, 8, 13)
        _quarter(state, 3, 4, 9, 14)
    return b"".join(((s + i) & MASK32).to_bytes(4, "little") for s, i in zip(state, initial, strict=True))


def stream_block(key: bytes, block: int) -> bytes:
    """Block ``block`` of the mask stream (§10.3): a 64-bit counter in state words 12-13, words 14-15 zero."""
    return chacha20_block(key, block & MASK32, (block >> 32).to_bytes(4, "little") + bytes(8))


def stream_masks(key: bytes, start: int, count: int) -> list[int]:
    """The uint64 masks of coordinates [start, start + count): little-endian 8-byte lanes of the stream."""
    masks = []
    for i in range(start, start + count):
        block = stream_block(key, i // 8)
        masks.append(int.from_bytes(block[8 * (i % 8) : 8 * (i % 8) + 8], "little"))
    return masks


# BN254 G1 in affine coordinates, double-and-add.

Point = tuple[int, int] | None


def ec_add(a: Point, b: Point) -> Point:
    """Affine addition on y^2 = x^3 + 3 over F_P (None is infinity)."""
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    slope = 3 * a[0] * a[0] * pow(2 * a[1], -1, P) % P if a == b else (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (slope * slope - a[0] - b[0]) % P
    return x, (slope * (a[0] - x) - a[1]) % P


def ec_mul(point: Point, scalar: int) -> Point:
    """scalar * point by double-and-add."""
    result: Point = None
    addend = point
    while scalar:
        if scalar & 1:
            result = ec_add(result, addend)
        addend = ec_add(addend, addend)
        scalar >>= 1
    return result


# The ring of §10.5.


def ring_order(seed: bytes, size: int) -> list[int]:
    """Fisher-Yates over 0..n-1: for i = n-1 .. 1 swap i with keccak(RING_TAG ‖ seed ‖ i) mod (i + 1)."""
    order = list(range(size))
    ring_tag = tag("fedchain.secagg.v1.ring")
    for i in range(size - 1, 0, -1):
        j = int.from_bytes(keccak(ring_tag + seed + word(i)), "big") % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def unmaskable_by_gaps(seed: bytes, size: int, k: int, t: int, alive: Sequence[int]) -> bool:
    """The ring-gap formulation the contract uses: each survivor sees >= t survivors within k/2 ring steps,
    and at most one gap between ring-consecutive survivors exceeds k/2 (or the graph is complete)."""
    alive_set = set(alive)
    if not alive_set:
        return False
    if size - 1 <= k:
        return len(alive_set) - 1 >= t
    order = ring_order(seed, size)
    positions = sorted(p for p in range(size) if order[p] in alive_set)
    half = k // 2
    for p in positions:
        seen = sum(1 for step in range(-half, half + 1) if step and order[(p + step) % size] in alive_set)
        if seen < t:
            return False
    gaps = [b - a for a, b in itertools.pairwise(positions)] + [positions[0] + size - positions[-1]]
    return sum(1 for gap in gaps if gap > half) <= 1
