"""`fedchain task create`: a task from a configuration file, funded and (for an allowlist) its members approved,
on a coordinator of the configuration's mode."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from fedchain.chain.coordinator import CoordinatorClient, Token
from fedchain.deploy.amounts import whole_tokens
from fedchain.deploy.errors import DeployError
from fedchain.deploy.task_config import TaskConfig
from fedchain.learn import initial_parameters, model_parameter_names, seeded_model
from fedchain.roles import Requester
from fedchain.storage import BlobStore


@dataclass(frozen=True)
class CreatedTask:
    """What `task create` reports."""

    task_id: int
    num_params: int
    model_root: str
    model_blob_ref: str
    escrow: int
    token: str


def create_task(coordinator: CoordinatorClient, store: BlobStore, account: LocalAccount, config: TaskConfig,
                token: Token) -> CreatedTask:
    """Upload the initial model ``config`` describes, fund the escrow from ``account`` and create the task."""
    if config.mode != coordinator.MODE:
        wanted, kind = config.mode.label, coordinator.MODE.label
        raise DeployError(f"the task configuration has mode = \"{wanted}\", but coordinator {coordinator.address} "
                          f"is a {coordinator.CONTRACT}, which takes {kind} tasks only: deploy one with "
                          f"`fedchain deploy --mode {wanted}`, or set mode = \"{kind}\"")
    params = config.task_params(token.address, token.decimals())
    escrow = params.num_rounds * params.reward_per_round
    balance = token.balance_of(account.address)
    if balance < escrow:
        decimals = token.decimals()
        raise DeployError(f"the escrow is {whole_tokens(escrow, decimals)} tokens (rounds x task.reward_per_round) "
                          f"but {account.address} holds {whole_tokens(balance, decimals)}")
    names = model_parameter_names(seeded_model(config.model, config.seed))
    requester = Requester.create_task(coordinator, store, account, template=params,
                                      parameters=initial_parameters(config.model, seed=config.seed), names=names)
    if config.rules.members:
        coordinator.approve_members(requester.task_id, config.rules.members, sender=account)
    state = coordinator.task_state(requester.task_id)
    return CreatedTask(task_id=requester.task_id, num_params=coordinator.task_params(requester.task_id).num_params,
                       model_root="0x" + state.model_root.hex(), model_blob_ref="0x" + state.model_blob_ref.hex(),
                       escrow=escrow, token=token.address)
