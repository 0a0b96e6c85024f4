"""Participant commitments for commit-reveal (docs/protocol.md §5) and the entry word a reveal leaves (§8.3).

commitHash    = keccak(abi.encode(uint256 chainId, address coordinator, uint256 taskId, uint256 round,
                                  address participant, bytes32 root, uint256 sampleCount, bytes32 salt))
revealedEntry = top 223 bits of keccak(abi.encode(uint256 round, bytes32 root, uint256 weight))
                | uint32(weight) << 1 | 1
"""

import secrets

from eth_abi.abi import encode

from fedchain.commit.constants import WORD_BYTES
from fedchain.commit.encoding import address_bytes, require_bytes32, require_uint256
from fedchain.commit.keccak import keccak256

_COMMIT_TYPES = ("uint256", "address", "uint256", "uint256", "address", "bytes32", "uint256", "bytes32")
_ENTRY_HASH_BITS = 223
_ENTRY_WEIGHT_MASK = (1 << 32) - 1


def commit_hash(
    *,
    chain_id: int,
    coordinator: str | bytes,
    task_id: int,
    round: int,
    participant: str | bytes,
    root: bytes,
    sample_count: int,
    salt: bytes,
) -> bytes:
    """Return the 32-byte commitment a participant sends in the commit phase of ``round``."""
    values = (
        require_uint256(chain_id, "chain_id"),
        address_bytes(coordinator, "coordinator"),
        require_uint256(task_id, "task_id"),
        require_uint256(round, "round"),
        address_bytes(participant, "participant"),
        require_bytes32(root, "root"),
        require_uint256(sample_count, "sample_count"),
        require_bytes32(salt, "salt"),
    )
    return keccak256(encode(list(_COMMIT_TYPES), list(values)))


def revealed_entry(round: int, root: bytes, weight: int) -> bytes:
    """A member's entry word after its reveal in ``round`` (§8.3): the hash binds round, root and weight, the
    low bits carry the weight (for booking its reward) and the reveal flag."""
    values = [require_uint256(round, "round"), require_bytes32(root, "root"), require_uint256(weight, "weight")]
    digest = int.from_bytes(keccak256(encode(["uint256", "bytes32", "uint256"], values)), "big")
    high = digest >> (256 - _ENTRY_HASH_BITS) << (256 - _ENTRY_HASH_BITS)
    return (high | (weight & _ENTRY_WEIGHT_MASK) << 1 | 1).to_bytes(WORD_BYTES, "big")


def new_salt() -> bytes:
    """Return 32 bytes from the operating system's cryptographic random source."""
    return secrets.token_bytes(WORD_BYTES)
