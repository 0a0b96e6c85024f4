"""The typed FedCoordinator client: structs round-trip, phases and deadlines read back, reverts are named."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fedchain.chain import Chain, ContractRevertError
from fedchain.chain.coordinator import Coordinator, EntryState, RoundPhase, TaskParams, TaskStatus, Token
from fedchain.commit.commitment import commit_hash

WINDOW = 50


def params(token: str) -> TaskParams:
    return TaskParams(
        commit_window=WINDOW, reveal_window=WINDOW, propose_window=WINDOW, challenge_window=WINDOW, cohort_cap=4,
        min_participants=1, sample_cap=100, num_rounds=2, max_silent_rounds=2, token=token, mode=0, rule=0,
        scale_bits=8, words_per_leaf=1, clip=100, num_params=20, server_lr_bps=10_000, unbonding_delay=10,
        allowlist=False, missed_reveal_slash_bps=1_000, silence_slash_bps=100, violation_slash_bps=1_000,
        aggregator_slash_bps=1_000, bounty_bps=1_000, aggregator_fee_bps=100, min_stake=10, aggregator_bond=10,
        reward_per_round=1_000, availability_window=WINDOW, availability_bond=5,
        model_spec_hash=b"\x07" * 32,
    )


def test_a_task_is_created_and_read_back_and_its_first_member_opens_round_zero(embedded_chain: Chain) -> None:
    requester, member = embedded_chain.accounts[:2]
    coordinator = Coordinator.deploy(embedded_chain)
    token = Token.deploy_dev(embedded_chain)
    token.mint(requester.address, 10**6, sender=requester)
    token.approve(coordinator.address, 2_000, sender=requester)
    token.mint(member.address, 10**6, sender=requester)
    token.approve(coordinator.address, 10**6, sender=member)
    task_params = params(token.address)

    task_id = coordinator.create_task(task_params, b"\x01" * 32, b"\x02" * 32, sender=requester)

    assert task_id == 1
    assert coordinator.task_params(task_id) == task_params
    state = coordinator.task_state(task_id)
    assert (state.status, state.pool, state.current_round, state.model_root, state.members) == (
        TaskStatus.RUNNING, 2_000, 0, b"\x01" * 32, 0)
    assert state.created_at == embedded_chain.now()
    waiting = coordinator.round_view(task_id, 0)
    assert (waiting.phase, waiting.start, waiting.commit_end) == (RoundPhase.NOT_OPEN, 0, 0)
    with pytest.raises(ContractRevertError) as early:
        coordinator.commit(task_id, b"\x09" * 32, sender=member)
    assert early.value.error.name == "WaitingForMembers"
    assert early.value.error.args == (0, 1)

    coordinator.join(task_id, 10, sender=member)
    assert coordinator.task_state(task_id).members == 1
    view = coordinator.round_view(task_id, 0)
    assert view.phase == RoundPhase.COMMIT
    assert view.start == embedded_chain.now()
    assert view.reveal_end - view.commit_end == WINDOW
    assert coordinator.entry_state(task_id, 0, member.address) == EntryState.EMPTY
    assert any(record.kind == "createTask" for record in embedded_chain.gas_records)


def test_commit_and_reveal_show_up_in_views_and_events(embedded_chain: Chain) -> None:
    requester, member = embedded_chain.accounts[:2]
    coordinator = Coordinator.deploy(embedded_chain)
    token = Token.deploy_dev(embedded_chain)
    for account in (requester, member):
        token.mint(account.address, 10**6, sender=requester)
        token.approve(coordinator.address, 10**6, sender=account)
    task_id = coordinator.create_task(params(token.address), b"\x01" * 32, b"\x02" * 32, sender=requester)
    coordinator.join(task_id, 10, sender=member)
    root, salt = b"\x05" * 32, b"\x06" * 32
    digest = commit_hash(chain_id=embedded_chain.chain_id, coordinator=coordinator.address, task_id=task_id, round=0,
                         participant=member.address, root=root, sample_count=300, salt=salt)
    assert coordinator.commitment_of(task_id, 0, member.address, root, 300, salt) == digest

    coordinator.commit(task_id, digest, sender=member)
    embedded_chain.advance_to(coordinator.round_view(task_id, 0).commit_end)
    coordinator.reveal(task_id, root, 300, salt, b"\x08" * 32, sender=member)

    assert coordinator.committers(task_id, 0) == [member.address]
    (reveal,) = coordinator.reveals(task_id, 0)
    assert (reveal.participant, reveal.root, reveal.sample_count, reveal.weight) == (member.address, root, 300, 100)
    assert coordinator.entry_state(task_id, 0, member.address) == EntryState.REVEALED
    assert coordinator.member(task_id, member.address).last_commit_round == 1


def test_reverts_name_the_solidity_error(embedded_chain: Chain) -> None:
    requester, outsider = embedded_chain.accounts[:2]
    coordinator = Coordinator.deploy(embedded_chain)
    token = Token.deploy_dev(embedded_chain)
    token.mint(requester.address, 10**6, sender=requester)
    token.approve(coordinator.address, 10**6, sender=requester)
    with pytest.raises(ContractRevertError) as bad_params:
        coordinator.create_task(replace(params(token.address), clip=0), b"\x01" * 32, b"\x02" * 32, sender=requester)
    assert bad_params.value.error.name == "InvalidTaskParameter"
    task_id = coordinator.create_task(params(token.address), b"\x01" * 32, b"\x02" * 32, sender=requester)
    coordinator.join(task_id, 10, sender=requester)  # opens round 0 (min_participants 1)
    with pytest.raises(ContractRevertError) as not_member:
        coordinator.commit(task_id, b"\x09" * 32, sender=outsider)
    assert not_member.value.error.name == "NotMember"


def test_evaluations_of_finalized_rounds_are_published_and_read_back_by_evaluator(embedded_chain: Chain) -> None:
    requester, member, aggregator, stranger = embedded_chain.accounts[:4]
    coordinator = Coordinator.deploy(embedded_chain)
    token = Token.deploy_dev(embedded_chain)
    for account in (requester, member, aggregator):
        token.mint(account.address, 10**6, sender=requester)
        token.approve(coordinator.address, 10**6, sender=account)
    task_id = coordinator.create_task(params(token.address), b"\x01" * 32, b"\x02" * 32, sender=requester)
    with pytest.raises(ContractRevertError) as not_finalized:
        coordinator.publish_evaluation(task_id, 0, {"accuracy": 0.5}, sender=requester)
    assert not_finalized.value.error.name == "WrongRoundState"

    coordinator.join(task_id, 10, sender=member)
    coordinator.post_bond(task_id, 10, sender=aggregator)
    root, salt = b"\x05" * 32, b"\x06" * 32
    coordinator.commit(task_id, coordinator.commitment_of(task_id, 0, member.address, root, 30, salt), sender=member)
    embedded_chain.advance_to(coordinator.round_view(task_id, 0).commit_end)
    coordinator.reveal(task_id, root, 30, salt, b"\x08" * 32, sender=member)
    embedded_chain.advance_to(coordinator.round_view(task_id, 0).propose_start)
    coordinator.propose(task_id, b"\x0a" * 32, b"\x0b" * 32, sender=aggregator)
    embedded_chain.advance_to(coordinator.round_view(task_id, 0).challenge_end)
    coordinator.finalize(task_id, sender=aggregator)

    coordinator.publish_evaluation(task_id, 0, {"loss": 0.25, "accuracy": 0.875}, sender=requester)
    call = coordinator.contract.functions.publishEvaluation(task_id, 0, "not json")
    embedded_chain.send(call, kind="publishEvaluation", sender=stranger)  # anyone may publish; readers skip it
    (evaluation,) = coordinator.evaluations(task_id)
    assert (evaluation.round, evaluation.evaluator, evaluation.metrics) == (
        0, requester.address, {"accuracy": 0.875, "loss": 0.25})
