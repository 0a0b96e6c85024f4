"""Secure rounds on the embedded chain with real training: the anchored models are exactly the plain FedAvg of
the same updates, no stored blob holds an update in the clear, and every party settles at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.roles.conftest import NUM_CLIENTS, Federation, make_federation, secure_task_template
from tests.roles.secure_checks import check_anchor, record_updates, uploaders

from fedchain.chain.coordinator import EntryState, TaskStatus
from fedchain.learn import FederatedSplit
from fedchain.roles import SecureParticipant
from fedchain.secagg.masking import masked_halves, weighted_update
from fedchain.storage import decode_blob

ROUNDS = 2
AGGREGATOR, WATCHER = 6, 7


@pytest.fixture
def two_round_federation(tmp_path: Path, breast_cancer_clients: FederatedSplit) -> Iterator[Federation]:
    """A two-round secure task, nobody joined yet."""
    yield from make_federation(tmp_path, breast_cancer_clients, secure_task_template(ROUNDS))


def test_secure_rounds_anchor_exactly_the_plain_fedavg_of_the_same_updates(two_round_federation: Federation) -> None:
    federation = two_round_federation
    participants = [federation.add_participant(client) for client in range(NUM_CLIENTS)]
    trained = {participant.address: record_updates(participant) for participant in participants}
    aggregator = federation.add_aggregator(AGGREGATOR)
    watcher = federation.add_watcher(WATCHER)
    coordinator, task_id = federation.coordinator, federation.task_id
    previous_ref = federation.state().model_blob_ref

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    assert [model.round for model in coordinator.finalized_models(task_id)] == list(range(ROUNDS))
    for round in range(ROUNDS):
        assert sorted(uploaders(federation, round)) == sorted(trained)
        previous_ref = check_anchor(federation, round, previous_ref, trained)
        announced = coordinator.contract.events.UnmaskBundlePublished().get_logs(
            from_block=0, argument_filters={"taskId": task_id, "round": round})
        assert len(announced) == NUM_CLIENTS
        assert all(isinstance(p, SecureParticipant) and f"publishUnmaskBundle:{round}" in p.actions
                   for p in participants)
    assert aggregator.actions.count("postBond") == 1
    assert [action for action in aggregator.actions if action.startswith("propose")] == ["propose 0", "propose 1"]
    assert not watcher.actions and not watcher.findings
    assert [evaluation.round for evaluation in federation.requester.evaluations] == list(range(ROUNDS))


def test_no_stored_blob_holds_an_update_in_the_clear(secure_federation: Federation, tmp_path: Path) -> None:
    federation = secure_federation
    participants = [federation.add_participant(client) for client in range(NUM_CLIENTS)]
    trained = {participant.address: record_updates(participant) for participant in participants}
    federation.add_aggregator(AGGREGATOR)

    federation.run_rounds(1)

    clip, weights = federation.params.clip, {log.args.participant: int(log.args.weight) for log in
                                             federation.coordinator.contract.events.SharesCommitted().get_logs(
                                                 from_block=0, argument_filters={"taskId": federation.task_id})}
    secrets = []
    for address, rounds in trained.items():
        update = rounds[0][0]
        secrets += [update.astype("<i4").tobytes(), update.astype(">i4").tobytes(),
                    masked_halves(weighted_update(update, weights[address], clip)).astype("<i4").tobytes()]
    kinds = []
    for path in (tmp_path / "blobs").rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        assert not any(secret in data for secret in secrets), f"{path} holds an update in the clear"
        if data.startswith(b"FCB1"):
            kinds.append(decode_blob(data).header.kind)
    assert sorted(set(kinds)) == ["masked", "model"] and kinds.count("masked") == NUM_CLIENTS


def test_after_the_task_every_party_settles_and_no_tokens_stay_behind(two_round_federation: Federation) -> None:
    federation = two_round_federation
    coordinator, token, task_id = federation.coordinator, federation.token, federation.task_id
    participants = [federation.add_participant(client) for client in range(3)]
    aggregator = federation.add_aggregator(AGGREGATOR)
    balances = {p.address: token.balance_of(p.address) for p in participants}

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    federation.step_all()  # the first step after the end settles everything

    finalized = {int(log.args.round): int(log.args.rewardPerWeight) for log in
                 coordinator.contract.events.RoundFinalized().get_logs(from_block=0,
                                                                       argument_filters={"taskId": task_id})}
    for participant in participants:
        commitments = coordinator.contract.events.SharesCommitted().get_logs(
            from_block=0, argument_filters={"taskId": task_id, "participant": participant.address})
        earned = sum(int(log.args.weight) * finalized[int(log.args.round)] for log in commitments)
        claims = coordinator.contract.events.RewardsClaimed().get_logs(
            from_block=0, argument_filters={"taskId": task_id, "participant": participant.address})
        assert [int(log.args.amount) for log in claims] == [earned] and earned > 0, "one claim pays every round"
        assert token.balance_of(participant.address) == balances[participant.address] + earned
        assert participant.finished()
        for round in range(ROUNDS):
            assert coordinator.entry_state(task_id, round, participant.address) == EntryState.EMPTY
    assert aggregator.finished() and {"claimFees", "withdrawBond"} <= set(aggregator.actions)
    state = federation.state()
    assert state.pool == 0
    assert token.balance_of(coordinator.address) == state.owed_rewards < 3 * ROUNDS, "rounding dust only"
    for participant in participants:
        assert participant.journal.round_secrets(ROUNDS - 1) is None, "no secret outlives the task"
        assert participant.journal.trained_update(ROUNDS - 1) is None
