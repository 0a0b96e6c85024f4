"""Conversions between the byte strings the protocol hashes and the hex text that carries them."""

from fedchain.commit.constants import ADDRESS_BYTES, UINT256_MAX, WORD_BYTES
from fedchain.commit.errors import EncodingError


def to_hex(data: bytes) -> str:
    """Return ``data`` as 0x-prefixed lowercase hex."""
    return "0x" + data.hex()


def from_hex(text: str, length: int) -> bytes:
    """Parse 0x-prefixed hex of exactly ``length`` bytes."""
    if not isinstance(text, str) or not text.startswith(("0x", "0X")):
        raise EncodingError(f"expected 0x-prefixed hex, got {text!r}")
    try:
        data = bytes.fromhex(text[2:])
    except ValueError as error:
        raise EncodingError(f"not valid hex: {text!r}") from error
    if len(data) != length:
        raise EncodingError(f"expected {length} bytes of hex, got {len(data)}: {text!r}")
    return data


def require_bytes32(value: bytes, name: str) -> bytes:
    """Return ``value`` unchanged if it is exactly 32 bytes, else raise naming ``name``."""
    if not isinstance(value, bytes | bytearray) or len(value) != WORD_BYTES:
        raise EncodingError(f"{name} must be {WORD_BYTES} bytes, got {value!r}")
    return bytes(value)


def require_uint256(value: int, name: str) -> int:
    """Return ``value`` unchanged if it is an int in [0, 2^256), else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT256_MAX:
        raise EncodingError(f"{name} must be an integer in [0, 2^256), got {value!r}")
    return value


def address_bytes(address: str | bytes, name: str) -> bytes:
    """Return the 20 bytes of an address given as 0x-hex (any case) or as raw bytes."""
    if isinstance(address, bytes | bytearray):
        if len(address) != ADDRESS_BYTES:
            raise EncodingError(f"{name} must be {ADDRESS_BYTES} bytes, got {len(address)}")
        return bytes(address)
    try:
        return from_hex(address, ADDRESS_BYTES)
    except EncodingError as error:
        raise EncodingError(f"{name} is not an address: {error}") from error
