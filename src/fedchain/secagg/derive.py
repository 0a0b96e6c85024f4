"""Hashes and key derivations of secure mode (docs/protocol.md §10.2-10.4), each one keccak of abi.encode.

    advertiseDigest' = keccak(abi.encode(bytes32 digest, address participant, uint256 pkX, uint256 pkY,
                                         bytes32 encryptionKey))
    roundSeed        = keccak(abi.encode(ROUND_SEED_TAG, uint256 chainId, address coordinator, uint256 taskId,
                                         uint256 round, bytes32 advertiseDigest, uint256 randomness))
    selfSeedHash     = keccak(abi.encode(SELF_SEED_TAG, uint256 selfSeed))
    pairMaskKey      = keccak(abi.encode(PAIR_MASK_TAG, roundSeed, uint256 x, uint256 y, address lo, address hi))
    shareKey         = keccak(abi.encode(SHARE_KEY_TAG, roundSeed, bytes32 x25519Secret, address from, address to))
    record           = keccak(abi.encode(uint256 index, uint256 pkX, uint256 pkY, bytes32 selfSeedHash,
                                         bytes32 shareBundleRef, uint256 weight, bytes32 maskedRoot))
    transcriptHash   = keccak(abi.encodePacked(bytes32[] secrets))

(x, y) is the BN254 Diffie-Hellman point of the pair's mask keys; lo < hi are the pair's addresses as
integers. The self mask's stream key is the self seed itself, as 32 big-endian bytes.
"""

import secrets
from collections.abc import Sequence

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
from fedchain.secagg.keys import check_encryption_public

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


def advertise_digest(previous: bytes, participant: Address, mask_public: Point, encryption_public: bytes) -> bytes:
    """Fold one advertised key pair into the round's running digest (the first fold starts from 32 zero bytes)."""
    x, y = check_point(mask_public)
    values = [
        require_bytes32(previous, "previous digest"),
        address_bytes(participant, "participant"),
        x,
        y,
        check_encryption_public(encryption_public),
    ]
    return keccak256(encode(["bytes32", "address", "uint256", "uint256", "bytes32"], values))


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
    """The stream key of the pairwise mask of two participants from their BN254 DH point; symmetric in the pair."""
    low, high = sorted((address_bytes(first, "first"), address_bytes(second, "second")))
    if low == high:
        raise SecAggError("a pairwise mask needs two distinct participants")
    x, y = check_point(point)
    values = [PAIR_MASK_TAG, require_bytes32(seed, "round seed"), x, y, low, high]
    return keccak256(encode(["bytes32", "bytes32", "uint256", "uint256", "address", "address"], values))


def share_key(seed: bytes, shared_secret: bytes, sender: Address, receiver: Address) -> bytes:
    """The AEAD key of the shares ``sender`` encrypts to ``receiver`` from their X25519 shared secret (one key
    per direction)."""
    source, target = address_bytes(sender, "sender"), address_bytes(receiver, "receiver")
    if source == target:
        raise SecAggError("a participant never encrypts shares to itself")
    values = [SHARE_KEY_TAG, require_bytes32(seed, "round seed"), require_bytes32(shared_secret, "shared secret")]
    return keccak256(encode(["bytes32", "bytes32", "bytes32", "address", "address"], [*values, source, target]))


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


def transcript_hash(words: Sequence[bytes]) -> bytes:
    """The hash of a transcript's secrets, 32-byte words in transcript order (docs/protocol.md §10.8)."""
    return keccak256(b"".join(require_bytes32(word, f"transcript word {k}") for k, word in enumerate(words)))
