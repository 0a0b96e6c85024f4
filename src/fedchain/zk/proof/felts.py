"""BN254 field elements as EZKL writes them (32 bytes, little-endian hex) and as the EVM reads them (uint256)."""

from __future__ import annotations

from collections.abc import Iterable

FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""The order of BN254's scalar field, in which every value of the circuit lives."""


def to_field(value: int) -> int:
    """A signed integer as the field element that stands for it (negatives wrap to ``p - |value|``)."""
    return value % FIELD_MODULUS


def to_signed(element: int) -> int:
    """A field element as the signed integer it stands for (the upper half of the field is negative)."""
    return element - FIELD_MODULUS if element > FIELD_MODULUS // 2 else element


def felt_hex(value: int) -> str:
    """EZKL's text for a field element: 32 bytes little-endian, in hex without a prefix."""
    return to_field(value).to_bytes(32, "little").hex()


def felt_from_hex(text: str) -> int:
    """The field element of EZKL's text (little-endian hex; a ``0x`` prefix means big-endian, as EZKL prints it)."""
    if text.startswith("0x"):
        return int(text, 16)
    return int.from_bytes(bytes.fromhex(text), "little")


def felts_hex(values: Iterable[int]) -> list[str]:
    """:func:`felt_hex` of each value."""
    return [felt_hex(int(value)) for value in values]
