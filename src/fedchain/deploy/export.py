"""`fedchain export-model`: a task's anchored global model, fetched from storage and checked against the
chain, saved as a PyTorch state_dict with an ``anchor.json`` beside it (what `fedchain verify-model`
reads) and, given the task file, ``preprocessing.json`` (how raw features become the model's inputs)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

from fedchain.chain.coordinator import CoordinatorClient
from fedchain.client import unflatten
from fedchain.commit.quantize import dequantize
from fedchain.deploy.errors import DeployError
from fedchain.learn import Preprocessing
from fedchain.report.atomic import write_atomically, write_json
from fedchain.report.files import PREPROCESSING_FILE
from fedchain.report.verify import ANCHOR_FILE, Anchor, write_anchor
from fedchain.roles import load_rules
from fedchain.roles.task import fetch_model
from fedchain.storage import BlobStore

MODEL_DTYPE = np.float32


def export_model(coordinator: CoordinatorClient, store: BlobStore, task_id: int, model_file: Path,
                 round: int | None = None, preprocessing: Preprocessing | None = None) -> Anchor:
    """Save the model round ``round`` anchored (default: the last finalized round) to ``model_file``, and
    ``preprocessing`` (the task's) to ``preprocessing.json`` beside it."""
    finalized = coordinator.finalized_models(task_id)
    chosen = [model for model in finalized if round is None or model.round == round]
    if not chosen:
        which = f"round {round}" if round is not None else "any round"
        raise DeployError(f"task {task_id} has no finalized model for {which} yet")
    model = chosen[-1]
    rules = load_rules(coordinator, store, task_id)
    vector = fetch_model(store, rules, model.root, model.blob_ref)  # checked against the anchored root
    parameters = unflatten(dequantize(vector, rules.quantization), [(s.name, s.dims) for s in rules.shapes],
                           dtype=MODEL_DTYPE)
    state = {shape.name: torch.from_numpy(np.array(array)) for shape, array in zip(rules.shapes, parameters,
                                                                                    strict=True)}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    model_file.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(model_file, lambda handle: handle.write(buffer.getvalue()))
    params = rules.params
    anchor = Anchor(chain_id=coordinator.chain.chain_id, backend=coordinator.chain.backend,
                    coordinator=coordinator.address, task_id=task_id, round=model.round,
                    model_root="0x" + model.root.hex(), model_blob_ref="0x" + model.blob_ref.hex(),
                    anchor_tx=model.tx_hash, anchor_block=model.block,
                    scale_bits=params.scale_bits, words_per_leaf=params.words_per_leaf,
                    num_params=params.num_params, clip=params.clip,
                    shapes=[(shape.name, shape.dims) for shape in rules.shapes], model_file=model_file.name)
    write_anchor(model_file.parent / ANCHOR_FILE, anchor)
    if preprocessing is not None:
        write_json(model_file.parent / PREPROCESSING_FILE, preprocessing.to_json())
    return anchor
