"""Real deployments on one machine, each party its own OS process started through the `fedchain` command line,
in real time (anvil mines a block every second; nothing moves the clock): a plain task with four hospitals,
two aggregators and a watcher sharing S3-compatible storage (moto's server on loopback), and a secure task
with three hospitals, an aggregator and a watcher sharing a folder.

The hospitals start late, ten minutes of chain time after the task was created: round 0 waits for them (it
opens when min_participants members have joined) and is not lost. The requester runs `fedchain requester run`
with held-out data: it evaluates every anchored model and publishes the metrics, which `fedchain status` shows.
During the task one hospital is SIGKILLed between its commit and its reveal and started again: it reveals
from its journal, its commit counted once. The primary aggregator is SIGKILLed before it proposes: the
standby aggregator reopens the expired propose window and finishes the round, and the rest of the task.
Throughout, `fedchain status --json` is compared with the chain read at the block the report names. At
the end every process has settled by itself, `fedchain claim` recovers the dead aggregator's bond and fees
and the pool's remainder, the coordinator holds no token any more, and the anchored model exported with
`fedchain export-model` verifies against the live chain with `fedchain verify-model`. Exported with the task
file (another file, normalizing otherwise, is refused in one line), the model and its preprocessing.json applied
to the raw held-out rows give exactly the accuracy the requester published on chain.

The secure task runs on a SecureCoordinator (`fedchain deploy --mode secure`; `task create` refuses a plain
task file there): every hospital advertises, commits its shares, uploads its masked update and publishes its
unmask shares in both rounds, the aggregator proposes unmasked models that finalize, `fedchain status --json`
matches the chain in the secure phases, every process exits by itself, the hospitals' journals end without
secrets, no key or round secret reaches a log, the anchored model verifies against the live chain and is exported
with the preprocessing its blob carries (no task file needed), and the independent auditor of tests/audit
recomputes every round from the chain and the folder.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import torch

from fedchain.chain import Chain, connect, dev_keys
from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import Coordinator, CoordinatorClient, RoundPhase, Token
from fedchain.chain.secure_coordinator import SecureCoordinator
from fedchain.deploy.data import load_raw_data
from fedchain.learn import seeded_model
from fedchain.task import load_task
from fedchain.task.learning import model_spec
from tests.audit.auditor import audit_task
from tests.deploy.conftest import breast_cancer_statistics
from tests.deploy.processes import (
    AgentProcess,
    Consortium,
    clean_env,
    consortium,
    fedchain,
    status_json,
    wait_for,
)
from tests.storage.backends import BUCKET, FAKE_AWS_ENV, moto_s3_server

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

ROUNDS = 3
# Round 0 opens at the second hospital's join; the commit window leaves the other two time to start (torch and
# scikit-learn load in several seconds each; four at once take about 20 s on two cores) and a killed one time to
# start again.
COMMIT_WINDOW = 40
LATE_START_SECONDS = 600  # chain time between the task's creation and the hospitals' start
REVEAL_WINDOW = 12
PROPOSE_WINDOW = 10  # every window is at least MIN_WINDOW_SECONDS (10 s)
CHALLENGE_WINDOW = 10
AVAILABILITY_WINDOW = 10  # secure rounds spend two of them between upload and unmask
ROUND_SECONDS = COMMIT_WINDOW + REVEAL_WINDOW + PROPOSE_WINDOW + CHALLENGE_WINDOW
KEYSTORE_PASSWORD = "correct horse battery staple 42"
POLL = "1"
TASK = 1


def task_toml(*, mode: str, rounds: int, commit_window: int, reveal_window: int, cohort_cap: int = 16) -> str:
    """The task file of a test: a logistic regression on the 30 breast-cancer features, in ``mode``, standardized
    with the statistics the hospitals agreed."""
    statistics = breast_cancer_statistics()
    return f"""
rounds = {rounds}
seed = 0
mode = "{mode}"
[model]
name = "logreg"
in_features = 30
[data]
mean = {json.dumps(statistics["mean"])}
scale = {json.dumps(statistics["scale"])}
[training]
local_epochs = 1
batch_size = 16
learning_rate = 0.1
[task]
commit_window = {commit_window}
reveal_window = {reveal_window}
propose_window = {PROPOSE_WINDOW}
challenge_window = {CHALLENGE_WINDOW}
availability_window = {AVAILABILITY_WINDOW}
unbonding_delay = 60
min_participants = 2
min_stake = 10
aggregator_bond = 20
reward_per_round = 5
cohort_cap = {cohort_cap}
"""


TASK_TOML = task_toml(mode="plain", rounds=ROUNDS, commit_window=COMMIT_WINDOW, reveal_window=REVEAL_WINDOW)


class Deployment:
    """The shared setting of the test: chain URL, store URL, working folder and the accounts' keys."""

    def __init__(self, url: str, store: str, folder: Path) -> None:
        self.url = url
        self.store = store
        self.folder = folder
        self.keys = [account.key.to_0x_hex() for account in dev_keys(8)]
        self.addresses = [account.address for account in dev_keys(8)]

    def env(self, key: int | None = None, **extra: str) -> dict[str, str]:
        """The environment of a process signing with dev key ``key`` (none: read-only)."""
        variables = {"FEDCHAIN_RPC": self.url, "FEDCHAIN_STORE": self.store, **FAKE_AWS_ENV, **extra}
        if key is not None:
            variables["FEDCHAIN_PRIVATE_KEY"] = self.keys[key]
        return clean_env(variables)

    def run(self, *args: str, key: int | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        """One `fedchain` command, signing with dev key ``key``."""
        return fedchain(*args, env=self.env(key, **extra), cwd=self.folder)

    def status(self) -> dict[str, Any]:
        """`fedchain status --json` of the task."""
        return status_json(env=self.env(), cwd=self.folder, task=TASK)

    def agent(self, name: str, *args: str, key: int | None = None, **extra: str) -> AgentProcess:
        """An agent process (not started)."""
        return AgentProcess(name=name, args=(*args, "--task", str(TASK), "--poll", POLL), env=self.env(key, **extra),
                            cwd=self.folder, log=self.folder / f"{name}.log")


@pytest.fixture
def s3_store() -> Iterator[str]:
    """A store URL in moto's S3 server on loopback, which every process shares."""
    with moto_s3_server() as endpoint:
        yield f"s3://{BUCKET}/deployment?endpoint={endpoint}"


@pytest.fixture
def local_node(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`fedchain chain up` on a free port, one block a second; yields its URL and process."""
    process = subprocess.Popen([sys.executable, "-m", "fedchain", "chain", "up", "--port", "0", "--block-time", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
                               cwd=tmp_path)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), f"chain up printed {url!r}"
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)


def assert_status_matches_chain(report: dict[str, Any], coordinator: CoordinatorClient, rounds: int) -> None:
    """Every field of a status report equals what the chain says at the report's block."""
    with coordinator.chain.pinned(report["block"]):
        state = coordinator.task_state(TASK)
        params = coordinator.task_params(TASK)
        round = state.current_round
        view = coordinator.round_view(TASK, round)
        proposal = None if not view.has_proposal else {
            "aggregator": view.aggregator, "root": "0x" + view.proposed_root.hex(),
            "blob_ref": "0x" + view.proposed_blob_ref.hex(), "proposed_at": view.proposed_at}
        expected = {
            "task_id": TASK, "coordinator": coordinator.address, "status": state.status.name, "round": round,
            "num_rounds": rounds, "phase": view.phase.name, "now": coordinator.chain.now(),
            "waiting_for_members": max(0, params.min_participants - state.members)
            if round == 0 and view.start == 0 else 0,
            "evaluations": [{"round": evaluation.round, "evaluator": evaluation.evaluator,
                             "by_requester": evaluation.evaluator == state.requester, "metrics": evaluation.metrics}
                            for evaluation in coordinator.evaluations(TASK)],
            "deadlines": {"commit_end": view.commit_end, "reveal_end": view.reveal_end,
                          "propose_start": view.propose_start, "propose_end": view.propose_end,
                          "challenge_end": view.challenge_end if view.has_proposal else 0},
            "included": view.included, "proposal": proposal,
            "model_root": "0x" + state.model_root.hex(), "model_blob_ref": "0x" + state.model_blob_ref.hex(),
            "rounds": [{"round": model.round, "status": "FINALIZED", "model_root": "0x" + model.root.hex()}
                       for model in coordinator.finalized_models(TASK)],
            "members": [{"address": address, "stake": record.stake, "joined": record.joined,
                         "exiting": record.exiting, "claimable": coordinator.claimable(TASK, address)}
                        for address in coordinator.members(TASK)
                        for record in [coordinator.member(TASK, address)]],
            "aggregators": [{"address": address, "bond": record.bond, "bonded": record.bonded,
                             "exiting": record.exit_requested_at != 0, "fees": coordinator.fees_of(TASK, address)}
                            for address in coordinator.aggregators(TASK)
                            for record in [coordinator.aggregator(TASK, address)]],
            "pool": state.pool, "owed_rewards": state.owed_rewards,
            "challenges": [], "disputes": [],  # nobody withholds anything in these runs
        }
        if isinstance(coordinator, SecureCoordinator):
            announced = [entry.participant for entry in coordinator.unmask_announcements(TASK, round)]
            expected |= {
                "mode": "SECURE", "revealed": [],
                "committed": [entry.participant for entry in coordinator.share_commitments(TASK, round)],
                "secure": {"neighbours": params.neighbours, "threshold": params.threshold,
                           "seed_fixed": coordinator.secure_round(TASK, round).seed != bytes(32),
                           "advertised": [entry.participant for entry in coordinator.advertisements(TASK, round)],
                           "uploaded": [entry.participant for entry in coordinator.uploads(TASK, round)],
                           "unmask_published": list(dict.fromkeys(announced)),
                           "advertise_end": view.start + params.commit_window if view.start else 0,
                           "upload_end": view.commit_end + params.reveal_window if view.start else 0}}
        else:
            assert isinstance(coordinator, Coordinator)
            expected |= {"mode": "PLAIN", "committed": coordinator.committers(TASK, round),
                         "revealed": [reveal.participant for reveal in coordinator.reveals(TASK, round)],
                         "secure": None}
    assert report["schema"] == "fedchain-status/1"
    for key, value in expected.items():
        assert report[key] == value, f"status --json {key} at block {report['block']}: {report[key]!r} != {value!r}"


def test_one_process_per_role_survives_kills_and_completes_the_task(
        tmp_path: Path, local_node: tuple[str, subprocess.Popen[str]], s3_store: str) -> None:
    started = time.monotonic()
    url, node = local_node
    setting = Deployment(url, s3_store, tmp_path)
    chain: Chain = connect(url, read_only=True)

    # A hospital keeps its key in an encrypted keystore; the others in the environment.
    keystore = tmp_path / "hospital-4.json"
    created = setting.run("account", "new", "--keystore", str(keystore),
                          FEDCHAIN_KEYSTORE_PASSWORD=KEYSTORE_PASSWORD)
    keystore_address = created.stdout.strip()
    requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "anvil_setBalance",
                             "params": [keystore_address, hex(10**20)]}, timeout=10).raise_for_status()

    # Accounts: 0 requester, 1-3 hospitals, the keystore hospital, 5 primary aggregator, 6 standby, 7 watcher.
    funded = [*setting.addresses[:4], keystore_address, *setting.addresses[5:8]]
    setting.run("deploy", *[option for address in funded for option in ("--fund", address)], key=0)
    deployment = json.loads((tmp_path / "deployment.json").read_text())
    coordinator = Coordinator(chain, deployment["coordinator"])
    token = Token(chain, deployment["token"])
    (tmp_path / "task.toml").write_text(TASK_TOML)
    task = json.loads(setting.run("task", "create", "--config", "task.toml", "--json", key=0).stdout)
    assert task["task_id"] == TASK and task["coordinator"] == coordinator.address

    # The hospitals are slow to start: ten minutes pass on the chain, far more than any window of the task.
    for method, params in (("evm_increaseTime", [LATE_START_SECONDS]), ("evm_mine", [])):
        requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                      timeout=10).raise_for_status()
    waiting = setting.status()
    assert_status_matches_chain(waiting, coordinator, ROUNDS)
    assert (waiting["round"], waiting["phase"], waiting["waiting_for_members"]) == (0, "NOT_OPEN", 2)
    assert "round 0 opens when 2 more members have joined" in setting.run("status", "--task", str(TASK)).stdout

    with consortium() as group:
        requester = group.start(setting.agent("requester", "requester", "run", "--config", "task.toml",
                                              "--data", "breast_cancer:test", key=0))
        hospitals = [group.start(setting.agent(f"hospital-{index}", "participant", "run", "--config", "task.toml",
                                               "--data", f"breast_cancer:{index - 1}/4",
                                               "--journal", f"journal-{index}.json", key=index))
                     for index in (1, 2, 3)]
        hospitals.append(group.start(setting.agent(
            "hospital-4", "participant", "run", "--config", "task.toml", "--data", "breast_cancer:3/4",
            "--journal", "journal-4.json", "--keystore", str(keystore), FEDCHAIN_KEYSTORE_PASSWORD=KEYSTORE_PASSWORD)))
        _wait_on_chain(lambda: len(coordinator.committers(TASK, 0)) == 4
                       or coordinator.round_view(TASK, 0).phase not in (RoundPhase.NOT_OPEN, RoundPhase.COMMIT),
                       "the four hospitals' commits in round 0", group, timeout=3 * COMMIT_WINDOW)
        # Aggregators and the watcher have nothing to do before the reveal deadline; started now, they do not
        # compete with the hospitals' start for the CPU.
        primary = group.start(setting.agent("aggregator", "aggregator", "run", key=5))
        standby = group.start(setting.agent("standby", "aggregator", "run", "--standby", key=6))
        watcher = group.start(setting.agent("watcher", "watcher", "run", key=7))
        _run_the_task(setting, group, coordinator, hospitals, primary, standby, watcher, requester)
    _settle_and_verify(setting, coordinator, token, keystore_address)

    node.send_signal(signal.SIGTERM)
    assert node.wait(timeout=30) == 0, "chain up stops cleanly on SIGTERM"
    with pytest.raises(requests.ConnectionError):
        requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=5)
    secrets = [key.removeprefix("0x") for key in setting.keys] + [KEYSTORE_PASSWORD]
    everything = "\n".join(agent.output() for agent in group.agents)
    assert not [secret for secret in secrets if secret.lower() in everything.lower()], "a secret reached a log"
    print(f"multi-process deployment: {time.monotonic() - started:.0f} s")


def _wait_on_chain(condition: Callable[[], bool], what: str, group: Consortium, timeout: float) -> None:
    """Poll the chain (in this process, cheaply) until ``condition`` holds."""
    wait_for(condition, timeout=timeout, what=what, poll=0.3, explain=group.logs)


def _run_the_task(setting: Deployment, group: Consortium, coordinator: Coordinator,
                  hospitals: list[AgentProcess], primary: AgentProcess, standby: AgentProcess,
                  watcher: AgentProcess, requester: AgentProcess) -> None:
    def phase_of(round: int) -> RoundPhase | None:
        return coordinator.round_view(TASK, round).phase if coordinator.task_state(TASK).current_round == round \
            else None

    def explain() -> str:
        return f"status: {json.dumps(setting.status())}\n{group.logs()}"

    first = setting.status()
    assert_status_matches_chain(first, coordinator, ROUNDS)
    assert first["round"] == 0 and len(first["committed"]) == 4, "round 0 waited for the hospitals"

    # Round 1: the first hospital dies after its commit is mined, before its reveal; it is started again.
    victim = hospitals[0]
    victim_address = setting.addresses[1]
    _wait_on_chain(lambda: victim_address in coordinator.committers(TASK, 1), "hospital 1's commit in round 1",
                   group, timeout=2 * ROUND_SECONDS)
    victim.kill()
    killed_at = setting.status()
    assert_status_matches_chain(killed_at, coordinator, ROUNDS)
    assert killed_at["round"] == 1 and victim_address in killed_at["committed"]
    assert victim_address not in killed_at["revealed"]
    victim.start()

    # The primary aggregator dies before it can propose round 1.
    _wait_on_chain(lambda: phase_of(1) == RoundPhase.REVEAL, "round 1's reveal phase", group, timeout=ROUND_SECONDS)
    primary.kill()
    orphaned = setting.status()
    assert_status_matches_chain(orphaned, coordinator, ROUNDS)
    assert orphaned["round"] == 1 and orphaned["proposal"] is None

    # The standby reopens the expired propose window and proposes; its proposal is pending for a challenge
    # window, so the status taken right after normally shows it (else the round has moved on: checked below).
    _wait_on_chain(lambda: phase_of(1) in (None, RoundPhase.CHALLENGE, RoundPhase.FINALIZABLE),
                   "the standby's proposal in round 1", group, timeout=ROUND_SECONDS)
    taken_over = setting.status()
    assert_status_matches_chain(taken_over, coordinator, ROUNDS)
    if taken_over["round"] == 1 and taken_over["proposal"] is not None:
        assert taken_over["proposal"]["aggregator"] == setting.addresses[6]
        assert taken_over["deadlines"]["propose_start"] > taken_over["deadlines"]["reveal_end"], "reopened"

    # Every remaining process finishes by itself once the task is over and it has settled.
    for agent in [*hospitals, standby, watcher, requester]:
        wait_for(lambda agent=agent: agent.process.poll() is not None, timeout=3 * ROUND_SECONDS,  # type: ignore[misc]
                 what=f"{agent.name} to finish", explain=explain, poll=1.0)
        assert agent.process.returncode == 0, f"{agent.name} exited {agent.process.returncode}:\n{agent.output()}"

    # Round 1 as the chain recorded it: the restarted hospital committed once and revealed its journaled update.
    assert coordinator.committers(TASK, 1).count(victim_address) == 1
    (revealed,) = [r for r in coordinator.reveals(TASK, 1) if r.participant == victim_address]
    journal = json.loads((setting.folder / "journal-1.json").read_text())
    assert journal["commits"]["1"]["root"] == "0x" + revealed.root.hex()
    assert journal["commits"]["1"]["blob_ref"] == "0x" + revealed.blob_ref.hex()
    second_life = victim.life_output(2)
    assert "reveal:1" in second_life and "commit:1" not in second_life and "prepared round 1" not in second_life
    for round in range(ROUNDS):
        committers = coordinator.committers(TASK, round)
        assert len(committers) == len(set(committers)) and len(coordinator.reveals(TASK, round)) == len(committers)
        assert len(committers) == 4, f"round {round}: every hospital committed and revealed"
    proposers = [[proposal.aggregator for proposal in coordinator.proposals(TASK, round)] for round in range(ROUNDS)]
    assert proposers == [[setting.addresses[5]], [setting.addresses[6]], [setting.addresses[6]]]
    assert "reopenAggregation 1" in standby.output() and "finalize 1" in standby.output()
    # The requester measured every anchored model on its held-out data and published it; its log says so too.
    evaluations = coordinator.evaluations(TASK)
    assert [(evaluation.round, evaluation.evaluator) for evaluation in evaluations] == [
        (round, setting.addresses[0]) for round in range(ROUNDS)]
    assert all(evaluation.metrics["accuracy"] > 0.85 for evaluation in evaluations), evaluations
    assert "publishEvaluation 2" in requester.output() and "withdrawPool" in requester.output()


def _settle_and_verify(setting: Deployment, coordinator: Coordinator, token: Token, keystore_address: str) -> None:
    final = setting.status()
    assert (final["status"], final["round"], final["phase"]) == ("COMPLETED", ROUNDS, "NOT_OPEN")
    assert [closed["status"] for closed in final["rounds"]] == ["FINALIZED"] * ROUNDS
    assert_status_matches_chain(final, coordinator, ROUNDS)
    assert [(evaluation["round"], evaluation["by_requester"]) for evaluation in final["evaluations"]] == [
        (round, True) for round in range(ROUNDS)]
    accuracy = final["evaluations"][-1]["metrics"]["accuracy"]
    shown = setting.run("status", "--task", str(TASK)).stdout
    assert f"metrics     round {ROUNDS - 1}: accuracy {accuracy:.4g}" in shown and "(by the requester)" in shown
    assert all(not member["joined"] for member in final["members"]), "every hospital took its stake back"
    assert {member["address"] for member in final["members"]} == {*setting.addresses[1:4], keystore_address}

    # The dead aggregator's bond and its round-0 fee, and the pool's rounding remainder, are not stuck.
    claimed = setting.run("claim", "--task", str(TASK), key=5).stdout
    assert "claimFees" in claimed and "withdrawBond" in claimed
    pool = coordinator.task_state(TASK).pool
    requester = setting.run("claim", "--task", str(TASK), key=0).stdout
    assert (f"withdrawPool {whole_tokens(pool, 18)} tokens" in requester) if pool else ("nothing to claim" in requester)
    assert token.balance_of(coordinator.address) == 0, "the coordinator holds nothing once everyone has settled"
    assert not any(entry["bonded"] for entry in setting.status()["aggregators"])
    assert "nothing to claim" in setting.run("claim", "--task", str(TASK), key=1).stdout

    (setting.folder / "other.toml").write_text(TASK_TOML.replace("[data]\n", "[data]\nmissing = \"mean\"\n"))
    refused = fedchain("export-model", "--task", str(TASK), "--out", "other/model.pt", "--config", "other.toml",
                       env=setting.env(), cwd=setting.folder, check=False)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith(f"error: the task file's [data] is not task {TASK}'s: data.missing differs"), \
        refused.stderr
    assert not (setting.folder / "other").exists()
    exported = setting.run("export-model", "--task", str(TASK), "--out", "final/model.pt", "--config", "task.toml")
    assert f"round {ROUNDS - 1} of task {TASK}" in exported.stdout and "final/preprocessing.json" in exported.stdout
    anchor = json.loads((setting.folder / "final" / "anchor.json").read_text())
    assert anchor["model_root"] == final["model_root"] and anchor["coordinator"] == coordinator.address
    verified = setting.run("verify-model", "final/model.pt", "--rpc", setting.url)
    assert verified.stdout.startswith("OK:") and "LIVE chain 31337" in verified.stdout
    assert final["model_root"] in verified.stdout
    # What a user does with the export: the raw held-out rows the requester evaluated on, prepared as
    # preprocessing.json says, through the model: exactly the accuracy the requester published on chain.
    assert accuracy_on_raw_rows(setting.folder / "final", setting.folder / "task.toml") == accuracy


def accuracy_on_raw_rows(folder: Path, task_file: Path) -> float:
    """The accuracy of ``folder``'s exported model.pt on the raw rows of `breast_cancer:test` (the requester's
    --data, not prepared), standardized with ``folder``'s preprocessing.json by hand."""
    spec = load_task(task_file)
    raw = load_raw_data("breast_cancer:test", spec)
    steps = json.loads((folder / "preprocessing.json").read_text())
    assert (steps["normalization"], steps["missing"], len(steps["mean"])) == ("standardize", "refuse", 30)
    assert not np.isnan(raw.features).any() and raw.features.std(axis=0).max() > 100, "raw: not standardized"
    inputs = (raw.features - np.asarray(steps["mean"])) / np.asarray(steps["scale"])
    model = seeded_model(model_spec(spec), spec.seed)  # the task's architecture; its weights: the export's
    model.load_state_dict(torch.load(folder / "model.pt"))
    model.eval()
    with torch.no_grad():
        predicted = model(torch.as_tensor(inputs, dtype=torch.float32)).argmax(dim=1).numpy()
    return float(np.mean(predicted == raw.labels))


SECURE_ROUNDS = 2
# A secure round is two commit windows (advertise, then train and commit shares), two reveal windows (upload,
# then unmask) with two availability windows between them, a propose and a challenge window:
# 2 x 25 + 2 x 10 + 2 x 10 + 10 + 10 = 110 s. Round 0 opens at the second hospital's join; its advertise
# window leaves the third time to start and advertise (15 to 18 s on two busy cores: each loads torch and
# scikit-learn); every later step of a hospital takes a second or two of its window.
SECURE_COMMIT_WINDOW = 25
SECURE_REVEAL_WINDOW = 10
SECURE_ROUND_SECONDS = (2 * SECURE_COMMIT_WINDOW + 2 * SECURE_REVEAL_WINDOW + 2 * AVAILABILITY_WINDOW + PROPOSE_WINDOW
                        + CHALLENGE_WINDOW)
SECURE_HOSPITALS = (1, 2, 3)
SECURE_PHASES = ("ADVERTISE", "COMMIT", "UPLOAD", "UNMASK")
SECURE_TASK_TOML = task_toml(mode="secure", rounds=SECURE_ROUNDS, commit_window=SECURE_COMMIT_WINDOW,
                             reveal_window=SECURE_REVEAL_WINDOW, cohort_cap=len(SECURE_HOSPITALS))


def test_a_secure_task_runs_as_one_process_per_role(tmp_path: Path,
                                                   local_node: tuple[str, subprocess.Popen[str]]) -> None:
    started = time.monotonic()
    url, node = local_node
    setting = Deployment(url, str(tmp_path / "blobs"), tmp_path)
    chain: Chain = connect(url, read_only=True)

    # Accounts: 0 requester, 1-3 hospitals, 5 aggregator, 7 watcher.
    funded = [setting.addresses[index] for index in (0, *SECURE_HOSPITALS, 5, 7)]
    deployed = setting.run("deploy", "--mode", "secure", *[option for address in funded
                                                           for option in ("--fund", address)], key=0)
    assert "(secure mode)" in deployed.stdout
    deployment = json.loads((tmp_path / "deployment.json").read_text())
    assert deployment["mode"] == "secure" and "SecureLeafVerifier" in deployment["contracts"]
    coordinator = SecureCoordinator(chain, deployment["coordinator"])
    token = Token(chain, deployment["token"])

    (tmp_path / "plain.toml").write_text(TASK_TOML)
    refused = fedchain("task", "create", "--config", "plain.toml", env=setting.env(0), cwd=tmp_path, check=False)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith(f'error: the task file has mode = "plain", but coordinator '
                                     f"{coordinator.address} is a SecureCoordinator"), refused.stderr
    (tmp_path / "task.toml").write_text(SECURE_TASK_TOML)
    task = json.loads(setting.run("task", "create", "--config", "task.toml", "--json", key=0).stdout)
    assert (task["task_id"], task["coordinator"], task["mode"]) == (TASK, coordinator.address, "secure")

    with consortium() as group:
        hospitals = [group.start(setting.agent(f"hospital-{index}", "participant", "run", "--config", "task.toml",
                                               "--data", f"breast_cancer:{index - 1}/{len(SECURE_HOSPITALS)}",
                                               "--journal", f"journal-{index}.json", key=index))
                     for index in SECURE_HOSPITALS]
        _wait_on_chain(lambda: len(coordinator.advertisements(TASK, 0)) == len(SECURE_HOSPITALS)
                       or coordinator.round_view(TASK, 0).phase not in (RoundPhase.NOT_OPEN, RoundPhase.ADVERTISE),
                       "the hospitals' advertisements in round 0", group, timeout=3 * SECURE_COMMIT_WINDOW)
        margin = coordinator.round_view(TASK, 0).start + SECURE_COMMIT_WINDOW - chain.now()
        advertised = setting.status()
        assert_status_matches_chain(advertised, coordinator, SECURE_ROUNDS)
        assert len(advertised["secure"]["advertised"]) == len(SECURE_HOSPITALS), "every hospital started in time"
        assert advertised["phase"] in SECURE_PHASES[:2]
        # The aggregator and the watcher have nothing to do before the unmask deadline.
        aggregator = group.start(setting.agent("aggregator", "aggregator", "run", key=5))
        watcher = group.start(setting.agent("watcher", "watcher", "run", key=7))

        # Round 1's commit phase, once every hospital committed its shares: the commit window has time left.
        _wait_on_chain(lambda: len(coordinator.share_commitments(TASK, 1)) == len(SECURE_HOSPITALS),
                       "the hospitals' share commitments in round 1", group, timeout=2 * SECURE_ROUND_SECONDS)
        committed = setting.status()
        assert_status_matches_chain(committed, coordinator, SECURE_ROUNDS)
        assert (committed["round"], committed["phase"], committed["secure"]["seed_fixed"]) == (1, "COMMIT", True)
        assert sorted(committed["committed"]) == sorted(setting.addresses[index] for index in SECURE_HOSPITALS)
        assert committed["secure"]["uploaded"] == [] and committed["rounds"][0]["status"] == "FINALIZED"
        secrets = [value for index in SECURE_HOSPITALS
                   for value in _round_secrets(tmp_path / f"journal-{index}.json", round=1)]

        for agent in [*hospitals, aggregator, watcher]:
            wait_for(lambda agent=agent: agent.process.poll() is not None,  # type: ignore[misc]
                     timeout=2 * SECURE_ROUND_SECONDS, what=f"{agent.name} to finish", poll=1.0,
                     explain=group.logs)
            assert agent.process.returncode == 0, f"{agent.name} exited {agent.process.returncode}:\n{agent.output()}"

    hospital_addresses = sorted(setting.addresses[index] for index in SECURE_HOSPITALS)
    for round in range(SECURE_ROUNDS):
        for sets in (coordinator.advertisements(TASK, round), coordinator.share_commitments(TASK, round),
                     coordinator.uploads(TASK, round)):
            assert sorted(entry.participant for entry in sets) == hospital_addresses, f"round {round}"
        assert [proposal.aggregator for proposal in coordinator.proposals(TASK, round)] == [setting.addresses[5]]
    final = setting.status()
    assert_status_matches_chain(final, coordinator, SECURE_ROUNDS)
    assert (final["status"], final["mode"], final["round"]) == ("COMPLETED", "SECURE", SECURE_ROUNDS)
    assert [closed["status"] for closed in final["rounds"]] == ["FINALIZED"] * SECURE_ROUNDS
    assert not any(member["joined"] or member["claimable"] for member in final["members"])
    assert not any(entry["bonded"] or entry["fees"] for entry in final["aggregators"])
    for index in SECURE_HOSPITALS:
        journal = json.loads((tmp_path / f"journal-{index}.json").read_text())
        assert journal["round_secrets"] == {} and journal["trained_updates"] == {}, "erased at the task's end"

    pool = coordinator.task_state(TASK).pool
    requester = setting.run("claim", "--task", str(TASK), key=0).stdout
    assert (f"withdrawPool {whole_tokens(pool, 18)} tokens" in requester) if pool else ("nothing to claim" in requester)
    assert token.balance_of(coordinator.address) == 0, "the coordinator holds nothing once everyone has settled"

    exported = setting.run("export-model", "--task", str(TASK), "--out", "final/model.pt")  # no task file
    assert f"round {SECURE_ROUNDS - 1} of task {TASK}" in exported.stdout
    verified = setting.run("verify-model", "final/model.pt", "--rpc", setting.url)
    assert verified.stdout.startswith("OK:") and final["model_root"] in verified.stdout
    steps = json.loads((tmp_path / "final" / "preprocessing.json").read_text())
    assert steps["mean"] == list(load_task(tmp_path / "task.toml").data.mean), "the preprocessing the chain pins"
    audit = audit_task(url, coordinator.address, TASK, tmp_path / "blobs")
    assert audit.verified and audit.problems == [] and [r.status for r in audit.rounds] == ["finalized"] * 2

    node.send_signal(signal.SIGTERM)
    assert node.wait(timeout=30) == 0
    keys = [key.removeprefix("0x") for key in setting.keys]
    everything = "\n".join(agent.output() for agent in group.agents).lower()
    assert not [secret for secret in [*keys, *secrets] if secret.lower() in everything], "a secret reached a log"
    print(f"multi-process secure deployment: {time.monotonic() - started:.0f} s; the hospitals advertised with "
          f"{margin} s of round 0's advertise window left")


def _round_secrets(journal: Path, round: int) -> list[str]:
    """The never-revealed secrets a hospital journaled for ``round`` (its mask and encryption keys), as hex."""
    secrets = json.loads(journal.read_text())["round_secrets"][str(round)]
    return [secrets[name].removeprefix("0x") for name in ("mask_key", "encryption_key")]
