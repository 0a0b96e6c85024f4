"""`fedchain task create`: a task from a task file (scored with its ``[scoring]`` table; audited with its ``[audit]``
table, the verifier of its step circuit deployed first), funded and (for an allowlist) its members approved, on a
coordinator of the task's mode; its initial model blob carries the task's preprocessing (its ``[data]``), which the
model-spec hash pins on chain."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from torch import nn

from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import CoordinatorClient, Token
from fedchain.chain.modes import MODES
from fedchain.deploy.data import deployment_preprocessing
from fedchain.deploy.errors import DeployError
from fedchain.learn import LearnError, model_parameter_names, seeded_model
from fedchain.roles import Requester
from fedchain.storage import BlobStore
from fedchain.task import TaskSpec, audit_params, audit_step, data_spec, scoring_params, task_params
from fedchain.task.learning import model_spec


@dataclass(frozen=True)
class CreatedTask:
    """What `task create` reports (``escrow`` in base units of a token with ``decimals``)."""

    task_id: int
    num_params: int
    model_root: str
    model_blob_ref: str
    escrow: int
    decimals: int
    token: str
    verifier: str | None = None
    """An audited task's verifier of its step circuit (None without ``[audit]``)."""


def initial_model(spec: TaskSpec) -> nn.Module:
    """The task's initial model, after the checks that need no chain: its preprocessing is fixed, and its model
    (built in, registered, or imported) builds from the task's seed."""
    deployment_preprocessing(spec)
    try:
        return seeded_model(model_spec(spec), spec.seed)
    except LearnError as error:
        raise DeployError(f"model.name: {error}") from None


def create_task(coordinator: CoordinatorClient, store: BlobStore, account: LocalAccount, spec: TaskSpec,
                token: Token, model: nn.Module) -> CreatedTask:
    """Upload ``model`` (``spec``'s :func:`initial_model`, built before any chain is reached) with the task's
    preprocessing in its blob's header, fund the escrow from ``account`` and create the task.

    Everything that can be checked before a transaction is: the mode against the coordinator's, the rules, then
    the escrow balance.
    """
    if MODES[spec.mode] != coordinator.MODE:
        wanted, kind = spec.mode, coordinator.MODE.label
        raise DeployError(f"the task file has mode = \"{wanted}\", but coordinator {coordinator.address} "
                          f"is a {coordinator.CONTRACT}, which takes {kind} tasks only: deploy one with "
                          f"`fedchain deploy --mode {wanted}`, or set mode = \"{kind}\"")
    decimals = token.decimals()
    params = task_params(spec, token=token.address, decimals=decimals)
    escrow = params.num_rounds * params.reward_per_round
    balance = token.balance_of(account.address)
    if balance < escrow:
        raise DeployError(f"the escrow is {whole_tokens(escrow, decimals)} tokens (rounds x task.reward_per_round) "
                          f"but {account.address} holds {whole_tokens(balance, decimals)}")
    parameters = [tensor.detach().cpu().numpy().copy() for tensor in model.state_dict().values()]
    verifier = deploy_step_verifier(coordinator, spec)
    requester = Requester.create_task(coordinator, store, account, template=params, parameters=parameters,
                                      names=model_parameter_names(model), data=data_spec(spec.data),
                                      scoring=scoring_params(spec, params, decimals=decimals),
                                      audits=None if verifier is None else audit_params(spec, verifier=verifier,
                                                                                        decimals=decimals))
    if spec.task.members:
        coordinator.approve_members(requester.task_id, list(spec.task.members), sender=account)
    state = coordinator.task_state(requester.task_id)
    return CreatedTask(task_id=requester.task_id, num_params=coordinator.task_params(requester.task_id).num_params,
                       model_root="0x" + state.model_root.hex(), model_blob_ref="0x" + state.model_blob_ref.hex(),
                       escrow=escrow, decimals=decimals, token=token.address, verifier=verifier)


def deploy_step_verifier(coordinator: CoordinatorClient, spec: TaskSpec) -> str | None:
    """An audited task's verifier (None without ``[audit]``): the step circuit's keys set up (or read from
    ``$FEDCHAIN_ZK_CACHE``; the SRS generated locally, for testing only: docs/architecture.md says what a
    consortium must use instead), its Solidity verifier compiled offline and deployed by the coordinator's chain's
    sender; its address."""
    step = audit_step(spec, model_spec(spec).in_features)
    if step is None:
        return None
    # the zk extra (ezkl, onnx), imported only for an audited task
    from fedchain.zk.evm.onchain import deploy_verifier  # noqa: PLC0415
    from fedchain.zk.evm.solidity import compiled_verifier  # noqa: PLC0415
    from fedchain.zk.proof.artifacts import circuit_artifacts  # noqa: PLC0415

    compiled = compiled_verifier(circuit_artifacts(step))
    if compiled.reusable:
        raise DeployError(f"audit: the step circuit's verifier ({compiled.runtime_size} bytes) is over EIP-170's limit "
                          "and the coordinator calls only a verifier of its own: lower audit.batch_size or "
                          "task.scale_bits")
    return str(deploy_verifier(coordinator.chain, compiled).contract.address)
