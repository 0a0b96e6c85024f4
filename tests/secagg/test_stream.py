"""The ChaCha20 mask stream (docs/protocol.md §10.3): RFC 8439 vectors, the layout, random access."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain.secagg.errors import SecAggError
from fedchain.secagg.stream import MASK_DTYPE, apply_masks, fill_masks, keystream, mask_stream
from tests.secagg import reference

KEY_0_TO_31 = bytes(range(32))

# RFC 8439: section 2.3.2 (the block function) and appendix A.1 (#1 to #5): key, counter, nonce, block.
RFC8439_BLOCKS = (
    (
        KEY_0_TO_31,
        1,
        bytes.fromhex("000000090000004a00000000"),
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
        "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
    ),
    (
        bytes(32),
        0,
        bytes(12),
        "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
        "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586",
    ),
    (
        bytes(32),
        1,
        bytes(12),
        "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
        "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f",
    ),
    (
        bytes(31) + b"\x01",
        1,
        bytes(12),
        "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a"
        "8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0",
    ),
    (
        b"\x00\xff" + bytes(30),
        2,
        bytes(12),
        "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca"
        "13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096",
    ),
    (
        bytes(32),
        0,
        bytes(11) + b"\x02",
        "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7"
        "8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d",
    ),
)


@pytest.mark.parametrize(("key", "counter", "nonce", "expected"), RFC8439_BLOCKS)
def test_reference_block_function_matches_rfc8439(key: bytes, counter: int, nonce: bytes, expected: str) -> None:
    assert reference.chacha20_block(key, counter, nonce).hex() == expected


@pytest.mark.parametrize(("key", "counter", "nonce", "expected"), [v for v in RFC8439_BLOCKS if v[2] == bytes(12)])
def test_stream_blocks_with_a_zero_nonce_are_the_rfc8439_blocks(
    key: bytes, counter: int, nonce: bytes, expected: str
) -> None:
    assert keystream(key, counter, 1).hex() == expected


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(0, 2**64 - 4), st.integers(1, 3))
def test_keystream_equals_the_reference_at_any_64_bit_counter(key: bytes, first: int, blocks: int) -> None:
    expected = b"".join(reference.stream_block(key, first + b) for b in range(blocks))
    assert keystream(key, first, blocks) == expected


@pytest.mark.parametrize("first", [2**32 - 2, 2**33 - 1, 2**64 - 3])
def test_generation_crosses_the_32_bit_counter_seam(first: int) -> None:
    key = KEY_0_TO_31
    expected = b"".join(reference.stream_block(key, first + b) for b in range(3))
    assert keystream(key, first, 3) == expected
    assert mask_stream(key, 8 * first + 5, 12).tolist() == reference.stream_masks(key, 8 * first + 5, 12)


def test_masks_are_little_endian_lanes_of_the_keystream() -> None:
    key = bytes(range(100, 132))
    raw = keystream(key, 0, 3)
    expected = [int.from_bytes(raw[8 * i : 8 * i + 8], "little") for i in range(24)]
    assert mask_stream(key, 0, 24).tolist() == expected
    assert mask_stream(key, 0, 24).dtype == np.uint64


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 5000), st.integers(0, 300))
def test_random_access_equals_the_sequential_stream(start: int, count: int) -> None:
    key = bytes(range(7, 39))
    sequential = mask_stream(key, 0, 5300)
    assert np.array_equal(mask_stream(key, start, count), sequential[start : start + count])


def test_long_streams_cross_the_generation_chunks() -> None:
    key = bytes(32)
    count = (1 << 14) * 8 * 2 + 13  # more than two 16,384-block chunks
    masks = mask_stream(key, 0, count)
    for position in (0, (1 << 17) - 1, 1 << 17, count - 1):
        assert int(masks[position]) == reference.stream_masks(key, position, 1)[0]


def test_different_keys_give_different_streams() -> None:
    assert not np.array_equal(mask_stream(bytes(32), 0, 8), mask_stream(bytes(31) + b"\x01", 0, 8))


def test_fill_masks_writes_whole_blocks_at_a_block_offset() -> None:
    key = bytes(range(32))
    out = np.empty(16, dtype=MASK_DTYPE)
    fill_masks(key, 3, out)
    assert out.tolist() == reference.stream_masks(key, 24, 16)


@pytest.mark.parametrize(
    "out",
    [np.empty(12, dtype=MASK_DTYPE), np.empty(16, dtype=np.int64), np.empty(32, dtype=MASK_DTYPE)[::2]],
    ids=["partial block", "wrong dtype", "not contiguous"],
)
def test_fill_masks_rejects_unfit_buffers(out: np.ndarray) -> None:
    with pytest.raises(SecAggError, match="mask buffer"):
        fill_masks(bytes(32), 0, out)


def test_apply_masks_adds_and_subtracts_modulo_2_64() -> None:
    first, second = bytes(range(32)), bytes(range(1, 33))
    total = np.arange(21, dtype=np.uint64)
    apply_masks(total, [(first, True), (second, False)])
    expected = [
        (i + a - b) % 2**64
        for i, a, b in zip(
            range(21), reference.stream_masks(first, 0, 21), reference.stream_masks(second, 0, 21), strict=True
        )
    ]
    assert total.tolist() == expected
    apply_masks(total, [(first, False), (second, True)])
    assert total.tolist() == list(range(21))


@pytest.mark.parametrize("key", [bytes(31), bytes(33), "00" * 32])
def test_keys_must_be_32_bytes(key: object) -> None:
    with pytest.raises(SecAggError, match="32 bytes"):
        mask_stream(key, 0, 1)  # type: ignore[arg-type]


def test_bad_ranges_are_rejected() -> None:
    with pytest.raises(SecAggError, match="start"):
        mask_stream(bytes(32), -1, 1)
    with pytest.raises(SecAggError, match="count"):
        mask_stream(bytes(32), 0, -1)
    with pytest.raises(SecAggError, match="64-bit block counter"):
        keystream(bytes(32), 2**64 - 1, 2)
