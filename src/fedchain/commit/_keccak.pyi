"""Types of the native keccak-256 kernel (``_keccak.c``)."""

from typing_extensions import Buffer

def keccak256(data: Buffer, /) -> bytes:
    """The 32-byte keccak-256 digest of ``data``."""

def keccak256_rows(data: Buffer, row_bytes: int, /) -> bytes:
    """The keccak-256 digests of each ``row_bytes``-long slice of the contiguous ``data``, concatenated."""
