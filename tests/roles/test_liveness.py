"""Rounds go on when parties disappear: a standby aggregator takes over an expired propose window, a
vanished hospital is simply left out, and a task that stalls for good still returns every stake."""

from __future__ import annotations

import logging

import pytest
from tests.roles.conftest import Federation

from fedchain.chain import ChainConnectionError
from fedchain.chain.coordinator import RoundPhase, TaskStatus
from fedchain.chain.errors import ContractRevertError, DecodedError
from fedchain.roles import Aggregator


def test_a_standby_aggregator_takes_the_round_over_after_the_propose_window(federation: Federation) -> None:
    for client in (0, 1):
        federation.add_participant(client)
    primary = federation.add_aggregator(5)
    standby = federation.add_aggregator(6, Aggregator, standby=True)
    federation.step_all()  # both bond; the participants commit
    federation.aggregators.remove(primary)  # the primary aggregator's machine goes down

    federation.run_until(lambda: federation.phase() == RoundPhase.PROPOSE)
    federation.step_all()
    assert not federation.coordinator.round_view(federation.task_id, 0).has_proposal, "standby waits its turn"
    federation.run_rounds(1)

    view = federation.coordinator.round_view(federation.task_id, 0)
    assert view.propose_start > view.reveal_end, "aggregation was reopened"
    assert standby.actions == ["postBond", "reopenAggregation 0", "propose 0", "finalize 0"]
    (proposal,) = federation.coordinator.proposals(federation.task_id, 0)
    assert proposal.aggregator == standby.address
    assert primary.actions == ["postBond"]


def test_a_hospital_that_disappears_is_left_out_and_the_rounds_go_on(federation: Federation) -> None:
    vanishing = federation.add_participant(0)
    for client in (1, 2):
        federation.add_participant(client)
    federation.add_aggregator(6)
    federation.run_rounds(1)
    federation.participants.remove(vanishing)

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    rounds = [federation.coordinator.reveals(federation.task_id, round) for round in (0, 1)]
    assert [len(reveals) for reveals in rounds] == [3, 2]
    assert vanishing.address not in [reveal.participant for reveal in rounds[1]]
    assert [model.round for model in federation.coordinator.finalized_models(federation.task_id)] == [0, 1]


def test_a_task_abandoned_mid_round_still_returns_every_stake(federation: Federation) -> None:
    participants = [federation.add_participant(client) for client in (0, 1)]
    federation.add_watcher(7)  # and no aggregator ever shows up: the round stalls until it is idle

    federation.run_until(lambda: federation.state().status == TaskStatus.ABANDONED)
    federation.step_all()

    for participant in participants:
        assert participant.journal.commit_record(0) is not None, "it took part in the stalled round"
        assert not federation.coordinator.member(federation.task_id, participant.address).joined
        assert participant.finished()


def test_run_retries_a_failed_step_says_so_once_and_ends_when_the_agent_is_finished(
        federation: Federation, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    watcher = federation.add_watcher(7)
    real = federation.coordinator.task_state
    failures = iter([True] * 3)

    def flaky(task_id: int):  # type: ignore[no-untyped-def]
        if next(failures, False):
            raise ChainConnectionError("the chain at http://node stopped answering")
        return real(task_id)

    monkeypatch.setattr(federation.coordinator, "task_state", flaky)
    steps: list[int] = []
    with caplog.at_level(logging.INFO, logger="fedchain.roles"):
        watcher.run(poll_seconds=0, until=lambda: steps.append(1) or len(steps) == 3)
    assert len(steps) == 3
    messages = [(record.levelno, record.getMessage()) for record in caplog.records]
    assert [text for level, text in messages if "step failed, trying again" in text and level == logging.WARNING] \
        == [f"watcher {watcher.address} step failed, trying again every 0 s (logged again if it fails differently): "
            "the chain at http://node stopped answering"], "the same failure is said once"
    assert (logging.INFO, f"watcher {watcher.address} steps work again after 3 failed ones") in messages

    requests = iter([False, True])
    watcher.run(poll_seconds=60, stop=lambda: next(requests, True))  # stopped while waiting, not after 60 s
    assert len(steps) == 3, "until is only consulted when given"


def test_a_race_lost_to_another_party_is_information_not_a_failure(
        federation: Federation, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    watcher = federation.add_watcher(7)
    outcomes = iter([DecodedError("WrongRoundState", (0, 3)), DecodedError("NotMember", ())])

    def contested() -> None:
        outcome = next(outcomes, None)
        if outcome is not None:
            raise ContractRevertError("finalize", outcome)

    monkeypatch.setattr(watcher, "step", contested)
    with caplog.at_level(logging.INFO, logger="fedchain.roles"):
        watcher.run(poll_seconds=0, until=lambda: True)
    messages = [(record.levelno, record.getMessage()) for record in caplog.records]
    assert (logging.INFO, f"watcher {watcher.address} finalize: the chain moved on (WrongRoundState); reading it "
                          "again") in messages
    assert [level for level, text in messages if "NotMember" in text] == [logging.WARNING], "a real failure warns"
