"""Cohort sampling with real agents: when a round opens with more members than its cohort takes, only the members
the chain's randomness picked enter it (each member recomputes whether it is in), the others say once that they
were not picked and wait, and over the rounds the seats go round instead of to the fastest members."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.roles.conftest import NUM_CLIENTS, Federation, make_federation, task_template

from fedchain.chain.cohort import cohort_includes
from fedchain.chain.coordinator import TaskStatus
from fedchain.learn import FederatedSplit

ROUNDS = 5
CAP = 2


@pytest.fixture
def federation(tmp_path: Path, breast_cancer_clients: FederatedSplit) -> Iterator[Federation]:
    """A task of ROUNDS rounds with a cohort of CAP seats, whose round 0 opens at the first join."""
    template = replace(task_template(ROUNDS), cohort_cap=CAP, min_participants=1, max_silent_rounds=1)
    yield from make_federation(tmp_path, breast_cancer_clients, template)


def test_only_the_sampled_members_take_part_and_the_seats_go_round(federation: Federation,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    participants = [federation.add_participant(client) for client in range(NUM_CLIENTS)]
    federation.add_aggregator(6)
    federation.add_watcher(7)
    with caplog.at_level(logging.INFO, logger="fedchain.roles"):
        federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    coordinator, task = federation.coordinator, federation.task_id
    taking_part: set[str] = set()
    for round in range(1, ROUNDS):  # round 0 opened at the first join, with one member: not sampled
        view = coordinator.round_view(task, round)
        assert view.sampled_from == NUM_CLIENTS, f"round {round} opened with every member: sampled"
        picked = {p.address for p in participants if coordinator.in_cohort(task, round, p.address)}
        assert picked == {p.address for p in participants
                          if cohort_includes(view.cohort_seed, view.sampled_from, CAP, p.address)}
        committers = set(coordinator.committers(task, round))
        assert committers <= picked and len(committers) == min(len(picked), CAP), f"round {round}"
        left_out = [record for record in caplog.records if vars(record).get("event") == "not_sampled"
                    and vars(record).get("round") == round]
        assert {vars(record)["address"] for record in left_out} == {p.address for p in participants} - picked
        taking_part |= committers
    assert len(taking_part) > CAP, "the seats went round, not to the same fastest members"
    silenced = coordinator.contract.events.SilenceSlashed().get_logs(from_block=0)
    assert not silenced, "a member left out of a sampled cohort is not silent"
