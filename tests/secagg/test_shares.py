"""Encrypted share bundles and unmask bundles (docs/protocol.md §10.6)."""

from dataclasses import replace

import numpy as np
import pytest

from fedchain.secagg.constants import AEAD_NONCE_BYTES, GROUP_ORDER, SHARE_CIPHERTEXT_BYTES
from fedchain.secagg.errors import RoundFailedError, ShareError
from fedchain.secagg.keys import new_round_keys
from fedchain.secagg.params import SecureParams
from fedchain.secagg.roster import Member, SecureRound
from fedchain.secagg.shamir import combine, split
from fedchain.secagg.shares import (
    ShareKind,
    ShareRandomness,
    UnmaskBundle,
    bundle_ref,
    decode_share_bundle,
    encode_share_bundle,
    new_share_randomness,
    open_shares,
    share_bundle,
    unmask_bundle,
)
from tests.secagg.cohort import Party, Phase, make_parties, run_phases

PARAMS = SecureParams(4, 3)
SEED = bytes(range(32))


@pytest.fixture(scope="module")
def parties() -> list[Party]:
    return make_parties([np.zeros(4, dtype=np.int32)] * 8, [1] * 8)


@pytest.fixture(scope="module")
def keys_round(parties: list[Party]) -> SecureRound:
    advertised = tuple(
        Member(i, p.address, p.keys.mask.public, p.keys.encryption.public) for i, p in enumerate(parties)
    )
    return SecureRound(SEED, PARAMS, advertised)


def bundle_of(keys_round: SecureRound, party: Party, randomness: ShareRandomness | None = None) -> bytes:
    owner = keys_round.member(party.address)
    return share_bundle(
        round=keys_round, owner=owner, keys=party.keys, self_seed=party.self_seed, randomness=randomness
    )


def test_each_neighbour_decrypts_its_own_shares(parties: list[Party], keys_round: SecureRound) -> None:
    owner = parties[0]
    randomness = new_share_randomness(PARAMS.threshold)
    bundle = bundle_of(keys_round, owner, randomness)
    member = keys_round.member(owner.address)
    neighbours = keys_round.neighbours(member)
    holders = [n.index for n in neighbours]
    seed_shares = split(owner.self_seed, randomness.seed_coefficients, holders)
    key_shares = split(owner.keys.mask.secret, randomness.key_coefficients, holders)
    opened = {}
    for neighbour in neighbours:
        party = parties[neighbour.index]
        pair = open_shares(round=keys_round, receiver=neighbour, keys=party.keys, sender=member, bundle=bundle)
        assert (pair.self_seed, pair.mask_key) == (seed_shares[neighbour.index], key_shares[neighbour.index])
        opened[neighbour.index] = pair
    assert combine({i: p.self_seed for i, p in opened.items()}, PARAMS.threshold) == owner.self_seed
    assert combine({i: p.mask_key for i, p in opened.items()}, PARAMS.threshold) == owner.keys.mask.secret


def test_bundle_layout(parties: list[Party], keys_round: SecureRound) -> None:
    bundle = bundle_of(keys_round, parties[1])
    nonce, entries = decode_share_bundle(bundle)
    member = keys_round.member(parties[1].address)
    receivers = sorted(n.address for n in keys_round.neighbours(member))
    assert bundle[:4] == b"FCS1"
    assert bundle[4:16] == nonce
    assert int.from_bytes(bundle[16:18], "big") == len(receivers) == PARAMS.neighbours
    assert list(entries) == receivers
    assert len(bundle) == 18 + len(receivers) * (20 + SHARE_CIPHERTEXT_BYTES)
    assert encode_share_bundle(nonce, entries) == bundle
    assert bundle_ref(bundle) == __import__("hashlib").sha256(bundle).digest()


def test_two_bundles_of_one_owner_use_different_nonces(parties: list[Party], keys_round: SecureRound) -> None:
    first, second = bundle_of(keys_round, parties[2]), bundle_of(keys_round, parties[2])
    assert first[4:16] != second[4:16]
    assert first != second


def test_other_members_cannot_open_shares_not_sent_to_them(parties: list[Party], keys_round: SecureRound) -> None:
    owner = keys_round.member(parties[0].address)
    bundle = bundle_of(keys_round, parties[0])
    neighbours = {n.index for n in keys_round.neighbours(owner)}
    outsider = next(i for i in range(1, 8) if i not in neighbours)
    with pytest.raises(ShareError, match="holds no shares"):
        open_shares(
            round=keys_round, receiver=keys_round.advertised[outsider], keys=parties[outsider].keys, sender=owner,
            bundle=bundle,
        )  # fmt: skip
    # a neighbour's entry under someone else's keys: the receiver's advertised key does not match
    neighbour = keys_round.advertised[min(neighbours)]
    with pytest.raises(ShareError, match="receiver's advertised keys"):
        open_shares(round=keys_round, receiver=neighbour, keys=parties[outsider].keys, sender=owner, bundle=bundle)


def test_tampered_ciphertexts_do_not_decrypt(parties: list[Party], keys_round: SecureRound) -> None:
    owner = keys_round.member(parties[0].address)
    bundle = bytearray(bundle_of(keys_round, parties[0]))
    neighbour = keys_round.neighbours(owner)[0]
    _nonce, entries = decode_share_bundle(bytes(bundle))
    position = 18 + sorted(entries).index(neighbour.address) * (20 + SHARE_CIPHERTEXT_BYTES) + 20 + 5
    bundle[position] ^= 1
    with pytest.raises(ShareError, match="do not decrypt"):
        open_shares(
            round=keys_round, receiver=neighbour, keys=parties[neighbour.index].keys, sender=owner, bundle=bytes(bundle)
        )
    swapped = bytearray(bundle_of(keys_round, parties[0]))
    swapped[5] ^= 1  # the nonce
    with pytest.raises(ShareError, match="do not decrypt"):
        open_shares(
            round=keys_round,
            receiver=neighbour,
            keys=parties[neighbour.index].keys,
            sender=owner,
            bundle=bytes(swapped),
        )


def test_the_owner_must_use_its_advertised_keys(parties: list[Party], keys_round: SecureRound) -> None:
    owner = keys_round.member(parties[0].address)
    with pytest.raises(ShareError, match="advertised keys"):
        share_bundle(round=keys_round, owner=owner, keys=new_round_keys(), self_seed=1)


def test_randomness_must_fit_the_threshold(parties: list[Party], keys_round: SecureRound) -> None:
    with pytest.raises(ShareError, match="needs 2 coefficients"):
        bundle_of(keys_round, parties[0], new_share_randomness(4))
    with pytest.raises(ShareError, match="nonce"):
        ShareRandomness((1,), (2,), bytes(AEAD_NONCE_BYTES - 1))
    with pytest.raises(ShareError, match="same degree"):
        ShareRandomness((1,), (), bytes(AEAD_NONCE_BYTES))


def test_a_member_with_too_few_neighbours_cannot_share(parties: list[Party]) -> None:
    advertised = tuple(
        Member(i, p.address, p.keys.mask.public, p.keys.encryption.public) for i, p in enumerate(parties[:3])
    )
    small = SecureRound(SEED, PARAMS, advertised)
    with pytest.raises(RoundFailedError, match="2 neighbours cannot hold a threshold-3 sharing"):
        share_bundle(round=small, owner=advertised[0], keys=parties[0].keys, self_seed=parties[0].self_seed)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"XXXX" + bytes(14), "bad magic"),
        (b"FCS1" + bytes(5), "truncated"),
        (b"FCS1" + bytes(12) + b"\x00\x01" + bytes(10), "body bytes"),
    ],
)
def test_malformed_share_bundles(data: bytes, message: str) -> None:
    with pytest.raises(ShareError, match=message):
        decode_share_bundle(data)


def test_share_bundle_entries_must_be_ordered() -> None:
    entry_a, entry_b = b"\x01" * 20 + bytes(SHARE_CIPHERTEXT_BYTES), b"\x02" * 20 + bytes(SHARE_CIPHERTEXT_BYTES)
    data = b"FCS1" + bytes(12) + b"\x00\x02" + entry_b + entry_a
    with pytest.raises(ShareError, match="strictly ordered"):
        decode_share_bundle(data)


def test_unmask_bundles_release_one_share_per_owner_as_the_sets_say() -> None:
    parties = make_parties([np.arange(16, dtype=np.int32)] * 10, [1] * 10, salt=b"unmask")
    drops = {parties[0].address: Phase.BEFORE_COMMIT, parties[1].address: Phase.BEFORE_UPLOAD}
    record = run_phases(parties, SecureParams(6, 2), SEED, 100, drops)
    final = record.final
    assert record.unmask_bundles, "the round should be unmaskable"
    for holder_address, bundle in record.unmask_bundles.items():
        holder = final.member(holder_address)
        assert bundle.self_seed == record.party(holder_address).self_seed
        for owner_address, (kind, value) in bundle.shares.items():
            owner = final.member(owner_address)
            assert owner_address in final.committed
            assert owner.index in final.graph.neighbours_of(holder.index)
            pair = open_shares(
                round=final, receiver=holder, keys=record.party(holder_address).keys, sender=owner,
                bundle=record.share_bundles[owner_address],
            )  # fmt: skip
            if owner_address in final.uploaded:
                assert (kind, value) == (ShareKind.SELF_SEED, pair.self_seed)
            else:
                assert (kind, value) == (ShareKind.MASK_KEY, pair.mask_key)
        assert parties[0].address not in bundle.shares
        assert UnmaskBundle.decode(bundle.encode()) == bundle


def test_holders_skip_bundles_that_are_not_the_committed_ones() -> None:
    parties = make_parties([np.arange(8, dtype=np.int32)] * 6, [1] * 6, salt=b"ref")
    record = run_phases(parties, SecureParams(4, 2), SEED, 100)
    final = record.final
    holder = final.member(parties[0].address)
    owner = final.neighbours(holder)[0]
    forged = dict(record.share_bundles)
    forged[owner.address] = bundle_of(record.rounds[0], record.party(owner.address))  # valid, but not committed
    bundle = unmask_bundle(
        round=final, holder=holder, keys=parties[0].keys, self_seed=parties[0].self_seed, bundles=forged
    )
    assert owner.address not in bundle.shares
    assert len(bundle.shares) == len(final.neighbours(holder)) - 1


def test_only_survivors_of_an_unmaskable_round_publish() -> None:
    parties = make_parties([np.arange(8, dtype=np.int32)] * 6, [1] * 6, salt=b"only")
    drops = {p.address: Phase.BEFORE_UPLOAD for p in parties[1:4]}
    record = run_phases(parties, SecureParams(4, 3), SEED, 100, drops)
    final = record.final
    assert not record.unmask_bundles
    with pytest.raises(RoundFailedError):
        unmask_bundle(
            round=final, holder=final.member(parties[0].address), keys=parties[0].keys,
            self_seed=parties[0].self_seed, bundles=record.share_bundles,
        )  # fmt: skip
    with pytest.raises(ShareError, match="only survivors"):
        unmask_bundle(
            round=final, holder=final.member(parties[1].address), keys=parties[1].keys,
            self_seed=parties[1].self_seed, bundles=record.share_bundles,
        )  # fmt: skip


def test_unmask_bundle_format() -> None:
    owner_a, owner_b = b"\x01" * 20, b"\x02" * 20
    bundle = UnmaskBundle(7, {owner_b: (ShareKind.MASK_KEY, 9), owner_a: (ShareKind.SELF_SEED, 8)})
    data = bundle.encode()
    assert data == (
        b"FCU1" + (7).to_bytes(32, "big") + b"\x00\x02"
        + owner_a + b"\x00" + (8).to_bytes(32, "big") + owner_b + b"\x01" + (9).to_bytes(32, "big")
    )  # fmt: skip
    assert UnmaskBundle.decode(data) == bundle
    bad_kind = bytearray(data)
    bad_kind[4 + 32 + 2 + 20] = 2
    with pytest.raises(ShareError, match="bad share"):
        UnmaskBundle.decode(bytes(bad_kind))
    big_seed = b"FCU1" + GROUP_ORDER.to_bytes(32, "big") + b"\x00\x00"
    with pytest.raises(ShareError, match="outside F_r"):
        UnmaskBundle.decode(big_seed)
    with pytest.raises(ShareError, match="element of F_r"):
        replace(bundle, shares={owner_a: (ShareKind.SELF_SEED, GROUP_ORDER)}).encode()


def test_a_neighbour_advertising_a_low_order_key_cannot_stop_the_owner_from_sharing(
        parties: list[Party], keys_round: SecureRound) -> None:
    """A member whose X25519 key admits no channel (the all-zero point) only loses its own shares: the owner's
    bundle is still built, the same on every rebuild, and every other neighbour opens its shares."""
    owner = keys_round.member(parties[0].address)
    attacker, *honest = keys_round.neighbours(owner)
    advertised = tuple(replace(member, encryption=bytes(32)) if member.index == attacker.index else member
                       for member in keys_round.advertised)
    poisoned = SecureRound(SEED, PARAMS, advertised)
    randomness = new_share_randomness(PARAMS.threshold)
    bundle = bundle_of(poisoned, parties[0], randomness)
    assert bundle == bundle_of(poisoned, parties[0], randomness)
    for neighbour in honest:
        open_shares(round=poisoned, receiver=poisoned.member(parties[neighbour.index].address),
                    keys=parties[neighbour.index].keys, sender=poisoned.member(parties[0].address), bundle=bundle)
    with pytest.raises(ShareError, match="advertised keys"):  # it holds no key pair for what it advertised
        open_shares(round=poisoned, receiver=poisoned.member(parties[attacker.index].address),
                    keys=parties[attacker.index].keys, sender=poisoned.member(parties[0].address), bundle=bundle)
