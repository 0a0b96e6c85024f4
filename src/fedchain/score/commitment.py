"""A validator's commitment to its scores of a round (docs/protocol.md section 12.4).

    scoresHash = keccak(abi.encode(uint256 chainId, address coordinator, uint256 taskId, uint256 round,
                                   address validator, address[] participants, uint16[] scores, bytes32 salt))
"""

from collections.abc import Sequence

from eth_abi.abi import encode

from fedchain.commit.encoding import address_bytes, require_bytes32, require_uint256
from fedchain.commit.keccak import keccak256
from fedchain.score.errors import ScoreError
from fedchain.score.words import check_score

_SCORES_TYPES = ("uint256", "address", "uint256", "uint256", "address", "address[]", "uint16[]", "bytes32")


def scores_hash(
    *,
    chain_id: int,
    coordinator: str | bytes,
    task_id: int,
    round: int,
    validator: str | bytes,
    participants: Sequence[str | bytes],
    scores: Sequence[int],
    salt: bytes,
) -> bytes:
    """The 32-byte commitment ``validator`` sends in the score commit window of ``round``."""
    if len(participants) != len(scores):
        raise ScoreError(f"{len(participants)} participants but {len(scores)} scores: one score per participant")
    values = (
        require_uint256(chain_id, "chain_id"),
        address_bytes(coordinator, "coordinator"),
        require_uint256(task_id, "task_id"),
        require_uint256(round, "round"),
        address_bytes(validator, "validator"),
        [address_bytes(participant, f"participant {index}") for index, participant in enumerate(participants)],
        [check_score(score, index) for index, score in enumerate(scores)],
        require_bytes32(salt, "salt"),
    )
    return keccak256(encode(list(_SCORES_TYPES), list(values)))
