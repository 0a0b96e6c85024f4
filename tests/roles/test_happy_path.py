"""Several honest rounds finalize, and the anchored models are exactly the independent recomputation."""

from __future__ import annotations

import pytest
from tests.roles.conftest import NUM_CLIENTS, Federation, earned

from fedchain.aggregate.registry import rule_for
from fedchain.chain.coordinator import EntryState, TaskStatus
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.roles import Requester
from fedchain.storage import BlobHeader, blob_ref, decode_blob, encode_blob


def recompute_anchor(federation: Federation, round: int, previous_ref: bytes,
                     excluded: frozenset[str] = frozenset()) -> tuple[bytes, bytes]:
    """Root and blob reference of round ``round``'s model, rebuilt from raw blobs without fedchain.roles, over
    every reveal but those of ``excluded`` participants."""
    params = federation.coordinator.task_params(federation.task_id)
    previous = decode_blob(federation.store.get(previous_ref), ref=previous_ref)
    reveals = [reveal for reveal in federation.coordinator.reveals(federation.task_id, round)
               if reveal.participant not in excluded]
    updates = [decode_blob(federation.store.get(reveal.blob_ref), ref=reveal.blob_ref).vector for reveal in reveals]
    rule = rule_for(params.rule, sample_cap=params.sample_cap, server_lr_bps=params.server_lr_bps,
                    param=params.rule_param)
    model = rule.aggregate(previous.vector, updates, [reveal.sample_count for reveal in reveals])
    root = MerkleTree(model, LeafLayout(params.num_params, params.words_per_leaf)).root
    header = BlobHeader(kind="model", num_params=params.num_params, scale_bits=params.scale_bits,
                        words_per_leaf=params.words_per_leaf, root=root, shapes=previous.header.shapes)
    return root, blob_ref(encode_blob(header, model))


def test_rounds_finalize_with_the_independently_recomputed_model(federation: Federation) -> None:
    for client in range(NUM_CLIENTS):
        federation.add_participant(client)
    federation.add_aggregator(6)
    federation.add_watcher(7)
    initial_ref = federation.state().model_blob_ref

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    finalized = federation.coordinator.finalized_models(federation.task_id)
    assert [model.round for model in finalized] == [0, 1]
    previous_ref = initial_ref
    for model in finalized:
        assert len(federation.coordinator.reveals(federation.task_id, model.round)) == NUM_CLIENTS
        assert (model.root, model.blob_ref) == recompute_anchor(federation, model.round, previous_ref)
        previous_ref = model.blob_ref
    assert federation.state().model_blob_ref == previous_ref
    assert [evaluation.round for evaluation in federation.requester.evaluations] == [0, 1]
    assert all(not watcher.actions and not watcher.findings for watcher in federation.watchers)


def test_participants_claim_their_rewards_once(federation: Federation) -> None:
    for client in range(NUM_CLIENTS):
        federation.add_participant(client)
    federation.add_aggregator(6)
    balances = [federation.token.balance_of(p.address) for p in federation.participants]

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    federation.step_all()

    for participant, before in zip(federation.participants, balances, strict=True):
        assert federation.coordinator.claimable(federation.task_id, participant.address) == 0
        gained = federation.token.balance_of(participant.address) - before + federation.coordinator.member(
            federation.task_id, participant.address).stake
        assert gained > 0
        for round in (0, 1):
            state = federation.coordinator.entry_state(federation.task_id, round, participant.address)
            assert state == EntryState.EMPTY, "settled"
        claims = federation.coordinator.contract.events.RewardsClaimed().get_logs(
            from_block=0, argument_filters={"taskId": federation.task_id, "participant": participant.address})
        assert [int(log.args.amount) for log in claims] == [earned(federation, participant.address)], \
            "one claim pays every finalized round's reward"
    assert federation.state().owed_rewards < NUM_CLIENTS * 2  # only rounding dust can stay owed


def test_the_requester_publishes_each_models_metrics_once_and_a_restart_publishes_nothing_again(
        federation: Federation) -> None:
    for client in range(NUM_CLIENTS):
        federation.add_participant(client)
    federation.add_aggregator(6)
    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    federation.step_all()

    requester = federation.requester
    published = federation.coordinator.evaluations(federation.task_id)
    assert [(evaluation.round, evaluation.evaluator) for evaluation in published] == [
        (0, requester.address), (1, requester.address)]
    for evaluation, measured in zip(published, requester.evaluations, strict=True):
        assert evaluation.metrics["loss"] == pytest.approx(measured.loss)
        assert evaluation.metrics["accuracy"] == pytest.approx(float(measured.metrics["accuracy"]))
    assert requester.finished(), "every model evaluated and the pool withdrawn"
    assert federation.state().pool == 0

    restarted = Requester(federation.coordinator, federation.store, federation.task_id, requester.account,
                          evaluator=requester.evaluator)
    assert restarted.finished(), "the chain remembers what it published"
    restarted.step()
    assert len(federation.coordinator.evaluations(federation.task_id)) == 2 and not restarted.actions

    # another account with validation data may publish too; it withdraws no pool
    other = Requester(federation.coordinator, federation.store, federation.task_id,
                      federation.chain.accounts[9], evaluator=requester.evaluator)
    other.step()
    assert [evaluation.evaluator for evaluation in federation.coordinator.evaluations(federation.task_id)][2:] == [
        other.address, other.address]
    assert other.finished()
