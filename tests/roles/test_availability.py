"""Withheld data never wins (plain mode, docs/protocol.md section 11), played with the real agents: a withheld
proposal is disputed and rejected, a withheld update is forced into the open or dropped and slashed, an update
blob the store corrupted is put back by its owner, and in every case the federation finishes with the model an
independent recomputation gives."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from tests.roles.conftest import (
    BOND,
    DEPOSIT,
    FUNDS,
    STAKE,
    WINDOW,
    Federation,
    LosingStore,
    make_federation,
    task_template,
)
from tests.roles.test_happy_path import recompute_anchor

from fedchain.aggregate.fedavg import FedAvg
from fedchain.chain.coordinator import ChallengeStatus, EntryState, RoundPhase, RoundView, TaskStatus
from fedchain.commit.chunks import PostedTree
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.deploy.status import render, task_report
from fedchain.learn import FederatedSplit
from fedchain.roles import TamperingAggregator, WithholdingAggregator, WithholdingParticipant
from fedchain.roles.availability import answer_disputes
from fedchain.storage import (
    BlobHeader,
    BlobStore,
    LocalBlobStore,
    StorageError,
    blob_ref,
    decode_blob,
    encode_blob,
    ref_hex,
)

CHEAT, HONEST, WATCHER = 5, 6, 7
AGGREGATOR_SLASH = BOND * 5_000 // 10_000  # aggregatorSlashBps of the test task
AGGREGATOR_BOUNTY = AGGREGATOR_SLASH * 2_000 // 10_000  # bountyBps
MEMBER_SLASH = STAKE * 5_000 // 10_000  # violationSlashBps: what an unavailable input costs its owner
MEMBER_BOUNTY = MEMBER_SLASH * 2_000 // 10_000


def events(federation: Federation, name: str) -> list[Any]:
    return list(getattr(federation.coordinator.contract.events, name)().get_logs(
        from_block=0, argument_filters={"taskId": federation.task_id}))


def check_models(federation: Federation, excluded: dict[int, frozenset[str]], initial_ref: bytes) -> None:
    """Every finalized model is the independent recomputation over the round's reveals less ``excluded``."""
    previous_ref = initial_ref
    for model in federation.coordinator.finalized_models(federation.task_id):
        expected = recompute_anchor(federation, model.round, previous_ref, excluded.get(model.round, frozenset()))
        assert (model.root, model.blob_ref) == expected, f"round {model.round}"
        previous_ref = model.blob_ref


def test_a_withheld_wrong_proposal_is_disputed_rejected_and_never_anchored(federation: Federation) -> None:
    for client in range(3):
        federation.add_participant(client)
    cheat = federation.add_aggregator(CHEAT, WithholdingAggregator, rounds=frozenset({0}), coordinate=3, delta=7)
    honest = federation.add_aggregator(HONEST)
    watcher = federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    (proposal, *_) = federation.coordinator.proposals(federation.task_id, 0)
    assert proposal.aggregator == cheat.address and not federation.store.has(proposal.blob_ref)
    assert watcher.actions[:2] == [f"openDispute 0 {cheat.address}", f"settleDispute 0 unopened {cheat.address}"]
    (rejected,) = events(federation, "ProposalRejected")
    assert (rejected.args.aggregator, rejected.args.challenger) == (cheat.address, watcher.address)
    assert (rejected.args.slashed, rejected.args.bounty) == (AGGREGATOR_SLASH, AGGREGATOR_BOUNTY)
    assert rejected.args.leafIndex == 2**256 - 1  # the tree was never opened
    assert federation.coordinator.aggregator(federation.task_id, cheat.address).barred_round == 1
    assert honest.actions.count("propose 0") == 1
    anchored = [model.root for model in federation.coordinator.finalized_models(federation.task_id)]
    assert proposal.root not in anchored and len(anchored) == 2
    check_models(federation, {}, initial_ref)
    # the watcher got its bond back with the bounty
    assert federation.token.balance_of(watcher.address) == FUNDS + AGGREGATOR_BOUNTY


class BisectingCheat(WithholdingAggregator):
    """Proposes a tampered model it never stores, but answers every dispute level from memory: the dispute
    then opens a leaf, where the watcher proves the proposal wrong."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kept: dict[bytes, NDArray[np.int32]] = {}

    def propose_model(self, round: int, previous: NDArray[np.int32], updates: Any) -> NDArray[np.int32]:
        model = super().propose_model(round, previous, updates)
        self.kept[MerkleTree(model, self.rules.layout).root] = model
        return model

    def _answer_disputes(self, round: int, view: RoundView) -> None:
        tree = MerkleTree(self.kept[view.proposed_root], self.rules.layout)
        for challenger in answer_disputes(self.coordinator, self.task_id, round, view.proposals, tree,
                                          sender=self.account):
            self.log(f"answerDispute {round} {challenger}")


def test_a_dispute_answered_to_the_leaf_ends_in_a_fraud_proof_at_the_opened_leaf(federation: Federation) -> None:
    for client in range(3):
        federation.add_participant(client)
    coordinate = 50  # of the 62 parameters: leaf 6 of a depth-3 tree
    cheat = federation.add_aggregator(CHEAT, BisectingCheat, rounds=frozenset({0}), coordinate=coordinate, delta=-5)
    federation.add_aggregator(HONEST)
    watcher = federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref

    federation.run_rounds(1)

    depth = federation.coordinator.task_state(federation.task_id).depth
    leaf = coordinate // (8 * federation.params.words_per_leaf)
    disputes = [action for action in watcher.actions if action.split()[0] in ("openDispute", "chooseChild")]
    assert disputes[0] == f"openDispute 0 {cheat.address}" and len(disputes) == 1 + depth
    assert cheat.actions.count(f"answerDispute 0 {watcher.address}") == depth + 1  # depth nodes and the leaf
    assert f"challengeAggregate 0 {cheat.address} leaf {leaf}" in watcher.actions
    (rejected,) = events(federation, "ProposalRejected")
    assert rejected.args.leafIndex == leaf and rejected.args.challenger == watcher.address
    (settled,) = events(federation, "DisputeSettled")
    assert settled.args.outcome == 0 and settled.args.recipient == watcher.address  # moot: the bond came back
    check_models(federation, {}, initial_ref)
    assert federation.token.balance_of(watcher.address) == FUNDS + AGGREGATOR_BOUNTY


class Sybil(WithholdingParticipant):
    """The cheating aggregator's sybil: it withholds its update from everyone but its accomplice."""

    def __init__(self, *args: Any, accomplice_store: BlobStore, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accomplice_store = accomplice_store

    def store_for(self, round: int) -> BlobStore:
        return self.accomplice_store if round in self.withheld_rounds else self.store


class SharedStore:
    """What the accomplice aggregator reads: its private store, then the public one; it writes to the public."""

    def __init__(self, private: BlobStore, public: BlobStore) -> None:
        self.private, self.public = private, public

    def put(self, data: bytes) -> bytes:
        return self.public.put(data)

    def get(self, ref: bytes) -> bytes:
        try:
            return self.private.get(ref)
        except StorageError:
            return self.public.get(ref)

    def has(self, ref: bytes) -> bool:
        return self.private.has(ref) or self.public.has(ref)


def test_a_withheld_update_cannot_shield_a_wrong_aggregate(federation: Federation, tmp_path: Any) -> None:
    private = LocalBlobStore(tmp_path / "private")
    sybil = federation.add_participant(0, Sybil, rounds=frozenset({0}), accomplice_store=private)
    for client in (1, 2, 3):
        federation.add_participant(client)
    cheat = TamperingAggregator(federation.coordinator, SharedStore(private, federation.store), federation.task_id,
                                federation.account(CHEAT), rounds=frozenset({0}), coordinate=3, delta=7)
    federation.aggregators.append(cheat)
    federation.add_aggregator(HONEST)
    watcher = federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    assert watcher.actions[0] == f"challengeUpdate 0 {sybil.address}"
    assert f"dropUnavailable 0 {sybil.address}" in watcher.actions
    (unavailable,) = events(federation, "InputUnavailable")
    assert (unavailable.args.owner, unavailable.args.challenger) == (sybil.address, watcher.address)
    assert (unavailable.args.slashed, unavailable.args.bounty) == (MEMBER_SLASH, MEMBER_BOUNTY)
    # the cheat's first proposal, over the sybil's update, was voided without fault; its second was proven wrong
    (voided,) = events(federation, "ProposalVoided")
    assert voided.args.aggregator == cheat.address
    (rejected,) = events(federation, "ProposalRejected")
    assert rejected.args.aggregator == cheat.address and rejected.args.challenger == watcher.address
    assert federation.coordinator.round_view(federation.task_id, 0).included == 3
    assert federation.coordinator.member(federation.task_id, sybil.address).stake == STAKE - MEMBER_SLASH
    check_models(federation, {0: frozenset({sybil.address})}, initial_ref)
    # the sybil earned nothing for round 0; the watcher got its bonds back with both bounties
    assert federation.token.balance_of(watcher.address) == FUNDS + MEMBER_BOUNTY + AGGREGATOR_BOUNTY


def test_one_withholding_member_does_not_stall_the_round(federation: Federation,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    withholder = federation.add_participant(0, WithholdingParticipant, rounds=frozenset({0}))
    for client in (1, 2):
        federation.add_participant(client)
    aggregator = federation.add_aggregator(HONEST)
    watcher = federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref

    with caplog.at_level(logging.INFO, logger="fedchain.roles"):
        federation.run_until(lambda: bool(federation.coordinator.challenges_opened(federation.task_id, 0)))
        for _ in range(5):
            federation.step_all()  # the aggregator keeps waiting for the withheld update
    report = task_report(federation.coordinator, federation.task_id)  # `fedchain status` shows the challenge
    (challenge,) = report.challenges
    assert (challenge.owner, challenge.challenger, challenge.status) == (withholder.address, watcher.address, "OPEN")
    assert challenge.deadline == federation.chain.now() + WINDOW and challenge.chunks_posted == 0
    assert f"challenge   input of {withholder.address} by {watcher.address}: open, 0 of 1 chunks on chain, " \
           f"deadline {challenge.deadline} (in {WINDOW} s)" in render(report)

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    waits = [entry.getMessage() for entry in caplog.records if vars(entry).get("address") == aggregator.address
             and vars(entry).get("event") == "input_unavailable"]
    assert len(waits) == 1, "said once for the round and owner, not at every poll"
    assert waits[0].startswith(f"aggregator {aggregator.address} round 0: cannot use the update of "
                               f"{withholder.address} (")
    assert [model.round for model in federation.coordinator.finalized_models(federation.task_id)] == [0, 1]
    assert not events(federation, "RoundFailed")
    assert watcher.actions[:2] == [f"challengeUpdate 0 {withholder.address}", f"dropUnavailable 0 {withholder.address}"]
    check_models(federation, {0: frozenset({withholder.address})}, initial_ref)
    assert federation.coordinator.member(federation.task_id, withholder.address).stake == STAKE - MEMBER_SLASH \
        or not federation.coordinator.member(federation.task_id, withholder.address).joined


def test_an_honest_member_whose_blob_was_lost_answers_the_challenge_from_its_journal(federation: Federation) -> None:
    lost = federation.add_participant(0)
    for client in (1, 2):
        federation.add_participant(client)
    federation.add_aggregator(HONEST)
    watcher = federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref
    federation.run_until(lambda: federation.coordinator.round_view(federation.task_id, 0).commits == 3)
    (record,) = [lost.journal.commit_record(0)]
    assert record is not None
    assert isinstance(federation.store, LocalBlobStore)
    federation.store.path_for(record.blob_ref).unlink()  # the store lost the blob, and cannot keep it again
    lost.store = LosingStore(federation.store, {record.blob_ref})

    federation.run_rounds(1)

    assert watcher.actions[0] == f"challengeUpdate 0 {lost.address}"
    assert any(action.startswith("postChunk 0") for action in lost.actions)
    challenge = federation.coordinator.input_challenge(federation.task_id, 0, lost.address)
    assert challenge.status == ChallengeStatus.RESOLVED and challenge.chunks_posted == challenge.chunks
    assert federation.coordinator.entry_state(federation.task_id, 0, lost.address) != EntryState.DROPPED
    assert not events(federation, "InputUnavailable")
    (model,) = federation.coordinator.finalized_models(federation.task_id)
    assert federation.coordinator.round_view(federation.task_id, 0).included == 3
    # the chunks on chain are the update: the model is FedAvg over all three, and the honest member lost
    # nothing (it was paid the challenger's bond for posting)
    reveals = federation.coordinator.reveals(federation.task_id, 0)
    posted = [chunk.chunk for chunk in federation.coordinator.posted_chunks(federation.task_id, 0, lost.address)]
    assert len(posted) == challenge.chunks and reveals
    assert federation.coordinator.member(federation.task_id, lost.address).stake == STAKE
    assert federation.token.balance_of(watcher.address) == FUNDS - DEPOSIT
    assert (model.root, model.blob_ref) == recompute_anchor_from_chain(federation, initial_ref)


def test_a_member_whose_blob_is_corrupt_in_the_store_republishes_it_and_nobody_is_challenged(
        federation: Federation, caplog: pytest.LogCaptureFixture) -> None:
    member = federation.add_participant(0)
    for client in (1, 2):
        federation.add_participant(client)
    aggregator = federation.add_aggregator(HONEST)
    federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref
    federation.run_until(lambda: federation.coordinator.entry_state(
        federation.task_id, 0, member.address) == EntryState.REVEALED)
    (record,) = [member.journal.commit_record(0)]
    assert record is not None and isinstance(federation.store, LocalBlobStore)
    blob = federation.store.path_for(record.blob_ref)
    blob.write_bytes(bytes(len(blob.read_bytes())))  # mid-round, the store's copy is corrupted (same size)

    with caplog.at_level(logging.INFO, logger="fedchain.roles"):
        federation.run_rounds(1)

    assert "republish 0" in member.actions and federation.store.get(record.blob_ref)
    (damaged,) = [entry for entry in caplog.records if vars(entry).get("event") == "input_damaged"]
    assert damaged.getMessage().startswith(f"participant {member.address} round 0: its update blob "
                                           f"{ref_hex(record.blob_ref)} is unusable in the store (blob ")
    assert "is corrupt" in damaged.getMessage() and damaged.getMessage().endswith("republishing it from the journal")
    assert not federation.coordinator.challenges_opened(federation.task_id, 0), "nobody had to challenge it"
    assert federation.coordinator.round_view(federation.task_id, 0).included == 3
    assert [model.round for model in federation.coordinator.finalized_models(federation.task_id)] == [0]
    check_models(federation, {}, initial_ref)
    assert not [entry for entry in caplog.records if entry.levelno >= logging.WARNING
                and vars(entry).get("address") == aggregator.address]


def recompute_anchor_from_chain(federation: Federation, initial_ref: bytes) -> tuple[bytes, bytes]:
    """Round 0's model over every reveal, the lost update read back from its posted chunks."""
    params = federation.coordinator.task_params(federation.task_id)
    layout = LeafLayout(params.num_params, params.words_per_leaf)
    previous = decode_blob(federation.store.get(initial_ref), ref=initial_ref)
    vectors, counts = [], []
    for reveal in federation.coordinator.reveals(federation.task_id, 0):
        if federation.store.has(reveal.blob_ref):
            vectors.append(decode_blob(federation.store.get(reveal.blob_ref), ref=reveal.blob_ref).vector)
        else:
            chunks = [posted.chunk for posted in federation.coordinator.posted_chunks(federation.task_id, 0,
                                                                                      reveal.participant)]
            vectors.append(PostedTree(reveal.root, layout, chunks).vector)
        counts.append(reveal.sample_count)
    model = FedAvg(params.sample_cap, params.server_lr_bps).aggregate(previous.vector, vectors, counts)
    root = MerkleTree(model, layout).root
    header = BlobHeader(kind="model", num_params=params.num_params, scale_bits=params.scale_bits,
                        words_per_leaf=params.words_per_leaf, root=root, shapes=previous.header.shapes)
    return root, blob_ref(encode_blob(header, model))



def test_a_watcher_answers_a_griefers_challenge_of_an_offline_honest_member(federation: Federation) -> None:
    offline = federation.add_participant(0)
    for client in (1, 2):
        federation.add_participant(client)
    federation.add_aggregator(HONEST)
    watcher = federation.add_watcher(WATCHER)
    griefer = federation.account(8)
    initial_ref = federation.state().model_blob_ref
    federation.run_until(lambda: federation.phase() == RoundPhase.PROPOSE)  # the reveal deadline has passed
    federation.participants.remove(offline)  # its process is gone; its update blob is in the store
    (reveal,) = [reveal for reveal in federation.coordinator.reveals(federation.task_id, 0)
                 if reveal.participant == offline.address]
    federation.token.approve(federation.coordinator.address, DEPOSIT, sender=griefer)
    federation.coordinator.challenge_update(federation.task_id, offline.address, reveal.root, reveal.weight,
                                            sender=griefer)

    federation.run_rounds(1)

    assert f"postChunk 0 {offline.address} x1" in watcher.actions
    assert federation.coordinator.input_challenge(federation.task_id, 0, offline.address).status \
        == ChallengeStatus.RESOLVED
    assert not events(federation, "InputUnavailable")
    assert federation.coordinator.member(federation.task_id, offline.address).stake == STAKE, "not slashed"
    assert federation.token.balance_of(watcher.address) == FUNDS + DEPOSIT, "paid the griefer's bond"
    assert federation.token.balance_of(griefer.address) == FUNDS - DEPOSIT
    check_models(federation, {}, initial_ref)


@pytest.fixture
def short_availability(tmp_path: Path, breast_cancer_clients: FederatedSplit) -> Iterator[Federation]:
    """A one-round task whose availability window (10 s) is far shorter than its reveal window."""
    yield from make_federation(tmp_path, breast_cancer_clients, replace(task_template(1), availability_window=10))


def test_a_challenge_in_the_reveal_window_is_answered_before_a_short_deadline(short_availability: Federation) -> None:
    """A member challenged right after its reveal answers within the short window, from its journal (its blob is
    gone from the store, so nobody else can)."""
    federation = short_availability
    member = federation.add_participant(0)
    for client in (1, 2):
        federation.add_participant(client)
    federation.add_aggregator(HONEST)
    federation.add_watcher(WATCHER)
    griefer = federation.account(8)
    federation.run_until(lambda: federation.coordinator.entry_state(
        federation.task_id, 0, member.address) == EntryState.REVEALED)
    (reveal,) = [reveal for reveal in federation.coordinator.reveals(federation.task_id, 0)
                 if reveal.participant == member.address]
    assert isinstance(federation.store, LocalBlobStore)
    federation.store.path_for(reveal.blob_ref).unlink()
    federation.token.approve(federation.coordinator.address, DEPOSIT, sender=griefer)
    federation.coordinator.challenge_update(federation.task_id, member.address, reveal.root, reveal.weight,
                                            sender=griefer)
    assert federation.phase() == RoundPhase.REVEAL

    federation.step_all()

    challenge = federation.coordinator.input_challenge(federation.task_id, 0, member.address)
    assert challenge.status == ChallengeStatus.RESOLVED and federation.chain.now() < challenge.deadline
    assert member.actions[-1] == "postChunk 0 x1"
    federation.run_rounds(1)
    assert federation.coordinator.member(federation.task_id, member.address).stake == STAKE
    assert [model.round for model in federation.coordinator.finalized_models(federation.task_id)] == [0]
