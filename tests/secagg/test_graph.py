"""The k-regular ring graph of a round (docs/protocol.md §10.5)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain.commit.keccak import keccak256
from fedchain.secagg.errors import SecAggError
from fedchain.secagg.graph import RingGraph, ring_adjacent, ring_order, ring_positions
from fedchain.secagg.params import SecureParams
from tests.secagg import reference

seeds = st.binary(min_size=32, max_size=32)


@settings(max_examples=25, deadline=None)
@given(seeds, st.integers(1, 120))
def test_ring_order_is_the_reference_shuffle(seed: bytes, size: int) -> None:
    order = ring_order(seed, size)
    assert list(order) == reference.ring_order(seed, size)
    assert sorted(order) == list(range(size))
    positions = ring_positions(seed, size)
    assert all(order[positions[index]] == index for index in range(size))


@settings(max_examples=25, deadline=None)
@given(seeds, st.integers(2, 90), st.integers(1, 30))
def test_graph_is_k_regular_symmetric_and_irreflexive(seed: bytes, size: int, half: int) -> None:
    params = SecureParams(2 * half, 2)
    graph = RingGraph(seed, size, params)
    degree = min(params.neighbours, size - 1)
    for index in range(size):
        neighbours = graph.neighbours_of(index)
        assert len(neighbours) == degree
        assert index not in neighbours
        assert list(neighbours) == sorted(neighbours)
        for other in range(size):
            assert graph.adjacent(index, other) == (other in neighbours)
            assert graph.adjacent(index, other) == graph.adjacent(other, index)


def test_neighbours_are_the_ring_positions_within_k_over_2() -> None:
    seed = keccak256(b"ring")
    graph = RingGraph(seed, 20, SecureParams(4, 2))
    order = ring_order(seed, 20)
    for position in range(20):
        around = {order[(position + step) % 20] for step in (-2, -1, 1, 2)}
        assert set(graph.neighbours_of(order[position])) == around


def test_small_rings_are_complete() -> None:
    graph = RingGraph(bytes(32), 7, SecureParams(6, 3))
    assert graph.complete
    assert graph.neighbours_of(3) == (0, 1, 2, 4, 5, 6)
    assert not RingGraph(bytes(32), 8, SecureParams(6, 3)).complete


def test_graph_is_deterministic_in_the_seed_and_changes_with_it() -> None:
    params = SecureParams(4, 2)
    first = RingGraph(keccak256(b"a"), 40, params)
    assert RingGraph(keccak256(b"a"), 40, params).order == first.order
    assert RingGraph(keccak256(b"b"), 40, params).order != first.order


def test_ring_adjacent_wraps_around() -> None:
    assert ring_adjacent(0, 9, 10, 2)
    assert ring_adjacent(0, 8, 10, 4)
    assert not ring_adjacent(0, 7, 10, 4)
    assert not ring_adjacent(3, 3, 10, 4)
    assert ring_adjacent(0, 3, 5, 4)  # complete: n - 1 <= k


@pytest.mark.parametrize("size", [0, 257, True])
def test_ring_sizes_are_bounded(size: object) -> None:
    with pytest.raises(SecAggError, match="ring holds"):
        ring_order(bytes(32), size)  # type: ignore[arg-type]


def test_indices_outside_the_ring_are_rejected() -> None:
    graph = RingGraph(bytes(32), 5, SecureParams(2, 2))
    with pytest.raises(SecAggError, match="advertise index"):
        graph.neighbours_of(5)
    with pytest.raises(SecAggError, match="advertise index"):
        graph.adjacent(0, -1)
