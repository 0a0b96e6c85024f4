"""The keccak backend computes Ethereum's keccak-256 (not NIST SHA3-256)."""

from Crypto.Hash import keccak as pycryptodome_keccak

from fedchain.commit.keccak import keccak256


def test_known_digest_of_the_empty_string() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def test_agrees_with_pycryptodome_on_merkle_sized_preimages() -> None:
    for size in (0, 1, 65, 97, 135, 136, 137, 289):
        data = bytes((7 * k + size) % 256 for k in range(size))
        assert keccak256(data) == pycryptodome_keccak.new(data=data, digest_bits=256).digest()
