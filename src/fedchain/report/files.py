"""Writing a simulation's output folder; every file is written to a temporary name and renamed into place.

Files: ``report.json`` (schema below), ``report.html`` with ``accuracy.png``, ``gas.png`` and
``parties.png`` beside it, ``model.pt`` (the final global model as a PyTorch state_dict) and
``anchor.json`` (where that model is anchored on chain; read by ``fedchain verify-model``).

report.json (``"schema": "fedchain-report/1"``). Token amounts are integers in base units (18 decimals);
roots, references and transaction hashes are 0x-hex; ``auc`` is null where undefined.

- ``mode``: ``"secure"`` (masked updates, docs/protocol.md section 10) or ``"plain"`` (commit-reveal);

- ``rounds``: per round ``index``, ``status`` (finalized / failed), ``accuracy``, ``auc``, ``loss`` (the
  requester's evaluation of the round's anchored model on the held-out test set), ``participants``
  (names of the included updates: revealed and not dropped in plain mode, uploaded in secure mode),
  ``committed``, ``dropped`` (updates proven out of range, plain mode), ``proposals`` (``aggregator``,
  ``root``, ``outcome``: finalized / rejected / voided), ``reaggregated``, ``gas`` (gas used by
  transaction kind, for every transaction mined while the round was current), ``gas_total``, ``rewards``
  (credited by the round, by name), ``slashes`` (those mined while the round was current),
  ``model_root``, ``wall_seconds``;
- ``final``: ``round``, ``accuracy``, ``auc``, ``loss``, ``model_root``, ``model_blob_ref``, ``anchor_tx``
  (the transaction that finalized the round and anchored the root), ``anchor_block``, ``model_file``,
  ``anchor_file``;
- ``baselines``: ``pooled`` (the same model trained on all hospitals' data together, same epochs) and
  ``local`` (each hospital alone), each with ``accuracy``, ``auc``, ``loss``; ``local_mean_accuracy``;
- ``slashes``: ``round`` (of the offence), ``role``, ``name``, ``address``, ``kind`` (wrong_aggregate,
  withheld_model, bad_update, unavailable_input, missed_reveal, missed_upload or silence), ``reason``,
  ``amount``, ``bounty``, ``challenger`` (null for a commitment forfeited at its owner's next entry), read
  from the slash events;
- ``balances``: per party ``name``, ``role``, ``address``, ``token_balance``, ``stake``, ``bond``,
  ``funded``, ``rewards_claimed``, ``rewards_unclaimed``, ``fees_claimed``, ``fees_unclaimed``,
  ``bounties``, ``slashed``, ``withdrawn`` (stake and bond paid back), ``escrow`` and ``pool_withdrawn``
  (the requester's); for every party token_balance + stake + bond = funded + rewards_claimed +
  fees_claimed + bounties - slashed - escrow + pool_withdrawn;
- ``chain``: ``backend``, ``chain_id``, ``task_id``, ``contracts`` (name to address);
- ``hospitals``, ``quantization``, ``gas_outside_rounds`` (deployment, funding, last claims), ``config``
  and ``wall_seconds``.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from fedchain.report.atomic import write_atomically, write_json
from fedchain.report.errors import ReportError
from fedchain.report.html import write_html
from fedchain.report.verify import ANCHOR_FILE, Anchor, write_anchor
from fedchain.sim.records import Metrics, RoundRecord, SimulationResult

SCHEMA = "fedchain-report/1"
REPORT_JSON = "report.json"
MODEL_FILE = "model.pt"


def report_data(result: SimulationResult) -> dict[str, Any]:
    """report.json's content."""
    final = result.final
    return {
        "schema": SCHEMA,
        "mode": result.config["mode"],
        "rounds": [_round(record) for record in result.rounds],
        "final": {"round": final.round, **_metrics(final.metrics), "model_root": final.model_root,
                  "model_blob_ref": final.model_blob_ref, "anchor_tx": final.anchor_tx,
                  "anchor_block": final.anchor_block, "model_file": MODEL_FILE, "anchor_file": ANCHOR_FILE},
        "baselines": {"pooled": _metrics(result.baselines.pooled),
                      "local": {name: _metrics(metrics) for name, metrics in result.baselines.local.items()},
                      "local_mean_accuracy": result.baselines.local_mean_accuracy},
        "slashes": [asdict(slash) for slash in result.slashes],
        "balances": [{**asdict(balance.party), **{key: value for key, value in asdict(balance).items()
                                                  if key != "party"}} for balance in result.balances],
        "chain": {"backend": result.chain.backend, "chain_id": result.chain.chain_id,
                  "task_id": result.chain.task_id, "contracts": result.chain.contracts},
        "hospitals": [asdict(hospital) for hospital in result.hospitals],
        "quantization": result.quantization,
        "gas_outside_rounds": result.gas_outside_rounds,
        "config": result.config,
        "wall_seconds": result.wall_seconds,
    }


def anchor_of(result: SimulationResult) -> Anchor:
    """Where the final model is anchored."""
    final, quantization = result.final, result.quantization
    return Anchor(chain_id=result.chain.chain_id, backend=result.chain.backend,
                  coordinator=result.chain.coordinator, task_id=result.chain.task_id, round=final.round,
                  model_root=final.model_root, model_blob_ref=final.model_blob_ref, anchor_tx=final.anchor_tx,
                  anchor_block=final.anchor_block, scale_bits=quantization["scale_bits"],
                  words_per_leaf=quantization["words_per_leaf"], num_params=quantization["num_params"],
                  clip=quantization["clip"], shapes=final.shapes(), model_file=MODEL_FILE)


def write_model(path: Path, result: SimulationResult) -> None:
    """The final model as a state_dict (tensors in the model's order) at ``path``, atomically."""
    state = {name: torch.from_numpy(array.copy()) for name, array in
             zip(result.final.names, result.final.parameters, strict=True)}
    write_atomically(path, lambda handle: torch.save(state, handle))


def write_report(result: SimulationResult, folder: Path) -> Path:
    """Every output file in ``folder`` (created if missing); returns the path of report.html."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ReportError(f"cannot create the output folder {folder}: {error}") from None
    write_model(folder / MODEL_FILE, result)
    write_anchor(folder / ANCHOR_FILE, anchor_of(result))
    data = report_data(result)
    write_json(folder / REPORT_JSON, data)
    return write_html(folder, data, report_json=REPORT_JSON)


def _metrics(metrics: Metrics | None) -> dict[str, float | None]:
    if metrics is None:
        return {"accuracy": None, "auc": None, "loss": None}
    return {"accuracy": metrics.accuracy, "auc": metrics.auc, "loss": metrics.loss}


def _round(record: RoundRecord) -> dict[str, Any]:
    return {
        "index": record.index, "status": record.status, **_metrics(record.metrics),
        "participants": list(record.participants), "committed": list(record.committed),
        "dropped": list(record.dropped), "proposals": [asdict(proposal) for proposal in record.proposals],
        "reaggregated": record.reaggregated, "gas": record.gas, "gas_total": record.gas_total,
        "rewards": record.rewards, "slashes": [asdict(slash) for slash in record.slashes],
        "model_root": record.model_root, "wall_seconds": record.wall_seconds,
    }


