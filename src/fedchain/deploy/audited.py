"""A hospital's own process on an audited task (docs/protocol.md section 13): what `fedchain participant run --data`
checks and builds before it stakes anything.

An audited member does not train with a client's ``fit``: it trains the task's step circuit on its prepared data
(:class:`fedchain.roles.audit.AuditedParticipant`) and proves the steps the chain draws. So before the join:

- the task file must be the task's: an ``[audit]`` table exactly when the chain's task is audited, with the chain's
  audit rules (steps, batch size, rates, window, bond);
- the data must be the built-in trainer's (``--data``, prepared as the task's ``[data]`` declares), fit the circuit
  (binary labels, the model's features) and make at least one whole batch of ``audit.batch_size`` rows;
- the circuit the task file gives (its keys set up, or read from ``$FEDCHAIN_ZK_CACHE``, by the project's own
  code; nothing downloads) must be the one the task's verifier was built from: the runtime code deployed at the
  task's verifier address must be the code of the verifier compiled from this circuit's verifying key, so a
  hospital whose circuit (learning rate, scale, logit bound, batch, features) or keys (another SRS) differ is
  refused rather than staked and slashed for proofs the chain cannot accept;
- a restarted member (its dataset already registered) must prepare the same dataset from its journaled seed: the
  registered root is recomputed, and a different one (other data, a lost journal) is refused.

The zk extra (ezkl, onnx) is imported only here, only for an audited task.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from web3 import Web3

from fedchain.chain.coordinator import Coordinator, Token
from fedchain.deploy.errors import DeployError
from fedchain.roles import Journal, RoleError
from fedchain.roles.audit import AuditedData, AuditedParticipant
from fedchain.task import TaskSpec, TaskSpecError, audit_params, audit_step

if TYPE_CHECKING:
    from fedchain.learn import TabularDataset
    from fedchain.zk.fixed.logreg import LogRegStep
    from fedchain.zk.proof.artifacts import CircuitArtifacts

SEED_PROBE = bytes(32)
"""A seed used only to check that the data fits the circuit (the member's real seed is drawn and journaled later)."""


def check_audit_table(coordinator: Coordinator, task_id: int, task: TaskSpec) -> bool:
    """Whether task ``task_id`` is audited; the task file must have an ``[audit]`` table exactly then, with the
    chain's audit rules."""
    onchain = coordinator.audit_params(task_id)
    if not onchain.audited:
        if task.audit is not None:
            raise DeployError(f"the task file has an [audit] table, but task {task_id} is not audited: use the task's "
                              "own file")
        return False
    if task.audit is None:
        raise DeployError(f"task {task_id} is audited (docs/protocol.md section 13), but the task file has no [audit] "
                          "table: use the task's own file")
    decimals = Token(coordinator.chain, coordinator.task_params(task_id).token).decimals()
    expected = audit_params(task, verifier=onchain.verifier, decimals=decimals)
    assert expected is not None  # the task file has an [audit] table
    differing = [f"{field.name} {getattr(expected, field.name)} (chain: {getattr(onchain, field.name)})"
                 for field in fields(onchain) if getattr(expected, field.name) != getattr(onchain, field.name)]
    if differing:
        raise DeployError(f"the task file's [audit] table is not task {task_id}'s: {', '.join(differing)}; use the "
                          "task's own file")
    return True


def audited_options(coordinator: Coordinator, task_id: int, task: TaskSpec,
                    data: TabularDataset | None) -> dict[str, Any]:
    """The keyword arguments of the :class:`AuditedParticipant` of audited task ``task_id`` training on ``data``
    (the hospital's prepared training data), every check of the module docstring passed; a `DeployError` names
    what does not fit."""
    if data is None:
        raise DeployError(f"task {task_id} is audited: its members train the task's circuit step on their own "
                          "prepared data and prove it, which only the built-in trainer does; give --data (a CSV file "
                          "or NAME:I/N), not --client or --app")
    try:
        step = audit_step(task, data.num_features)
    except TaskSpecError as error:
        raise DeployError(str(error)) from None
    assert step is not None  # the task file has an [audit] table (check_audit_table)
    try:
        probe = AuditedData.prepare(step, data.features, data.labels, SEED_PROBE)
    except RoleError as error:
        raise DeployError(f"the training data ({data.name}) does not fit task {task_id}'s step circuit: {error}") \
            from None
    if probe.batches < 1:  # prepare refuses this already; kept as a clear error
        raise DeployError(f"the training data ({data.name}) makes no whole batch of {step.batch} rows")
    artifacts = _checked_circuit(coordinator, task_id, step)
    return {"step": step, "features": data.features, "labels": data.labels, "artifacts": artifacts}


def _checked_circuit(coordinator: Coordinator, task_id: int, step: LogRegStep) -> CircuitArtifacts:
    """The step circuit's proving artifacts (set up once, cached), after checking that the task's verifier is the
    verifier of exactly this circuit and these keys."""
    from fedchain.zk.errors import ZkError  # noqa: PLC0415 (the zk extra: ezkl, onnx)
    from fedchain.zk.evm.solidity import compiled_verifier  # noqa: PLC0415
    from fedchain.zk.proof.artifacts import circuit_artifacts  # noqa: PLC0415

    verifier = coordinator.audit_params(task_id).verifier
    try:
        artifacts = circuit_artifacts(step)
        compiled = compiled_verifier(artifacts)
    except ZkError as error:
        raise DeployError(f"audit: setting up the step circuit's keys failed: {error}") from None
    deployed = bytes(coordinator.chain.w3.eth.get_code(Web3.to_checksum_address(verifier)))
    circuit = (f"{step.features} features, batches of {step.batch}, learning rate {step.learning_rate}, scale "
               f"2^-{step.scale}, logit bound {step.logit_bound}")
    if not deployed:
        raise DeployError(f"task {task_id}'s verifier {verifier} has no code on this chain")
    if compiled.reusable or len(deployed) != compiled.runtime_size or deployed not in compiled.bytecode:
        raise DeployError(f"task {task_id}'s verifier {verifier} was not built from this hospital's step circuit "
                          f"({circuit}, keys under {artifacts.folder}): its proofs would be refused and its stake "
                          "slashed; use the task's own file and the same SRS as the task's creator (a locally "
                          "generated SRS is for testing only, docs/deployment.md)")
    return artifacts


def check_audited_member(agent: AuditedParticipant, task_id: int, journal: Journal) -> None:
    """The chain's audit rules fit the agent's circuit, and a member whose dataset is registered prepares the same
    dataset again from its journaled seed."""
    try:
        agent.audit  # noqa: B018 (the check: the circuit's parameters, scale and batch are the chain's)
    except RoleError as error:
        raise DeployError(str(error)) from None
    registered = agent.coordinator.dataset_of(task_id, agent.address)
    if registered.batches == 0:
        return
    seed = journal.dataset_seed()
    if seed is None:
        raise DeployError(f"{agent.address} registered a dataset in task {task_id}, but the journal {journal.path} "
                          "holds no dataset seed: without it no audited step can be proven; use the member's own "
                          "journal")
    data = agent.data  # prepared from the journaled seed
    if (data.root, data.batches) != (registered.root, registered.batches):
        raise DeployError(f"{agent.address} registered dataset root 0x{registered.root.hex()} ({registered.batches} "
                          f"batches) in task {task_id}, but --data with the journal's seed gives 0x{data.root.hex()} "
                          f"({data.batches} batches): use the data it registered")
