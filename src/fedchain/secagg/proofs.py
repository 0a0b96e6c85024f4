"""The data of a secure-mode fraud proof at one leaf (docs/protocol.md §10.10), built from public data only.

Everything here is public once the aggregator has published the transcript: the survivors' masked
vectors and the revealed secrets. A watcher that finds the proposal wrong at some leaf builds this proof;
``as_abi`` gives the arguments of ``SecureLeafVerifier.proposalDiffers`` (and, in phase 2, of the
coordinator's secure challenge).
"""

from collections.abc import Mapping
from dataclasses import dataclass

from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.secagg.errors import SecAggError
from fedchain.secagg.params import check_secure_leaf_width
from fedchain.secagg.roster import Member, SecureRound
from fedchain.secagg.unmask import Transcript

_WORD = 32


@dataclass(frozen=True)
class LeafOpening:
    """One leaf's words and its Merkle path (leaf level first)."""

    words: tuple[bytes, ...]
    siblings: tuple[bytes, ...]

    @classmethod
    def of(cls, tree: MerkleTree, index: int) -> "LeafOpening":
        """Leaf ``index`` of ``tree`` with its path."""
        return cls(tree.leaf_words(index), tree.proof(index))


@dataclass(frozen=True)
class SecureFraudProof:
    """The proof struct: model leaves and the flat survivor and dropped lists."""

    leaf_index: int
    previous: LeafOpening
    proposed: LeafOpening
    survivors: tuple[bytes, ...]
    dropped: tuple[bytes, ...]

    def as_abi(self) -> tuple[object, ...]:
        """The ``SecureFraudProof`` tuple for web3."""
        return ((self.previous.words, self.previous.siblings), (self.proposed.words, self.proposed.siblings),
                list(self.survivors), list(self.dropped))


def head_word(member: Member, weight: int) -> bytes:
    """uint256(uint160(participant)) << 96 | advertiseIndex << 32 | weight."""
    if not 0 < weight < 1 << 32:
        raise SecAggError(f"a weight must fit 32 bits and be positive, got {weight}")
    return ((member.number << 96) | (member.index << 32) | weight).to_bytes(_WORD, "big")


def secure_fraud_proof(
    *,
    leaf_index: int,
    previous: MerkleTree,
    proposed: MerkleTree,
    round: SecureRound,
    masked_trees: Mapping[bytes, MerkleTree],
    transcript: Transcript,
) -> SecureFraudProof:
    """The proof at ``leaf_index``: ``previous``/``proposed`` are the model trees, ``masked_trees`` the trees of
    the survivors' masked vectors (by address), ``transcript`` the revealed secrets."""
    transcript.check(round)
    survivors = []
    for member in round.survivors():
        commitment = round.committed[member.address]
        if member.address not in masked_trees or masked_trees[member.address].root != round.uploaded[member.address]:
            raise SecAggError(f"no masked tree with the uploaded root for 0x{member.address.hex()}")
        opening = LeafOpening.of(masked_trees[member.address], leaf_index)
        survivors += [
            head_word(member, commitment.weight),
            *_point_words(member),
            transcript.self_seeds[member.address].to_bytes(_WORD, "big"),
            commitment.share_bundle_ref,
            *opening.words,
            *opening.siblings,
        ]
    dropped = []
    for member in round.dropped():
        commitment = round.committed[member.address]
        dropped += [
            head_word(member, commitment.weight),
            *_point_words(member),
            commitment.self_seed_hash,
            commitment.share_bundle_ref,
            transcript.mask_keys.get(member.address, 0).to_bytes(_WORD, "big"),
        ]
    return SecureFraudProof(
        leaf_index, LeafOpening.of(previous, leaf_index), LeafOpening.of(proposed, leaf_index), tuple(survivors),
        tuple(dropped)
    )


def secure_context(
    *,
    layout: LeafLayout,
    leaf_index: int,
    previous_root: bytes,
    proposed_root: bytes,
    server_lr_bps: int,
    clip: int,
    round: SecureRound,
) -> tuple[object, ...]:
    """The ``SecureLeafContext`` tuple for web3 (what the coordinator fills from storage in phase 2)."""
    check_secure_leaf_width(layout.words_per_leaf)
    return (layout.depth, layout.words_per_leaf, leaf_index, previous_root, proposed_root, server_lr_bps, clip,
            layout.num_params, round.seed, len(round.advertised), round.params.neighbours, len(round.uploaded),
            len(round.committed))


def _point_words(member: Member) -> tuple[bytes, bytes]:
    return member.public[0].to_bytes(_WORD, "big"), member.public[1].to_bytes(_WORD, "big")
