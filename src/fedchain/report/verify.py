"""Checking a saved model against its on-chain anchor: recompute its Merkle root, compare.

A model file is a PyTorch state_dict. Its tensors, in order, are flattened and quantized with the task's
``scaleBits`` (docs/protocol.md §1) and committed with the task's ``wordsPerLeaf`` (§2-3); the root must
equal the model root the task anchored. Two sources of truth:

- a live chain (:func:`verify_on_chain`): the task's rules and the anchored root are read from the
  coordinator over JSON-RPC (the ``RoundFinalized`` event of the round, or the task's current model);
- the recorded anchor (:func:`verify_against_anchor`): ``anchor.json`` written when the model was saved.
  This is all that is left of a run on the embedded chain, which ends with its process; the result says
  so, since a recorded anchor is only as trustworthy as the file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from web3 import Web3

from fedchain.chain import Chain, ChainError, connect, shown_url
from fedchain.chain.coordinator import TaskStatus
from fedchain.chain.modes import coordinator_client
from fedchain.commit.errors import CommitError
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import merkle_root
from fedchain.commit.quantize import QuantizationSpec, quantize_model
from fedchain.report.atomic import write_json
from fedchain.report.errors import VerificationError

ANCHOR_VERSION = 1
ANCHOR_FILE = "anchor.json"


@dataclass(frozen=True)
class Anchor:
    """Where a model is anchored on chain, and the task's commitment settings needed to recompute its root."""

    chain_id: int
    backend: str
    coordinator: str
    task_id: int
    round: int
    model_root: str
    model_blob_ref: str
    anchor_tx: str
    anchor_block: int
    scale_bits: int
    words_per_leaf: int
    num_params: int
    clip: int
    shapes: list[tuple[str, tuple[int, ...]]]
    model_file: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: the roots compared and a sentence saying against what."""

    matches: bool
    computed_root: str
    anchored_root: str
    checked_against: str


def write_anchor(path: Path, anchor: Anchor) -> None:
    """``anchor`` as JSON at ``path``, atomically."""
    write_json(path, {"version": ANCHOR_VERSION, **asdict(anchor)})


def read_anchor(path: Path) -> Anchor:
    """Parse an anchor file; every problem names the file and the field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VerificationError(f"{path}: no anchor file (pass --anchor, or --rpc with --coordinator and "
                                "--task)") from None
    except (OSError, ValueError) as error:
        raise VerificationError(f"{path}: unreadable anchor file: {error}") from None
    if not isinstance(data, dict) or data.get("version") != ANCHOR_VERSION:
        raise VerificationError(f"{path}: not a version-{ANCHOR_VERSION} anchor file")
    try:
        return Anchor(
            chain_id=int(data["chain_id"]), backend=str(data["backend"]), coordinator=str(data["coordinator"]),
            task_id=int(data["task_id"]), round=int(data["round"]), model_root=str(data["model_root"]),
            model_blob_ref=str(data["model_blob_ref"]), anchor_tx=str(data["anchor_tx"]),
            anchor_block=int(data["anchor_block"]), scale_bits=int(data["scale_bits"]),
            words_per_leaf=int(data["words_per_leaf"]), num_params=int(data["num_params"]), clip=int(data["clip"]),
            shapes=[(str(name), tuple(int(dim) for dim in dims)) for name, dims in data["shapes"]],
            model_file=str(data["model_file"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise VerificationError(f"{path}: malformed anchor file ({type(error).__name__}: {error})") from None


def model_vector(model_file: Path) -> tuple[np.ndarray[Any, np.dtype[np.float64]], list[tuple[str, tuple[int, ...]]]]:
    """The state_dict's tensors flattened in order (float64), and their names and shapes."""
    try:
        state = torch.load(model_file, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise VerificationError(f"{model_file}: no such model file") from None
    except Exception as error:  # torch raises many kinds for a file that is not a state_dict
        raise VerificationError(f"{model_file}: not a PyTorch state_dict ({type(error).__name__}: {error})") from None
    if not isinstance(state, dict) or not state or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise VerificationError(f"{model_file}: not a state_dict (a mapping of names to tensors)")
    arrays = [tensor.detach().cpu().to(torch.float64).numpy().ravel() for tensor in state.values()]
    shapes = [(str(name), tuple(int(dim) for dim in tensor.shape)) for name, tensor in state.items()]
    return np.concatenate(arrays), shapes


def model_root(model_file: Path, *, scale_bits: int, words_per_leaf: int, num_params: int) -> str:
    """The Merkle root (0x-hex) of the model in ``model_file`` under a task's quantization and layout."""
    vector, _ = model_vector(model_file)
    if vector.size != num_params:
        raise VerificationError(f"{model_file}: the model has {vector.size} parameters, the task {num_params}")
    try:
        quantized = quantize_model(vector, QuantizationSpec(scale_bits=scale_bits, clip=1))
        return "0x" + merkle_root(quantized, LeafLayout(num_params=num_params, words_per_leaf=words_per_leaf)).hex()
    except CommitError as error:
        raise VerificationError(f"{model_file}: cannot commit to the model: {error}") from None


def verify_against_anchor(model_file: Path, anchor: Anchor, anchor_file: Path) -> Verdict:
    """Compare the model's root with the root recorded in ``anchor`` (no chain is consulted)."""
    computed = model_root(model_file, scale_bits=anchor.scale_bits, words_per_leaf=anchor.words_per_leaf,
                          num_params=anchor.num_params)
    where = (f"the RECORDED anchor in {anchor_file} (chain {anchor.chain_id} '{anchor.backend}', coordinator "
             f"{anchor.coordinator}, task {anchor.task_id}, round {anchor.round}, transaction {anchor.anchor_tx}); "
             "no live chain was consulted")
    return Verdict(matches=computed == anchor.model_root.lower(), computed_root=computed,
                   anchored_root=anchor.model_root.lower(), checked_against=where)


def read_only_chain(url: str) -> Chain:
    """A chain reached over JSON-RPC for reading only (no key needed)."""
    if not url.startswith(("http://", "https://")):
        raise VerificationError(f"--rpc must be the http(s) URL of a running node, not {url!r} ('embedded' or "
                                "'anvil' would start a new, empty chain)")
    return connect(url, read_only=True)


def verify_on_chain(model_file: Path, chain: Chain, coordinator_address: str, task_id: int,
                    round: int | None = None, *, expected_chain_id: int | None = None) -> Verdict:
    """Compare the model's root with the root task ``task_id`` anchored on ``chain``.

    ``round`` picks the model of that round's ``RoundFinalized`` event; without it, the task's current
    model. ``expected_chain_id`` (from an anchor file) must match the chain's id.
    """
    if expected_chain_id is not None and chain.chain_id != expected_chain_id:
        raise VerificationError(f"the node has chain id {chain.chain_id}, the anchor names chain {expected_chain_id}")
    if not Web3.is_address(coordinator_address):
        raise VerificationError(f"--coordinator {coordinator_address!r} is not an address")
    try:
        if not chain.w3.eth.get_code(Web3.to_checksum_address(coordinator_address)):
            raise VerificationError(f"no contract at {coordinator_address} on chain {chain.chain_id}")
        coordinator = coordinator_client(chain, coordinator_address)
        if coordinator is None:
            raise VerificationError(f"the contract at {coordinator_address} on chain {chain.chain_id} is not a "
                                    "fedchain coordinator")
        params = coordinator.task_params(task_id)
        if params.num_params == 0:
            raise VerificationError(f"task {task_id} does not exist on coordinator {coordinator.address}")
        state = coordinator.task_state(task_id)
        anchored = [model for model in coordinator.finalized_models(task_id) if round is None or model.round == round]
    except ChainError as error:
        raise VerificationError(f"cannot read task {task_id} from coordinator {coordinator_address}: {error}") from None
    if round is not None and not anchored:
        raise VerificationError(f"round {round} of task {task_id} has no anchored model (not finalized)")
    root = anchored[-1].root if round is not None else state.model_root
    which = f"round {round}'s model" if round is not None else (
        f"its current model ({'final' if state.status == TaskStatus.COMPLETED else 'task still running'})")
    computed = model_root(model_file, scale_bits=params.scale_bits, words_per_leaf=params.words_per_leaf,
                          num_params=params.num_params)
    where = (f"the LIVE chain {chain.chain_id} at {shown_url(chain.url or '')}: coordinator {coordinator.address}, "
             f"task {task_id}, {which}")
    return Verdict(matches=computed == "0x" + root.hex(), computed_root=computed, anchored_root="0x" + root.hex(),
                   checked_against=where)


def verify_model(model_file: Path, *, anchor_file: Path | None = None, rpc: str | None = None,
                 coordinator: str | None = None, task_id: int | None = None, round: int | None = None) -> Verdict:
    """Check ``model_file`` against a live chain when ``rpc`` is given, else against its recorded anchor.

    The anchor file defaults to ``anchor.json`` beside the model. A live check reads the coordinator, task
    and round from it unless ``coordinator`` and ``task_id`` are given (``round`` then defaults to the
    task's current model).
    """
    anchor_path = anchor_file or model_file.parent / ANCHOR_FILE
    if rpc is None:
        return verify_against_anchor(model_file, read_anchor(anchor_path), anchor_path)
    chain = read_only_chain(rpc)
    if coordinator is not None and task_id is not None:
        return verify_on_chain(model_file, chain, coordinator, task_id, round)
    if coordinator is not None or task_id is not None:
        raise VerificationError("give both --coordinator and --task, or neither (then the anchor file names them)")
    anchor = read_anchor(anchor_path)
    return verify_on_chain(model_file, chain, anchor.coordinator, anchor.task_id,
                           anchor.round if round is None else round, expected_chain_id=anchor.chain_id)
