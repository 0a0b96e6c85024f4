"""Reconstruction of the round's secrets, the unmasking transcript and the unmasked sum (docs/protocol.md §10.8).

The transcript is what the aggregator publishes: the self seed of every survivor (checked against the
self-seed hash it committed) and the mask key of every dropped member that neighbours a survivor
(checked against its advertised public key, sk * G == pk). Both checks are exactly the ones the contract
makes in a fraud proof, so a transcript that passes :meth:`Transcript.check` is the only one possible.

    transcript = "FCT1" ‖ uint16 count ‖ count × (address owner ‖ uint8 kind ‖ uint256 secret), by owner

    S = Σ_{u ∈ U3} y_u - Σ_{u ∈ U3} m(b_u) - Σ_{u ∈ U3, v ∈ N(u) ∩ D} sign(u, v) m(s_uv)   (mod 2^64)
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

from fedchain.commit.encoding import address_bytes
from fedchain.secagg.constants import ADDRESS_BYTES, GROUP_ORDER, SCALAR_BYTES, TRANSCRIPT_MAGIC
from fedchain.secagg.curve import public_key
from fedchain.secagg.derive import self_mask_key, self_seed_hash
from fedchain.secagg.errors import RoundFailedError, ShareError, TranscriptError
from fedchain.secagg.masking import pair_key, sum_masked
from fedchain.secagg.roster import Member, SecureRound
from fedchain.secagg.shamir import combine
from fedchain.secagg.shares import ShareKind, UnmaskBundle
from fedchain.secagg.stream import mask_stream

MAX_SUBSETS_TRIED = 256
"""Share subsets tried per secret when some published shares are wrong; beyond it the round fails."""


@dataclass(frozen=True)
class Transcript:
    """Revealed self seeds of the survivors and mask keys of the dropped members that touch them."""

    self_seeds: Mapping[bytes, int]
    mask_keys: Mapping[bytes, int]

    def check(self, round: SecureRound) -> None:
        """Raise unless every survivor's seed and exactly the needed dropped members' keys are present and
        each matches its owner's commitment."""
        for member in round.survivors():
            if member.address not in self.self_seeds:
                raise TranscriptError(f"no self seed for survivor 0x{member.address.hex()}")
            if self_seed_hash(self.self_seeds[member.address]) != round.committed[member.address].self_seed_hash:
                raise TranscriptError(f"the self seed of 0x{member.address.hex()} does not match its commitment")
        if set(self.self_seeds) != {member.address for member in round.survivors()}:
            raise TranscriptError("the transcript reveals a self seed of a participant that is not a survivor")
        needed = {member.address for member in dropped_touching_survivors(round)}
        if set(self.mask_keys) != needed:
            raise TranscriptError("the transcript's mask keys are not exactly those of dropped neighbours of survivors")
        for address, secret in self.mask_keys.items():
            if not 0 < secret < GROUP_ORDER or public_key(secret) != round.member(address).public:
                raise TranscriptError(f"the mask key of 0x{address.hex()} does not match its public key")

    def encode(self) -> bytes:
        """Serialize (owners ascending; kind 0 = self seed, 1 = mask key)."""
        entries = {address: (ShareKind.SELF_SEED, seed) for address, seed in self.self_seeds.items()}
        for address, secret in self.mask_keys.items():
            if address in entries:
                raise TranscriptError(f"0x{address.hex()} cannot be both a survivor and dropped")
            entries[address] = (ShareKind.MASK_KEY, secret)
        body = b"".join(
            address_bytes(address, "owner") + bytes([kind]) + value.to_bytes(SCALAR_BYTES, "big")
            for address, (kind, value) in sorted(entries.items())
        )
        return TRANSCRIPT_MAGIC + len(entries).to_bytes(2, "big") + body

    @classmethod
    def decode(cls, data: bytes) -> "Transcript":
        """Parse a transcript, checking its layout, order and kinds."""
        size = ADDRESS_BYTES + 1 + SCALAR_BYTES
        if data[: len(TRANSCRIPT_MAGIC)] != TRANSCRIPT_MAGIC or len(data) < len(TRANSCRIPT_MAGIC) + 2:
            raise TranscriptError("transcript: bad magic or truncated header")
        count = int.from_bytes(data[len(TRANSCRIPT_MAGIC) : len(TRANSCRIPT_MAGIC) + 2], "big")
        body = data[len(TRANSCRIPT_MAGIC) + 2 :]
        if len(body) != count * size:
            raise TranscriptError(f"transcript: {len(body)} body bytes for {count} entries")
        self_seeds, mask_keys, previous = {}, {}, b""
        for start in range(0, len(body), size):
            address, kind = body[start : start + ADDRESS_BYTES], body[start + ADDRESS_BYTES]
            if address <= previous:
                raise TranscriptError("transcript: entries are not strictly ordered by address")
            previous = address
            value = int.from_bytes(body[start + ADDRESS_BYTES + 1 : start + size], "big")
            if kind == ShareKind.SELF_SEED:
                self_seeds[address] = value
            elif kind == ShareKind.MASK_KEY:
                mask_keys[address] = value
            else:
                raise TranscriptError(f"transcript: unknown kind {kind} for 0x{address.hex()}")
        return cls(self_seeds, mask_keys)


def dropped_touching_survivors(round: SecureRound) -> tuple[Member, ...]:
    """The dropped members with at least one surviving neighbour: whose mask keys must be revealed."""
    survivors = {member.index for member in round.survivors()}
    return tuple(
        member for member in round.dropped() if any(index in survivors for index in round.graph.neighbours_of(member.index))
    )


def reconstruct(round: SecureRound, bundles: Mapping[bytes, UnmaskBundle], min_participants: int = 1) -> Transcript:
    """Rebuild the transcript from the survivors' unmask bundles (U4 = the survivors that published one).

    A survivor that published its own self seed gives it directly; otherwise its seed is interpolated from
    the self-seed shares its neighbours published. Each dropped member's mask key is interpolated from its
    neighbours' mask-key shares. Every result is checked against its owner's commitment; wrong shares are
    worked around by trying other subsets. Raises :class:`RoundFailedError` when some secret cannot be
    rebuilt: fewer than t valid shares remain.
    """
    round.check_unmaskable(min_participants)
    for address in bundles:
        if address not in round.uploaded:
            raise ShareError(f"0x{address.hex()} published an unmask bundle but is not a survivor")
    self_seeds: dict[bytes, int] = {}
    for member in round.survivors():
        expected = round.committed[member.address].self_seed_hash
        published = bundles.get(member.address)
        if published is not None and self_seed_hash(published.self_seed) == expected:
            self_seeds[member.address] = published.self_seed
            continue
        shares = _shares_for(round, member, bundles, ShareKind.SELF_SEED)
        self_seeds[member.address] = _interpolate(member, shares, round.params.threshold, _seed_check(expected))
    mask_keys: dict[bytes, int] = {}
    for member in dropped_touching_survivors(round):
        shares = _shares_for(round, member, bundles, ShareKind.MASK_KEY)
        mask_keys[member.address] = _interpolate(member, shares, round.params.threshold, _key_check(member))
    return Transcript(self_seeds, mask_keys)


def unmask(round: SecureRound, masked: Mapping[bytes, NDArray[np.uint64]], transcript: Transcript) -> NDArray[np.int64]:
    """The weighted sum S of the survivors' updates, as signed int64, from their masked vectors."""
    transcript.check(round)
    survivors = round.survivors()
    missing = [member.address.hex() for member in survivors if member.address not in masked]
    if missing:
        raise RoundFailedError(f"masked vectors missing for {', '.join('0x' + m for m in missing)}")
    total = sum_masked([masked[member.address] for member in survivors])
    count = total.size
    for member in survivors:
        total -= mask_stream(self_mask_key(transcript.self_seeds[member.address]), 0, count)
    alive = {member.index: member for member in survivors}
    for dropped in round.dropped():
        if dropped.address not in transcript.mask_keys:
            continue
        secret = transcript.mask_keys[dropped.address]
        for index in round.graph.neighbours_of(dropped.index):
            if index not in alive:
                continue
            survivor = alive[index]
            stream = mask_stream(pair_key(round, secret, dropped, survivor), 0, count)
            if survivor.number < dropped.number:
                total -= stream
            else:
                total += stream
    weighted_sum: NDArray[np.int64] = total.view(np.int64)
    return weighted_sum


def _shares_for(round: SecureRound, owner: Member, bundles: Mapping[bytes, UnmaskBundle], kind: ShareKind) -> dict[int, int]:
    shares = {}
    for holder in round.neighbours(owner):
        bundle = bundles.get(holder.address)
        if bundle is None or owner.address not in bundle.shares:
            continue
        share_kind, value = bundle.shares[owner.address]
        if share_kind == kind:
            shares[holder.index] = value
    return shares


def _seed_check(expected: bytes) -> Callable[[int], bool]:
    return lambda seed: self_seed_hash(seed) == expected


def _key_check(owner: Member) -> Callable[[int], bool]:
    return lambda secret: secret != 0 and public_key(secret) == owner.public


def _interpolate(owner: Member, shares: dict[int, int], threshold: int, matches: Callable[[int], bool]) -> int:
    if len(shares) < threshold:
        raise RoundFailedError(
            f"only {len(shares)} shares of 0x{owner.address.hex()}'s secret were published, fewer than {threshold}"
        )
    for tried, subset in enumerate(combinations(sorted(shares), threshold)):
        if tried == MAX_SUBSETS_TRIED:
            break
        secret = combine({holder: shares[holder] for holder in subset}, threshold)
        if matches(secret):
            return secret
    raise RoundFailedError(f"no {threshold} of the published shares of 0x{owner.address.hex()} match its commitment")
