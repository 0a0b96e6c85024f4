"""Withheld data never wins (secure mode, docs/protocol.md section 11), played with the real agents: a withheld
masked vector is challenged in the availability phase and dropped (its owner counts as a dropout and is
slashed), a withheld wrong proposal is disputed and rejected, an honest member whose masked vector the store lost
for good answers from its journal, and one whose blob vanished once republishes it; each round's anchored model is
plain FedAvg over its survivors."""

from __future__ import annotations

from typing import Any

from tests.roles.conftest import BOND, FUNDS, NUM_CLIENTS, STAKE, Federation, LosingStore
from tests.roles.secure_checks import check_anchor, record_updates, uploaders

from fedchain.chain.coordinator import ChallengeStatus, TaskStatus
from fedchain.roles import SecureWithholdingAggregator, WithholdingSecureParticipant
from fedchain.storage import LocalBlobStore

CHEAT, HONEST, WATCHER = 5, 6, 7
AGGREGATOR_SLASH = BOND * 5_000 // 10_000
AGGREGATOR_BOUNTY = AGGREGATOR_SLASH * 2_000 // 10_000
MEMBER_SLASH = STAKE * 5_000 // 10_000
MEMBER_BOUNTY = MEMBER_SLASH * 2_000 // 10_000


def events(federation: Federation, name: str) -> list[Any]:
    return list(getattr(federation.coordinator.contract.events, name)().get_logs(
        from_block=0, argument_filters={"taskId": federation.task_id}))


def test_a_withheld_masked_vector_is_challenged_dropped_and_slashed_and_the_round_finalizes(
        secure_federation: Federation) -> None:
    federation = secure_federation
    withholder = federation.add_participant(0, WithholdingSecureParticipant, rounds=frozenset({0}))
    participants = [withholder, *(federation.add_participant(client) for client in range(1, NUM_CLIENTS))]
    trained = {participant.address: record_updates(participant) for participant in participants}
    federation.add_aggregator(HONEST)
    watcher = federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    assert watcher.actions[:2] == [f"challengeMaskedVector 0 {withholder.address}",
                                   f"dropUnavailable 0 {withholder.address}"]
    (unavailable,) = events(federation, "InputUnavailable")
    assert (unavailable.args.slashed, unavailable.args.bounty) == (MEMBER_SLASH, MEMBER_BOUNTY)
    assert withholder.address not in uploaders(federation, 0)
    (transcript,) = [tuple(log.args.transcript) for log in events(federation, "TranscriptProposed")]
    assert len(transcript) == NUM_CLIENTS, "three self seeds and the withholder's mask key, as for a dropout"
    check_anchor(federation, 0, initial_ref, trained)
    assert federation.token.balance_of(watcher.address) == FUNDS + MEMBER_BOUNTY


def test_a_withheld_wrong_secure_proposal_is_disputed_and_rejected(secure_federation: Federation) -> None:
    federation = secure_federation
    participants = [federation.add_participant(client) for client in range(NUM_CLIENTS)]
    trained = {participant.address: record_updates(participant) for participant in participants}
    cheat = federation.add_aggregator(CHEAT, SecureWithholdingAggregator, rounds=frozenset({0}), coordinate=20,
                                      delta=-3)
    honest = federation.add_aggregator(HONEST)
    watcher = federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    assert watcher.actions[:2] == [f"openDispute 0 {cheat.address}", f"settleDispute 0 unopened {cheat.address}"]
    (rejected,) = events(federation, "ProposalRejected")
    assert (rejected.args.aggregator, rejected.args.slashed) == (cheat.address, AGGREGATOR_SLASH)
    assert honest.actions.count("propose 0") == 1
    check_anchor(federation, 0, initial_ref, trained)
    assert federation.token.balance_of(watcher.address) == FUNDS + AGGREGATOR_BOUNTY


def test_an_honest_member_whose_masked_vector_was_lost_posts_it_from_its_journal(
        secure_federation: Federation) -> None:
    federation = secure_federation
    participants = [federation.add_participant(client) for client in range(NUM_CLIENTS)]
    trained = {participant.address: record_updates(participant) for participant in participants}
    federation.add_aggregator(HONEST)
    watcher = federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref
    lost = participants[0]
    federation.run_until(lambda: bool(federation.coordinator.uploads(federation.task_id, 0)))
    federation.run_until(lambda: lost.address in uploaders(federation, 0))
    (upload,) = [upload for upload in federation.coordinator.uploads(federation.task_id, 0)
                 if upload.participant == lost.address]
    assert isinstance(federation.store, LocalBlobStore)
    federation.store.path_for(upload.blob_ref).unlink()  # the store lost the blob, and cannot keep it again
    lost.store = LosingStore(federation.store, {upload.blob_ref})

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    federation.step_all()  # everybody settles

    assert watcher.actions[0] == f"challengeMaskedVector 0 {lost.address}"
    assert any(action.startswith("postChunk 0") for action in lost.actions)
    challenge = federation.coordinator.input_challenge(federation.task_id, 0, lost.address)
    assert challenge.status == ChallengeStatus.RESOLVED
    assert lost.address in uploaders(federation, 0) and not events(federation, "InputUnavailable")
    check_anchor(federation, 0, initial_ref, trained)
    assert federation.coordinator.member(federation.task_id, lost.address).joined is False  # settled, unslashed
    withdrawn = [log.args.amount for log in events(federation, "StakeWithdrawn") if log.args.member == lost.address]
    assert withdrawn == [STAKE]


def test_a_member_whose_masked_vector_vanished_from_the_store_republishes_it_and_nobody_is_challenged(
        secure_federation: Federation) -> None:
    federation = secure_federation
    participants = [federation.add_participant(client) for client in range(NUM_CLIENTS)]
    trained = {participant.address: record_updates(participant) for participant in participants}
    federation.add_aggregator(HONEST)
    federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref
    member = participants[0]
    federation.run_until(lambda: member.address in uploaders(federation, 0))
    (upload,) = [upload for upload in federation.coordinator.uploads(federation.task_id, 0)
                 if upload.participant == member.address]
    assert isinstance(federation.store, LocalBlobStore)
    federation.store.path_for(upload.blob_ref).unlink()  # mid-round, the store loses the blob

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    assert "republish 0" in member.actions and federation.store.get(upload.blob_ref)
    assert not federation.coordinator.challenges_opened(federation.task_id, 0), "nobody had to challenge it"
    assert sorted(uploaders(federation, 0)) == sorted(participant.address for participant in participants)
    check_anchor(federation, 0, initial_ref, trained)
