"""Encrypted share bundles and unmask bundles (docs/protocol.md §10.5-10.6).

At commit time a participant u Shamir-shares its self seed b_u and its mask key sk_u among its advertised
neighbours (threshold t), encrypts each neighbour's pair of shares with ChaCha20-Poly1305 under the
per-direction share key, and uploads the bundle; its sha256 is the share-bundle reference it commits.

    share bundle  = "FCS1" ‖ uint16 count ‖ count × (address receiver ‖ 80-byte ciphertext), by receiver
    plaintext     = uint256 share of b_u ‖ uint256 share of sk_u                  (big-endian, 64 bytes)

After the upload deadline each survivor v publishes an unmask bundle: its own self seed, and for each
neighbour u whose commitment is on chain the one share that the chain's sets allow: u's self-seed share
if u uploaded, u's mask-key share if u committed and did not. It never releases both for one owner.

    unmask bundle = "FCU1" ‖ uint256 own self seed ‖ uint16 count ‖ count × (address owner ‖ uint8 kind ‖
                    uint256 share), by owner; kind 0 = self-seed share, 1 = mask-key share
"""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from fedchain.commit.encoding import address_bytes
from fedchain.secagg.constants import (
    ADDRESS_BYTES,
    AEAD_NONCE,
    GROUP_ORDER,
    SCALAR_BYTES,
    SHARE_BUNDLE_MAGIC,
    SHARE_CIPHERTEXT_BYTES,
    UNMASK_BUNDLE_MAGIC,
)
from fedchain.secagg.curve import MaskKeys, shared_point
from fedchain.secagg.derive import check_seed, share_key
from fedchain.secagg.errors import RoundFailedError, ShareError
from fedchain.secagg.roster import Member, SecureRound
from fedchain.secagg.shamir import split

_COUNT_BYTES = 2
_MAX_ENTRIES = (1 << (8 * _COUNT_BYTES)) - 1


class ShareKind(IntEnum):
    """Which secret of its owner an unmask share belongs to."""

    SELF_SEED = 0
    MASK_KEY = 1


@dataclass(frozen=True)
class SharePair:
    """One holder's shares of an owner's two secrets."""

    self_seed: int
    mask_key: int


def share_bundle(
    *,
    round: SecureRound,
    owner: Member,
    keys: MaskKeys,
    self_seed: int,
    seed_coefficients: Sequence[int],
    key_coefficients: Sequence[int],
) -> bytes:
    """The encrypted share bundle ``owner`` uploads and commits to (its sha256 is the share-bundle reference)."""
    if keys.public != owner.public:
        raise ShareError("the mask keys are not the owner's advertised key")
    neighbours = round.neighbours(owner)
    threshold = round.params.threshold
    if len(neighbours) < threshold or len(seed_coefficients) != threshold - 1 or len(key_coefficients) != threshold - 1:
        raise RoundFailedError(
            f"{len(neighbours)} neighbours and {len(seed_coefficients)} + {len(key_coefficients)} coefficients "
            f"cannot carry a threshold-{threshold} sharing"
        )
    holders = [member.index for member in neighbours]
    seed_shares = split(check_seed(self_seed), seed_coefficients, holders)
    key_shares = split(keys.secret, key_coefficients, holders)
    entries = {}
    for member in neighbours:
        plaintext = _scalar(seed_shares[member.index]) + _scalar(key_shares[member.index])
        key = share_key(round.seed, shared_point(keys.secret, member.public), owner.address, member.address)
        entries[member.address] = ChaCha20Poly1305(key).encrypt(AEAD_NONCE, plaintext, None)
    return encode_share_bundle(entries)


def bundle_ref(bundle: bytes) -> bytes:
    """The content reference of a bundle: its sha256, as every blob reference (docs/protocol.md §6)."""
    return hashlib.sha256(bundle).digest()


def encode_share_bundle(ciphertexts: Mapping[bytes, bytes]) -> bytes:
    """Serialize receiver address -> ciphertext, ordered by receiver."""
    body = []
    for receiver in sorted(ciphertexts):
        ciphertext = ciphertexts[receiver]
        if len(ciphertext) != SHARE_CIPHERTEXT_BYTES:
            raise ShareError(f"an encrypted share is {SHARE_CIPHERTEXT_BYTES} bytes, got {len(ciphertext)}")
        body.append(address_bytes(receiver, "receiver") + ciphertext)
    return SHARE_BUNDLE_MAGIC + _count(len(body)) + b"".join(body)


def decode_share_bundle(bundle: bytes) -> dict[bytes, bytes]:
    """Parse a share bundle into receiver address -> ciphertext, checking its layout and order."""
    entries = _entries(bundle, SHARE_BUNDLE_MAGIC, 0, ADDRESS_BYTES + SHARE_CIPHERTEXT_BYTES, "share bundle")
    return {entry[:ADDRESS_BYTES]: entry[ADDRESS_BYTES:] for entry in entries}


def open_shares(*, round: SecureRound, receiver: Member, keys: MaskKeys, sender: Member, bundle: bytes) -> SharePair:
    """Decrypt the shares ``sender``'s bundle holds for ``receiver``; raise if absent or forged."""
    ciphertexts = decode_share_bundle(bundle)
    if receiver.address not in ciphertexts:
        raise ShareError(f"the bundle of 0x{sender.address.hex()} holds no shares for 0x{receiver.address.hex()}")
    key = share_key(round.seed, shared_point(keys.secret, sender.public), sender.address, receiver.address)
    try:
        plaintext = ChaCha20Poly1305(key).decrypt(AEAD_NONCE, ciphertexts[receiver.address], None)
    except InvalidTag as error:
        raise ShareError(f"the shares 0x{sender.address.hex()} sent to 0x{receiver.address.hex()} do not decrypt") from error
    seed_share, key_share = (int.from_bytes(plaintext[k : k + SCALAR_BYTES], "big") for k in (0, SCALAR_BYTES))
    if seed_share >= GROUP_ORDER or key_share >= GROUP_ORDER:
        raise ShareError(f"0x{sender.address.hex()} sent a share outside F_r")
    return SharePair(seed_share, key_share)


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
    *, round: SecureRound, holder: Member, keys: MaskKeys, self_seed: int, bundles: Mapping[bytes, bytes]
) -> UnmaskBundle:
    """The unmask bundle of survivor ``holder``, from the share bundles of its committed neighbours.

    Raises :class:`RoundFailedError` when the round is not safe to unmask (see
    :meth:`SecureRound.check_unmaskable`); an honest participant then publishes nothing. A neighbour whose
    bundle is missing or does not decrypt is skipped: its secrets must be rebuilt from other holders.
    """
    if holder.address not in round.uploaded:
        raise ShareError(f"0x{holder.address.hex()} did not upload; only survivors publish unmask bundles")
    round.check_unmaskable()
    shares: dict[bytes, tuple[ShareKind, int]] = {}
    for owner in round.neighbours(holder):
        if owner.address not in round.committed or owner.address not in bundles:
            continue
        try:
            pair = open_shares(round=round, receiver=holder, keys=keys, sender=owner, bundle=bundles[owner.address])
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
    if len(bundle) < start + _COUNT_BYTES:
        raise ShareError(f"{what}: truncated header")
    count = int.from_bytes(bundle[start : start + _COUNT_BYTES], "big")
    body = bundle[start + _COUNT_BYTES :]
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
    return count.to_bytes(_COUNT_BYTES, "big")


def _scalar(value: int) -> bytes:
    return value.to_bytes(SCALAR_BYTES, "big")
