"""The dashboard's JSON state (``/api/state``) against the chain it was read from: a plain task on the embedded
chain whose first round has a hospital that withholds its update, so the state has a finalized round, an
availability challenge with its outcome, a slash, rewards and the gas of every kind of transaction."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from fedchain.chain import connect
from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import TaskStatus
from fedchain.dashboard.server import DashboardError, DashboardServer
from fedchain.deploy import DeployError, runner
from fedchain.deploy.data import load_hospital_data
from fedchain.roles import Journal, WithholdingParticipant
from fedchain.task import fit_config
from fedchain.task.read import parse_task
from tests.deploy.conftest import HOSPITALS, RAW_CONFIG, DeployedTask, deploy_task

WITHHOLDER = 2
"""The hospital that withholds its update of round 0 (dev account 3)."""
NEVER_S = 3600.0
"""The server's own polling interval: never within a test, which refreshes by hand (the embedded chain must not
be read from two threads at once)."""


@contextmanager
def served(server: DashboardServer) -> Iterator[str]:
    """``server`` running in a thread while inside; yields its URL."""
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the dashboard server did not start"
        time.sleep(0.05)
    try:
        yield server.url
    finally:
        server.server.should_exit = True
        thread.join(timeout=30)


def get(url: str) -> Any:
    """The JSON at ``url``."""
    response = requests.get(url, timeout=30)
    response.raise_for_status()
    return response.json()


@pytest.fixture
def task(tmp_path: Path) -> Iterator[DeployedTask]:
    """A two-round plain task on the embedded chain: two honest hospitals, one that withholds its round-0 update,
    an aggregator and a watcher."""
    with connect("embedded") as chain:
        deployed = deploy_task(chain, tmp_path, parse_task(RAW_CONFIG))
        for index in range(WITHHOLDER):
            deployed.add_hospital(index)
        account = chain.accounts[WITHHOLDER + 1]
        client_data = load_hospital_data(f"breast_cancer:{WITHHOLDER}/{HOSPITALS}", deployed.config)
        deployed.federation.participants.append(WithholdingParticipant(
            deployed.coordinator, deployed.federation.store, deployed.created.task_id, account,
            client=runner.builtin_client(deployed.config, client_data), fit_config=fit_config(deployed.config),
            journal=Journal(tmp_path / "withholder.json", owner=account.address, task_id=deployed.created.task_id),
            rounds=frozenset({0})))
        deployed.add_aggregator()
        deployed.add_watcher()
        yield deployed


def test_the_state_follows_rounds_stakes_slashes_challenges_and_gas(task: DeployedTask) -> None:
    server = DashboardServer(task.coordinator, task.created.task_id, host="127.0.0.1", port=0, poll=NEVER_S)
    with served(server) as url:
        check_the_state(task, server, url + "api/state")


def check_the_state(task: DeployedTask, server: DashboardServer, url: str) -> None:
    start = get(url)
    assert start["schema"] == "fedchain-dashboard/1" and start["error"] is None
    assert {key: start["task"][key] for key in ("id", "status", "round", "num_rounds", "phase", "mode")} == {
        "id": task.created.task_id, "status": "RUNNING", "round": 0, "num_rounds": 2, "phase": "NOT_OPEN",
        "mode": "PLAIN"}
    assert start["deadlines"] == [] and start["task"]["waiting_for_members"] == 2, "round 0 waits for members"
    assert start["rounds"] == [] and start["members"] == [] and start["pool"] == "5"

    federation, coordinator, task_id = task.federation, task.coordinator, task.created.task_id
    withholder, watcher = task.chain.accounts[WITHHOLDER + 1].address, task.chain.accounts[7].address
    federation.run_until(lambda: bool(coordinator.challenges_opened(task_id, 0)))
    server.dashboard.refresh()
    assert get(url)["challenges"] == [{"round": 0, "kind": "availability", "subject": withholder,
                                       "challenger": watcher, "outcome": "open",
                                       "detail": "0 of 1 chunks on chain, 100 s left"}]

    federation.run_until(lambda: federation.state().current_round == 1)
    server.dashboard.refresh()
    state = get(url)
    assert (state["task"]["round"], state["task"]["block"]) == (1, task.chain.w3.eth.block_number)
    view = coordinator.round_view(task_id, 1)
    assert [(deadline["name"], deadline["at"], deadline["in_s"]) for deadline in state["deadlines"]] == [
        (name, at, at - task.chain.now()) for name, at in (("commit", view.commit_end), ("reveal", view.reveal_end),
                                                           ("propose", view.propose_end))]

    (finalized,) = coordinator.finalized_models(task_id)
    assert state["rounds"] == [{"round": 0, "status": "FINALIZED", "model_root": "0x" + finalized.root.hex(),
                                "evaluations": []}]
    (unavailable,) = coordinator.contract.events.InputUnavailable().get_logs(from_block=0)
    slashed = whole_tokens(int(unavailable.args.slashed), 18)
    assert [(slash["round"], slash["address"], slash["kind"], slash["amount"], slash["challenger"])
            for slash in state["slashes"]] == [(0, withholder, "unavailable_input", slashed, watcher)]
    assert state["slashes"][0]["bounty"] == whole_tokens(int(unavailable.args.bounty), 18)
    assert state["challenges"] == [{"round": 0, "kind": "availability", "subject": withholder, "challenger": watcher,
                                    "outcome": "unavailable", "detail": ""}]

    members = {member["address"]: member for member in state["members"]}
    assert len(members) == HOSPITALS and members[withholder]["slashed"] == slashed
    for address, member in members.items():
        assert member["stake"] == whole_tokens(coordinator.member(task_id, address).stake, 18)
        assert member["claimable"] == whole_tokens(coordinator.claimable(task_id, address), 18)
        assert member["state"] == "active" and member["claimed"] == "0"
    (aggregator,) = state["aggregators"]
    assert aggregator["fees"] == whole_tokens(coordinator.fees_of(task_id, aggregator["address"]), 18) != "0"

    recorded_gas: Counter[str] = Counter()
    recorded_count: Counter[str] = Counter()
    for record in task.chain.gas_records:
        recorded_gas[record.kind] += record.gas_used
        recorded_count[record.kind] += 1
    gas = {use["kind"]: (use["transactions"], use["gas"]) for use in state["gas"]}
    assert {"createTask", "join", "commit", "reveal", "challengeUpdate", "dropUnavailable", "propose",
            "finalize"} <= gas.keys()
    assert gas == {kind: (recorded_count[kind], recorded_gas[kind]) for kind in gas}

    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)
    federation.step_all()  # everyone settles
    server.dashboard.refresh()
    done = get(url)
    assert done["task"]["status"] == "COMPLETED" and done["deadlines"] == []
    assert [closed["status"] for closed in done["rounds"]] == ["FINALIZED", "FINALIZED"]
    claimed = {member["address"]: member["claimed"] for member in done["members"]}
    for log in coordinator.contract.events.RewardsClaimed().get_logs(from_block=0):
        assert claimed[log.args.participant] == whole_tokens(int(log.args.amount), 18)
    assert {member["state"] for member in done["members"]} == {"left"}


def test_the_page_and_its_files_are_served(task: DeployedTask) -> None:
    server = DashboardServer(task.coordinator, task.created.task_id, host="127.0.0.1", port=0, poll=NEVER_S)
    with served(server) as url:
        page = requests.get(url, timeout=30)
        assert page.status_code == 200 and 'id="round"' in page.text and "static/dashboard.js" in page.text
        script = requests.get(url + "static/dashboard.js", timeout=30)
        assert script.status_code == 200 and "api/state" in script.text
        assert requests.get(url + "static/dashboard.css", timeout=30).status_code == 200
        assert requests.get(url + "api/state", timeout=30).headers["cache-control"] == "no-store"
        assert requests.get(url + "static/missing.js", timeout=30).status_code == 404


def test_an_unknown_task_or_a_taken_port_is_refused_before_serving(task: DeployedTask) -> None:
    with pytest.raises(DeployError, match=f"task 99 does not exist on coordinator {task.coordinator.address}"):
        DashboardServer(task.coordinator, 99, host="127.0.0.1", port=0, poll=1.0)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(DashboardError, match=f"cannot listen on 127.0.0.1 port {port}: "):
            DashboardServer(task.coordinator, task.created.task_id, host="127.0.0.1", port=port, poll=1.0)
