"""Byte and hex conversions used by the commitment code."""

import pytest

from fedchain.commit.encoding import address_bytes, from_hex, require_bytes32, require_uint256, to_hex
from fedchain.commit.errors import EncodingError


def test_hex_round_trip_is_lowercase() -> None:
    data = bytes(range(32))
    assert to_hex(b"\xab\xcd") == "0xabcd"
    assert from_hex(to_hex(data), 32) == data
    assert from_hex("0XABCD", 2) == b"\xab\xcd"


@pytest.mark.parametrize(
    ("text", "problem"), [("abcd", "0x-prefixed"), ("0xzz", "not valid hex"), ("0xabcd", "3 bytes")]
)
def test_from_hex_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(EncodingError, match=problem):
        from_hex(text, 3)


def test_addresses_accept_hex_of_any_case_and_raw_bytes() -> None:
    raw = bytes.fromhex("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".lower())
    assert address_bytes("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "who") == raw
    assert address_bytes(raw, "who") == raw
    with pytest.raises(EncodingError, match="who"):
        address_bytes("0x1234", "who")
    with pytest.raises(EncodingError, match="who"):
        address_bytes(bytes(19), "who")


def test_bytes32_and_uint256_bounds() -> None:
    assert require_bytes32(bytes(32), "root") == bytes(32)
    with pytest.raises(EncodingError, match="root"):
        require_bytes32(bytes(31), "root")
    assert require_uint256(2**256 - 1, "n") == 2**256 - 1
    for bad in (-1, 2**256, True, 1.0):
        with pytest.raises(EncodingError, match="n must be"):
            require_uint256(bad, "n")  # type: ignore[arg-type]
