"""The round's sets as the chain fixes them, and the rule for unmasking (docs/protocol.md §10.7)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain.commit.keccak import keccak256
from fedchain.secagg.errors import RoundFailedError, SecAggError
from fedchain.secagg.params import SecureParams
from fedchain.secagg.roster import Commitment, Member, SecureRound
from tests.secagg import reference
from tests.secagg.cohort import address_of

G = (1, 2)


def members(size: int) -> tuple[Member, ...]:
    """Advertised members; every one gets the generator as its key (the sets do not care)."""
    return tuple(Member(index, address_of(index), G, bytes(32)) for index in range(size))


def commitment(weight: int = 1) -> Commitment:
    return Commitment(bytes(32), bytes(32), weight)


def round_with(seed: bytes, size: int, params: SecureParams, alive: set[int], committed: set[int]) -> SecureRound:
    advertised = members(size)
    return SecureRound(
        seed,
        params,
        advertised,
        {advertised[i].address: commitment(i + 1) for i in committed},
        {advertised[i].address: keccak256(bytes([i])) for i in alive},
    )


@settings(max_examples=150, deadline=None)
@given(
    st.binary(min_size=32, max_size=32),
    st.integers(3, 40),
    st.integers(1, 8),
    st.integers(2, 16),
    st.data(),
)
def test_unmaskable_rule_matches_the_ring_gap_formulation(
    seed: bytes, size: int, half: int, threshold: int, data: st.DataObject
) -> None:
    params = SecureParams(2 * half, min(threshold, 2 * half))
    alive = data.draw(st.sets(st.integers(0, size - 1), min_size=1))
    secure_round = round_with(seed, size, params, alive, set(range(size)))
    expected = reference.unmaskable_by_gaps(seed, size, params.neighbours, params.threshold, sorted(alive))
    try:
        secure_round.check_unmaskable()
    except RoundFailedError:
        assert not expected
    else:
        assert expected


def test_a_survivor_with_too_few_surviving_neighbours_blocks_unmasking() -> None:
    seed = keccak256(b"t")
    params = SecureParams(4, 3)
    order = reference.ring_order(seed, 12)
    dead = {order[1], order[2]}  # position 0 keeps only the two neighbours on its other side
    secure_round = round_with(seed, 12, params, set(range(12)) - dead, set(range(12)))
    with pytest.raises(RoundFailedError, match="fewer than the threshold 3"):
        secure_round.check_unmaskable()


def test_a_disconnected_survivor_graph_blocks_unmasking() -> None:
    seed = keccak256(b"split")
    order = reference.ring_order(seed, 12)
    # two arcs of three at ring positions 0-2 and 6-8: each survivor keeps two surviving neighbours
    alive = {order[p] for p in (0, 1, 2, 6, 7, 8)}
    split = round_with(seed, 12, SecureParams(4, 2), alive, set(range(12)))
    with pytest.raises(RoundFailedError, match="disconnected: 3 of 6"):
        split.check_unmaskable()
    bridged = round_with(seed, 12, SecureParams(4, 2), alive | {order[4]}, set(range(12)))
    bridged.check_unmaskable()


def test_too_few_uploads_fail_the_round() -> None:
    secure_round = round_with(bytes(32), 6, SecureParams(4, 2), {0, 1, 2}, set(range(6)))
    secure_round.check_unmaskable(3)
    with pytest.raises(RoundFailedError, match="3 uploads, fewer than the 4 needed"):
        secure_round.check_unmaskable(4)
    empty = round_with(bytes(32), 6, SecureParams(4, 2), set(), set(range(6)))
    with pytest.raises(RoundFailedError, match="0 uploads"):
        empty.check_unmaskable()


def test_sets_are_ordered_by_address_and_weighted() -> None:
    secure_round = round_with(bytes(32), 8, SecureParams(4, 2), {1, 4, 6}, {1, 2, 4, 5, 6})
    survivors = secure_round.survivors()
    assert [m.index for m in survivors] == sorted((1, 4, 6), key=address_of)
    assert {m.index for m in secure_round.dropped()} == {2, 5}
    assert [m.number for m in secure_round.dropped()] == sorted(m.number for m in secure_round.dropped())
    assert secure_round.total_weight() == 2 + 5 + 7
    assert secure_round.member(address_of(4)).index == 4
    assert len(secure_round.neighbours(survivors[0])) == 4


def test_inconsistent_sets_are_rejected() -> None:
    advertised = members(4)
    params = SecureParams(2, 2)
    with pytest.raises(SecAggError, match="never advertised"):
        SecureRound(bytes(32), params, advertised, {address_of(9): commitment()})
    with pytest.raises(SecAggError, match="without a commitment"):
        SecureRound(bytes(32), params, advertised, {}, {address_of(0): bytes(32)})
    with pytest.raises(SecAggError, match="advertise index"):
        SecureRound(bytes(32), params, (advertised[1],))
    with pytest.raises(SecAggError, match="advertised twice"):
        SecureRound(bytes(32), params, (advertised[0], Member(1, address_of(0), G, bytes(32))))
    with pytest.raises(SecAggError, match="did not advertise"):
        SecureRound(bytes(32), params, advertised).member(address_of(9))
    with pytest.raises(SecAggError, match="weight"):
        Commitment(bytes(32), bytes(32), 0)
