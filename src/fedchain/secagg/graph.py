"""The k-regular neighbour graph of a round, derived from the round seed (docs/protocol.md §10.5).

The n advertised participants, named by their advertise index 0..n-1, are shuffled onto a ring by a
Fisher-Yates shuffle driven by keccak(abi.encode(RING_TAG, roundSeed, uint256 i)); each one's neighbours
are the k/2 ring positions on either side (a Harary graph on a random ring, as in SecAgg+). When
n - 1 <= k the graph is complete. The contract recomputes the same ring during a fraud proof.
"""

from dataclasses import dataclass, field

from eth_abi.abi import encode

from fedchain.commit.encoding import require_bytes32
from fedchain.commit.keccak import keccak256
from fedchain.secagg.constants import MAX_COHORT, RING_TAG
from fedchain.secagg.errors import SecAggError
from fedchain.secagg.params import SecureParams


def ring_order(seed: bytes, size: int) -> tuple[int, ...]:
    """The advertise indices in ring order: for i = n-1 .. 1, swap i with keccak(tag, seed, i) mod (i + 1)."""
    require_bytes32(seed, "round seed")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_COHORT:
        raise SecAggError(f"a ring holds between 1 and {MAX_COHORT} participants, got {size!r}")
    order = list(range(size))
    for i in range(size - 1, 0, -1):
        j = int.from_bytes(keccak256(encode(["bytes32", "bytes32", "uint256"], [RING_TAG, seed, i])), "big") % (i + 1)
        order[i], order[j] = order[j], order[i]
    return tuple(order)


def ring_positions(seed: bytes, size: int) -> tuple[int, ...]:
    """The ring position of every advertise index (the inverse permutation of :func:`ring_order`)."""
    positions = [0] * size
    for position, index in enumerate(ring_order(seed, size)):
        positions[index] = position
    return tuple(positions)


def ring_adjacent(first: int, second: int, size: int, neighbours: int) -> bool:
    """Whether two ring positions of a ``size``-ring are neighbours when each member has ``neighbours`` (k, even):
    distinct, and at ring distance at most k/2, or any two when the graph is complete (size - 1 <= k)."""
    if first == second:
        return False
    if size - 1 <= neighbours:
        return True
    distance = abs(first - second)
    return min(distance, size - distance) <= neighbours // 2


@dataclass(frozen=True)
class RingGraph:
    """The neighbour graph over ``size`` advertised participants for one round."""

    seed: bytes
    size: int
    params: SecureParams
    order: tuple[int, ...] = field(init=False, repr=False)
    positions: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        order = ring_order(self.seed, self.size)
        positions = [0] * self.size
        for position, index in enumerate(order):
            positions[index] = position
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "positions", tuple(positions))

    @property
    def complete(self) -> bool:
        """Whether every participant neighbours every other (n - 1 <= k)."""
        return self.size - 1 <= self.params.neighbours

    def neighbours_of(self, index: int) -> tuple[int, ...]:
        """The advertise indices adjacent to ``index``, ascending."""
        self._check(index)
        if self.complete:
            return tuple(other for other in range(self.size) if other != index)
        position = self.positions[index]
        half = self.params.neighbours // 2
        around = {self.order[(position + step) % self.size] for step in range(-half, half + 1) if step}
        return tuple(sorted(around))

    def adjacent(self, first: int, second: int) -> bool:
        """Whether two advertise indices are neighbours (never a participant and itself)."""
        self._check(first)
        self._check(second)
        return ring_adjacent(self.positions[first], self.positions[second], self.size, self.params.neighbours)

    def _check(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.size:
            raise SecAggError(f"advertise index must be in [0, {self.size}), got {index!r}")
