"""A whole secure round in memory, driven through the core's public functions as the agents will drive it.

Each party advertises fresh round keys; the round's sets are fixed phase by phase, as the chain fixes
them; parties listed in ``drops`` stop at the phase named there. Used by the tests and the vectors only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from fedchain.commit.keccak import keccak256
from fedchain.commit.leaves import LeafLayout
from fedchain.secagg.constants import GROUP_ORDER
from fedchain.secagg.curve import MaskKeys
from fedchain.secagg.derive import new_self_seed, self_seed_hash
from fedchain.secagg.errors import RoundFailedError
from fedchain.secagg.keys import EncryptionKeys, RoundKeys, new_round_keys
from fedchain.secagg.masking import mask_update, masked_tree, weighted_update
from fedchain.secagg.params import SecureParams
from fedchain.secagg.roster import Commitment, Member, SecureRound
from fedchain.secagg.shares import ShareRandomness, UnmaskBundle, bundle_ref, share_bundle, unmask_bundle
from fedchain.secagg.unmask import Transcript, reconstruct, unmask


class Phase(Enum):
    """Where a party stops."""

    BEFORE_COMMIT = "before commit"
    BEFORE_UPLOAD = "after commit, before upload"
    DURING_UNMASK = "during unmasking"


@dataclass
class Party:
    """One participant's secrets and inputs."""

    address: bytes
    keys: RoundKeys
    self_seed: int
    update: NDArray[np.int32]
    weight: int
    randomness: ShareRandomness | None = None


@dataclass
class RoundRecord:
    """Everything a round produced, public and private."""

    parties: list[Party]
    layout: LeafLayout
    rounds: list[SecureRound] = field(default_factory=list)
    share_bundles: dict[bytes, bytes] = field(default_factory=dict)
    masked: dict[bytes, NDArray[np.uint64]] = field(default_factory=dict)
    unmask_bundles: dict[bytes, UnmaskBundle] = field(default_factory=dict)

    @property
    def final(self) -> SecureRound:
        """The round with all three sets fixed."""
        return self.rounds[-1]

    def party(self, address: bytes) -> Party:
        """The party with ``address``."""
        return next(party for party in self.parties if party.address == address)


def address_of(k: int, salt: bytes = b"") -> bytes:
    """A deterministic, well-spread 20-byte address for party ``k``."""
    return hashlib.sha256(salt + k.to_bytes(4, "big")).digest()[:20]


def seeded_parties(
    updates: Sequence[NDArray[np.int32]], weights: Sequence[int], threshold: int, salt: bytes
) -> list[Party]:
    """Parties whose keys, seeds and share randomness are derived from ``salt`` by keccak, for reproducible
    test vectors. Real parties draw them from the OS random source (:func:`make_parties`)."""

    def draw(label: str, k: int, j: int = 0) -> int:
        return int.from_bytes(keccak256(salt + label.encode() + k.to_bytes(4, "big") + j.to_bytes(4, "big")), "big")

    parties = []
    for k, (update, weight) in enumerate(zip(updates, weights, strict=True)):
        keys = RoundKeys(
            MaskKeys(1 + draw("mask", k) % (GROUP_ORDER - 1)), EncryptionKeys(draw("enc", k).to_bytes(32, "big"))
        )
        randomness = ShareRandomness(
            tuple(draw("seed-coefficient", k, j) % GROUP_ORDER for j in range(threshold - 1)),
            tuple(draw("key-coefficient", k, j) % GROUP_ORDER for j in range(threshold - 1)),
            draw("nonce", k).to_bytes(32, "big")[:12],
        )
        party = Party(
            address_of(k, salt), keys, draw("self-seed", k) % GROUP_ORDER, np.asarray(update, dtype=np.int32), weight
        )
        party.randomness = randomness
        parties.append(party)
    return parties


def make_parties(updates: Sequence[NDArray[np.int32]], weights: Sequence[int], salt: bytes = b"") -> list[Party]:
    """Parties with fresh keys and seeds (from the OS random source) and the given inputs."""
    return [
        Party(address_of(k, salt), new_round_keys(), new_self_seed(), np.asarray(update, dtype=np.int32), weight)
        for k, (update, weight) in enumerate(zip(updates, weights, strict=True))
    ]


def run_phases(
    parties: list[Party],
    params: SecureParams,
    seed: bytes,
    clip: int,
    drops: Mapping[bytes, Phase] | None = None,
    words_per_leaf: int = 1,
) -> RoundRecord:
    """Advertise, commit shares, upload masked vectors and publish unmask bundles, with ``drops`` applied.

    A party whose unmask bundle the round refuses (too few survivors) simply publishes nothing.
    """
    drops = drops or {}
    layout = LeafLayout(parties[0].update.size, words_per_leaf)
    record = RoundRecord(parties, layout)
    advertised = tuple(
        Member(index, party.address, party.keys.mask.public, party.keys.encryption.public)
        for index, party in enumerate(parties)
    )
    keys_round = SecureRound(seed, params, advertised)
    record.rounds.append(keys_round)
    committed = {}
    for party in parties:
        if drops.get(party.address) is Phase.BEFORE_COMMIT:
            continue
        member = keys_round.member(party.address)
        bundle = share_bundle(
            round=keys_round, owner=member, keys=party.keys, self_seed=party.self_seed, randomness=party.randomness
        )
        record.share_bundles[party.address] = bundle
        committed[party.address] = Commitment(self_seed_hash(party.self_seed), bundle_ref(bundle), party.weight)
    commit_round = SecureRound(seed, params, advertised, committed)
    record.rounds.append(commit_round)
    uploaded = {}
    for party in parties:
        if party.address not in committed or drops.get(party.address) is Phase.BEFORE_UPLOAD:
            continue
        masked = mask_update(
            weighted_update(party.update, party.weight, clip),
            round=commit_round,
            owner=commit_round.member(party.address),
            keys=party.keys.mask,
            self_seed=party.self_seed,
        )
        record.masked[party.address] = masked
        uploaded[party.address] = masked_tree(masked, layout).root
    final = SecureRound(seed, params, advertised, committed, uploaded)
    record.rounds.append(final)
    try:
        final.check_unmaskable()
    except RoundFailedError:
        return record
    for party in parties:
        if party.address not in uploaded or drops.get(party.address) is Phase.DURING_UNMASK:
            continue
        record.unmask_bundles[party.address] = unmask_bundle(
            round=final,
            holder=final.member(party.address),
            keys=party.keys,
            self_seed=party.self_seed,
            bundles=record.share_bundles,
        )
    return record


def aggregate(record: RoundRecord, min_participants: int = 1) -> tuple[Transcript, NDArray[np.int64]]:
    """What the aggregator does: reconstruct the transcript from published bundles, then unmask."""
    transcript = reconstruct(record.final, record.unmask_bundles, min_participants)
    return transcript, unmask(record.final, record.masked, transcript)


def plain_weighted_sum(record: RoundRecord) -> NDArray[np.int64]:
    """The survivors' weighted sum computed in the clear: what unmasking must give exactly."""
    total = np.zeros(record.layout.num_params, dtype=np.int64)
    for address in record.final.uploaded:
        party = record.party(address)
        total += party.weight * party.update.astype(np.int64)
    return total
