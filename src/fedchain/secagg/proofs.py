"""A secure-mode fraud proof at one leaf (docs/protocol.md §10.10): building it, and checking it as the
contract does.

Everything in a proof is public once the aggregator has proposed: the survivors' masked vectors (storage),
the round's records and sets (chain) and the proposal's transcript (chain). :func:`secure_fraud_proof`
builds the ``SecureFraudProof`` and :func:`secure_context` the ``SecureLeafContext`` the coordinator fills
from storage; :func:`check_proof` is the Python mirror of ``SecureLeafVerifier.proposalDiffers``, check for
check, so a watcher knows what the contract will answer before it pays for the transaction.

    survivor entry (6 + 2W + D words): head, pkX, pkY, selfSeedHash, shareBundleRef, selfSeed,
                                       the 2W masked leaf words, the D path siblings
    dropped entry  (6 words):          head, pkX, pkY, selfSeedHash, shareBundleRef, maskKey
    head = uint256(uint160(participant)) << 96 | advertiseIndex << 32 | weight
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from fedchain.commit.constants import WORD_BYTES
from fedchain.commit.leaves import LeafLayout, coordinates_to_words, words_to_coordinates
from fedchain.commit.merkle import LeafSource, MerkleTree, leaf_hash, node_hash, verify_proof
from fedchain.secagg.aggregate import secure_fedavg
from fedchain.secagg.constants import (
    DROPPED_STRIDE,
    GROUP_ORDER,
    MASKED_WORDS_PER_LEAF_WORD,
    MAX_COHORT,
    SECURE_WORDS_PER_LEAF,
    SURVIVOR_HEAD_WORDS,
)
from fedchain.secagg.curve import Point, public_key, shared_point
from fedchain.secagg.derive import pair_mask_key, participant_record, self_mask_key, self_seed_hash, transcript_hash
from fedchain.secagg.errors import SecAggError
from fedchain.secagg.graph import ring_adjacent, ring_positions
from fedchain.secagg.params import check_secure_leaf_width
from fedchain.secagg.roster import Member, SecureRound
from fedchain.secagg.stream import mask_stream

_ADDRESS_SHIFT = 96
_INDEX_SHIFT = 32
_LOW_32 = (1 << 32) - 1
_LOW_64 = (1 << 64) - 1


@dataclass(frozen=True)
class LeafOpening:
    """One leaf's words and its Merkle path (leaf level first): the ``LeafProof`` struct."""

    words: tuple[bytes, ...]
    siblings: tuple[bytes, ...]

    @classmethod
    def of(cls, tree: LeafSource, index: int) -> "LeafOpening":
        """Leaf ``index`` of ``tree`` with its path."""
        return cls(tree.leaf_words(index), tree.proof(index))

    def as_abi(self) -> tuple[list[bytes], list[bytes]]:
        """The ``LeafProof`` tuple for web3."""
        return list(self.words), list(self.siblings)


@dataclass(frozen=True)
class SecureLeafContext:
    """The ``SecureLeafContext`` struct: the task and round facts the coordinator fills from storage."""

    depth: int
    words_per_leaf: int
    leaf_index: int
    previous_root: bytes
    proposed_root: bytes
    server_lr_bps: int
    clip: int
    num_params: int
    round_seed: bytes
    advertised: int
    neighbours: int
    uploads: int
    commits: int
    transcript_hash: bytes

    def as_abi(self) -> tuple[object, ...]:
        """The struct as a tuple for web3, fields in declaration order."""
        return (
            self.depth,
            self.words_per_leaf,
            self.leaf_index,
            self.previous_root,
            self.proposed_root,
            self.server_lr_bps,
            self.clip,
            self.num_params,
            self.round_seed,
            self.advertised,
            self.neighbours,
            self.uploads,
            self.commits,
            self.transcript_hash,
        )


@dataclass(frozen=True)
class SecureFraudProof:
    """The ``SecureFraudProof`` struct: model leaves and the flat survivor and dropped lists."""

    previous: LeafOpening
    proposed: LeafOpening
    survivors: tuple[bytes, ...]
    dropped: tuple[bytes, ...]

    def as_abi(self) -> tuple[object, ...]:
        """The struct as a tuple for web3."""
        return self.previous.as_abi(), self.proposed.as_abi(), list(self.survivors), list(self.dropped)


@dataclass(frozen=True)
class LeafVerdict:
    """What ``proposalDiffers`` returns: whether the proposal is wrong at the leaf, and the participants
    (survivors, then dropped) with the record each one's slot must hold for the proof to count."""

    differs: bool
    participants: tuple[bytes, ...]
    records: tuple[bytes, ...]


def head_word(member: Member, weight: int) -> bytes:
    """uint256(uint160(participant)) << 96 | advertiseIndex << 32 | weight."""
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 < weight <= _LOW_32:
        raise SecAggError(f"a weight must fit 32 bits and be positive, got {weight!r}")
    return ((member.number << _ADDRESS_SHIFT) | (member.index << _INDEX_SHIFT) | weight).to_bytes(WORD_BYTES, "big")


def secure_context(
    *,
    layout: LeafLayout,
    leaf_index: int,
    previous_root: bytes,
    proposed_root: bytes,
    server_lr_bps: int,
    clip: int,
    round: SecureRound,
    transcript_hash: bytes,
) -> SecureLeafContext:
    """The context of a proof at ``leaf_index`` against a proposal whose transcript hashes to ``transcript_hash``."""
    check_secure_leaf_width(layout.words_per_leaf)
    return SecureLeafContext(
        depth=layout.depth,
        words_per_leaf=layout.words_per_leaf,
        leaf_index=layout.check_index(leaf_index),
        previous_root=previous_root,
        proposed_root=proposed_root,
        server_lr_bps=server_lr_bps,
        clip=clip,
        num_params=layout.num_params,
        round_seed=round.seed,
        advertised=len(round.advertised),
        neighbours=round.params.neighbours,
        uploads=len(round.uploaded),
        commits=len(round.committed),
        transcript_hash=transcript_hash,
    )


def secure_fraud_proof(
    *,
    leaf_index: int,
    previous: MerkleTree,
    proposed: LeafSource,
    round: SecureRound,
    masked_trees: Mapping[bytes, MerkleTree],
    transcript: Sequence[bytes],
) -> SecureFraudProof:
    """The proof at ``leaf_index``: ``previous``/``proposed`` are the model trees, ``masked_trees`` the trees of
    the survivors' masked vectors (by address) and ``transcript`` the proposal's transcript words, as
    proposed (a wrong transcript is itself what such a proof shows)."""
    survivors, dropped = round.survivors(), round.dropped()
    if len(transcript) != len(survivors) + len(dropped):
        raise SecAggError(f"a transcript has one word per committed participant, got {len(transcript)}")
    survivor_words: list[bytes] = []
    for member, secret in zip(survivors, transcript[: len(survivors)], strict=True):
        tree = masked_trees.get(member.address)
        if tree is None or tree.root != round.uploaded[member.address]:
            raise SecAggError(f"no masked tree with the uploaded root for 0x{member.address.hex()}")
        opening = LeafOpening.of(tree, leaf_index)
        survivor_words += [*_entry_head(round, member), secret, *opening.words, *opening.siblings]
    dropped_words: list[bytes] = []
    for member, secret in zip(dropped, transcript[len(survivors) :], strict=True):
        dropped_words += [*_entry_head(round, member), secret]
    return SecureFraudProof(
        LeafOpening.of(previous, leaf_index),
        LeafOpening.of(proposed, leaf_index),
        tuple(survivor_words),
        tuple(dropped_words),
    )


def check_proof(ctx: SecureLeafContext, proof: SecureFraudProof) -> LeafVerdict:
    """``SecureLeafVerifier.proposalDiffers`` in Python: raise :class:`SecAggError` where the contract reverts,
    else say whether the proposal's leaf differs from the one the proof's data give."""
    width = _check_context(ctx)
    for name, root, opening in (
        ("previous", ctx.previous_root, proof.previous),
        ("proposed", ctx.proposed_root, proof.proposed),
    ):
        if len(opening.words) != width or not verify_proof(
            root, ctx.leaf_index, opening.words, opening.siblings, ctx.depth
        ):
            raise SecAggError(f"the {name} model leaf is not leaf {ctx.leaf_index} under its root")
    survivors = [_read_survivor(ctx, entry) for entry in _split(proof.survivors, ctx, survivor=True)]
    dropped = [_read_dropped(ctx, entry) for entry in _split(proof.dropped, ctx, survivor=False)]
    for group in (survivors, dropped):
        for before, after in pairwise(group):
            if int.from_bytes(after.address, "big") <= int.from_bytes(before.address, "big"):
                raise SecAggError("entries must be strictly increasing by address")
    secrets = [entry.secret for entry in survivors + dropped]
    if transcript_hash([secret.to_bytes(WORD_BYTES, "big") for secret in secrets]) != ctx.transcript_hash:
        raise SecAggError("the proof's secrets are not the proposal's transcript")
    verdict = LeafVerdict(
        True, tuple(e.address for e in survivors + dropped), tuple(e.record for e in survivors + dropped)
    )
    positions = ring_positions(ctx.round_seed, ctx.advertised)
    pairs = [
        (survivor, member)
        for member in dropped
        for survivor in survivors
        if ring_adjacent(positions[survivor.index], positions[member.index], ctx.advertised, ctx.neighbours)
    ]
    if not _transcript_valid(survivors, dropped, {member.address for _, member in pairs}):
        return verdict
    expected = _expected_leaf(ctx, proof, survivors, pairs)
    return LeafVerdict(expected != proof.proposed.words, verdict.participants, verdict.records)


@dataclass(frozen=True)
class _Entry:
    address: bytes
    index: int
    weight: int
    public: Point
    seed_hash: bytes
    secret: int
    record: bytes
    masked: tuple[bytes, ...] = ()


def _entry_head(round: SecureRound, member: Member) -> list[bytes]:
    commitment = round.committed[member.address]
    x, y = member.public
    return [
        head_word(member, commitment.weight),
        x.to_bytes(WORD_BYTES, "big"),
        y.to_bytes(WORD_BYTES, "big"),
        commitment.self_seed_hash,
        commitment.share_bundle_ref,
    ]


def _check_context(ctx: SecureLeafContext) -> int:
    if ctx.words_per_leaf not in SECURE_WORDS_PER_LEAF:
        raise SecAggError(f"secure mode needs words_per_leaf in {SECURE_WORDS_PER_LEAF}, got {ctx.words_per_leaf}")
    if not 0 < ctx.uploads <= ctx.commits <= ctx.advertised <= MAX_COHORT:
        raise SecAggError(
            f"impossible round sets: {ctx.advertised} advertised, {ctx.commits} commits, {ctx.uploads} uploads"
        )
    return ctx.words_per_leaf


def _split(words: Sequence[bytes], ctx: SecureLeafContext, *, survivor: bool) -> list[Sequence[bytes]]:
    if survivor:
        stride = SURVIVOR_HEAD_WORDS + MASKED_WORDS_PER_LEAF_WORD * ctx.words_per_leaf + ctx.depth
        count = ctx.uploads
    else:
        stride, count = DROPPED_STRIDE, ctx.commits - ctx.uploads
    if len(words) != stride * count:
        raise SecAggError(f"a list of {count} entries of {stride} words has {stride * count} words, got {len(words)}")
    return [words[k : k + stride] for k in range(0, len(words), stride)]


def _read_head(ctx: SecureLeafContext, entry: Sequence[bytes]) -> tuple[bytes, int, int, Point]:
    head = int.from_bytes(entry[0], "big")
    address = (head >> _ADDRESS_SHIFT).to_bytes(20, "big")
    index, weight = (head >> _INDEX_SHIFT) & _LOW_64, head & _LOW_32
    if index >= ctx.advertised:
        raise SecAggError(f"advertise index {index} of 0x{address.hex()} is not below {ctx.advertised}")
    if weight == 0:
        raise SecAggError(f"0x{address.hex()} has weight 0")
    return address, index, weight, (int.from_bytes(entry[1], "big"), int.from_bytes(entry[2], "big"))


def _read_survivor(ctx: SecureLeafContext, entry: Sequence[bytes]) -> _Entry:
    address, index, weight, public = _read_head(ctx, entry)
    words_end = SURVIVOR_HEAD_WORDS + MASKED_WORDS_PER_LEAF_WORD * ctx.words_per_leaf
    masked = tuple(entry[SURVIVOR_HEAD_WORDS:words_end])
    node = leaf_hash(ctx.leaf_index, masked)
    for level, sibling in enumerate(entry[words_end:]):
        node = node_hash(sibling, node) if (ctx.leaf_index >> level) & 1 else node_hash(node, sibling)
    record = participant_record(
        index=index, public=public, self_seed_hash=entry[3], share_bundle_ref=entry[4], weight=weight, masked_root=node
    )
    return _Entry(address, index, weight, public, entry[3], int.from_bytes(entry[5], "big"), record, masked)


def _read_dropped(ctx: SecureLeafContext, entry: Sequence[bytes]) -> _Entry:
    address, index, weight, public = _read_head(ctx, entry)
    record = participant_record(
        index=index,
        public=public,
        self_seed_hash=entry[3],
        share_bundle_ref=entry[4],
        weight=weight,
        masked_root=bytes(WORD_BYTES),
    )
    return _Entry(address, index, weight, public, entry[3], int.from_bytes(entry[5], "big"), record)


def _transcript_valid(survivors: Sequence[_Entry], dropped: Sequence[_Entry], touching: set[bytes]) -> bool:
    for entry in survivors:
        if entry.secret >= GROUP_ORDER or self_seed_hash(entry.secret) != entry.seed_hash:
            return False
    for entry in dropped:
        if entry.address not in touching:
            if entry.secret != 0:
                return False
        elif not 0 < entry.secret < GROUP_ORDER or public_key(entry.secret) != entry.public:
            return False
    return True


def _expected_leaf(
    ctx: SecureLeafContext, proof: SecureFraudProof, survivors: Sequence[_Entry], pairs: Sequence[tuple[_Entry, _Entry]]
) -> tuple[bytes, ...]:
    coords = 8 * ctx.words_per_leaf
    first = ctx.leaf_index * coords
    sums = np.zeros(coords, dtype=np.uint64)
    for entry in survivors:
        sums += _masked_lanes(entry.masked)
        sums -= mask_stream(self_mask_key(entry.secret), first, coords)
    for survivor, member in pairs:
        point = shared_point(member.secret, survivor.public)
        stream = mask_stream(pair_mask_key(ctx.round_seed, point, survivor.address, member.address), first, coords)
        if int.from_bytes(survivor.address, "big") < int.from_bytes(member.address, "big"):
            sums -= stream
        else:
            sums += stream
    signed: NDArray[np.int64] = sums.view(np.int64).copy()
    signed[max(0, ctx.num_params - first) :] = 0
    previous = words_to_coordinates(proof.previous.words)
    total_weight = sum(entry.weight for entry in survivors)
    leaf = secure_fedavg(previous, signed, total_weight, clip=ctx.clip, server_lr_bps=ctx.server_lr_bps)
    return coordinates_to_words(leaf)


def _masked_lanes(words: Sequence[bytes]) -> NDArray[np.uint64]:
    data = b"".join(words)
    return np.frombuffer(data, dtype=">u8").astype(np.uint64)
