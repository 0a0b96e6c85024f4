"""`fedchain task create` with an `[audit]` table (docs/protocol.md section 13): the verifier of the task's step
circuit is set up (keys from scratch in the test's cache), compiled and deployed, and the task is created with
createAuditedTask naming it, with the table's rules; `fedchain participant run` with a hospital's own client (no
--data) is refused before it stakes anything, since only the built-in trainer trains the circuit's step
(tests/deploy/test_audited_participant.py runs audited hospitals)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedchain.chain import connect
from fedchain.chain.audits import AuditParams
from fedchain.chain.coordinator import Coordinator
from fedchain.deploy import runner
from fedchain.deploy.data import load_hospital_data
from fedchain.deploy.errors import DeployError
from fedchain.task.read import parse_task
from tests.deploy.conftest import HOSPITALS, RAW_CONFIG, TASK_RULES, deploy_task

AUDITED = {**RAW_CONFIG,
           "model": {"name": "logreg", "in_features": 30, "num_classes": 2, "options": {"binary": True}},
           "training": {"learning_rate": 0.1, "momentum": 0.0},
           "task": {**TASK_RULES, "scale_bits": 8},
           "audit": {"logit_bound": 4, "steps": 2, "audit_bps": 5000, "audit_steps": 1, "proof_window": 120,
                     "demand_bond": 3}}


@pytest.mark.slow
def test_an_audit_table_creates_an_audited_task_with_its_circuits_verifier(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDCHAIN_ZK_CACHE", str(tmp_path / "zk-cache"))
    config = parse_task(AUDITED)
    with connect("embedded") as chain:
        task = deploy_task(chain, tmp_path, config)
        coordinator, created = task.coordinator, task.created
        assert isinstance(coordinator, Coordinator) and created.verifier is not None
        assert created.num_params == 31  # one logit: 30 weights and the bias, the circuit's parameters
        assert chain.w3.eth.get_code(created.verifier)
        assert coordinator.audit_params(created.task_id) == AuditParams(
            verifier=created.verifier, steps=2, batch_size=8, audit_bps=5000, audit_steps=1, proof_window=120,
            demand_bond=3 * 10**18)
        kinds = [record.kind for record in chain.gas_records]
        assert "createAuditedTask" in kinds and kinds.index("deploy Halo2Verifier") < kinds.index("createAuditedTask")

        client = runner.builtin_client(config, load_hospital_data(f"breast_cancer:0/{HOSPITALS}", config))
        with pytest.raises(DeployError, match=r"task 1 is audited: its members train the task's circuit step .* "
                                              r"give --data"):
            runner.participant(coordinator, task.federation.store, created.task_id, chain.accounts[1], task=config,
                               client=client, journal=tmp_path / "refused.json", stake=None)
        assert not coordinator.member(created.task_id, chain.accounts[1].address).joined
        assert not (tmp_path / "refused.json").exists()


def test_a_task_without_one_is_not_audited(tmp_path: Path) -> None:
    with connect("embedded") as chain:
        task = deploy_task(chain, tmp_path, parse_task(RAW_CONFIG))
        assert task.created.verifier is None
        assert isinstance(task.coordinator, Coordinator)
        assert not task.coordinator.audit_params(task.created.task_id).audited
