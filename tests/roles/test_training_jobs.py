"""Training as a job: a participant starts its training and keeps stepping, commits once the job is done, and the
federation never moves the clock while a job runs: it waits for the job. All of a round's jobs are under way before
the first wait. A journaled update is never trained again."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.roles.conftest import (
    MODEL,
    NUM_CLIENTS,
    STAKE,
    Federation,
    make_federation,
    secure_task_template,
    task_template,
)

from fedchain.chain.coordinator import EntryState, RoundPhase, TaskParams
from fedchain.client import ROUND_KEY, Client, Config, FinishedJob, FitResult, Metrics, NDArrays, start_fit
from fedchain.learn import FederatedSplit, TorchTrainer

SLOW_FIT_SECONDS = 0.2


@dataclass
class Event:
    """What happened to a job: ``start`` (a participant started it) or ``wait`` (someone waited for it), in which
    round, for which hospital, at which chain time, in which phase of the round, and when its commit window
    closes."""

    kind: str
    round: int
    hospital: int
    now: int
    phase: RoundPhase
    commit_end: int


class DeferredJob:
    """A training that runs only when someone waits for it: until then every step finds it running."""

    def __init__(self, fit: Callable[[], FitResult], on_wait: Callable[[], None]) -> None:
        self._fit, self._on_wait = fit, on_wait
        self._result: FitResult | None = None

    def done(self) -> bool:
        return self._result is not None

    def wait(self, timeout: float | None = None) -> bool:
        if self._result is None:
            self._on_wait()
            self._result = self._fit()
        return True

    def result(self) -> FitResult:
        assert self._result is not None, "a participant takes the result only of a job that is done"
        return self._result


class DeferredClient:
    """A real trainer whose ``start_fit`` returns a :class:`DeferredJob`, noting each start and wait in ``events``."""

    def __init__(self, trainer: Client, hospital: int, events: list[Event], federation: Callable[[], Federation]):
        self.trainer, self.hospital, self.events, self.federation = trainer, hospital, events, federation

    def get_parameters(self, config: Config) -> NDArrays:
        return self.trainer.get_parameters(config)

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        return self.trainer.fit(parameters, config)

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        return self.trainer.evaluate(parameters, config)

    def start_fit(self, parameters: NDArrays, config: Config) -> DeferredJob:
        round = int(config[ROUND_KEY])
        self.note("start", round)
        return DeferredJob(lambda: self.trainer.fit(parameters, config), lambda: self.note("wait", round))

    def note(self, kind: str, round: int) -> None:
        federation = self.federation()
        view = federation.coordinator.round_view(federation.task_id, round)
        self.events.append(Event(kind, round, self.hospital, federation.chain.now(), view.phase, view.commit_end))


class ThreadJob:
    """A training on a thread of its own."""

    def __init__(self, future: Future[FitResult]) -> None:
        self.future = future

    def done(self) -> bool:
        return self.future.done()

    def wait(self, timeout: float | None = None) -> bool:
        try:
            self.future.exception(timeout)
        except TimeoutError:
            return False
        return True

    def result(self) -> FitResult:
        return self.future.result()


class SlowThreadClient:
    """A real trainer whose every fit runs on a thread and takes :data:`SLOW_FIT_SECONDS` longer."""

    def __init__(self, trainer: Client, pool: ThreadPoolExecutor) -> None:
        self.trainer, self.pool = trainer, pool

    def get_parameters(self, config: Config) -> NDArrays:
        return self.trainer.get_parameters(config)

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        time.sleep(SLOW_FIT_SECONDS)
        return self.trainer.fit(parameters, config)

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        return self.trainer.evaluate(parameters, config)

    def start_fit(self, parameters: NDArrays, config: Config) -> ThreadJob:
        return ThreadJob(self.pool.submit(self.fit, parameters, config))


@contextmanager
def federation_of(tmp_path: Path, split: FederatedSplit, template: TaskParams,
                  client: Callable[[int, Client], Client]) -> Iterator[Federation]:
    """The roles' test federation with every hospital as a participant, whose trainer ``client(hospital, trainer)``
    wraps, an aggregator and a watcher."""
    with contextmanager(make_federation)(tmp_path, split, template) as federation:
        built = federation.client_for
        assert built is not None
        for hospital in range(NUM_CLIENTS):
            federation.add_participant(hospital, client=client(hospital, built(hospital)))
        federation.add_aggregator(NUM_CLIENTS + 1)
        federation.add_watcher(NUM_CLIENTS + 2)
        yield federation


def entered(federation: Federation, round: int) -> int:
    """How many participants' inputs ``round`` included."""
    return federation.coordinator.round_view(federation.task_id, round).included


@pytest.mark.parametrize("template", [task_template(2), secure_task_template(1)], ids=["plain", "secure"])
def test_the_federation_waits_for_every_job_and_never_moves_the_clock_past_one(
        template: TaskParams, tmp_path: Path, breast_cancer_clients: FederatedSplit) -> None:
    events: list[Event] = []
    holder: list[Federation] = []
    with federation_of(tmp_path, breast_cancer_clients, template,
                       lambda hospital, trainer: DeferredClient(trainer, hospital, events, lambda: holder[0])) \
            as federation:
        holder.append(federation)
        federation.run_rounds(template.num_rounds)
        rounds = template.num_rounds
        assert [entered(federation, round) for round in range(rounds)] == [NUM_CLIENTS] * rounds
        assert len(federation.coordinator.finalized_models(federation.task_id)) == rounds
    for round in range(template.num_rounds):
        mine = [event for event in events if event.round == round]
        kinds = [event.kind for event in mine]
        assert kinds.count("start") == kinds.count("wait") == NUM_CLIENTS, "each job started once, waited for once"
        assert kinds.index("wait") > max(i for i, kind in enumerate(kinds) if kind == "start"), \
            "every job of the round was under way before the federation waited for the first"
        assert all(event.phase == RoundPhase.COMMIT and event.now < event.commit_end for event in mine), \
            "the clock never left the commit window while a job ran"


def test_jobs_that_finish_on_their_own_are_waited_for_too(tmp_path: Path,
                                                          breast_cancer_clients: FederatedSplit) -> None:
    pool = ThreadPoolExecutor(max_workers=NUM_CLIENTS)
    with pool, federation_of(tmp_path, breast_cancer_clients, task_template(2),
                             lambda hospital, trainer: SlowThreadClient(trainer, pool)) as federation:
        federation.run_rounds(2)
        assert [entered(federation, round) for round in range(2)] == [NUM_CLIENTS] * 2


def join(federation: Federation, hospital: int) -> None:
    """Hospital ``hospital`` joins the task without an agent (round 0 opens once two members have joined)."""
    member = federation.account(hospital + 1)
    federation.token.approve(federation.coordinator.address, STAKE, sender=member)
    federation.coordinator.join(federation.task_id, STAKE, sender=member)


def test_a_participant_steps_on_while_its_job_runs_and_commits_when_it_is_done(federation: Federation) -> None:
    events: list[Event] = []
    built = federation.client_for
    assert built is not None
    join(federation, 0)
    join(federation, 1)
    participant = federation.add_participant(0, client=DeferredClient(built(0), 0, events, lambda: federation))
    participant.step()
    job = participant.pending_job()
    assert isinstance(job, DeferredJob) and participant.actions == []
    participant.step()
    assert participant.pending_job() is job and participant.actions == [], "nothing is sent while the job runs"
    assert job.wait()
    assert participant.pending_job() is job, "a job is pending until a step has taken its result"
    participant.step()
    assert participant.actions == ["prepared round 0", "commit:0"] and participant.pending_job() is None
    assert [event.kind for event in events] == ["start", "wait"]


class NeverTrains:
    """A client that must not be asked to train."""

    def get_parameters(self, config: Config) -> NDArrays:
        raise AssertionError("not asked")

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        raise AssertionError("a journaled update was trained again")

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        raise AssertionError("not asked")


@pytest.mark.parametrize("secure", [False, True], ids=["plain", "secure"])
def test_a_journaled_update_is_never_trained_again(secure: bool, request: pytest.FixtureRequest) -> None:
    federation: Federation = request.getfixturevalue("secure_federation" if secure else "federation")
    for hospital in range(3):
        join(federation, hospital)
    doomed = federation.add_participant(0)
    if secure:  # three advertise (a sharing of threshold 2 needs two neighbours); training is in the commit window
        for agent in (doomed, federation.add_participant(1), federation.add_participant(2)):
            agent.step()
        federation.advance_to_next_deadline()
    state = federation.state()
    trained = doomed.trained_update(0, state.model_root, state.model_blob_ref)  # journaled; the process dies here
    assert trained is not None and doomed.journal.trained_update(0) == trained
    federation.participants.remove(doomed)
    reborn = federation.add_participant(0, client=NeverTrains())
    reborn.step()
    assert reborn.actions[-1] == ("commitShares:0" if secure else "commit:0")
    assert federation.coordinator.entry_state(federation.task_id, 0, reborn.address) == EntryState.COMMITTED
    assert reborn.journal.trained_update(0) == trained


def test_a_plain_client_trains_at_once_as_a_finished_job(breast_cancer_clients: FederatedSplit) -> None:
    trainer = TorchTrainer.from_spec(MODEL, init_seed=0, train_data=breast_cancer_clients.clients[0])
    job = start_fit(trainer, trainer.get_parameters({}), {ROUND_KEY: 0})
    assert isinstance(job, FinishedJob) and job.done() and job.wait(0)
    assert job.result()[1] == len(breast_cancer_clients.clients[0])
