"""What every secure-mode agent reads about a round: the sets the chain fixed, and the blobs they point to.

The chain is the broadcast channel of secure mode (docs/protocol.md section 10): the advertised set U1
(``Advertised`` events, by advertise index), the committed set U2 (``SharesCommitted``) and the uploaded set
U3 (``Uploaded``) are read from its events, so every agent sees the same sets. Blobs live in the task's
store, each found by a reference on chain and checked on every read:

- a **share bundle** and an **unmask bundle** are stored as their own bytes (their formats carry their
  own magic; docs/protocol.md section 10.6), so the reference is the bundle's sha256;
- a **masked vector** is stored as a ``"masked"`` blob (docs/protocol.md section 6): its P uint64 residues as
  2P int32 halves, high half first, with twice the task's words per leaf, so the blob's root is the masked
  root the participant uploaded (section 10.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fedchain.chain.secure_coordinator import SecureCoordinator
from fedchain.commit.encoding import address_bytes
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
    get_blob,
    put_vector,
)

MASKED_KIND: BlobKind = "masked"
MASKED_TENSOR = "masked"
"""The one tensor of a masked blob: P residues of two int32 halves each."""


@dataclass(frozen=True)
class ChainRound:
    """A secure round as the chain has it so far: its sets and graph, and where each survivor's masked
    vector is stored (advertise, commit and upload deadlines make U1, U2 and U3 final in turn)."""

    index: int
    sets: SecureRound
    masked_refs: Mapping[bytes, bytes]


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
    committed = {address_bytes(commitment.participant, "participant"):
                 Commitment(commitment.self_seed_hash, commitment.share_bundle_ref, commitment.weight)
                 for commitment in coordinator.share_commitments(task_id, round)}
    uploads = {address_bytes(upload.participant, "participant"): upload
               for upload in coordinator.uploads(task_id, round)}
    sets = SecureRound(state.seed, secure_params(rules), advertised, committed,
                       {address: upload.masked_root for address, upload in uploads.items()})
    return ChainRound(round, sets, {address: upload.blob_ref for address, upload in uploads.items()})


# -- masked vectors -----------------------------------------------------------------------------------


def put_masked(store: BlobStore, rules: TaskRules, masked: NDArray[np.uint64]) -> StoredBlob:
    """Store a masked vector as a ``"masked"`` blob; its header's root is the masked root."""
    layout = masked_layout(rules.layout)
    return put_vector(store, masked_halves(masked), kind=MASKED_KIND, scale_bits=rules.params.scale_bits,
                      words_per_leaf=layout.words_per_leaf, shapes=[_masked_shape(rules)])


def fetch_masked(store: BlobStore, rules: TaskRules, root: bytes, blob_ref: bytes) -> NDArray[np.uint64]:
    """The masked vector in blob ``blob_ref``, checked to have masked root ``root`` (storage errors propagate)."""
    layout = masked_layout(rules.layout)
    expected = ExpectedBlob(kind=MASKED_KIND, num_params=layout.num_params, scale_bits=rules.params.scale_bits,
                            words_per_leaf=layout.words_per_leaf, root=root, shapes=(_masked_shape(rules),))
    return masked_from_halves(get_blob(store, blob_ref, expected).vector)


def fetch_survivors_masked(store: BlobStore, rules: TaskRules, round: ChainRound) -> dict[bytes, NDArray[np.uint64]]:
    """Every survivor's masked vector, by address (a missing or wrong blob is a StorageError)."""
    return {member.address: fetch_masked(store, rules, round.sets.uploaded[member.address],
                                         round.masked_refs[member.address])
            for member in round.sets.survivors()}


def _masked_shape(rules: TaskRules) -> TensorShape:
    return TensorShape(MASKED_TENSOR, (rules.params.num_params, 2))


# -- bundles ------------------------------------------------------------------------------------------


def fetch_share_bundles(store: BlobStore, sets: SecureRound, holder: Member) -> tuple[dict[bytes, bytes], list[str]]:
    """The committed share bundles of ``holder``'s committed neighbours, by owner, and a note for each one
    that cannot be fetched (its shares must then come from other holders)."""
    bundles: dict[bytes, bytes] = {}
    missing: list[str] = []
    for owner in sets.neighbours(holder):
        commitment = sets.committed.get(owner.address)
        if commitment is None:
            continue
        try:
            bundles[owner.address] = store.get(commitment.share_bundle_ref)
        except StorageError as error:
            missing.append(f"share bundle of 0x{owner.address.hex()}: {error}")
    return bundles, missing


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
