"""Cheating aggregators (under every aggregation rule) and participants are caught, proven and slashed; the task
goes on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from tests.roles.conftest import BOND, STAKE, Federation, make_federation, task_template
from tests.roles.test_happy_path import recompute_anchor

from fedchain.chain.coordinator import EntryState, RoundPhase
from fedchain.learn import FederatedSplit
from fedchain.roles import OutOfRangeParticipant, SilentParticipant, TamperingAggregator


@pytest.mark.parametrize(("rule", "rule_param"), [(0, 0), (1, 0), (2, 2_500)],
                         ids=["fedavg", "median", "trimmed_mean"])
def test_a_tampered_aggregate_is_challenged_and_an_honest_one_finalizes(
        tmp_path: Path, breast_cancer_clients: FederatedSplit, rule: int, rule_param: int) -> None:
    """Under every aggregation rule (docs/protocol.md section 4): the watcher proves the wrong leaf, the cheat's bond
    is slashed and the honest aggregate, recomputed independently under the task's rule, finalizes."""
    template = replace(task_template(2), rule=rule, rule_param=rule_param)
    federations = make_federation(tmp_path, breast_cancer_clients, template)
    federation = next(federations)
    try:
        for client in range(4):
            federation.add_participant(client)
        cheat = federation.add_aggregator(5, TamperingAggregator, rounds=frozenset({0}), coordinate=3, delta=7)
        honest = federation.add_aggregator(6)
        watcher = federation.add_watcher(7)
        initial_ref = federation.state().model_blob_ref

        federation.run_rounds(1)

        assert cheat.actions.count("propose 0") == 1 and honest.actions.count("propose 0") == 1
        assert watcher.actions == ["challengeAggregate 0 " + cheat.address + " leaf 0"]
        record = federation.coordinator.aggregator(federation.task_id, cheat.address)
        assert record.barred_round == 1 and record.bond == BOND
        assert cheat.actions.count("postBond") == 2  # half the bond was slashed; the agent topped it up
        (finalized,) = federation.coordinator.finalized_models(federation.task_id)
        assert (finalized.root, finalized.blob_ref) == recompute_anchor(federation, 0, initial_ref)
    finally:
        federations.close()


def test_an_out_of_range_update_is_proven_dropped_and_slashed(federation: Federation) -> None:
    cheat = federation.add_participant(0, OutOfRangeParticipant, rounds=frozenset({0}), coordinate=40)
    for client in (1, 2):
        federation.add_participant(client)
    federation.add_aggregator(6)
    watcher = federation.add_watcher(7)

    federation.run_rounds(1)

    assert watcher.actions == [f"proveViolation 0 {cheat.address}"]
    assert federation.coordinator.entry_state(federation.task_id, 0, cheat.address) == EntryState.DROPPED
    assert federation.coordinator.member(federation.task_id, cheat.address).stake == STAKE // 2
    (finalized,) = federation.coordinator.finalized_models(federation.task_id)
    assert federation.coordinator.round_view(federation.task_id, 0).included == 2
    assert finalized.round == 0


def test_a_member_that_never_reveals_is_slashed_and_the_round_finalizes(federation: Federation) -> None:
    silent = federation.add_participant(0, SilentParticipant, rounds=frozenset({0}))
    for client in (1, 2):
        federation.add_participant(client)
    federation.add_aggregator(6)
    watcher = federation.add_watcher(7)

    federation.run_rounds(1)

    assert watcher.actions == [f"slashMissedReveal 0 {silent.address}"]
    assert federation.coordinator.entry_state(federation.task_id, 0, silent.address) == EntryState.FORFEITED
    assert federation.coordinator.member(federation.task_id, silent.address).stake == STAKE - STAKE // 10
    assert [model.round for model in federation.coordinator.finalized_models(federation.task_id)] == [0]


def test_a_participant_rebuilt_after_committing_reveals_exactly_once(federation: Federation) -> None:
    doomed = federation.add_participant(0)
    for client in (1, 2):
        federation.add_participant(client)
    federation.add_aggregator(6)
    federation.run_until(lambda: federation.coordinator.round_view(federation.task_id, 0).commits == 3)
    assert federation.coordinator.entry_state(federation.task_id, 0, doomed.address) == EntryState.COMMITTED

    federation.participants.remove(doomed)
    del doomed
    reborn = federation.add_participant(0)  # same account, same journal file, fresh client
    federation.run_until(lambda: federation.phase() == RoundPhase.REVEAL)
    federation.step_all()
    federation.step_all()

    assert reborn.actions == ["reveal:0"]
    reveals = federation.coordinator.reveals(federation.task_id, 0)
    assert [reveal.participant for reveal in reveals].count(reborn.address) == 1
    record = reborn.journal.commit_record(0)
    assert record is not None
    assert any(reveal.root == record.root for reveal in reveals)
