"""`fedchain export-model`: a task's anchored global model, fetched from storage and checked against the
chain, saved as a PyTorch state_dict with an ``anchor.json`` beside it (what `fedchain verify-model`
reads) and ``preprocessing.json`` (how raw features become the model's inputs): the preprocessing the model blob
carries, which the chain pins, so the saved model applies to raw data as it was trained. A task file given is
checked against it first."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import torch

from fedchain.chain.coordinator import CoordinatorClient
from fedchain.client import unflatten
from fedchain.commit.quantize import dequantize
from fedchain.deploy.data import deployment_preprocessing
from fedchain.deploy.errors import DeployError
from fedchain.deploy.taskfile import check_task_data
from fedchain.learn import Preprocessing
from fedchain.learn.defaults import Missing, Normalization
from fedchain.report.atomic import write_atomically, write_json
from fedchain.report.files import PREPROCESSING_FILE
from fedchain.report.verify import ANCHOR_FILE, Anchor, write_anchor
from fedchain.roles import load_rules
from fedchain.roles.task import fetch_model
from fedchain.storage import BlobStore, DataSpec
from fedchain.task import TaskSpec

MODEL_DTYPE = np.float32


@dataclass(frozen=True)
class ExportedModel:
    """What `export-model` saved: the model's anchor, and the preprocessing saved beside it (None: none known)."""

    anchor: Anchor
    preprocessing: Preprocessing | None


def pinned_preprocessing(pinned: DataSpec) -> Preprocessing:
    """The preprocessing a task's model blob carries, as the learning layer applies it."""
    return Preprocessing(features=pinned.features, normalization=cast(Normalization, pinned.normalization),
                         mean=pinned.mean, scale=pinned.scale, missing=cast(Missing, pinned.missing))


def export_model(coordinator: CoordinatorClient, store: BlobStore, task_id: int, model_file: Path,
                 round: int | None = None, task: TaskSpec | None = None) -> ExportedModel:
    """Save the model round ``round`` anchored (default: the last finalized round) to ``model_file``, its anchor to
    ``anchor.json`` beside it and its preprocessing to ``preprocessing.json``: the one its model blob carries
    (pinned on chain). ``task``, the task file, must declare that same preprocessing (checked before anything is
    written); for a task whose blob carries none (created through the Python API), the task file's is saved."""
    rules = load_rules(coordinator, store, task_id)
    if task is not None:
        check_task_data(rules.data, task, task_id)
    finalized = coordinator.finalized_models(task_id)
    chosen = [model for model in finalized if round is None or model.round == round]
    if not chosen:
        which = f"round {round}" if round is not None else "any round"
        raise DeployError(f"task {task_id} has no finalized model for {which} yet")
    model = chosen[-1]
    preprocessing = pinned_preprocessing(rules.data) if rules.data is not None else (
        None if task is None else deployment_preprocessing(task))
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
    return ExportedModel(anchor, preprocessing)
