"""What the secure role tests hold a round to: each participant's update as it trained it, and the plain FedAvg
of the survivors' updates, computed with the plain rule and no secure-mode code."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from tests.roles.conftest import Federation

from fedchain.aggregate.fedavg import FedAvg
from fedchain.client.jobs import FitResult
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.roles import BaseParticipant
from fedchain.storage import BlobHeader, blob_ref, decode_blob, encode_blob

Trained = dict[int, tuple[NDArray[np.int32], int]]
"""round -> (quantized update, sample count), as the participant's training produced them."""


def record_updates(participant: BaseParticipant) -> Trained:
    """Keep every update ``participant`` trains (the test sees what nobody else does)."""
    trained: Trained = {}
    train = participant.make_update

    def recording(round: int, global_model: NDArray[np.int32], fitted: FitResult) -> tuple[NDArray[np.int32], int]:
        update, sample_count = train(round, global_model, fitted)
        trained[round] = (update.copy(), sample_count)
        return update, sample_count

    participant.make_update = recording  # type: ignore[method-assign]
    return trained


def uploaders(federation: Federation, round: int) -> list[str]:
    """The survivors of secure ``round``: who uploaded (its Uploaded events), less those whose masked vector was
    dropped as unavailable (its InputUnavailable events)."""
    logs = federation.coordinator.contract.events.Uploaded().get_logs(
        from_block=0, argument_filters={"taskId": federation.task_id, "round": round})
    dropped = set(federation.coordinator.unavailable_inputs(federation.task_id, round))
    return [str(log.args.participant) for log in logs if str(log.args.participant) not in dropped]


def plain_anchor(federation: Federation, previous_ref: bytes,
                 updates: list[tuple[NDArray[np.int32], int]]) -> tuple[bytes, bytes]:
    """Root and blob reference of the model plain FedAvg gives for ``updates`` on the model in ``previous_ref``."""
    params = federation.coordinator.task_params(federation.task_id)
    previous = decode_blob(federation.store.get(previous_ref), ref=previous_ref)
    model = FedAvg(params.sample_cap, params.server_lr_bps).aggregate(
        previous.vector, [update for update, _ in updates], [count for _, count in updates])
    root = MerkleTree(model, LeafLayout(params.num_params, params.words_per_leaf)).root
    header = BlobHeader(kind="model", num_params=params.num_params, scale_bits=params.scale_bits,
                        words_per_leaf=params.words_per_leaf, root=root, shapes=previous.header.shapes)
    return root, blob_ref(encode_blob(header, model))


def check_anchor(federation: Federation, round: int, previous_ref: bytes, trained: dict[str, Trained]) -> bytes:
    """Assert that ``round``'s anchored model is plain FedAvg over its survivors' updates; return its blob ref."""
    (model,) = [model for model in federation.coordinator.finalized_models(federation.task_id) if model.round == round]
    survivors = uploaders(federation, round)
    assert survivors, f"round {round} had no survivors"
    expected = plain_anchor(federation, previous_ref, [trained[address][round] for address in survivors])
    assert (model.root, model.blob_ref) == expected, f"round {round}: the anchor is not plain FedAvg of the survivors"
    return model.blob_ref
