"""The native kernel computes Ethereum's keccak-256 (not NIST SHA3-256), one message or a whole level at once."""

import threading

import numpy as np
import pytest
from eth_hash.backends import pycryptodome

from fedchain.commit import _keccak
from fedchain.commit.keccak import keccak256, keccak256_rows

RATE = 136
# Every padding case: empty, one block, the rate's edges (the last block that holds the padding alone), several
# blocks, and the Merkle preimages (65-byte nodes; 97-, 161-, 289- and 33 + 32W-byte leaves of W = 1, 2, 4, 8).
LENGTHS = (*range(0, 2 * RATE + 3), 3 * RATE - 1, 3 * RATE, 3 * RATE + 1, 1000, 4095, 4096, 100_000)


def reference(data: bytes) -> bytes:
    """eth-hash's keccak-256 (pycryptodome), an implementation independent of fedchain's."""
    return pycryptodome.keccak256(data)


def test_known_digest_of_the_empty_string() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@pytest.mark.parametrize("length", LENGTHS)
def test_agrees_with_eth_hash_on_random_messages_of_every_length_class(length: int) -> None:
    rng = np.random.default_rng(length)
    for _ in range(3):
        data = rng.integers(0, 256, size=length, dtype=np.uint8).tobytes()
        assert keccak256(data) == reference(data)


def test_takes_any_contiguous_bytes_like_object() -> None:
    data = bytes(range(200))
    assert keccak256(bytearray(data)) == keccak256(memoryview(data)) == keccak256(np.frombuffer(data, np.uint8))
    assert keccak256(data) == reference(data)
    with pytest.raises(TypeError):
        keccak256("text")  # type: ignore[arg-type]


@pytest.mark.parametrize("row_bytes", (1, 32, 65, 97, 135, 136, 137, 161, 271, 272, 289, 500))
@pytest.mark.parametrize("rows", (0, 1, 7))
def test_rows_hash_each_row_like_a_single_call(row_bytes: int, rows: int) -> None:
    data = np.random.default_rng(row_bytes * 10 + rows).integers(0, 256, size=(rows, row_bytes), dtype=np.uint8)
    digests = keccak256_rows(data)
    assert digests.shape == (rows, 32)
    assert [digest.tobytes() for digest in digests] == [reference(row.tobytes()) for row in data]


def test_rows_of_a_strided_view_are_its_rows() -> None:
    data = np.arange(6 * 80, dtype=np.uint8).reshape(6, 80)
    view = data[::2, 5:70]
    assert [digest.tobytes() for digest in keccak256_rows(view)] == [reference(row.tobytes()) for row in view]


def test_the_kernel_rejects_rows_that_do_not_tile_the_buffer() -> None:
    with pytest.raises(ValueError, match="positive length dividing 10 bytes"):
        _keccak.keccak256_rows(bytes(10), 3)
    with pytest.raises(ValueError, match="positive length"):
        _keccak.keccak256_rows(bytes(10), 0)


def test_threads_hash_levels_at_once_with_the_same_results() -> None:
    levels = [np.random.default_rng(seed).integers(0, 256, size=(20_000, 65), dtype=np.uint8) for seed in range(4)]
    expected = [keccak256_rows(level) for level in levels]
    results: list[np.ndarray] = [np.empty(0)] * len(levels)

    def hash_level(position: int) -> None:
        results[position] = keccak256_rows(levels[position])

    threads = [threading.Thread(target=hash_level, args=(position,)) for position in range(len(levels))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.array_equal(got, want) for got, want in zip(results, expected, strict=True))
