"""What every secure-mode agent reads about a round: the sets the chain fixed, and the blobs they point to.

The chain is the broadcast channel of secure mode (docs/protocol.md section 10): the advertised set U1
(``Advertised`` events, by advertise index), the committed set U2 (``SharesCommitted``) and the uploaded set
U3 (``Uploaded``, less the members whose masked vector was dropped as unavailable: ``InputUnavailable``) are
read from its events, so every agent sees the same sets. Share bundles travel on chain, in the
``SharesCommitted`` events. Other blobs live in the task's store, each found by a reference on chain and
checked on every read:

- an **unmask bundle** is stored as its own bytes (its format carries its own magic; docs/protocol.md
  section 10.6), so the reference is the bundle's sha256;
- a **masked vector** is stored as a ``"masked"`` blob (docs/protocol.md section 6): its P uint64 residues as
  2P int32 halves, high half first, with twice the task's words per leaf, so the blob's root is the masked
  root the participant uploaded (section 10.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from web3 import Web3

from fedchain.chain.secure_coordinator import SecureCoordinator
from fedchain.commit.encoding import address_bytes
from fedchain.commit.merkle import MerkleTree
from fedchain.roles.availability import UnavailableError, posted_tree
from fedchain.roles.task import TaskRules
from fedchain.secagg.errors import ShareError
from fedchain.secagg.masking import masked_from_halves, masked_halves, masked_layout
from fedchain.secagg.params import SecureParams
from fedchain.secagg.roster import Commitment, Member, SecureRound
from fedchain.secagg.shares import UnmaskBundle
from fedchain.storage import (
    BlobKind,
    BlobStore,
    ExpectedBlob,
    StorageError,
    StoredBlob,
    TensorShape,
    VerifiedBlobs,
)

MASKED_KIND: BlobKind = "masked"
MASKED_TENSOR = "masked"
"""The one tensor of a masked blob: P residues of two int32 halves each."""


@dataclass(frozen=True)
class ChainRound:
    """A secure round as the chain has it so far: its sets and graph, every committed member's share bundle
    (from the chain), and where each survivor's masked vector is stored (advertise, commit and upload
    deadlines make U1, U2 and U3 final in turn; U3 again when the availability phase ends)."""

    index: int
    sets: SecureRound
    masked_refs: Mapping[bytes, bytes]
    share_bundles: Mapping[bytes, bytes]


def secure_params(rules: TaskRules) -> SecureParams:
    """The task's neighbours k and threshold t."""
    return SecureParams(rules.params.neighbours, rules.params.threshold)


def read_round(coordinator: SecureCoordinator, rules: TaskRules, task_id: int, round: int) -> ChainRound | None:
    """The sets of secure ``round`` from its events; None while its seed is not fixed or nobody advertised."""
    state = coordinator.secure_round(task_id, round)
    advertised = tuple(
        Member(index=advert.index, address=address_bytes(advert.participant, "participant"),
               public=(advert.pk_x, advert.pk_y), encryption=advert.encryption_key)
        for advert in coordinator.advertisements(task_id, round))
    if not state.seed_fixed or not advertised:
        return None
    commitments = coordinator.share_commitments(task_id, round)
    committed = {address_bytes(commitment.participant, "participant"):
                 Commitment(commitment.self_seed_hash, commitment.share_bundle_ref, commitment.weight)
                 for commitment in commitments}
    unavailable = {address_bytes(owner, "owner") for owner in coordinator.unavailable_inputs(task_id, round)}
    uploads = {address_bytes(upload.participant, "participant"): upload
               for upload in coordinator.uploads(task_id, round)}
    survivors = {address: upload for address, upload in uploads.items() if address not in unavailable}
    sets = SecureRound(state.seed, secure_params(rules), advertised, committed,
                       {address: upload.masked_root for address, upload in survivors.items()})
    bundles = {address_bytes(commitment.participant, "participant"): commitment.share_bundle
               for commitment in commitments}
    return ChainRound(round, sets, {address: upload.blob_ref for address, upload in survivors.items()}, bundles)


# -- masked vectors -----------------------------------------------------------------------------------


def put_masked(store: BlobStore, rules: TaskRules, masked: NDArray[np.uint64], *,
               verified: VerifiedBlobs) -> StoredBlob:
    """Store a masked vector as a ``"masked"`` blob; its header's root is the masked root, the tree the agent's
    ``verified`` blobs hold or build."""
    layout = masked_layout(rules.layout)
    return verified.put_vector(store, masked_halves(masked), kind=MASKED_KIND, scale_bits=rules.params.scale_bits,
                               words_per_leaf=layout.words_per_leaf, shapes=[_masked_shape(rules)])


def masked_tree_of(verified: VerifiedBlobs, rules: TaskRules, masked: NDArray[np.uint64]) -> MerkleTree:
    """The Merkle tree of a masked vector (:func:`fedchain.secagg.masking.masked_tree`), from the agent's
    ``verified`` blobs, which build it once."""
    return verified.tree(masked_halves(masked), masked_layout(rules.layout))


def fetch_masked(store: BlobStore, rules: TaskRules, root: bytes, blob_ref: bytes, *,
                 verified: VerifiedBlobs) -> NDArray[np.uint64]:
    """The masked vector in blob ``blob_ref``, checked to have masked root ``root`` (storage errors propagate),
    read through the agent's ``verified`` blobs."""
    layout = masked_layout(rules.layout)
    expected = ExpectedBlob(kind=MASKED_KIND, num_params=layout.num_params, scale_bits=rules.params.scale_bits,
                            words_per_leaf=layout.words_per_leaf, root=root, shapes=(_masked_shape(rules),))
    return masked_from_halves(verified.get_blob(store, blob_ref, expected).vector)


def fetch_survivor_masked(coordinator: SecureCoordinator, store: BlobStore, rules: TaskRules, task_id: int,
                          round: ChainRound, survivor: bytes, *, verified: VerifiedBlobs) -> NDArray[np.uint64]:
    """A survivor's masked vector: from its blob in the store (read through the agent's ``verified`` blobs), or
    else from the chunks a resolved availability
    challenge put on chain (docs/protocol.md section 11.2). A StorageError (an
    :class:`~fedchain.roles.availability.UnavailableError` when it is in neither place) says it is unusable."""
    root = round.sets.uploaded[survivor]
    try:
        return fetch_masked(store, rules, root, round.masked_refs[survivor], verified=verified)
    except StorageError as error:
        owner = Web3.to_checksum_address(survivor)
        posted = posted_tree(coordinator, task_id, round.index, owner, root, masked_layout(rules.layout))
        if posted is None:
            raise UnavailableError(f"masked vector of {owner} in round {round.index}: {error}") from error
        return masked_from_halves(posted.vector)


def _masked_shape(rules: TaskRules) -> TensorShape:
    return TensorShape(MASKED_TENSOR, (rules.params.num_params, 2))


# -- bundles ------------------------------------------------------------------------------------------


def neighbour_share_bundles(round: ChainRound, holder: Member) -> dict[bytes, bytes]:
    """The share bundles of ``holder``'s committed neighbours, by owner (they are on chain, so always there)."""
    return {owner.address: round.share_bundles[owner.address] for owner in round.sets.neighbours(holder)
            if owner.address in round.share_bundles}


def fetch_unmask_bundles(coordinator: SecureCoordinator, store: BlobStore, task_id: int,
                         round: ChainRound) -> tuple[dict[bytes, UnmaskBundle], list[str]]:
    """The unmask bundle each survivor last announced, by survivor, and a note for each one that cannot be
    fetched or read (that survivor's secrets must then come from its neighbours' shares)."""
    announced: dict[bytes, bytes] = {}
    for announcement in coordinator.unmask_announcements(task_id, round.index):
        announced[address_bytes(announcement.participant, "participant")] = announcement.bundle_ref
    bundles: dict[bytes, UnmaskBundle] = {}
    problems: list[str] = []
    for address, ref in announced.items():
        try:
            bundles[address] = UnmaskBundle.decode(store.get(ref))
        except (StorageError, ShareError) as error:
            problems.append(f"unmask bundle of 0x{address.hex()}: {error}")
    return bundles, problems
