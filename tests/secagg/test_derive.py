"""Hashes and derivations of docs/protocol.md §10.2-10.4, against hand-concatenated ABI words."""

import pytest

from fedchain.commit.errors import EncodingError
from fedchain.secagg import constants
from fedchain.secagg.constants import GROUP_ORDER
from fedchain.secagg.curve import public_key
from fedchain.secagg.derive import (
    advertise_digest,
    new_self_seed,
    pair_mask_key,
    participant_record,
    round_seed,
    self_mask_key,
    self_seed_hash,
    share_key,
    transcript_hash,
)
from fedchain.secagg.errors import CurveError, SecAggError
from tests.secagg.reference import address_word, keccak, tag, word

ALICE = bytes.fromhex("00000000000000000000000000000000000000a1")
BOB = bytes.fromhex("ff000000000000000000000000000000000000b0")
POINT = public_key(7)


def test_tags_are_keccak_of_their_names() -> None:
    assert tag("fedchain.secagg.v1.round-seed") == constants.ROUND_SEED_TAG
    assert tag("fedchain.secagg.v1.ring") == constants.RING_TAG
    assert tag("fedchain.secagg.v1.self-seed") == constants.SELF_SEED_TAG
    assert tag("fedchain.secagg.v1.pair-mask") == constants.PAIR_MASK_TAG
    assert tag("fedchain.secagg.v1.share-key") == constants.SHARE_KEY_TAG


def test_advertise_digest_folds_address_and_both_keys() -> None:
    encryption = bytes(range(32))
    expected = keccak(bytes(32) + address_word(ALICE) + word(POINT[0]) + word(POINT[1]) + encryption)
    first = advertise_digest(bytes(32), ALICE, POINT, encryption)
    assert first == expected
    second = advertise_digest(first, BOB, public_key(8), bytes(32))
    assert second == keccak(first + address_word(BOB) + word(public_key(8)[0]) + word(public_key(8)[1]) + bytes(32))
    assert advertise_digest(bytes(32), ALICE, POINT, bytes(31) + b"\x01") != first


def test_round_seed_encodes_every_input() -> None:
    digest, coordinator = bytes(range(32)), bytes(range(20))
    seed = round_seed(
        chain_id=31337, coordinator=coordinator, task_id=4, round=9, advertise_digest=digest, randomness=5
    )
    preimage = tag("fedchain.secagg.v1.round-seed") + word(31337) + address_word(coordinator) + word(4) + word(9)
    assert seed == keccak(preimage + digest + word(5))
    changed = round_seed(
        chain_id=31337, coordinator=coordinator, task_id=4, round=10, advertise_digest=digest, randomness=5
    )
    assert changed != seed


def test_self_seed_hash_and_stream_key() -> None:
    seed = GROUP_ORDER - 1
    assert self_seed_hash(seed) == keccak(tag("fedchain.secagg.v1.self-seed") + word(seed))
    assert self_mask_key(seed) == word(seed)
    assert 0 <= new_self_seed() < GROUP_ORDER
    assert new_self_seed() != new_self_seed()


@pytest.mark.parametrize("seed", [GROUP_ORDER, -1, True])
def test_seeds_must_be_field_elements(seed: object) -> None:
    with pytest.raises(SecAggError, match="self-mask seed"):
        self_seed_hash(seed)  # type: ignore[arg-type]


def test_pair_mask_key_is_symmetric_and_sorted_by_address() -> None:
    seed = bytes(range(32))
    key = pair_mask_key(seed, POINT, BOB, ALICE)
    expected = tag("fedchain.secagg.v1.pair-mask") + seed + word(POINT[0]) + word(POINT[1])
    assert key == keccak(expected + address_word(ALICE) + address_word(BOB))
    assert key == pair_mask_key(seed, POINT, ALICE, BOB)
    assert key != pair_mask_key(bytes(32), POINT, ALICE, BOB)
    with pytest.raises(SecAggError, match="two distinct"):
        pair_mask_key(seed, POINT, ALICE, ALICE)
    with pytest.raises(CurveError):
        pair_mask_key(seed, (1, 3), ALICE, BOB)


def test_share_keys_differ_by_direction() -> None:
    seed, secret = bytes(range(32)), bytes(range(1, 33))
    forward = share_key(seed, secret, ALICE, BOB)
    expected = tag("fedchain.secagg.v1.share-key") + seed + secret + address_word(ALICE) + address_word(BOB)
    assert forward == keccak(expected)
    assert forward != share_key(seed, secret, BOB, ALICE)
    assert forward != pair_mask_key(seed, POINT, ALICE, BOB)
    with pytest.raises(SecAggError, match="itself"):
        share_key(seed, secret, ALICE, ALICE)


def test_participant_record() -> None:
    seed_hash, bundle, root = bytes(range(32)), bytes(range(1, 33)), bytes(range(2, 34))
    record = participant_record(
        index=3, public=POINT, self_seed_hash=seed_hash, share_bundle_ref=bundle, weight=77, masked_root=root
    )
    preimage = word(3) + word(POINT[0]) + word(POINT[1]) + seed_hash + bundle + word(77) + root
    assert record == keccak(preimage)
    with pytest.raises(EncodingError, match="masked_root"):
        participant_record(
            index=3, public=POINT, self_seed_hash=seed_hash, share_bundle_ref=bundle, weight=77, masked_root=b""
        )


def test_transcript_hash_is_keccak_of_the_packed_words() -> None:
    words = [word(1), word(GROUP_ORDER - 1), bytes(32)]
    assert transcript_hash(words) == keccak(b"".join(words))
    assert transcript_hash([]) == keccak(b"")
    with pytest.raises(EncodingError, match="transcript word 1"):
        transcript_hash([word(1), b"\x01"])
