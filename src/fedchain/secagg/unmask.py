"""Reconstruction of the round's secrets, the unmasking transcript and the unmasked sum (docs/protocol.md §10.8).

The transcript is what the aggregator publishes with its proposal: one 32-byte secret per committed
participant, survivors first and then the dropped members, each group by increasing address:

    survivor u:  its self seed b_u                 (must hash to the self-seed hash u committed)
    dropped v:   its mask key sk_v if v neighbours a survivor (sk_v * G must be v's advertised key),
                 else 0 (nobody can or may reveal it)

A transcript that passes :meth:`Transcript.check` is the only valid one, because every entry is bound to
its owner's commitment; the fraud proof (§10.10) treats any other as a wrong proposal.

    S = Σ_{u ∈ U3} y_u - Σ_{u ∈ U3} m(b_u) - Σ_{u ∈ U3, v ∈ N(u) ∩ D} sign(u, v) m(s_uv)   (mod 2^64)
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

from fedchain.commit.encoding import require_bytes32
from fedchain.secagg.constants import GROUP_ORDER, SCALAR_BYTES
from fedchain.secagg.curve import public_key
from fedchain.secagg.derive import self_mask_key, self_seed_hash, transcript_hash
from fedchain.secagg.errors import RoundFailedError, ShareError, TranscriptError
from fedchain.secagg.masking import pair_key, sum_masked
from fedchain.secagg.roster import Member, SecureRound
from fedchain.secagg.shamir import combine
from fedchain.secagg.shares import ShareKind, UnmaskBundle
from fedchain.secagg.stream import apply_masks

MAX_SUBSETS_TRIED = 256
"""Share subsets tried per secret when some published shares are wrong; beyond it the round fails."""


@dataclass(frozen=True)
class Transcript:
    """Revealed self seeds of the survivors and mask keys of the dropped members that touch them."""

    self_seeds: Mapping[bytes, int] = field(repr=False)
    mask_keys: Mapping[bytes, int] = field(repr=False)

    def words(self, round: SecureRound) -> tuple[bytes, ...]:
        """The transcript as the proposal carries it: one word per member of U2, survivors then dropped."""
        words = []
        for member in round.survivors():
            if member.address not in self.self_seeds:
                raise TranscriptError(f"no self seed for survivor 0x{member.address.hex()}")
            words.append(_word(self.self_seeds[member.address]))
        words += [_word(self.mask_keys.get(member.address, 0)) for member in round.dropped()]
        return tuple(words)

    def hash(self, round: SecureRound) -> bytes:
        """``transcriptHash``: keccak of the concatenated words."""
        return transcript_hash(self.words(round))

    @classmethod
    def from_words(cls, round: SecureRound, words: Sequence[bytes]) -> "Transcript":
        """Read a proposal's transcript words (not checked: see :meth:`check`)."""
        survivors, dropped = round.survivors(), round.dropped()
        if len(words) != len(survivors) + len(dropped):
            raise TranscriptError(f"a transcript has one word per committed participant, got {len(words)}")
        values = [int.from_bytes(require_bytes32(word, "transcript word"), "big") for word in words]
        seeds = {member.address: value for member, value in zip(survivors, values[: len(survivors)], strict=True)}
        keys = {member.address: value for member, value in zip(dropped, values[len(survivors) :], strict=True) if value}
        return cls(seeds, keys)

    def check(self, round: SecureRound) -> None:
        """Raise :class:`TranscriptError` naming the first entry that does not match its owner's commitment,
        in the order the fraud proof checks them."""
        for member in round.survivors():
            seed = self.self_seeds.get(member.address)
            if seed is None or not 0 <= seed < GROUP_ORDER:
                raise TranscriptError(f"no valid self seed for survivor 0x{member.address.hex()}")
            if self_seed_hash(seed) != round.committed[member.address].self_seed_hash:
                raise TranscriptError(f"the self seed of 0x{member.address.hex()} does not match its commitment")
        if set(self.self_seeds) != {member.address for member in round.survivors()}:
            raise TranscriptError("the transcript reveals a self seed of a participant that is not a survivor")
        needed = {member.address for member in dropped_touching_survivors(round)}
        for member in round.dropped():
            secret = self.mask_keys.get(member.address, 0)
            if member.address not in needed:
                if secret:
                    raise TranscriptError(f"0x{member.address.hex()} has no surviving neighbour: its key stays secret")
            elif not 0 < secret < GROUP_ORDER or public_key(secret) != member.public:
                raise TranscriptError(f"the mask key of 0x{member.address.hex()} does not match its public key")
        if not set(self.mask_keys) <= needed:
            raise TranscriptError("the transcript reveals a mask key of a participant that did not drop")

    def is_valid(self, round: SecureRound) -> bool:
        """Whether :meth:`check` passes."""
        try:
            self.check(round)
        except TranscriptError:
            return False
        return True


def dropped_touching_survivors(round: SecureRound) -> tuple[Member, ...]:
    """The dropped members with at least one surviving neighbour: whose mask keys must be revealed."""
    survivors = {member.index for member in round.survivors()}
    return tuple(
        member
        for member in round.dropped()
        if any(index in survivors for index in round.graph.neighbours_of(member.index))
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
    streams = [(self_mask_key(transcript.self_seeds[member.address]), False) for member in survivors]
    alive = {member.index: member for member in survivors}
    for dropped in dropped_touching_survivors(round):
        secret = transcript.mask_keys[dropped.address]
        for index in round.graph.neighbours_of(dropped.index):
            if index in alive:
                survivor = alive[index]
                # The survivor added +m when its address is the lower one: take it off again.
                streams.append((pair_key(round, secret, dropped, survivor), survivor.number > dropped.number))
    apply_masks(total, streams)
    weighted_sum: NDArray[np.int64] = total.view(np.int64)
    return weighted_sum


def _shares_for(
    round: SecureRound, owner: Member, bundles: Mapping[bytes, UnmaskBundle], kind: ShareKind
) -> dict[int, int]:
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


def _word(value: int) -> bytes:
    return value.to_bytes(SCALAR_BYTES, "big")
