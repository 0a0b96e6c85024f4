"""Commit hashes (docs/protocol.md §5)."""

import pytest

from fedchain.commit.commitment import commit_hash, new_salt
from fedchain.commit.errors import EncodingError
from fedchain.commit.keccak import keccak256

COORDINATOR = "0x" + "11" * 20
PARTICIPANT = "0x" + "22" * 20
ROOT = bytes(range(32))
SALT = bytes(range(32, 64))
BASE = {
    "chain_id": 31_337,
    "coordinator": COORDINATOR,
    "task_id": 3,
    "round": 4,
    "participant": PARTICIPANT,
    "root": ROOT,
    "sample_count": 500,
    "salt": SALT,
}


def test_hash_is_keccak_of_the_abi_encoding() -> None:
    encoded = (
        (31_337).to_bytes(32, "big")
        + bytes(12)
        + b"\x11" * 20
        + (3).to_bytes(32, "big")
        + (4).to_bytes(32, "big")
        + bytes(12)
        + b"\x22" * 20
        + ROOT
        + (500).to_bytes(32, "big")
        + SALT
    )
    assert commit_hash(**BASE) == keccak256(encoded)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("chain_id", 1),
        ("coordinator", PARTICIPANT),
        ("task_id", 4),
        ("round", 5),
        ("participant", COORDINATOR),
        ("root", SALT),
        ("sample_count", 501),
        ("salt", ROOT),
    ],
)
def test_every_field_is_bound(field: str, value: object) -> None:
    assert commit_hash(**{**BASE, field: value}) != commit_hash(**BASE)  # type: ignore[arg-type]


def test_address_case_and_bytes_form_do_not_matter() -> None:
    same = {**BASE, "coordinator": bytes.fromhex("11" * 20), "participant": PARTICIPANT.upper().replace("0X", "0x")}
    assert commit_hash(**same) == commit_hash(**BASE)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [("chain_id", -1), ("round", 2**256), ("coordinator", "0x12"), ("root", bytes(31)), ("salt", "00" * 32)],
)
def test_bad_fields_are_named(field: str, value: object) -> None:
    with pytest.raises(EncodingError, match=field):
        commit_hash(**{**BASE, field: value})  # type: ignore[arg-type]


def test_salts_are_fresh_32_byte_strings() -> None:
    salts = {new_salt() for _ in range(16)}
    assert len(salts) == 16
    assert all(len(salt) == 32 for salt in salts)
