"""What the agents tell a person: one summary line per role and closed round, and, once, why a participant is
not in the current round (round 0 waits for members; it started after the round's entry window closed)."""

from __future__ import annotations

import logging
import re

import pytest
from tests.roles.conftest import REWARD, Federation

from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import EntryState, RoundPhase, TaskStatus
from fedchain.chain.secure_coordinator import advertise_end
from fedchain.commit.leaves import LeafLayout
from fedchain.roles import Agent

AGGREGATOR, WATCHER = 6, 7
FEE = REWARD * 500 // 10_000  # aggregatorFeeBps of the test task
WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ s ago\)"


def lines(caplog: pytest.LogCaptureFixture, agent: Agent, event: str) -> list[logging.LogRecord]:
    """The records ``agent`` logged with ``event``."""
    return [record for record in caplog.records
            if vars(record).get("event") == event and vars(record).get("address") == agent.address]


def summary(caplog: pytest.LogCaptureFixture, agent: Agent, round: int) -> logging.LogRecord:
    """The one summary line ``agent`` logged for ``round``."""
    (line,) = [record for record in lines(caplog, agent, "round_summary") if vars(record)["round"] == round]
    return line


def test_every_role_logs_one_summary_line_per_closed_round(federation: Federation,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    participants = [federation.add_participant(client) for client in range(3)]
    aggregator = federation.add_aggregator(AGGREGATOR)
    watcher = federation.add_watcher(WATCHER)

    with caplog.at_level(logging.INFO, logger="fedchain.roles"):
        federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
        federation.step_all()  # the last round's summaries, then everybody settles

    params, task = federation.params, federation.task_id
    leaves = LeafLayout(params.num_params, params.words_per_leaf).num_leaves
    for agent in (*participants, aggregator, watcher):
        assert [vars(record)["round"] for record in lines(caplog, agent, "round_summary")] == [0, 1]
    for round in (0, 1):
        view = federation.coordinator.round_view(task, round)
        for participant in participants:
            (reveal,) = [reveal for reveal in federation.coordinator.reveals(task, round)
                         if reveal.participant == participant.address]
            reward = reveal.weight * view.reward_per_weight
            line = summary(caplog, participant, round)
            assert line.getMessage() == (f"participant {participant.address} round {round} finalized: committed, "
                                         f"revealed, reward {whole_tokens(reward, 18)} tokens")
            fields = vars(line)
            assert (fields["status"], fields["entry"], fields["reward"]) == ("finalized", "revealed", reward)
        line = summary(caplog, aggregator, round)
        assert line.getMessage() == (f"aggregator {aggregator.address} round {round} finalized: proposed root "
                                     f"0x{view.proposed_root.hex()} over 3 updates, accepted; fee "
                                     f"{whole_tokens(FEE, 18)} tokens")
        assert vars(line)["fee"] == FEE and vars(line)["inputs"] == 3
        line = summary(caplog, watcher, round)
        assert line.getMessage() == (f"watcher {watcher.address} round {round} finalized; verified: 3 updates read and "
                                     "checked against their revealed roots and the clip; the proposal of "
                                     f"{aggregator.address} recomputed at all {leaves} leaves: it matches")


def test_round_0_waits_for_members_and_a_participant_says_so_once(federation: Federation,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    first = federation.add_participant(0)
    with caplog.at_level(logging.INFO, logger="fedchain.roles"):
        for _ in range(3):
            federation.step_all()
        assert federation.phase() == RoundPhase.NOT_OPEN
        (waiting,) = lines(caplog, first, "waiting_for_members")
        assert waiting.getMessage() == (f"participant {first.address} round 0 opens when the task's minimum number "
                                        "of members (2) has joined (1 so far); waiting")
        second = federation.add_participant(1)
        federation.run_until(lambda: federation.phase() == RoundPhase.REVEAL)

    assert "commit:0" in first.actions and "commit:0" in second.actions
    assert not lines(caplog, first, "late_start") and not lines(caplog, second, "late_start")


def test_a_participant_started_after_the_commit_window_says_so_once_and_enters_the_next_round(
        federation: Federation, caplog: pytest.LogCaptureFixture) -> None:
    for client in (0, 1):
        federation.add_participant(client)
    federation.add_aggregator(AGGREGATOR)
    federation.run_until(lambda: federation.phase() == RoundPhase.REVEAL)
    late = federation.add_participant(2)

    with caplog.at_level(logging.INFO, logger="fedchain.roles"):
        federation.run_until(lambda: federation.coordinator.entry_state(
            federation.task_id, 1, late.address) == EntryState.COMMITTED)

    (said,) = lines(caplog, late, "late_start")
    commit_end = federation.coordinator.round_view(federation.task_id, 0).commit_end
    assert re.fullmatch(f"participant {late.address} round 0's commit window closed at {WHEN}, before this agent "
                        "was ready; waiting for round 1", said.getMessage()), said.getMessage()
    assert (vars(said)["round"], vars(said)["window_end"]) == (0, commit_end)
    assert late.actions == ["join", "prepared round 1", "commit:1"]


def test_a_secure_participant_started_after_the_advertise_window_says_so_once(
        secure_federation: Federation, caplog: pytest.LogCaptureFixture) -> None:
    federation = secure_federation
    for client in range(3):
        federation.add_participant(client)
    federation.run_until(lambda: federation.phase() == RoundPhase.COMMIT)
    late = federation.add_participant(3)

    with caplog.at_level(logging.INFO, logger="fedchain.roles"):
        for _ in range(2):
            federation.step_all()

    (said,) = lines(caplog, late, "late_start")
    view = federation.coordinator.round_view(federation.task_id, 0)
    assert re.fullmatch(f"participant {late.address} round 0's advertise window closed at {WHEN}, before this "
                        "agent was ready; it is the task's last round", said.getMessage()), said.getMessage()
    assert vars(said)["window_end"] == advertise_end(view, federation.params)
    assert late.actions == ["join"]
