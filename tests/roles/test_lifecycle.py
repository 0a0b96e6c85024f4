"""The end of a task: every party settles and the coordinator keeps nobody's tokens; silent members and
stalled tasks are dealt with by the watcher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.roles.conftest import FUNDS, NUM_CLIENTS, STAKE, Federation, make_federation, task_template

from fedchain.chain.coordinator import TaskStatus
from fedchain.learn import FederatedSplit

ROUNDS = 5  # one more than the task's maxSilentRounds (3) + 1, so silence becomes slashable
ABSENT = 5  # dev account of a member who joins and is never heard from again
AGGREGATOR = 6
WATCHER = 7


@pytest.fixture
def long_federation(tmp_path: Path, breast_cancer_clients: FederatedSplit) -> Iterator[Federation]:
    """A five-round task, nobody joined yet."""
    yield from make_federation(tmp_path, breast_cancer_clients, task_template(ROUNDS))


def test_after_the_task_every_party_settles_and_no_tokens_stay_behind(long_federation: Federation) -> None:
    federation = long_federation
    coordinator, token, task_id = federation.coordinator, federation.token, federation.task_id
    for client in range(NUM_CLIENTS):
        federation.add_participant(client)
    aggregator = federation.add_aggregator(AGGREGATOR)
    watcher = federation.add_watcher(WATCHER)
    absent = federation.account(ABSENT)
    token.approve(coordinator.address, STAKE, sender=absent)
    coordinator.join(task_id, STAKE, sender=absent)

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    federation.step_all()  # the first step after the end settles everything

    silenced = [action for action in watcher.actions if action.startswith("slashSilence")]
    assert silenced == [f"slashSilence {absent.address}"]
    absent_stake = coordinator.member(task_id, absent.address).stake
    assert absent_stake == STAKE - STAKE * 500 // 10_000  # silenceSlashBps of the test task
    for participant in federation.participants:
        assert not coordinator.member(task_id, participant.address).joined, "stake withdrawn"
        assert "withdrawStake" in participant.actions
    assert coordinator.fees_of(task_id, aggregator.address) == 0
    assert not coordinator.aggregator(task_id, aggregator.address).bonded
    assert {"claimFees", "withdrawBond"} <= set(aggregator.actions)
    state = federation.state()
    assert state.pool == 0
    # Only the absent member's own (slashed) stake and rounding dust of owed rewards remain.
    assert token.balance_of(coordinator.address) == absent_stake + state.owed_rewards
    assert state.owed_rewards < NUM_CLIENTS * ROUNDS

    coordinator.withdraw_stake(task_id, sender=absent)
    parties = [federation.account(index).address for index in range(WATCHER + 1)]
    total = sum(token.balance_of(address) for address in parties)
    assert total + token.balance_of(coordinator.address) == len(parties) * FUNDS, "no token created or lost"
    assert token.balance_of(coordinator.address) == state.owed_rewards


def test_a_stalled_task_is_ended_by_the_watcher_and_the_requester_recovers_the_escrow(
        federation: Federation) -> None:
    requester = federation.requester.address
    before = federation.token.balance_of(requester)
    escrow = federation.state().pool
    federation.add_watcher(WATCHER)  # nobody joins and no aggregator fails the empty round

    federation.run_until(lambda: federation.state().status == TaskStatus.ABANDONED)
    federation.step_all()

    assert federation.watchers[0].actions == ["endIdleTask"]
    assert federation.state().pool == 0
    assert federation.token.balance_of(requester) == before + escrow
    assert federation.token.balance_of(federation.coordinator.address) == 0
