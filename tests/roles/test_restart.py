"""Agents killed at each crash point and rebuilt (a fresh object, the same journal file) carry on from chain
state: no double commit, no lost reveal, no claim twice, no stuck stake, no second proposal.

A crash is :class:`Crash`, raised at the point under test; it derives from BaseException so no handler in
the code under test can swallow it, and nothing after it runs, as when a process is SIGKILLed there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.roles.conftest import FUNDS, MODEL, STAKE, TRAINING, Federation, earned, task_template

from fedchain.chain import ChainConnectionError, ContractRevertError, DecodedError, connect
from fedchain.chain.coordinator import EntryState, RoundPhase, TaskStatus
from fedchain.learn import FederatedSplit, TorchTrainer, initial_parameters
from fedchain.roles import Aggregator, Participant, TamperingAggregator
from fedchain.storage import LocalBlobStore


class Crash(BaseException):
    """The process dies here."""


def crash_before(original: Callable[..., Any]) -> Callable[..., Any]:
    """``original`` replaced by a crash: the call never happens."""
    def crashed(*args: Any, **kwargs: Any) -> Any:
        raise Crash(original.__name__)
    return crashed


def crash_after(original: Callable[..., Any]) -> Callable[..., Any]:
    """``original`` runs to completion, then the process dies before the caller sees the result."""
    def crashed(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise Crash(original.__name__)
    return crashed


def restart(federation: Federation, dead: Participant) -> Participant:
    """A new participant object for ``dead``'s hospital: same account and journal file, fresh client."""
    federation.participants.remove(dead)
    return federation.add_participant(int(dead.journal.path.stem) - 1)  # journals are named by dev account


def join(federation: Federation, hospital: int) -> None:
    """Hospital ``hospital`` joins the task without an agent (round 0 opens once two members have joined)."""
    member = federation.account(hospital + 1)
    federation.token.approve(federation.coordinator.address, STAKE, sender=member)
    federation.coordinator.join(federation.task_id, STAKE, sender=member)


def committed(federation: Federation, round: int, participant: Participant) -> int:
    """How many Committed events ``participant`` has in ``round``."""
    return federation.coordinator.committers(federation.task_id, round).count(participant.address)


def test_a_crash_after_uploading_before_journaling_the_commitment_reuses_the_trained_update_and_commits_once(
        federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    join(federation, 1)
    doomed = federation.add_participant(0)
    monkeypatch.setattr(doomed.journal, "record_commit", crash_before(doomed.journal.record_commit))
    with pytest.raises(Crash):
        doomed.step()
    assert doomed.journal.commit_record(0) is None
    trained = doomed.journal.trained_update(0)
    assert trained is not None, "the update is journaled before it is uploaded"

    reborn = restart(federation, doomed)
    reborn.step()

    assert reborn.actions == ["prepared round 0", "commit:0"]
    assert reborn.journal.trained_update(0) == trained, "the journaled update, not a second one"
    assert committed(federation, 0, reborn) == 1


def test_a_crash_after_journaling_before_committing_commits_the_journaled_update(
        federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    join(federation, 1)
    doomed = federation.add_participant(0)
    with monkeypatch.context() as patch:
        patch.setattr(federation.coordinator, "commit", crash_before(federation.coordinator.commit))
        with pytest.raises(Crash):
            doomed.step()
    journaled = doomed.journal.commit_record(0)
    assert journaled is not None and committed(federation, 0, doomed) == 0

    reborn = restart(federation, doomed)
    reborn.step()

    assert reborn.actions == ["commit:0"], "no second training: the journaled update is committed"
    expected = federation.coordinator.commitment_of(federation.task_id, 0, reborn.address, journaled.root,
                                                    journaled.sample_count, journaled.salt)
    assert federation.coordinator.entry_state(federation.task_id, 0, reborn.address) == EntryState.COMMITTED
    assert federation.coordinator.member(federation.task_id, reborn.address).entry == \
        (int.from_bytes(expected, "big") & ~7).to_bytes(32, "big")


def test_a_send_that_fails_before_broadcast_leaves_nothing_that_blocks_the_next_step(
        federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    join(federation, 1)
    participant = federation.add_participant(0)

    def window_closed(*args: Any, **kwargs: Any) -> Any:
        raise ContractRevertError("commit", DecodedError("OutsideWindow", (0, 1)))

    with monkeypatch.context() as patch:
        patch.setattr(federation.coordinator, "commit", window_closed)
        with pytest.raises(ContractRevertError):
            participant.step()
    participant.step()

    assert participant.actions[-1] == "commit:0"
    assert committed(federation, 0, participant) == 1


def test_a_crash_after_the_commit_was_mined_reveals_from_the_journal_and_never_commits_again(
        federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    join(federation, 1)
    doomed = federation.add_participant(0)
    federation.add_participant(1)
    federation.add_aggregator(6)
    with monkeypatch.context() as patch:
        patch.setattr(federation.coordinator, "commit", crash_after(federation.coordinator.commit))
        with pytest.raises(Crash):
            doomed.step()
    record = doomed.journal.commit_record(0)
    assert record is not None and committed(federation, 0, doomed) == 1

    reborn = restart(federation, doomed)
    federation.run_until(lambda: federation.phase() == RoundPhase.PROPOSE)

    assert reborn.actions == ["reveal:0"]
    (reveal,) = [r for r in federation.coordinator.reveals(federation.task_id, 0) if r.participant == reborn.address]
    assert (reveal.root, reveal.blob_ref) == (record.root, record.blob_ref)


def test_a_crash_after_a_claim_was_mined_neither_claims_twice_nor_keeps_the_stake(
        federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    doomed = federation.add_participant(0)
    federation.add_participant(1)
    federation.add_aggregator(6)
    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    with monkeypatch.context() as patch:
        patch.setattr(federation.coordinator, "claim_rewards", crash_after(federation.coordinator.claim_rewards))
        with pytest.raises(Crash):
            doomed.step()
    balance = federation.token.balance_of(doomed.address)
    stake = federation.coordinator.member(federation.task_id, doomed.address).stake

    reborn = restart(federation, doomed)
    federation.step_all()

    claims = federation.coordinator.contract.events.RewardsClaimed().get_logs(
        from_block=0, argument_filters={"taskId": federation.task_id, "participant": reborn.address})
    assert [int(log.args.amount) for log in claims] == [earned(federation, reborn.address)], \
        "claimed exactly once, everything"
    assert reborn.actions == ["withdrawStake"]
    assert federation.token.balance_of(reborn.address) == balance + stake
    assert reborn.finished() and not federation.coordinator.member(federation.task_id, reborn.address).joined


def test_an_aggregator_killed_between_upload_and_proposal_proposes_once_when_restarted(
        federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    for client in (0, 1):
        federation.add_participant(client)
    doomed = federation.add_aggregator(6)
    federation.run_until(lambda: federation.phase() == RoundPhase.PROPOSE)
    with monkeypatch.context() as patch:
        patch.setattr(federation.coordinator, "propose", crash_before(federation.coordinator.propose))
        with pytest.raises(Crash):
            doomed.step()
    federation.aggregators.remove(doomed)

    reborn = federation.add_aggregator(6)
    federation.run_rounds(1)

    (proposal,) = federation.coordinator.proposals(federation.task_id, 0)
    (model,) = federation.coordinator.finalized_models(federation.task_id)
    assert proposal.aggregator == reborn.address and model.root == proposal.root
    assert reborn.actions == ["propose 0", "finalize 0"]


def test_a_challenge_that_failed_to_go_out_is_sent_at_the_next_step(
        federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    for client in (0, 1):
        federation.add_participant(client)
    cheat = federation.add_aggregator(5, TamperingAggregator, rounds=frozenset({0}), coordinate=3, delta=7)
    watcher = federation.add_watcher(7)
    federation.watchers.remove(watcher)
    federation.run_until(lambda: federation.phase() == RoundPhase.CHALLENGE)

    def node_down(*args: Any, **kwargs: Any) -> Any:
        raise ChainConnectionError("the chain at http://node stopped answering")

    with monkeypatch.context() as patch:
        patch.setattr(federation.coordinator, "challenge_aggregate", node_down)
        with pytest.raises(ChainConnectionError):
            watcher.step()
    watcher.step()

    assert watcher.actions == [f"challengeAggregate 0 {cheat.address} leaf 0"]
    assert not federation.coordinator.round_view(federation.task_id, 0).has_proposal


# -- a transaction still in flight at the crash (anvil: its pending pool is visible) -------------------


@pytest.fixture
def anvil_federation(tmp_path: Path, breast_cancer_clients: FederatedSplit) -> Iterator[Federation]:
    """The test task on a local anvil node."""
    split = breast_cancer_clients
    with connect("anvil") as chain:
        yield Federation.launch(
            chain, LocalBlobStore(tmp_path / "blobs"), tmp_path / "journals", template=task_template(1),
            parameters=initial_parameters(MODEL, seed=0), funds=FUNDS,
            client_for=lambda client: TorchTrainer.from_spec(MODEL, init_seed=0, train_data=split.clients[client],
                                                              config=TRAINING))


@pytest.mark.anvil
def test_agents_restarted_while_their_transaction_is_pending_wait_for_it_and_never_send_twice(
        anvil_federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    federation = anvil_federation
    chain = federation.chain
    for hospital in (0, 1):  # round 0 opens
        join(federation, hospital)
    participant = federation.add_participant(0)  # dev account 1
    aggregator = federation.add_aggregator(6)
    chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    with monkeypatch.context() as patch:
        patch.setattr(chain, "wait_for_receipt", crash_before(chain.wait_for_receipt))
        with pytest.raises(Crash):
            participant.step()  # the commit is sent, then the process dies
        with pytest.raises(Crash):
            aggregator.step()  # the bond approval is sent, then the process dies
    federation.participants.clear()
    federation.aggregators.clear()
    reborn = federation.add_participant(0)
    standby = federation.add_aggregator(6, Aggregator, standby=True)

    for _ in range(2):
        reborn.step()
        standby.step()
    assert reborn.actions == [] and standby.actions == [], "both wait for their pending transactions"
    mined, sent = chain.transaction_counts(reborn.address)
    assert sent == mined + 1

    chain.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    reborn.step()
    standby.step()

    assert committed(federation, 0, reborn) == 1 and reborn.actions == []
    assert standby.actions == ["postBond"]
    bond = federation.coordinator.aggregator(federation.task_id, standby.address).bond
    assert bond == federation.params.aggregator_bond
    assert reborn.journal.commit_record(0) is not None
