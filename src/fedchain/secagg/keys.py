"""A participant's two key pairs for one round (docs/protocol.md §10.2).

- the **mask key** (BN254, :mod:`fedchain.secagg.curve`) keys the pairwise masks. It is Shamir-shared
  with the neighbours and revealed when its owner drops after committing;
- the **encryption key** (X25519, RFC 7748) keys the channel that carries the shares to each neighbour.
  It is never shared or revealed.

Two pairs, as in SecAgg (Bonawitz et al. 2017, "c" and "s" keys): if one key served both, revealing a
dropped member's mask key would let anyone decrypt the shares its neighbours sent it, among them shares of
the *survivors'* mask keys, and a survivor with enough dropped neighbours would lose its mask key and with
it its privacy. Both pairs are fresh every round and come from the operating system's random source.
"""

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from fedchain.secagg.constants import X25519_KEY_BYTES
from fedchain.secagg.curve import MaskKeys, new_mask_keys
from fedchain.secagg.errors import CurveError


@dataclass(frozen=True)
class EncryptionKeys:
    """An X25519 key pair: the 32-byte ``secret`` and its 32-byte ``public`` key (RFC 7748 encodings)."""

    secret: bytes = field(repr=False)
    public: bytes = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) != X25519_KEY_BYTES:
            raise CurveError(f"an X25519 secret key is {X25519_KEY_BYTES} bytes")
        public = X25519PrivateKey.from_private_bytes(self.secret).public_key().public_bytes_raw()
        object.__setattr__(self, "public", public)


@dataclass(frozen=True)
class RoundKeys:
    """Everything secret a participant generates for one round's keys: the mask and encryption pairs."""

    mask: MaskKeys
    encryption: EncryptionKeys


def new_encryption_keys() -> EncryptionKeys:
    """A fresh X25519 key pair (OpenSSL's random source, seeded by the operating system)."""
    return EncryptionKeys(X25519PrivateKey.generate().private_bytes_raw())


def new_round_keys() -> RoundKeys:
    """Fresh mask and encryption key pairs for one round."""
    return RoundKeys(new_mask_keys(), new_encryption_keys())


def check_encryption_public(public: bytes) -> bytes:
    """Return ``public`` if it is a 32-byte X25519 public key, else raise."""
    if not isinstance(public, bytes | bytearray) or len(public) != X25519_KEY_BYTES:
        raise CurveError(f"an X25519 public key is {X25519_KEY_BYTES} bytes, got {public!r}")
    return bytes(public)


def encryption_secret(keys: EncryptionKeys, public: bytes) -> bytes:
    """The X25519 shared secret of ``keys`` and a peer's public key; raise if it is all zero (a low-order
    point: a peer that advertises one gets no channel, so it cannot receive shares)."""
    peer = X25519PublicKey.from_public_bytes(check_encryption_public(public))
    try:
        return X25519PrivateKey.from_private_bytes(keys.secret).exchange(peer)
    except ValueError as error:
        raise CurveError(f"X25519 public key 0x{bytes(public).hex()} is a low-order point") from error
