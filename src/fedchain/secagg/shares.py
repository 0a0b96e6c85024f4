"""Encrypted share bundles and unmask bundles (docs/protocol.md §10.6).

At commit time a participant u Shamir-shares its self seed b_u and its mask key sk_u among its advertised
neighbours (threshold t), encrypts each neighbour's pair of shares with ChaCha20-Poly1305 under the
per-direction share key (from the X25519 encryption keys, never the mask key), and uploads the bundle; its
sha256 is the share-bundle reference it commits.

    share bundle  = "FCS1" ‖ bytes12 nonce ‖ uint16 count ‖ count × (address receiver ‖ 80-byte ciphertext),
                    receivers ascending; ciphertext = ChaCha20-Poly1305(shareKey, nonce, plaintext, no AD)
    plaintext     = uint256 share of b_u ‖ uint256 share of sk_u                  (big-endian, 64 bytes)

Each share key encrypts one plaintext per round; the random nonce keeps even a participant that rebuilds
its bundle after a crash from reusing a (key, nonce) pair.

After the upload deadline each survivor v publishes an unmask bundle: its own self seed, and for each
neighbour u whose committed bundle it could open the one share that the chain's sets allow: u's
self-seed share if u uploaded, u's mask-key share if u committed and did not. It never releases both for
one owner.

    unmask bundle = "FCU1" ‖ uint256 own self seed ‖ uint16 count ‖ count × (address owner ‖ uint8 kind ‖
                    uint256 share), owners ascending; kind 0 = self-seed share, 1 = mask-key share
"""

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from fedchain.commit.encoding import address_bytes
from fedchain.secagg.constants import (
    ADDRESS_BYTES,
    AEAD_NONCE_BYTES,
    BUNDLE_COUNT_BYTES,
    GROUP_ORDER,
    SCALAR_BYTES,
    SHARE_BUNDLE_MAGIC,
    SHARE_CIPHERTEXT_BYTES,
    UNMASK_BUNDLE_MAGIC,
)
from fedchain.secagg.derive import check_seed, share_key
from fedchain.secagg.errors import CurveError, RoundFailedError, ShareError
from fedchain.secagg.keys import RoundKeys, encryption_secret
from fedchain.secagg.roster import Member, SecureRound
from fedchain.secagg.shamir import random_coefficients, split

_MAX_ENTRIES = (1 << (8 * BUNDLE_COUNT_BYTES)) - 1


class ShareKind(IntEnum):
    """Which secret of its owner an unmask share belongs to."""

    SELF_SEED = 0
    MASK_KEY = 1


@dataclass(frozen=True)
class SharePair:
    """One holder's shares of an owner's two secrets."""

    self_seed: int = field(repr=False)
    mask_key: int = field(repr=False)


@dataclass(frozen=True)
class ShareRandomness:
    """The random choices of one share bundle: both polynomials' higher coefficients and the AEAD nonce."""

    seed_coefficients: tuple[int, ...] = field(repr=False)
    key_coefficients: tuple[int, ...] = field(repr=False)
    nonce: bytes

    def __post_init__(self) -> None:
        if len(self.seed_coefficients) != len(self.key_coefficients):
            raise ShareError("both sharing polynomials must have the same degree")
        if not isinstance(self.nonce, bytes) or len(self.nonce) != AEAD_NONCE_BYTES:
            raise ShareError(f"a bundle nonce is {AEAD_NONCE_BYTES} bytes")


def new_share_randomness(threshold: int) -> ShareRandomness:
    """Fresh coefficients for a threshold-t sharing of both secrets and a fresh nonce, from the OS random source."""
    return ShareRandomness(
        random_coefficients(threshold), random_coefficients(threshold), secrets.token_bytes(AEAD_NONCE_BYTES)
    )


def share_bundle(
    *,
    round: SecureRound,
    owner: Member,
    keys: RoundKeys,
    self_seed: int,
    randomness: ShareRandomness | None = None,
) -> bytes:
    """The encrypted share bundle ``owner`` uploads and commits to (its sha256 is the share-bundle reference).

    ``randomness`` is drawn fresh when not given (tests and vectors pass it to be reproducible).
    """
    if keys.mask.public != owner.public or keys.encryption.public != owner.encryption:
        raise ShareError("the round keys are not the owner's advertised keys")
    neighbours = round.neighbours(owner)
    threshold = round.params.threshold
    chosen = randomness or new_share_randomness(threshold)
    if len(neighbours) < threshold:
        raise RoundFailedError(f"{len(neighbours)} neighbours cannot hold a threshold-{threshold} sharing")
    if len(chosen.seed_coefficients) != threshold - 1:
        raise ShareError(f"a threshold-{threshold} sharing needs {threshold - 1} coefficients per secret")
    holders = [member.index for member in neighbours]
    seed_shares = split(check_seed(self_seed), chosen.seed_coefficients, holders)
    key_shares = split(keys.mask.secret, chosen.key_coefficients, holders)
    entries = {}
    for member in neighbours:
        plaintext = _scalar(seed_shares[member.index]) + _scalar(key_shares[member.index])
        try:
            key = _share_key(round, keys, sender=owner, receiver=member, peer=member)
        except ShareError:
            key = _sealed_key(keys, member)
        entries[member.address] = ChaCha20Poly1305(key).encrypt(chosen.nonce, plaintext, None)
    return encode_share_bundle(chosen.nonce, entries)


def _sealed_key(keys: RoundKeys, receiver: Member) -> bytes:
    """The key of the shares for a neighbour whose advertised X25519 key admits no channel (a low-order point):
    derived from the owner's own secret, so nobody else can open them, and the same on every rebuild. Such a
    neighbour simply holds no usable share (docs/protocol.md section 10.6); the owner still commits."""
    return hashlib.sha256(SEALED_SHARE_DOMAIN + keys.encryption.secret + receiver.address).digest()


SEALED_SHARE_DOMAIN = b"fedchain/sealed-share/v1"
"""Domain of :func:`_sealed_key`."""


def bundle_ref(bundle: bytes) -> bytes:
    """The content reference of a bundle: its sha256, as every blob reference (docs/protocol.md §6)."""
    return hashlib.sha256(bundle).digest()


def encode_share_bundle(nonce: bytes, ciphertexts: Mapping[bytes, bytes]) -> bytes:
    """Serialize the nonce and receiver address -> ciphertext, ordered by receiver."""
    if len(nonce) != AEAD_NONCE_BYTES:
        raise ShareError(f"a bundle nonce is {AEAD_NONCE_BYTES} bytes, got {len(nonce)}")
    body = []
    for receiver in sorted(ciphertexts):
        ciphertext = ciphertexts[receiver]
        if len(ciphertext) != SHARE_CIPHERTEXT_BYTES:
            raise ShareError(f"an encrypted share is {SHARE_CIPHERTEXT_BYTES} bytes, got {len(ciphertext)}")
        body.append(address_bytes(receiver, "receiver") + ciphertext)
    return SHARE_BUNDLE_MAGIC + bytes(nonce) + _count(len(body)) + b"".join(body)


def decode_share_bundle(bundle: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """Parse a share bundle into its nonce and receiver address -> ciphertext, checking layout and order."""
    entries = _entries(
        bundle, SHARE_BUNDLE_MAGIC, AEAD_NONCE_BYTES, ADDRESS_BYTES + SHARE_CIPHERTEXT_BYTES, "share bundle"
    )
    nonce = bytes(bundle[len(SHARE_BUNDLE_MAGIC) : len(SHARE_BUNDLE_MAGIC) + AEAD_NONCE_BYTES])
    return nonce, {entry[:ADDRESS_BYTES]: entry[ADDRESS_BYTES:] for entry in entries}


def open_shares(*, round: SecureRound, receiver: Member, keys: RoundKeys, sender: Member, bundle: bytes) -> SharePair:
    """Decrypt the shares ``sender``'s bundle holds for ``receiver`` (whose ``keys`` these are); raise if the
    bundle is malformed, holds no entry for ``receiver``, or the entry does not decrypt."""
    if keys.encryption.public != receiver.encryption:
        raise ShareError("the round keys are not the receiver's advertised keys")
    nonce, ciphertexts = decode_share_bundle(bundle)
    if receiver.address not in ciphertexts:
        raise ShareError(f"the bundle of 0x{sender.address.hex()} holds no shares for 0x{receiver.address.hex()}")
    key = _share_key(round, keys, sender=sender, receiver=receiver, peer=sender)
    try:
        plaintext = ChaCha20Poly1305(key).decrypt(nonce, ciphertexts[receiver.address], None)
    except InvalidTag as error:
        raise ShareError(
            f"the shares 0x{sender.address.hex()} sent to 0x{receiver.address.hex()} do not decrypt"
        ) from error
    seed_share, key_share = (int.from_bytes(plaintext[k : k + SCALAR_BYTES], "big") for k in (0, SCALAR_BYTES))
    if seed_share >= GROUP_ORDER or key_share >= GROUP_ORDER:
        raise ShareError(f"0x{sender.address.hex()} sent a share outside F_r")
    return SharePair(seed_share, key_share)


def _share_key(round: SecureRound, keys: RoundKeys, *, sender: Member, receiver: Member, peer: Member) -> bytes:
    """The share key of direction sender -> receiver, computed by either end (``peer`` is the other end)."""
    try:
        secret = encryption_secret(keys.encryption, peer.encryption)
    except CurveError as error:
        raise ShareError(f"no share channel with 0x{peer.address.hex()}: {error}") from error
    return share_key(round.seed, secret, sender.address, receiver.address)


@dataclass(frozen=True)
class UnmaskBundle:
    """A survivor's unmask publication: its own self seed and one share per committed neighbour."""

    self_seed: int
    shares: Mapping[bytes, tuple[ShareKind, int]]

    def encode(self) -> bytes:
        """Serialize as an unmask bundle (owners ascending)."""
        body = []
        for owner in sorted(self.shares):
            kind, value = self.shares[owner]
            if not 0 <= value < GROUP_ORDER:
                raise ShareError("an unmask share must be an element of F_r")
            body.append(address_bytes(owner, "owner") + bytes([ShareKind(kind)]) + _scalar(value))
        return UNMASK_BUNDLE_MAGIC + _scalar(check_seed(self.self_seed)) + _count(len(body)) + b"".join(body)

    @classmethod
    def decode(cls, bundle: bytes) -> "UnmaskBundle":
        """Parse an unmask bundle, checking magic, length, order, kinds and field ranges."""
        entries = _entries(bundle, UNMASK_BUNDLE_MAGIC, SCALAR_BYTES, ADDRESS_BYTES + 1 + SCALAR_BYTES, "unmask bundle")
        self_seed = int.from_bytes(bundle[len(UNMASK_BUNDLE_MAGIC) : len(UNMASK_BUNDLE_MAGIC) + SCALAR_BYTES], "big")
        if self_seed >= GROUP_ORDER:
            raise ShareError("unmask bundle: the self seed is outside F_r")
        shares = {}
        for entry in entries:
            kind_byte, value = entry[ADDRESS_BYTES], int.from_bytes(entry[ADDRESS_BYTES + 1 :], "big")
            if kind_byte not in (ShareKind.SELF_SEED, ShareKind.MASK_KEY) or value >= GROUP_ORDER:
                raise ShareError(f"unmask bundle: bad share for 0x{entry[:ADDRESS_BYTES].hex()}")
            shares[entry[:ADDRESS_BYTES]] = (ShareKind(kind_byte), value)
        return cls(self_seed, shares)


def unmask_bundle(
    *,
    round: SecureRound,
    holder: Member,
    keys: RoundKeys,
    self_seed: int,
    bundles: Mapping[bytes, bytes],
    min_participants: int = 1,
) -> UnmaskBundle:
    """The unmask bundle of survivor ``holder``, from the share bundles of its committed neighbours.

    ``round`` must be final (U3 fixed by the upload deadline). Raises :class:`RoundFailedError` when the
    round is not safe to unmask (:meth:`SecureRound.check_unmaskable`); an honest participant then
    publishes nothing. A neighbour's bundle that is missing, is not the one it committed (sha256 against
    its share-bundle reference) or does not decrypt is skipped: its secrets must come from other holders.
    """
    if holder.address not in round.uploaded:
        raise ShareError(f"0x{holder.address.hex()} did not upload; only survivors publish unmask bundles")
    round.check_unmaskable(min_participants)
    shares: dict[bytes, tuple[ShareKind, int]] = {}
    for owner in round.neighbours(holder):
        commitment = round.committed.get(owner.address)
        bundle = bundles.get(owner.address)
        if commitment is None or bundle is None or bundle_ref(bundle) != commitment.share_bundle_ref:
            continue
        try:
            pair = open_shares(round=round, receiver=holder, keys=keys, sender=owner, bundle=bundle)
        except ShareError:
            continue
        if owner.address in round.uploaded:
            shares[owner.address] = (ShareKind.SELF_SEED, pair.self_seed)
        else:
            shares[owner.address] = (ShareKind.MASK_KEY, pair.mask_key)
    return UnmaskBundle(self_seed, shares)


def _entries(bundle: bytes, magic: bytes, skip: int, size: int, what: str) -> list[bytes]:
    if not isinstance(bundle, bytes | bytearray) or bundle[: len(magic)] != magic:
        raise ShareError(f"{what}: bad magic, expected {magic!r}")
    start = len(magic) + skip
    if len(bundle) < start + BUNDLE_COUNT_BYTES:
        raise ShareError(f"{what}: truncated header")
    count = int.from_bytes(bundle[start : start + BUNDLE_COUNT_BYTES], "big")
    body = bundle[start + BUNDLE_COUNT_BYTES :]
    if len(body) != count * size:
        raise ShareError(f"{what}: {len(body)} body bytes for {count} entries of {size} bytes")
    entries = [bytes(body[k : k + size]) for k in range(0, len(body), size)]
    owners = [entry[:ADDRESS_BYTES] for entry in entries]
    if owners != sorted(set(owners)):
        raise ShareError(f"{what}: entries are not strictly ordered by address")
    return entries


def _count(count: int) -> bytes:
    if count > _MAX_ENTRIES:
        raise ShareError(f"a bundle holds at most {_MAX_ENTRIES} entries, got {count}")
    return count.to_bytes(BUNDLE_COUNT_BYTES, "big")


def _scalar(value: int) -> bytes:
    return value.to_bytes(SCALAR_BYTES, "big")
