"""What every agent derives from the chain about one task: its rules, its models and its included updates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fedchain.aggregate.registry import rule_for
from fedchain.aggregate.rules import AggregationRule
from fedchain.chain.audits import AuditParams
from fedchain.chain.coordinator import Coordinator, CoordinatorClient, EntryState, Reveal, TaskParams
from fedchain.chain.scoring import ScoringParams
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.quantize import QuantizationSpec
from fedchain.errors import FedchainError
from fedchain.roles.availability import UnavailableError, posted_tree
from fedchain.storage import (
    BlobKind,
    BlobStore,
    DataSpec,
    ExpectedBlob,
    StorageError,
    StoredBlob,
    TensorShape,
    VerifiedBlobs,
    model_spec_hash,
)

MODEL_KIND: BlobKind = "model"
UPDATE_KIND: BlobKind = "update"


class RoleError(FedchainError):
    """An agent met a task or a blob it cannot work with."""


@dataclass(frozen=True)
class TaskRules:
    """A task's immutable rules in the off-chain types that apply them; ``shapes`` and ``data`` (the declared
    preprocessing every model blob of the task carries, if any) are pinned on chain by the model-spec hash;
    ``scoring`` is a scored task's committee rules (None for a task without scoring), ``audit`` an audited task's
    audit rules (None for a task without training audits, docs/protocol.md section 13)."""

    params: TaskParams
    layout: LeafLayout
    quantization: QuantizationSpec
    rule: AggregationRule
    shapes: tuple[TensorShape, ...]
    data: DataSpec | None = None
    scoring: ScoringParams | None = None
    audit: AuditParams | None = None

    def expected(self, kind: BlobKind, root: bytes) -> ExpectedBlob:
        """What a blob of ``kind`` with Merkle ``root`` must be under this task."""
        return ExpectedBlob(kind=kind, num_params=self.params.num_params, scale_bits=self.params.scale_bits,
                            words_per_leaf=self.params.words_per_leaf, root=root, shapes=self.shapes,
                            data=self.data if kind == MODEL_KIND else None)


@dataclass(frozen=True)
class IncludedUpdate:
    """An included reveal with its verified update vector."""

    reveal: Reveal
    vector: NDArray[np.int32]


def load_rules(coordinator: CoordinatorClient, store: BlobStore, task_id: int, *,
               verified: VerifiedBlobs | None = None) -> TaskRules:
    """Read task ``task_id``'s rules (and a plain task's scoring); the tensor shapes and the declared preprocessing come
    from its current model blob, pinned on chain by the model-spec hash (read through the agent's ``verified`` blobs,
    if given)."""
    params = coordinator.task_params(task_id)
    if params.num_params == 0:
        raise RoleError(f"task {task_id} does not exist on coordinator {coordinator.address}")
    state = coordinator.task_state(task_id)
    loose = ExpectedBlob(kind=MODEL_KIND, num_params=params.num_params, scale_bits=params.scale_bits,
                         words_per_leaf=params.words_per_leaf, root=state.model_root)
    header = _reader(verified).get_blob(store, state.model_blob_ref, loose).header
    if model_spec_hash(header) != params.model_spec_hash:
        raise RoleError(f"task {task_id}: the model blob's spec hash 0x{model_spec_hash(header).hex()} differs "
                        f"from the task's 0x{params.model_spec_hash.hex()}")
    scoring = coordinator.scoring_params(task_id) if isinstance(coordinator, Coordinator) else None
    audit = coordinator.audit_params(task_id) if isinstance(coordinator, Coordinator) else None
    return TaskRules(
        params=params,
        layout=LeafLayout(num_params=params.num_params, words_per_leaf=params.words_per_leaf),
        quantization=QuantizationSpec(scale_bits=params.scale_bits, clip=params.clip),
        rule=rule_for(params.rule, sample_cap=params.sample_cap, server_lr_bps=params.server_lr_bps,
                      param=params.rule_param, clip=params.clip, num_params=params.num_params),
        shapes=header.shapes,
        data=header.data,
        scoring=scoring if scoring is not None and scoring.scored else None,
        audit=audit if audit is not None and audit.audited else None,
    )


def fetch_model(store: BlobStore, rules: TaskRules, root: bytes, blob_ref: bytes, *,
                verified: VerifiedBlobs | None = None) -> NDArray[np.int32]:
    """The verified int32 model vector of blob ``blob_ref`` with Merkle ``root`` (read through the agent's
    ``verified`` blobs, if given; without them nothing is kept)."""
    return _reader(verified).get_blob(store, blob_ref, rules.expected(MODEL_KIND, root)).vector


def put_model(store: BlobStore, rules: TaskRules, model: NDArray[np.int32], *,
              verified: VerifiedBlobs) -> StoredBlob:
    """Store ``model`` as a model blob of the task (the canonical encoding fedchain's aggregators propose: the
    initial model blob's header, its root replaced); its root is the tree the agent's ``verified`` blobs hold or
    build."""
    params = rules.params
    return verified.put_vector(store, model, kind=MODEL_KIND, scale_bits=params.scale_bits,
                               words_per_leaf=params.words_per_leaf, shapes=rules.shapes, data=rules.data)


def put_update(store: BlobStore, rules: TaskRules, update: NDArray[np.int32], *,
               verified: VerifiedBlobs) -> StoredBlob:
    """Store a participant's quantized ``update`` as an update blob of the task (the same bytes every time); its
    root is the tree the agent's ``verified`` blobs hold or build."""
    params = rules.params
    return verified.put_vector(store, update, kind=UPDATE_KIND, scale_bits=params.scale_bits,
                               words_per_leaf=params.words_per_leaf, shapes=rules.shapes)


def last_global_change(coordinator: CoordinatorClient, store: BlobStore, rules: TaskRules, task_id: int,
                       global_model: NDArray[np.int32], *, verified: VerifiedBlobs) -> NDArray[np.int64]:
    """g_t - g_(t-1) as the chain shows it: the current global model (``global_model``, the last anchored one) minus
    the one anchored before it (the initial model, for the first); zeros while no round has finalized."""
    anchors = coordinator.finalized_models(task_id)
    if not anchors:
        return np.zeros(global_model.size, dtype=np.int64)
    if len(anchors) >= 2:
        root, blob_ref = anchors[-2].root, anchors[-2].blob_ref
    else:
        root, blob_ref = coordinator.initial_model(task_id)
    previous = fetch_model(store, rules, root, blob_ref, verified=verified)
    change: NDArray[np.int64] = global_model.astype(np.int64) - previous.astype(np.int64)
    return change


def included_reveals(coordinator: Coordinator, task_id: int, round: int) -> list[Reveal]:
    """The reveals of the current round ``round`` still included (revealed and not dropped), in chain order.

    (Entries are settled once their round closes, so this reads the set of the current round only.)
    """
    return [reveal for reveal in coordinator.reveals(task_id, round)
            if coordinator.entry_state(task_id, round, reveal.participant) == EntryState.REVEALED]


def fetch_update(coordinator: CoordinatorClient, store: BlobStore, rules: TaskRules, task_id: int, round: int,
                 reveal: Reveal, *, verified: VerifiedBlobs) -> IncludedUpdate:
    """The verified update vector of ``reveal`` in ``round`` of task ``task_id``: from its blob in the store (read
    through the agent's ``verified`` blobs), or
    else from the chunks a resolved availability challenge put on chain (docs/protocol.md section 11.2). A
    StorageError (an :class:`~fedchain.roles.availability.UnavailableError` when it is in neither place) says it
    is unusable."""
    try:
        blob = verified.get_blob(store, reveal.blob_ref, rules.expected(UPDATE_KIND, reveal.root))
    except StorageError as error:
        posted = posted_tree(coordinator, task_id, round, reveal.participant, reveal.root, rules.layout)
        if posted is None:
            raise UnavailableError(f"update of {reveal.participant} in round {round}: {error}") from error
        return IncludedUpdate(reveal, posted.vector)
    return IncludedUpdate(reveal, blob.vector)


def _reader(verified: VerifiedBlobs | None) -> VerifiedBlobs:
    """The agent's verified blobs, or for a one-off read by a caller that has none, an empty set it drops."""
    return verified if verified is not None else VerifiedBlobs()


def recompute_model(rules: TaskRules, previous: NDArray[np.int32],
                    updates: list[IncludedUpdate]) -> NDArray[np.int32]:
    """The next global model the task's rule gives for ``previous`` and the included ``updates``."""
    return rules.rule.aggregate(previous, [update.vector for update in updates],
                                [update.reveal.sample_count for update in updates])
