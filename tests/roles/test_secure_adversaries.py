"""A wrong secure proposal, whether its model or its unmasking transcript is wrong, is found by the watcher from
public data, proven on chain at one leaf, and slashed; the honest aggregator's proposal then finalizes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.roles.conftest import BOND, NUM_CLIENTS, Federation
from tests.roles.secure_checks import check_anchor, record_updates

from fedchain.roles import DroppingParticipant, SecureAggregator, SecureStep, SecureTamperingAggregator

CHEAT, HONEST, WATCHER = 5, 6, 7
SLASHED = BOND * 5_000 // 10_000  # aggregatorSlashBps of the test task
BOUNTY = SLASHED * 2_000 // 10_000


def rejections(federation: Federation) -> list[Any]:
    return list(federation.coordinator.contract.events.ProposalRejected().get_logs(
        from_block=0, argument_filters={"taskId": federation.task_id}))


def test_a_tampered_model_is_proven_wrong_even_with_a_dropped_member_and_the_honest_one_finalizes(
        secure_federation: Federation) -> None:
    federation = secure_federation
    dropper = federation.add_participant(0, DroppingParticipant, rounds=frozenset({0}), before=SecureStep.UPLOAD)
    participants = [dropper, *(federation.add_participant(client) for client in range(1, NUM_CLIENTS))]
    trained = {participant.address: record_updates(participant) for participant in participants}
    cheat = federation.add_aggregator(CHEAT, SecureTamperingAggregator, rounds=frozenset({0}), coordinate=20,
                                      delta=-3)
    honest = federation.add_aggregator(HONEST)
    watcher = federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref

    federation.run_rounds(1)

    leaf = 20 // (8 * federation.params.words_per_leaf)
    # the dropper is slashed from the upload deadline on, and its forfeited entry still binds its record
    assert watcher.actions[:2] == [f"slashMissedReveal 0 {dropper.address}",
                                   f"challengeAggregate 0 {cheat.address} leaf {leaf}"]
    (rejected,) = rejections(federation)
    assert (rejected.args.aggregator, rejected.args.challenger) == (cheat.address, watcher.address)
    assert (rejected.args.slashed, rejected.args.bounty) == (SLASHED, BOUNTY)
    assert federation.coordinator.aggregator(federation.task_id, cheat.address).barred_round == 1
    assert honest.actions.count("propose 0") == 1 and cheat.actions.count("propose 0") == 1
    check_anchor(federation, 0, initial_ref, trained)
    (proof_gas,) = [record.gas_used for record in federation.chain.gas_records if record.kind == "challengeAggregate"]
    assert proof_gas > 100_000


class TranscriptForger(SecureAggregator):
    """Proposes the right model with a wrong transcript: the first survivor's self seed plus one (it wraps the
    federation's shared client, so only its own proposals are forged)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        coordinator = self.coordinator
        propose = coordinator.propose

        def forged(task_id: int, root: bytes, blob_ref: bytes, transcript: Sequence[bytes], **options: Any) -> Any:
            if options["sender"] is self.account:
                first = (int.from_bytes(transcript[0], "big") + 1).to_bytes(32, "big")
                transcript = [first, *transcript[1:]]
            return propose(task_id, root, blob_ref, transcript, **options)

        coordinator.propose = forged  # type: ignore[method-assign]


def test_a_wrong_transcript_is_proven_wrong_and_slashed(secure_federation: Federation) -> None:
    federation = secure_federation
    participants = [federation.add_participant(client) for client in range(3)]
    trained = {participant.address: record_updates(participant) for participant in participants}
    forger = federation.add_aggregator(CHEAT, TranscriptForger)
    federation.add_aggregator(HONEST)
    watcher = federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref

    federation.run_rounds(1)

    assert watcher.actions == [f"challengeAggregate 0 {forger.address} leaf 0"]
    (rejected,) = rejections(federation)
    assert rejected.args.aggregator == forger.address and rejected.args.slashed == SLASHED
    transcripts = federation.coordinator.contract.events.TranscriptProposed().get_logs(
        from_block=0, argument_filters={"taskId": federation.task_id})
    forged, honest = (tuple(log.args.transcript) for log in transcripts)
    assert forged[1:] == honest[1:] and forged[0] != honest[0]
    check_anchor(federation, 0, initial_ref, trained)
