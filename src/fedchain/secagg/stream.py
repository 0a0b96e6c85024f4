"""The mask stream: ChaCha20 keyed by a 32-byte seed, random access by block counter (docs/protocol.md §10.3).

Block ``n`` of the stream for key ``K`` is the RFC 8439 ChaCha20 block function with state words 12-13 =
``n`` (a 64-bit counter, low word first) and words 14-15 = 0. Bytes ``[8i, 8i + 8)`` of the stream, read
as a little-endian uint64, are the mask of coordinate ``i``; so coordinate ``i`` lives in block ``i // 8``,
lane ``i % 8``, and any coordinate range can be produced without the ones before it. The keystream comes
from OpenSSL through the ``cryptography`` package; this module only lays it out.
"""

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from numpy.typing import NDArray

from fedchain.secagg.constants import (
    CHACHA_BLOCK_BYTES,
    CHACHA_COUNTER_LIMIT,
    CHACHA_KEY_BYTES,
    CHACHA_LOW_COUNTER_SPAN,
    MASKS_PER_BLOCK,
)
from fedchain.secagg.errors import SecAggError

_CHUNK_BLOCKS = 1 << 14
_ZERO_CHUNK = memoryview(bytes(_CHUNK_BLOCKS * CHACHA_BLOCK_BYTES))
_MASK_DTYPE = np.dtype("<u8")


def keystream(key: bytes, first_block: int, blocks: int) -> bytes:
    """Return ``blocks`` keystream blocks of ``key`` starting at block ``first_block``."""
    out = bytearray(blocks * CHACHA_BLOCK_BYTES)
    _fill(_check_key(key), first_block, blocks, memoryview(out))
    return bytes(out)


def mask_stream(key: bytes, start: int, count: int) -> NDArray[np.uint64]:
    """Return the uint64 masks of coordinates ``[start, start + count)`` of the stream of ``key``."""
    _check_key(key)
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise SecAggError(f"start must be a non-negative integer, got {start!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise SecAggError(f"count must be a non-negative integer, got {count!r}")
    first_block, skip = divmod(start, MASKS_PER_BLOCK)
    blocks = -(-(skip + count) // MASKS_PER_BLOCK)
    lanes = np.empty(blocks * MASKS_PER_BLOCK, dtype=_MASK_DTYPE)
    _fill(key, first_block, blocks, memoryview(lanes.view(np.uint8)))
    masks: NDArray[np.uint64] = lanes[skip : skip + count].astype(np.uint64, copy=False)
    return masks


def _fill(key: bytes, first_block: int, blocks: int, out: memoryview) -> None:
    """Write ``blocks`` keystream blocks from ``first_block`` into ``out``, never crossing a 2^32-block seam."""
    if isinstance(first_block, bool) or not isinstance(first_block, int) or first_block < 0:
        raise SecAggError(f"first block must be a non-negative integer, got {first_block!r}")
    if first_block + blocks > CHACHA_COUNTER_LIMIT:
        raise SecAggError(f"blocks [{first_block}, {first_block + blocks}) run past the 64-bit block counter")
    block, written = first_block, 0
    while written < blocks:
        segment = min(blocks - written, CHACHA_LOW_COUNTER_SPAN - block % CHACHA_LOW_COUNTER_SPAN)
        encryptor = Cipher(algorithms.ChaCha20(key, _counter_nonce(block)), mode=None).encryptor()
        for offset in range(0, segment, _CHUNK_BLOCKS):
            size = min(_CHUNK_BLOCKS, segment - offset) * CHACHA_BLOCK_BYTES
            begin = (written + offset) * CHACHA_BLOCK_BYTES
            encryptor.update_into(_ZERO_CHUNK[:size], out[begin : begin + size])
        block += segment
        written += segment


def _counter_nonce(block: int) -> bytes:
    """The 16-byte IV `cryptography` expects: state words 12-15, little-endian (counter, then a zero nonce)."""
    return block.to_bytes(8, "little") + bytes(8)


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) != CHACHA_KEY_BYTES:
        raise SecAggError(f"a mask stream key must be {CHACHA_KEY_BYTES} bytes, got {key!r}")
    return bytes(key)
