"""`fedchain claim`: collect everything a task owes one account, from the chain alone (no journal needed).

- every reward booked to the account, and that of its last reveal if the round finalized (one transaction);
- aggregator fees;
- once the task has ended: the stake, the bond, and for the requester what is left of the pool.

While the task runs, stakes and bonds stay locked (they are withdrawn with an unbonding delay, or freely
after the end); a participant or aggregator process settles the same way by itself when the task ends.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import CoordinatorClient, TaskStatus, Token


def claim_all(coordinator: CoordinatorClient, task_id: int, account: LocalAccount) -> list[str]:
    """Claim and withdraw what ``account`` is owed by task ``task_id``; return the actions taken (amounts in whole
    tokens)."""
    address = account.address
    state = coordinator.task_state(task_id)
    decimals = Token(coordinator.chain, coordinator.task_params(task_id).token).decimals()
    actions: list[str] = []
    rewards = coordinator.claimable(task_id, address)
    if rewards > 0:
        coordinator.claim_rewards(task_id, sender=account)
        actions.append(f"claimRewards {whole_tokens(rewards, decimals)} tokens")
    if coordinator.fees_of(task_id, address) > 0:
        coordinator.claim_fees(task_id, sender=account)
        actions.append("claimFees")
    if state.status == TaskStatus.RUNNING:
        return actions
    if coordinator.member(task_id, address).joined:
        coordinator.withdraw_stake(task_id, sender=account)
        actions.append("withdrawStake")
    if coordinator.aggregator(task_id, address).bonded:
        coordinator.withdraw_bond(task_id, sender=account)
        actions.append("withdrawBond")
    pool = coordinator.task_state(task_id).pool
    if state.requester == address and pool > 0:
        coordinator.withdraw_pool(task_id, sender=account)
        actions.append(f"withdrawPool {whole_tokens(pool, decimals)} tokens")
    return actions
