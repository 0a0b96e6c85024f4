"""Writing a simulation's output folder; every file is written to a temporary name and renamed into place.

Files: ``report.json`` (schema below), ``report.html`` with ``metric.png`` (the headline metric per round),
``gas.png`` and ``parties.png`` beside it, ``model.pt`` (the final global model as a PyTorch state_dict),
``anchor.json`` (where that model is anchored on chain; read by ``fedchain verify-model``) and, when the
simulation knows how raw features became the model's inputs, ``preprocessing.json``
(:meth:`fedchain.learn.Preprocessing.to_json`; apply it to raw data before the model, as in training). A
``preprocessing.json`` left in the folder by an earlier run is removed when this one has none.

report.json (``"schema": "fedchain-report/2"``). Token amounts are integers in base units (18 decimals);
roots, references and transaction hashes are 0x-hex. An *evaluation* is the evaluating client's ``loss``
(a number), ``metrics`` (an object of metric name to number: whatever its ``evaluate`` returned, e.g.
``accuracy`` and, where defined, ``auc`` for the built-in trainer; ``f1`` or anything else for a user's
client) and ``examples`` (how many examples it was computed on; null where unknown).

- ``mode``: ``"secure"`` (masked updates, docs/protocol.md section 10) or ``"plain"`` (commit-reveal);
- ``headline``: the name of the metric the report leads with (plots, first table column, summary):
  ``"accuracy"`` when the final evaluation has it, else its first metric by name, else ``"loss"``;
- ``rounds``: per round ``index``, ``status`` (finalized / failed), ``loss``, ``metrics`` and ``examples`` (the
  requester's evaluation of the round's anchored model; null when the round anchored no model), ``participants``
  (names of the included updates: revealed and not dropped in plain mode, uploaded in secure mode),
  ``committed``, ``dropped`` (updates proven out of range, plain mode), ``proposals`` (``aggregator``,
  ``root``, ``outcome``: finalized / rejected / voided), ``reaggregated``, ``gas`` (gas used by
  transaction kind, for every transaction mined while the round was current), ``gas_total``, ``rewards``
  (credited by the round, by name), ``slashes`` (those mined while the round was current),
  ``model_root``, ``wall_seconds``;
- ``final``: ``round``, ``loss``, ``metrics``, ``examples`` (its evaluation), ``model_root``,
  ``model_blob_ref``, ``anchor_tx`` (the transaction that finalized the round and anchored the root), ``anchor_block``,
  ``model_file``, ``anchor_file``, ``preprocessing_file`` (``"preprocessing.json"``, or null when the
  preprocessing is unknown);
- ``baselines``: null when the simulation has none (one of the user's own clients), else ``pooled`` (the
  same model trained on all hospitals' data together, same epochs) and ``local`` (hospital name to each
  hospital alone), each an evaluation (``loss``, ``metrics``, ``examples``), ``local_mean``: metric name
  (``loss`` included) to the mean over the hospitals alone (null where some hospital lacks that metric),
  ``paired``: per baseline (``pooled`` and each hospital's name) how it and the final model fared on the same
  test examples (``both``, ``only_federation``, ``only_baseline``, ``neither``: counts of examples classified
  right by both, only one, neither; from these the report's intervals for the differences), and
  ``test_label_counts`` (the test set's examples per class, or null);
- ``slashes``: ``round`` (of the offence), ``role`` (participant, aggregator or validator), ``name``,
  ``address``, ``kind`` (wrong_aggregate, withheld_model, bad_update, unavailable_input, missed_reveal,
  missed_upload, silence, low_score, failed_audit, validator_silent or validator_deviated), ``reason``,
  ``amount``, ``bounty``, ``challenger`` (null for a commitment forfeited at its owner's next entry), read
  from the slash events;
- ``balances``: per party ``name``, ``role``, ``address``, ``token_balance``, ``stake``, ``bond``,
  ``funded``, ``rewards_claimed``, ``rewards_unclaimed``, ``fees_claimed``, ``fees_unclaimed``,
  ``bounties``, ``slashed``, ``withdrawn`` (stake and bond paid back), ``escrow`` and ``pool_withdrawn``
  (the requester's), a validator's seat counted as its stake and its validator fees as fees; for every party
  token_balance + stake + bond = funded + rewards_claimed + fees_claimed + bounties - slashed - escrow +
  pool_withdrawn;
- ``chain``: ``backend``, ``chain_id``, ``task_id``, ``contracts`` (name to address);
- ``hospitals``: per hospital ``name``, ``address``, ``source``, ``examples`` and ``label_counts`` (null
  for a client that keeps its data to itself), ``misbehaviour`` (the scripted one or the attack, or null),
  ``attacker`` (one of the ``[attack]``'s attackers) and ``identity_of`` (a Sybil identity: the hospital whose
  data it runs, else null);
- ``audits``: an audited task's training audits (docs/protocol.md section 13; empty without audits), per audit
  ``round``, ``name`` (whose update), ``step``, ``opened_by``, ``drawn`` (by the chain's draw, else demanded against
  a bond), ``outcome`` (proven, failed: no valid proof in time, the update dropped and its owner slashed; moot;
  open), ``prove_gas`` and ``prove_seconds`` (of the accepted proof), ``settle_gas`` (of settleAudit),
  ``slashed`` and ``refused`` (proofs of it the contract refused);
- ``classes``: what each label means (``["malignant", "benign"]`` for breast cancer), or null where unknown;
- ``quantization``, ``gas_outside_rounds`` (deployment, funding, last claims), ``config`` (the simulation's
  configuration: ``task``, ``simulation``, ``adversaries``) and ``wall_seconds``.
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
from fedchain.sim.records import Baselines, RoundRecord, Scores, SimulationResult

SCHEMA = "fedchain-report/2"
REPORT_JSON = "report.json"
MODEL_FILE = "model.pt"
PREPROCESSING_FILE = "preprocessing.json"


def report_data(result: SimulationResult) -> dict[str, Any]:
    """report.json's content."""
    final = result.final
    return {
        "schema": SCHEMA,
        "mode": result.config["task"]["mode"],
        "headline": final.scores.headline,
        "rounds": [_round(record) for record in result.rounds],
        "final": {"round": final.round, **_scores(final.scores), "model_root": final.model_root,
                  "model_blob_ref": final.model_blob_ref, "anchor_tx": final.anchor_tx,
                  "anchor_block": final.anchor_block, "model_file": MODEL_FILE, "anchor_file": ANCHOR_FILE,
                  "preprocessing_file": None if result.preprocessing is None else PREPROCESSING_FILE},
        "baselines": None if result.baselines is None else _baselines(result.baselines),
        "slashes": [asdict(slash) for slash in result.slashes],
        "balances": [{**asdict(balance.party), **{key: value for key, value in asdict(balance).items()
                                                  if key != "party"}} for balance in result.balances],
        "chain": {"backend": result.chain.backend, "chain_id": result.chain.chain_id,
                  "task_id": result.chain.task_id, "contracts": result.chain.contracts},
        "hospitals": [asdict(hospital) for hospital in result.hospitals],
        "classes": None if result.classes is None else list(result.classes),
        "audits": [asdict(audit) for audit in result.audits],
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


def write_preprocessing(path: Path, preprocessing: dict[str, Any] | None) -> None:
    """``preprocessing`` as JSON at ``path``, atomically; with none, remove a file an earlier run left there (it
    would describe another model)."""
    if preprocessing is not None:
        write_json(path, preprocessing)
        return
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        raise ReportError(f"cannot remove the stale {path}: {error}") from None


def write_report(result: SimulationResult, output: str | Path) -> Path:
    """Every output file in ``output`` (a folder, created if missing); returns the path of report.html."""
    folder = Path(output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ReportError(f"cannot create the output folder {folder}: {error}") from None
    write_model(folder / MODEL_FILE, result)
    write_anchor(folder / ANCHOR_FILE, anchor_of(result))
    write_preprocessing(folder / PREPROCESSING_FILE, result.preprocessing)
    data = report_data(result)
    write_json(folder / REPORT_JSON, data)
    return write_html(folder, data, report_json=REPORT_JSON)


def _scores(scores: Scores | None) -> dict[str, Any]:
    if scores is None:
        return {"loss": None, "metrics": None, "examples": None}
    return {"loss": float(scores.loss), "metrics": {name: float(value) for name, value in scores.metrics.items()},
            "examples": scores.examples}


def _baselines(baselines: Baselines) -> dict[str, Any]:
    names = sorted({name for scores in baselines.local.values() for name in scores.metrics})
    return {"pooled": _scores(baselines.pooled),
            "local": {name: _scores(scores) for name, scores in baselines.local.items()},
            "local_mean": {name: baselines.local_mean(name) for name in ["loss", *names]},
            "paired": {name: asdict(outcomes) for name, outcomes in baselines.paired.items()},
            "test_label_counts": None if baselines.test_label_counts is None else list(baselines.test_label_counts)}


def _round(record: RoundRecord) -> dict[str, Any]:
    return {
        "index": record.index, "status": record.status, **_scores(record.scores),
        "participants": list(record.participants), "committed": list(record.committed),
        "dropped": list(record.dropped), "proposals": [asdict(proposal) for proposal in record.proposals],
        "reaggregated": record.reaggregated, "gas": record.gas, "gas_total": record.gas_total,
        "rewards": record.rewards, "slashes": [asdict(slash) for slash in record.slashes],
        "model_root": record.model_root, "wall_seconds": record.wall_seconds,
    }


