"""What the chain fixes about a secure round, as plain data (docs/protocol.md §10.7).

The advertised set U1 (with advertise indices and both public keys), the committed set U2 (self-seed hash,
share-bundle reference, weight) and the uploaded set U3 (masked roots) are all read from the chain, so
every honest party sees the same sets: no one can claim a participant dropped when it did not. The
dropped set D = U2 minus U3 is what the unmasking must reveal mask keys for.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from fedchain.commit.encoding import address_bytes, require_bytes32
from fedchain.secagg.curve import Point, check_point
from fedchain.secagg.errors import RoundFailedError, SecAggError
from fedchain.secagg.graph import RingGraph
from fedchain.secagg.keys import check_encryption_public
from fedchain.secagg.params import SecureParams


@dataclass(frozen=True)
class Member:
    """An advertised participant: its advertise index, address (20 bytes), public mask key (BN254) and
    public encryption key (X25519)."""

    index: int
    address: bytes
    public: Point
    encryption: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", address_bytes(self.address, "member address"))
        check_point(self.public)
        object.__setattr__(self, "encryption", check_encryption_public(self.encryption))

    @property
    def number(self) -> int:
        """The address as an integer, the order Solidity compares addresses in."""
        return int.from_bytes(self.address, "big")


@dataclass(frozen=True)
class Commitment:
    """A committed participant's on-chain commitment for the round."""

    self_seed_hash: bytes
    share_bundle_ref: bytes
    weight: int

    def __post_init__(self) -> None:
        require_bytes32(self.self_seed_hash, "self_seed_hash")
        require_bytes32(self.share_bundle_ref, "share_bundle_ref")
        if isinstance(self.weight, bool) or not isinstance(self.weight, int) or self.weight < 1:
            raise SecAggError(f"a committed weight must be a positive integer, got {self.weight!r}")


@dataclass(frozen=True)
class SecureRound:
    """The sets of one secure round and its neighbour graph.

    ``advertised`` lists U1 by advertise index (entry i has index i); ``committed`` maps the addresses of
    U2 to their commitments; ``uploaded`` maps the addresses of U3 (a subset of U2) to their masked roots.
    """

    seed: bytes
    params: SecureParams
    advertised: tuple[Member, ...]
    committed: Mapping[bytes, Commitment] = field(default_factory=dict)
    uploaded: Mapping[bytes, bytes] = field(default_factory=dict)
    graph: RingGraph = field(init=False, repr=False)
    _by_address: Mapping[bytes, Member] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        require_bytes32(self.seed, "round seed")
        if not self.advertised:
            raise SecAggError("a secure round needs at least one advertised participant")
        for position, member in enumerate(self.advertised):
            if member.index != position:
                raise SecAggError(f"advertised member {position} has advertise index {member.index}")
        by_address = {member.address: member for member in self.advertised}
        if len(by_address) != len(self.advertised):
            raise SecAggError("an address advertised twice in one round")
        for address in self.committed:
            if address not in by_address:
                raise SecAggError(f"committed participant 0x{address.hex()} never advertised a key")
        for address, root in self.uploaded.items():
            if address not in self.committed:
                raise SecAggError(f"participant 0x{address.hex()} uploaded without a commitment")
            require_bytes32(root, "masked root")
        object.__setattr__(self, "_by_address", by_address)
        object.__setattr__(self, "graph", RingGraph(self.seed, len(self.advertised), self.params))

    def member(self, address: str | bytes) -> Member:
        """The advertised member with ``address``."""
        key = address_bytes(address, "address")
        if key not in self._by_address:
            raise SecAggError(f"0x{key.hex()} did not advertise a key this round")
        return self._by_address[key]

    def neighbours(self, member: Member) -> tuple[Member, ...]:
        """The advertised neighbours of ``member``, by advertise index."""
        return tuple(self.advertised[index] for index in self.graph.neighbours_of(member.index))

    def survivors(self) -> tuple[Member, ...]:
        """U3 ordered by address: the members whose masked vectors are summed."""
        return self._sorted(self.uploaded)

    def dropped(self) -> tuple[Member, ...]:
        """D = U2 minus U3 ordered by address: committed members that never uploaded."""
        return self._sorted(address for address in self.committed if address not in self.uploaded)

    def total_weight(self) -> int:
        """The sum of the survivors' committed weights."""
        return sum(self.committed[member.address].weight for member in self.survivors())

    def check_unmaskable(self, min_participants: int = 1) -> None:
        """Raise :class:`RoundFailedError` unless unmasking this round reveals nothing but the sum.

        It must hold that U3 has at least ``min_participants`` (and one) members, that each survivor has at
        least t surviving neighbours, and that the survivors' graph is connected. An honest participant
        publishes its unmask shares only when this holds (docs/protocol.md §10.7): with fewer than t
        surviving neighbours a survivor's vector could be exposed by its dropped neighbours' revealed mask
        keys together with fewer than t colluders, and in a disconnected survivor graph the unmasked vectors
        of each component would sum to that component's own total.
        """
        survivors = self.survivors()
        if len(survivors) < max(min_participants, 1):
            raise RoundFailedError(f"{len(survivors)} uploads, fewer than the {max(min_participants, 1)} needed")
        alive = {member.index for member in survivors}
        for member in survivors:
            count = sum(1 for index in self.graph.neighbours_of(member.index) if index in alive)
            if count < self.params.threshold:
                raise RoundFailedError(
                    f"survivor 0x{member.address.hex()} has {count} surviving neighbours, fewer than the "
                    f"threshold {self.params.threshold}"
                )
        reached, frontier = {survivors[0].index}, [survivors[0].index]
        while frontier:
            for index in self.graph.neighbours_of(frontier.pop()):
                if index in alive and index not in reached:
                    reached.add(index)
                    frontier.append(index)
        if reached != alive:
            raise RoundFailedError(
                f"the survivors' neighbour graph is disconnected: {len(reached)} of {len(alive)} survivors "
                "are reachable from the first"
            )

    def _sorted(self, addresses: Iterable[bytes]) -> tuple[Member, ...]:
        return tuple(sorted((self._by_address[address] for address in addresses), key=lambda member: member.number))
