"""Members drop out of a secure round at each phase, on chain: the round still finalizes with the exact
aggregate of the survivors, or, when the survivors cannot be unmasked, it is failed cleanly."""

from __future__ import annotations

from typing import Any

import pytest
from tests.roles.conftest import NUM_CLIENTS, STAKE, Federation
from tests.roles.secure_checks import check_anchor, record_updates, uploaders

from fedchain.chain.coordinator import RoundStatus, TaskStatus
from fedchain.roles import DroppingParticipant, SecureStep
from fedchain.secagg.curve import public_key

AGGREGATOR, WATCHER = 6, 7
MISSED_UPLOAD_SLASH = STAKE * 1_000 // 10_000  # missedRevealSlashBps of the test task
BOUNTY = MISSED_UPLOAD_SLASH * 2_000 // 10_000


def events(federation: Federation, name: str) -> list[Any]:
    handle = getattr(federation.coordinator.contract.events, name)()
    return list(handle.get_logs(from_block=0, argument_filters={"taskId": federation.task_id}))


@pytest.mark.parametrize("before", list(SecureStep), ids=lambda step: f"before-{step.name.lower()}")
def test_a_round_with_one_dropout_finalizes_with_the_survivors_exact_aggregate(
        secure_federation: Federation, before: SecureStep) -> None:
    federation = secure_federation
    dropper = federation.add_participant(0, DroppingParticipant, rounds=frozenset({0}), before=before)
    participants = [dropper, *(federation.add_participant(client) for client in range(1, NUM_CLIENTS))]
    trained = {participant.address: record_updates(participant) for participant in participants}
    federation.add_aggregator(AGGREGATOR)
    watcher = federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    federation.step_all()

    check_anchor(federation, 0, initial_ref, trained)
    survivors = uploaders(federation, 0)
    published = [log.args.participant for log in events(federation, "UnmaskBundlePublished")]
    assert dropper.address not in published
    (transcript,) = [tuple(log.args.transcript) for log in events(federation, "TranscriptProposed")]
    stake = federation.coordinator.member(federation.task_id, dropper.address).stake
    withdrawn = sum(int(log.args.amount) for log in events(federation, "StakeWithdrawn")
                    if log.args.member == dropper.address)
    if before == SecureStep.COMMIT:
        assert dropper.address not in survivors and len(transcript) == NUM_CLIENTS - 1
        # sitting in the cohort without committing costs the missed-input slash (the round had more than t
        # commitments, so every advertised member could have shared its secrets)
        assert watcher.actions == [f"slashMissedReveal 0 {dropper.address}"], "slashed once, with the bounty"
        (slash,) = events(federation, "MissedRevealSlashed")
        assert (slash.args.slashed, slash.args.bounty) == (MISSED_UPLOAD_SLASH, BOUNTY)
        assert stake + withdrawn == STAKE - MISSED_UPLOAD_SLASH
    elif before == SecureStep.UPLOAD:
        assert dropper.address not in survivors and len(transcript) == NUM_CLIENTS
        (advert,) = [log for log in events(federation, "Advertised") if log.args.participant == dropper.address]
        revealed = int.from_bytes(transcript[-1], "big")  # the only dropped member, last
        assert public_key(revealed) == (advert.args.pkX, advert.args.pkY), "its mask key, rebuilt from its neighbours"
        assert watcher.actions == [f"slashMissedReveal 0 {dropper.address}"], "slashed once, with the bounty"
        (slash,) = events(federation, "MissedRevealSlashed")
        assert (slash.args.slashed, slash.args.bounty) == (MISSED_UPLOAD_SLASH, BOUNTY)
        assert stake + withdrawn == STAKE - MISSED_UPLOAD_SLASH
    else:
        assert dropper.address in survivors, "its self seed was rebuilt from its neighbours' shares"
        assert len(transcript) == NUM_CLIENTS and not watcher.actions and stake + withdrawn == STAKE


def test_a_round_whose_survivors_cannot_be_unmasked_fails_and_releases_no_shares(
        secure_federation: Federation) -> None:
    federation = secure_federation
    droppers = [federation.add_participant(client, DroppingParticipant, rounds=frozenset({0}),
                                           before=SecureStep.UPLOAD) for client in (0, 1)]
    for client in (2, 3):
        federation.add_participant(client)
    aggregator = federation.add_aggregator(AGGREGATOR)
    watcher = federation.add_watcher(WATCHER)
    initial_root = federation.state().model_root

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    federation.step_all()

    assert federation.coordinator.round_view(federation.task_id, 0).status == RoundStatus.FAILED
    assert aggregator.actions == ["postBond", "failRound 0", "withdrawBond"]
    assert not events(federation, "UnmaskBundlePublished"), "each survivor keeps one surviving neighbour < t"
    assert not events(federation, "Proposed") and federation.state().model_root == initial_root
    assert sorted(watcher.actions) == sorted(f"slashMissedReveal 0 {dropper.address}" for dropper in droppers)


def test_a_round_whose_secrets_cannot_be_rebuilt_stalls_and_is_failed(secure_federation: Federation) -> None:
    federation = secure_federation
    for client in range(NUM_CLIENTS - 1):
        federation.add_participant(client, DroppingParticipant, rounds=frozenset({0}), before=SecureStep.UNMASK)
    federation.add_participant(NUM_CLIENTS - 1)
    aggregator = federation.add_aggregator(AGGREGATOR)
    watcher = federation.add_watcher(WATCHER)
    initial_root = federation.state().model_root

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    assert len(uploaders(federation, 0)) == NUM_CLIENTS and len(events(federation, "UnmaskBundlePublished")) == 1
    assert not events(federation, "Proposed"), "one holder's shares cannot rebuild the others' seeds (t = 2)"
    assert "failRound 0" in aggregator.actions and "reopenAggregation 0" in aggregator.actions
    assert federation.coordinator.round_view(federation.task_id, 0).status == RoundStatus.FAILED
    assert federation.state().model_root == initial_root
    assert not watcher.actions, "everybody uploaded: nobody is slashed"
