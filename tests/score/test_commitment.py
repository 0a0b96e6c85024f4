"""The scores commitment (docs/protocol.md section 12.4)."""

from typing import Any

import pytest

from fedchain.commit.errors import EncodingError
from fedchain.commit.keccak import keccak256
from fedchain.score.commitment import scores_hash
from fedchain.score.constants import NO_SCORE
from fedchain.score.errors import ScoreError

COORDINATOR = "0x" + "11" * 20
VALIDATOR = "0x" + "22" * 20
ALICE, BOB = "0x" + "33" * 20, "0x" + "44" * 20
SALT = bytes(range(32))
BASE: dict[str, Any] = {"chain_id": 31_337, "coordinator": COORDINATOR, "task_id": 3, "round": 4,
                        "validator": VALIDATOR, "participants": [ALICE, BOB], "scores": [9000, NO_SCORE],
                        "salt": SALT}


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def test_the_hash_is_keccak_of_the_abi_encoding() -> None:
    head = (word(31_337) + bytes(12) + b"\x11" * 20 + word(3) + word(4) + bytes(12) + b"\x22" * 20
            + word(8 * 32) + word(11 * 32) + SALT)  # the two arrays' offsets after the 8 head words
    participants = word(2) + bytes(12) + b"\x33" * 20 + bytes(12) + b"\x44" * 20
    scores = word(2) + word(9000) + word(NO_SCORE)
    assert scores_hash(**BASE) == keccak256(head + participants + scores)


@pytest.mark.parametrize(("field", "value"), [
    ("chain_id", 1), ("coordinator", VALIDATOR), ("task_id", 4), ("round", 5), ("validator", COORDINATOR),
    ("participants", [BOB, ALICE]), ("scores", [9000, 0]), ("salt", bytes(32)),
])
def test_every_field_is_bound(field: str, value: object) -> None:
    assert scores_hash(**{**BASE, field: value}) != scores_hash(**BASE)


def test_bad_lists_are_refused_naming_the_problem() -> None:
    with pytest.raises(ScoreError, match="2 participants but 1 scores"):
        scores_hash(**{**BASE, "scores": [1]})
    with pytest.raises(ScoreError, match="score 1 must be an integer"):
        scores_hash(**{**BASE, "scores": [1, 10_001]})
    with pytest.raises(EncodingError, match="participant 1 is not an address"):
        scores_hash(**{**BASE, "participants": [ALICE, "0x12"]})
