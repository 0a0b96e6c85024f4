"""Weighting, double masking and the masked vector's bytes and tree (docs/protocol.md §10.3)."""

import numpy as np
import pytest

from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.errors import FedchainError
from fedchain.secagg.curve import shared_point
from fedchain.secagg.derive import pair_mask_key, self_mask_key
from fedchain.secagg.errors import SecAggError
from fedchain.secagg.masking import (
    mask_update,
    masked_bytes,
    masked_from_bytes,
    masked_from_halves,
    masked_halves,
    masked_layout,
    masked_tree,
    sum_masked,
    weighted_update,
)
from fedchain.secagg.params import SecureParams
from fedchain.secagg.roster import Commitment, Member, SecureRound
from tests.secagg import reference
from tests.secagg.cohort import make_parties

SEED = bytes(range(32))


def test_weighted_update_is_w_times_u_modulo_2_64() -> None:
    weighted = weighted_update(np.array([3, -3, 0, -(2**31) + 1], dtype=np.int32), 2**20, 2**31 - 1)
    assert weighted.dtype == np.uint64
    assert weighted.tolist() == [3 * 2**20, 2**64 - 3 * 2**20, 0, 2**64 - (2**31 - 1) * 2**20]


@pytest.mark.parametrize(
    ("update", "weight", "clip", "message"),
    [
        ([5, -6], 1, 5, "outside"),
        ([1], 0, 5, "weight"),
        ([1], 2**20 + 1, 5, "weight"),
        ([1], True, 5, "weight"),
        ([1], 1, 0, "clip"),
        ([1.5], 1, 5, "integers"),
    ],
)
def test_weighted_update_rejects_bad_inputs(update: list[float], weight: int, clip: int, message: str) -> None:
    with pytest.raises(FedchainError, match=message):
        weighted_update(np.array(update), weight, clip)


def committed_round(count: int, params: SecureParams) -> tuple[SecureRound, list]:  # type: ignore[type-arg]
    parties = make_parties([np.zeros(1, dtype=np.int32)] * count, [1] * count, salt=b"masking")
    advertised = tuple(
        Member(i, p.address, p.keys.mask.public, p.keys.encryption.public) for i, p in enumerate(parties)
    )
    committed = {p.address: Commitment(bytes(32), bytes(32), 1) for p in parties}
    return SecureRound(SEED, params, advertised, committed), parties


def test_masked_vector_is_the_sum_of_its_parts() -> None:
    secure_round, parties = committed_round(6, SecureParams(2, 2))
    owner = secure_round.member(parties[0].address)
    weighted = weighted_update(np.arange(-20, 20, dtype=np.int32), 3, 100)
    masked = mask_update(weighted, round=secure_round, owner=owner, keys=parties[0].keys.mask, self_seed=12345)
    expected = [int(v) for v in weighted]
    streams = [(self_mask_key(12345), 1)]
    for peer in secure_round.neighbours(owner):
        point = shared_point(parties[peer.index].keys.mask.secret, owner.public)  # the peer's side of the DH
        streams.append(
            (pair_mask_key(SEED, point, owner.address, peer.address), 1 if owner.number < peer.number else -1)
        )
    for key, sign in streams:
        for i, mask in enumerate(reference.stream_masks(key, 0, 40)):
            expected[i] = (expected[i] + sign * mask) % 2**64
    assert masked.tolist() == expected
    assert weighted.tolist() != masked.tolist()


def test_pairwise_masks_cancel_in_the_sum_of_all() -> None:
    secure_round, parties = committed_round(7, SecureParams(4, 2))
    updates = [np.full(33, i - 3, dtype=np.int32) for i in range(7)]
    seeds = [1000 + i for i in range(7)]
    masked = [
        mask_update(
            weighted_update(updates[i], i + 1, 10), round=secure_round, owner=secure_round.member(p.address),
            keys=p.keys.mask, self_seed=seeds[i],
        )
        for i, p in enumerate(parties)
    ]  # fmt: skip
    total = sum_masked(masked)
    for seed in seeds:
        total -= np.array(reference.stream_masks(self_mask_key(seed), 0, 33), dtype=np.uint64)
    assert total.view(np.int64).tolist() == [sum((i + 1) * (i - 3) for i in range(7))] * 33


def test_only_committed_neighbours_are_masked_with() -> None:
    secure_round, parties = committed_round(5, SecureParams(4, 2))
    partial = SecureRound(
        SEED,
        secure_round.params,
        secure_round.advertised,
        {p.address: Commitment(bytes(32), bytes(32), 1) for p in parties[:2]},
    )
    owner = partial.member(parties[0].address)
    peer = partial.member(parties[1].address)
    masked = mask_update(
        np.zeros(8, dtype=np.uint64), round=partial, owner=owner, keys=parties[0].keys.mask, self_seed=9
    )
    key = pair_mask_key(SEED, shared_point(parties[0].keys.mask.secret, peer.public), owner.address, peer.address)
    sign = 1 if owner.number < peer.number else -1
    expected = [
        (a + sign * b) % 2**64
        for a, b in zip(reference.stream_masks(self_mask_key(9), 0, 8), reference.stream_masks(key, 0, 8), strict=True)
    ]
    assert masked.tolist() == expected
    outsider = partial.advertised[4]
    with pytest.raises(SecAggError, match="no commitment"):
        mask_update(np.zeros(8, dtype=np.uint64), round=partial, owner=outsider, keys=parties[4].keys.mask, self_seed=9)
    with pytest.raises(SecAggError, match="advertised key"):
        mask_update(np.zeros(8, dtype=np.uint64), round=partial, owner=owner, keys=parties[1].keys.mask, self_seed=9)
    with pytest.raises(SecAggError, match="flat uint64"):
        mask_update(np.zeros(8, dtype=np.int64), round=partial, owner=owner, keys=parties[0].keys.mask, self_seed=9)  # type: ignore[arg-type]


def test_storage_form_round_trips_big_endian() -> None:
    masked = np.array([1, 2**64 - 1, 2**63], dtype=np.uint64)
    data = masked_bytes(masked)
    assert data == (1).to_bytes(8, "big") + (2**64 - 1).to_bytes(8, "big") + (2**63).to_bytes(8, "big")
    assert masked_from_bytes(data, 3).tolist() == masked.tolist()
    with pytest.raises(SecAggError, match="24 bytes"):
        masked_from_bytes(data[:-1], 3)


@pytest.mark.parametrize(("num_params", "width"), [(1, 1), (8, 1), (9, 1), (40, 2), (100, 4), (1000, 2)])
def test_masked_tree_leaves_hold_four_big_endian_lanes_per_word(num_params: int, width: int) -> None:
    rng = np.random.default_rng(num_params)
    masked = rng.integers(0, 2**64, size=num_params, dtype=np.uint64, endpoint=False)
    layout = LeafLayout(num_params, width)
    tree = masked_tree(masked, layout)
    assert masked_layout(layout).depth == layout.depth
    padded = np.zeros(layout.padded_length, dtype=np.uint64)
    padded[:num_params] = masked
    for leaf in range(layout.width):
        words = tree.leaf_words(leaf)
        assert len(words) == 2 * width
        coords = padded[leaf * 8 * width : (leaf + 1) * 8 * width]
        assert b"".join(words) == b"".join(int(c).to_bytes(8, "big") for c in coords)
    assert (
        tree.root
        == MerkleTree(np.frombuffer(masked_bytes(masked), dtype=">i4").astype(np.int32), masked_layout(layout)).root
    )


def test_masked_halves_are_the_high_then_low_int32_of_each_residue() -> None:
    masked = np.array([1, 2**64 - 1, 2**63, (5 << 32) | 2**31], dtype=np.uint64)
    halves = masked_halves(masked)
    assert halves.dtype == np.int32
    assert halves.tolist() == [0, 1, -1, -1, -(2**31), 0, 5, -(2**31)]
    assert masked_from_halves(halves).tolist() == masked.tolist()
    layout = LeafLayout(4, 1)
    assert MerkleTree(halves, masked_layout(layout)).root == masked_tree(masked, layout).root
    with pytest.raises(SecAggError, match="even number of int32"):
        masked_from_halves(halves[:-1])
    with pytest.raises(SecAggError, match="even number of int32"):
        masked_from_halves(halves.astype(np.int64))  # type: ignore[arg-type]


def test_masked_tree_rejects_other_shapes_and_widths() -> None:
    with pytest.raises(SecAggError, match="uint64 values"):
        masked_tree(np.zeros(3, dtype=np.uint64), LeafLayout(4, 1))
    with pytest.raises(SecAggError, match="words_per_leaf"):
        masked_tree(np.zeros(4, dtype=np.uint64), LeafLayout(4, 8))


def test_sum_masked_checks_its_inputs() -> None:
    with pytest.raises(SecAggError, match="nothing"):
        sum_masked([])
    with pytest.raises(SecAggError, match="one length"):
        sum_masked([np.zeros(2, dtype=np.uint64), np.zeros(3, dtype=np.uint64)])
    assert sum_masked([np.array([2**64 - 1], dtype=np.uint64)] * 2).tolist() == [2**64 - 2]
