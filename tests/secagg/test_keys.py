"""The X25519 encryption keys of the share channel (docs/protocol.md §10.2)."""

import pytest

from fedchain.secagg.curve import public_key
from fedchain.secagg.errors import CurveError
from fedchain.secagg.keys import (
    EncryptionKeys,
    check_encryption_public,
    encryption_secret,
    new_encryption_keys,
    new_round_keys,
)

# RFC 7748 section 6.1.
ALICE_SECRET = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
ALICE_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
BOB_SECRET = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
BOB_PUBLIC = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
SHARED = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")


def test_rfc7748_vectors() -> None:
    alice, bob = EncryptionKeys(ALICE_SECRET), EncryptionKeys(BOB_SECRET)
    assert alice.public == ALICE_PUBLIC
    assert bob.public == BOB_PUBLIC
    assert encryption_secret(alice, BOB_PUBLIC) == SHARED
    assert encryption_secret(bob, ALICE_PUBLIC) == SHARED


def test_round_keys_are_fresh_and_independent() -> None:
    first, second = new_round_keys(), new_round_keys()
    assert first.mask.secret != second.mask.secret
    assert first.encryption.secret != second.encryption.secret
    assert first.mask.public == public_key(first.mask.secret)
    assert first.encryption.public == EncryptionKeys(first.encryption.secret).public
    # the encryption key is not derived from the mask key: revealing one tells nothing of the other
    assert first.encryption.secret != first.mask.secret.to_bytes(32, "big")
    assert ALICE_SECRET.hex() not in repr(EncryptionKeys(ALICE_SECRET))


def test_low_order_points_give_no_channel() -> None:
    with pytest.raises(CurveError, match="low-order"):
        encryption_secret(new_encryption_keys(), bytes(32))


@pytest.mark.parametrize("public", [bytes(31), bytes(33), "00" * 32])
def test_public_keys_must_be_32_bytes(public: object) -> None:
    with pytest.raises(CurveError, match="32 bytes"):
        check_encryption_public(public)  # type: ignore[arg-type]


def test_secret_keys_must_be_32_bytes() -> None:
    with pytest.raises(CurveError, match="32 bytes"):
        EncryptionKeys(bytes(31))
