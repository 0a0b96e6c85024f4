"""Hashes and key derivations of secure mode (docs/protocol.md §10.2-10.4), each one keccak of abi.encode.

    advertiseDigest' = keccak(abi.encode(bytes32 digest, address participant, uint256 pkX, uint256 pkY))
    roundSeed        = keccak(abi.encode(ROUND_SEED_TAG, chainId, coordinator, taskId, round,
                                         advertiseDigest, randomness))
    selfSeedHash     = keccak(abi.encode(SELF_SEED_TAG, uint256 selfSeed))
    pairMaskKey      = keccak(abi.encode(PAIR_MASK_TAG, roundSeed, uint256 x, uint256 y, address lo, address hi))
    shareKey         = keccak(abi.encode(SHARE_KEY_TAG, roundSeed, uint256 x, uint256 y, address from, address to))
    record           = keccak(abi.encode(uint256 index, uint256 pkX, uint256 pkY, bytes32 selfSeedHash,
                                         bytes32 shareBundleRef, uint256 weight, bytes32 maskedRoot))

(x, y) is the Diffie-Hellman point of the pair; lo < hi are the pair's addresses as integers. The self
mask's stream key is the self seed itself, as 32 big-endian bytes.
"""

import secrets

from eth_abi.abi import encode

from fedchain.commit.encoding import address_bytes, require_bytes32, require_uint256
from fedchain.commit.keccak import keccak256
from fedchain.secagg.constants import (
    GROUP_ORDER,
    PAIR_MASK_TAG,
    ROUND_SEED_TAG,
    SCALAR_BYTES,
    SELF_SEED_TAG,
    SHARE_KEY_TAG,
)
from fedchain.secagg.curve import Point, check_point
from fedchain.secagg.errors import SecAggError

Address = str | bytes


def new_self_seed() -> int:
    """A fresh self-mask seed, an element of F_r, from the operating system's cryptographic random source."""
    return secrets.randbelow(GROUP_ORDER)


def self_seed_hash(seed: int) -> bytes:
    """The commitment to a self-mask seed."""
    return keccak256(encode(["bytes32", "uint256"], [SELF_SEED_TAG, check_seed(seed)]))


def self_mask_key(seed: int) -> bytes:
    """The stream key of a self mask: the seed as 32 big-endian bytes."""
    return check_seed(seed).to_bytes(SCALAR_BYTES, "big")


def check_seed(seed: int) -> int:
    """Return ``seed`` if it is an element of F_r (it must be, to be Shamir-shared), else raise."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < GROUP_ORDER:
        raise SecAggError("a self-mask seed must be an integer in [0, r), r the BN254 group order")
    return seed


def advertise_digest(previous: bytes, participant: Address, public: Point) -> bytes:
    """Fold one advertised key into the round's running digest (the first fold starts from 32 zero bytes)."""
    x, y = check_point(public)
    values = [require_bytes32(previous, "previous digest"), address_bytes(participant, "participant"), x, y]
    return keccak256(encode(["bytes32", "address", "uint256", "uint256"], values))


def round_seed(
    *, chain_id: int, coordinator: Address, task_id: int, round: int, advertise_digest: bytes, randomness: int
) -> bytes:
    """The round seed fixed when the advertise window closes; it keys the neighbour graph and every mask."""
    values = [
        ROUND_SEED_TAG,
        require_uint256(chain_id, "chain_id"),
        address_bytes(coordinator, "coordinator"),
        require_uint256(task_id, "task_id"),
        require_uint256(round, "round"),
        require_bytes32(advertise_digest, "advertise_digest"),
        require_uint256(randomness, "randomness"),
    ]
    types = ["bytes32", "uint256", "address", "uint256", "uint256", "bytes32", "uint256"]
    return keccak256(encode(types, values))


def pair_mask_key(seed: bytes, point: Point, first: Address, second: Address) -> bytes:
    """The stream key of the pairwise mask of two participants; symmetric in the pair."""
    low, high = sorted((address_bytes(first, "first"), address_bytes(second, "second")))
    if low == high:
        raise SecAggError("a pairwise mask needs two distinct participants")
    return _point_hash(PAIR_MASK_TAG, seed, point, low, high)


def share_key(seed: bytes, point: Point, sender: Address, receiver: Address) -> bytes:
    """The AEAD key of the shares ``sender`` encrypts to ``receiver`` (one key per direction)."""
    source, target = address_bytes(sender, "sender"), address_bytes(receiver, "receiver")
    if source == target:
        raise SecAggError("a participant never encrypts shares to itself")
    return _point_hash(SHARE_KEY_TAG, seed, point, source, target)


def participant_record(
    *, index: int, public: Point, self_seed_hash: bytes, share_bundle_ref: bytes, weight: int, masked_root: bytes
) -> bytes:
    """What the coordinator's slot binds for one participant; ``masked_root`` is zero until the upload."""
    x, y = check_point(public)
    values = [
        require_uint256(index, "index"),
        x,
        y,
        require_bytes32(self_seed_hash, "self_seed_hash"),
        require_bytes32(share_bundle_ref, "share_bundle_ref"),
        require_uint256(weight, "weight"),
        require_bytes32(masked_root, "masked_root"),
    ]
    return keccak256(encode(["uint256", "uint256", "uint256", "bytes32", "bytes32", "uint256", "bytes32"], values))


def _point_hash(tag: bytes, seed: bytes, point: Point, first: bytes, second: bytes) -> bytes:
    x, y = check_point(point)
    values = [tag, require_bytes32(seed, "round seed"), x, y, first, second]
    return keccak256(encode(["bytes32", "bytes32", "uint256", "uint256", "address", "address"], values))
