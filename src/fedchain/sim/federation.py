"""The one way to drive a federation in one process: deploy, fund, create a task, add agents, step them.

The task's mode picks the coordinator (FedCoordinator for plain tasks, SecureCoordinator for secure ones)
and the agents' classes. A :class:`Federation` steps every agent in a fixed order (watchers,
participants, aggregators, the requester): the watchers come first, so that a slash that falls due at a
deadline goes out in the same pass as the phase it ends; a scored task's validators come next, so that their seats
are taken before the participants' joins open round 0.
When a full pass changes nothing (no new block, no new action) it moves the development chain's clock to the
current round's next deadline (a scored round's score windows included), so a run
never sleeps; but while any agent waits for a job it started (a participant's training running as a Ray task,
say: :meth:`fedchain.roles.Agent.pending_job`) it waits for that job instead, so no deadline ever depends on how
long training takes. Tests and the simulator both drive federations through this class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from fedchain.chain import Chain
from fedchain.chain.audits import AuditParams
from fedchain.chain.coordinator import (
    ChallengeStatus,
    Coordinator,
    CoordinatorClient,
    DisputeStatus,
    Mode,
    RoundPhase,
    RoundView,
    TaskParams,
    TaskState,
    TaskStatus,
    Token,
)
from fedchain.chain.modes import COORDINATORS
from fedchain.chain.scoring import ScoringParams
from fedchain.chain.secure_coordinator import advertise_end, masked_challenge_end, unmask_start, upload_end
from fedchain.client.api import Client, Config, NDArrays
from fedchain.client.jobs import TrainingJob
from fedchain.roles import Agent, BaseAggregator, BaseParticipant, BaseWatcher, Journal, Requester, Validator
from fedchain.roles.modes import AGGREGATORS, PARTICIPANTS, WATCHERS
from fedchain.sim.errors import SimulationError
from fedchain.storage import BlobStore

DEFAULT_MAX_STEPS = 200


@dataclass
class Federation:
    """A task on ``chain`` and the agents that work on it (a scored task's validators among them).

    Dev account 0 is the requester. ``client_for(hospital)`` builds the client of a participant added
    without an explicit one; its journal lives in ``journal_dir``. Every participant's client gets
    ``fit_config`` (the task's training settings and own keys) in each ``fit``.
    """

    chain: Chain
    coordinator: CoordinatorClient
    token: Token
    store: BlobStore
    requester: Requester
    journal_dir: Path
    client_for: Callable[[int], Client] | None = None
    fit_config: Config = field(default_factory=dict)
    participants: list[BaseParticipant] = field(default_factory=list)
    aggregators: list[BaseAggregator] = field(default_factory=list)
    watchers: list[BaseWatcher] = field(default_factory=list)
    validators: list[Validator] = field(default_factory=list)

    @classmethod
    def launch(cls, chain: Chain, store: BlobStore, journal_dir: Path, *, template: TaskParams,
               parameters: NDArrays, names: list[str] | None = None, evaluator: Client | None = None,
               funds: int, client_for: Callable[[int], Client] | None = None,
               fit_config: Config | None = None, scoring: ScoringParams | None = None,
               audits: AuditParams | None = None) -> Federation:
        """Deploy the coordinator of the template's mode and a dev token, mint ``funds`` to every account,
        create the task (scored by a validator committee with ``scoring``, its training audited with ``audits``).

        ``template`` gives every task rule but the token (set here), ``num_params`` and the spec hash.
        """
        coordinator = COORDINATORS[Mode(template.mode)].deploy(chain)
        token = Token.deploy_dev(chain)
        for account in chain.accounts:
            token.mint(account.address, funds, sender=chain.accounts[0])
        requester = Requester.create_task(coordinator, store, chain.accounts[0],
                                          template=replace(template, token=token.address),
                                          parameters=parameters, names=names, evaluator=evaluator,
                                          scoring=scoring, audits=audits)
        return cls(chain=chain, coordinator=coordinator, token=token, store=store, requester=requester,
                   journal_dir=journal_dir, client_for=client_for, fit_config=dict(fit_config or {}))

    @property
    def task_id(self) -> int:
        """The task this federation works on."""
        return self.requester.task_id

    @property
    def mode(self) -> Mode:
        """Plain or secure: the task's mode."""
        return Mode(self.params.mode)

    @property
    def params(self) -> TaskParams:
        """The task's rules."""
        return self.requester.rules.params

    def account(self, index: int) -> LocalAccount:
        """Dev account ``index`` (0 is the requester)."""
        if not 0 <= index < len(self.chain.accounts):
            raise SimulationError(f"the chain has {len(self.chain.accounts)} accounts; there is no account {index}")
        return self.chain.accounts[index]

    def journal(self, index: int) -> Journal:
        """The journal file of dev account ``index``."""
        return Journal(self.journal_dir / f"{index}.json", owner=self.account(index).address, task_id=self.task_id)

    # -- agents --------------------------------------------------------------------------------------

    def add_participant(self, hospital: int, cls: type[BaseParticipant] | None = None, *,
                        client: Client | None = None, **options: Any) -> BaseParticipant:
        """Hospital ``hospital`` as a participant (by default the honest one of the task's mode) on dev account
        ``hospital + 1``."""
        if client is None:
            if self.client_for is None:
                raise SimulationError(f"hospital {hospital} needs a client: pass one or give the federation "
                                      "a client_for")
            client = self.client_for(hospital)
        index = hospital + 1
        participant = (cls or PARTICIPANTS[self.mode])(self.coordinator, self.store, self.task_id, self.account(index),
                                                        client=client, journal=self.journal(index),
                                                        fit_config=self.fit_config, **options)
        self.participants.append(participant)
        return participant

    def add_aggregator(self, index: int, cls: type[BaseAggregator] | None = None, **options: Any) -> BaseAggregator:
        """An aggregator (by default the honest one of the task's mode) on dev account ``index``."""
        aggregator = (cls or AGGREGATORS[self.mode])(self.coordinator, self.store, self.task_id, self.account(index),
                                                     **options)
        self.aggregators.append(aggregator)
        return aggregator

    def add_watcher(self, index: int) -> BaseWatcher:
        """A watcher of the task's mode on dev account ``index``."""
        watcher = WATCHERS[self.mode](self.coordinator, self.store, self.task_id, self.account(index))
        self.watchers.append(watcher)
        return watcher

    def add_validator(self, index: int, cls: type[Validator] = Validator, *, client: Client,
                      **options: Any) -> Validator:
        """A validator of the scored task (by default an honest one) on dev account ``index``, scoring with
        ``client``'s held-out data."""
        if not isinstance(self.coordinator, Coordinator):
            raise SimulationError("only plain tasks are scored: a secure task has no validators")
        validator = cls(self.coordinator, self.store, self.task_id, self.account(index), client=client,
                        journal=self.journal(index), **options)
        self.validators.append(validator)
        return validator

    def agents(self) -> Sequence[Agent]:
        """Every agent, in the order they are stepped."""
        return [*self.watchers, *self.validators, *self.participants, *self.aggregators, self.requester]

    # -- driving -------------------------------------------------------------------------------------

    def step_all(self) -> None:
        """Step every agent once, each step reading one snapshot of the chain (`Chain.snapshot`)."""
        for agent in self.agents():
            with self.chain.snapshot():
                agent.step()

    def advance(self) -> bool:
        """Step every agent; if nothing changed, move the clock to the next deadline. True if anything acted.

        While an agent waits for a job it started (a training its last step found running), the clock stays: the
        pass waits for the first such job (in stepping order) to finish and steps every agent again, until something
        changed or no agent waits. Every job a pass started is under way before the first wait, so a cohort's
        trainings run together.
        """
        before = self.snapshot()
        self.step_all()
        while self.snapshot() == before:
            jobs = self.pending_jobs()
            if not jobs:
                self.advance_to_next_deadline()
                return False
            jobs[0].wait()
            self.step_all()
        return True

    def pending_jobs(self) -> list[TrainingJob]:
        """The jobs agents started and found running at their last step, in stepping order."""
        return [job for agent in self.agents() if (job := agent.pending_job()) is not None]

    def run_until(self, done: Callable[[], bool], max_steps: int = DEFAULT_MAX_STEPS) -> None:
        """Call :meth:`advance` until ``done()``; a federation stuck for ``max_steps`` passes is an error."""
        for _ in range(max_steps):
            if done():
                return
            self.advance()
        raise SimulationError(f"task {self.task_id} not done after {max_steps} steps; "
                              f"round {self.state().current_round} is in phase {self.phase().name}")

    def run_rounds(self, rounds: int) -> None:
        """Run until ``rounds`` rounds closed (or the task ended)."""
        self.run_until(lambda: self.state().current_round >= rounds or self.state().status != TaskStatus.RUNNING)

    def state(self) -> TaskState:
        """The task's state."""
        return self.coordinator.task_state(self.task_id)

    def phase(self) -> RoundPhase:
        """The current round's phase."""
        return self.coordinator.round_view(self.task_id, self.state().current_round).phase

    def _availability_deadlines(self, round: int, view: RoundView) -> list[int]:
        """The deadlines of the open availability challenges and model disputes of the current ``round``."""
        deadlines = [challenge.deadline for challenge in self.coordinator.input_challenges(self.task_id, round).values()
                     if challenge.status == ChallengeStatus.OPEN] if view.open_challenges else []
        deadlines += [dispute.deadline for dispute in self.coordinator.disputes(self.task_id, round).values()
                      if dispute.status not in (DisputeStatus.NONE, DisputeStatus.SETTLED)]
        if view.open_challenges and isinstance(self.coordinator, Coordinator) and \
                self.coordinator.audit_params(self.task_id).audited:  # open training audits (section 13)
            deadlines += [opened.deadline for opened in self.coordinator.audits_opened(self.task_id, round)]
        return deadlines

    def _score_deadlines(self, view: RoundView) -> list[int]:
        """A scored round's score reveal window start and its end of scores (none without scoring)."""
        scoring = self.requester.rules.scoring
        if scoring is None:
            return []
        return [view.reveal_end + scoring.score_window, view.reveal_end + 2 * scoring.score_window]

    def snapshot(self) -> tuple[int, int]:
        """What changes when any agent acted: the chain's block number and the total of action logs."""
        return int(self.chain.w3.eth.block_number), sum(len(agent.actions) for agent in self.agents())

    def advance_to_next_deadline(self) -> None:
        """Move the clock to the next deadline of the current round that lies in the future.

        A secure round splits the commit span into advertise and commit, each a window long, and the reveal span
        into upload (a window), availability (two availability windows: masked vectors may be challenged in the
        first) and unmask (a window); in a plain round those split points are the commit and reveal deadlines.
        While a proposal is pending its challenge deadline is next, not the propose window's end. The deadline of
        every open availability challenge and model dispute counts too.
        """
        round = self.state().current_round
        view = self.coordinator.round_view(self.task_id, round)
        now = self.chain.now()
        params = self.params
        deadlines = [advertise_end(view, params), view.commit_end, upload_end(view, params),
                     masked_challenge_end(view, params), unmask_start(view, params), view.reveal_end,
                     *self._score_deadlines(view), view.challenge_end if view.has_proposal else view.propose_end,
                     *self._availability_deadlines(round, view)]
        future = [deadline for deadline in deadlines if deadline > now]
        self.chain.advance_to(min(future) if future else now + self.params.commit_window)
