"""The [audit] table (docs/tasks.md): every key defaulted and bounded, and an audited task's other tables checked
against the step circuit before anything is staked or deployed, each problem an error naming the key; the chain's
AuditParams built from it; the simulation's audited incidents checked likewise."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from fedchain.roles.audit import AuditedData
from fedchain.roles.task import RoleError
from fedchain.sim.config import parse_config
from fedchain.sim.errors import ConfigError
from fedchain.task import TaskSpecError, audit_params, audit_step
from fedchain.task.read import parse_task
from fedchain.task.schema import AuditSettings
from fedchain.zk.fixed.logreg import LogRegStep

AUDITED: dict[str, Any] = {
    "mode": "plain",
    "model": {"name": "logreg", "num_classes": 2, "options": {"binary": True}, "in_features": 30},
    "training": {"learning_rate": 0.1, "momentum": 0.0},
    "task": {"scale_bits": 8},
    "audit": {"logit_bound": 4},
}


def with_(changes: dict[str, dict[str, Any] | Any]) -> dict[str, Any]:
    raw = copy.deepcopy(AUDITED)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key].update(value)
        else:
            raw[key] = value
    return raw


def test_an_empty_audit_table_takes_every_default() -> None:
    raw = with_({"task": {"scale_bits": 12}})
    raw["audit"] = {}
    spec = parse_task(raw)
    assert spec.audit == AuditSettings()
    assert (spec.audit.steps, spec.audit.batch_size, spec.audit.audit_bps, spec.audit.audit_steps,
            spec.audit.proof_window, spec.audit.demand_bond, spec.audit.logit_bound) == (4, 8, 2500, 2, 600,
                                                                                        Decimal(2), 8)
    assert parse_task({"mode": "plain"}).audit is None


def test_the_chain_params_and_the_circuit_come_from_the_table() -> None:
    spec = parse_task(AUDITED)
    params = audit_params(spec, verifier="0x" + "11" * 20, decimals=18)
    assert params is not None and params.audited
    assert (params.steps, params.batch_size, params.audit_bps, params.audit_steps, params.proof_window,
            params.demand_bond) == (4, 8, 2500, 2, 600, 2 * 10**18)
    assert audit_step(spec, 30) == LogRegStep(features=30, batch=8, learning_rate=0.1, scale=8, logit_bound=4)
    assert audit_step(parse_task({"mode": "plain"}), 30) is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"mode": "secure", "task": {"words_per_leaf": 2}}, "audit: only plain tasks are audited"),
    ({"scoring": {}}, "audit: a task is scored or audited, not both"),
    ({"model": {"name": "mlp", "options": {}}}, "model.name: the audit circuit proves steps of binary logistic"),
    ({"model": {"options": {}}}, "model.name: the audit circuit proves steps of binary logistic"),
    ({"model": {"num_classes": 3}}, "model.name: the audit circuit proves steps of binary logistic"),
    ({"training": {"momentum": 0.9}}, "training.optimizer: an audited step is plain SGD"),
    ({"training": {"optimizer": "adam"}}, "training.optimizer: an audited step is plain SGD"),
    ({"task": {"scale_bits": 16}, "audit": {"logit_bound": 8}}, "task.scale_bits: 16 with audit.logit_bound 8"),
    ({"training": {"learning_rate": 0.125}}, "audit: the step circuit of this task cannot be built"),
    ({"training": {"learning_rate": 0.001}}, "audit: the step circuit of this task cannot be built"),
    ({"audit": {"audit_bps": 10_001}}, "audit.audit_bps"),
    ({"audit": {"audit_steps": 17}}, "audit.audit_steps"),
    ({"audit": {"steps": 0}}, "audit.steps"),
    ({"audit": {"proof_window": 5}}, "audit.proof_window"),
    ({"audit": {"demand_bond": 0}}, "audit.demand_bond"),
    ({"audit": {"proof_windows": 60}}, "audit.proof_windows"),
])
def test_a_task_the_circuit_cannot_audit_is_refused_naming_the_problem(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(TaskSpecError) as refused:
        parse_task(with_(changes))
    assert message in str(refused.value)


@pytest.mark.parametrize(("changes", "message"), [
    ({"audit": None, "adversaries": [{"kind": "untrained_hospital", "round": 0, "hospital": 1}]},
     "adversaries[0].kind: 'untrained_hospital' needs an audited task"),
    ({"adversaries": [{"kind": "out_of_range_hospital", "round": 0, "hospital": 1}]},
     "adversaries[0].kind: 'out_of_range_hospital' is not staged in an audited task"),
    ({"attack": {"kind": "scaling", "share": 0.3}}, "attack: the attacks train through the hospitals' clients"),
])
def test_the_simulation_refuses_incidents_an_audited_task_cannot_stage(changes: dict[str, Any], message: str) -> None:
    raw = with_({key: value for key, value in changes.items() if value is not None})
    if changes.get("audit", {}) is None:
        del raw["audit"]
    raw["model"].pop("in_features")
    with pytest.raises(ConfigError) as refused:
        parse_config(raw)
    assert message in str(refused.value)


def test_data_that_does_not_fit_the_circuit_is_refused_before_anything_is_sent() -> None:
    step = LogRegStep(features=3, batch=4, learning_rate=0.1, scale=8, logit_bound=4)
    rows = np.zeros((9, 3))
    data = AuditedData.prepare(step, rows, np.array([0, 1] * 4 + [1]), b"\x01" * 32)
    assert (data.batches, data.sample_count) == (2, 8)  # the ninth row makes no whole batch
    with pytest.raises(RoleError, match="takes 3 features per row"):
        AuditedData.prepare(step, np.zeros((8, 4)), np.zeros(8, dtype=int), b"\x01" * 32)
    with pytest.raises(RoleError, match="each 0 or 1"):
        AuditedData.prepare(step, rows, np.full(9, 2), b"\x01" * 32)
    with pytest.raises(RoleError, match="no whole batch of 4"):
        AuditedData.prepare(step, rows[:3], np.zeros(3, dtype=int), b"\x01" * 32)
