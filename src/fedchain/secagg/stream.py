"""The mask stream: ChaCha20 keyed by a 32-byte key, random access by block counter (docs/protocol.md §10.3).

Block ``n`` of the stream of key ``K`` is the RFC 8439 ChaCha20 block function with state words 12-13 =
``n`` (a 64-bit counter, low word first) and words 14-15 = 0 (the original 64-bit-counter ChaCha20 with a
zero nonce). Bytes ``[8i, 8i + 8)`` of the stream, read as a little-endian uint64, are the mask of
coordinate ``i``: coordinate ``i`` lives in block ``i // 8``, lane ``i % 8``, so any coordinate range can
be produced without the ones before it. The keystream comes from OpenSSL through the ``cryptography``
package; this module only lays it out, writing it straight into the caller's buffer.
"""

from collections.abc import Iterable

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
MASK_DTYPE = np.dtype("<u8")
"""Masks are little-endian uint64 by definition; on a little-endian machine this is the native uint64."""


def keystream(key: bytes, first_block: int, blocks: int) -> bytes:
    """Return ``blocks`` keystream blocks of ``key`` starting at block ``first_block``."""
    _check_count(blocks, "blocks")
    out = bytearray(blocks * CHACHA_BLOCK_BYTES)
    _fill(check_key(key), first_block, blocks, memoryview(out))
    return bytes(out)


def fill_masks(key: bytes, first_block: int, out: NDArray[np.uint64]) -> None:
    """Overwrite ``out`` (a C-contiguous ``MASK_DTYPE`` array, a whole number of blocks long) with the masks
    of coordinates ``[8 * first_block, 8 * first_block + out.size)``."""
    if out.dtype != MASK_DTYPE or out.ndim != 1 or not out.flags.c_contiguous or out.size % MASKS_PER_BLOCK:
        raise SecAggError(
            f"a mask buffer is a contiguous {MASK_DTYPE} vector of whole blocks, got {out.dtype} {out.shape}"
        )
    _fill(check_key(key), first_block, out.size // MASKS_PER_BLOCK, memoryview(out.view(np.uint8).data))


def mask_stream(key: bytes, start: int, count: int) -> NDArray[np.uint64]:
    """Return the masks of coordinates ``[start, start + count)`` of the stream of ``key``."""
    _check_count(start, "start")
    _check_count(count, "count")
    first_block, skip = divmod(start, MASKS_PER_BLOCK)
    lanes = np.empty(_whole_blocks(skip + count), dtype=MASK_DTYPE)
    fill_masks(key, first_block, lanes)
    masks: NDArray[np.uint64] = lanes[skip : skip + count].astype(np.uint64, copy=False)
    return masks


def apply_masks(total: NDArray[np.uint64], streams: Iterable[tuple[bytes, bool]]) -> None:
    """In place, for each ``(key, add)``: ``total += m(key)`` if ``add`` else ``total -= m(key)`` (mod 2^64),
    over coordinates ``[0, total.size)``. One scratch buffer serves every stream."""
    if total.dtype != np.uint64 or total.ndim != 1:
        raise SecAggError(f"masks apply to a flat uint64 vector, got {total.dtype} {total.shape}")
    count = total.size
    scratch = np.empty(_whole_blocks(count), dtype=MASK_DTYPE)
    lanes = scratch[:count]
    for key, add in streams:
        fill_masks(key, 0, scratch)
        if add:
            np.add(total, lanes, out=total)
        else:
            np.subtract(total, lanes, out=total)


def check_key(key: bytes) -> bytes:
    """Return ``key`` as bytes if it is a 32-byte stream key, else raise."""
    if not isinstance(key, bytes | bytearray) or len(key) != CHACHA_KEY_BYTES:
        raise SecAggError(f"a mask stream key must be {CHACHA_KEY_BYTES} bytes, got {key!r}")
    return bytes(key)


def _fill(key: bytes, first_block: int, blocks: int, out: memoryview) -> None:
    """Write ``blocks`` keystream blocks from ``first_block`` into ``out``, never crossing a 2^32-block seam
    (the ``cryptography`` counter is 32 bits wide; state word 13 is set explicitly for every segment)."""
    _check_count(first_block, "first block")
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


def _whole_blocks(count: int) -> int:
    return -(-count // MASKS_PER_BLOCK) * MASKS_PER_BLOCK


def _check_count(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SecAggError(f"{name} must be a non-negative integer, got {value!r}")
