"""Run a configured federation on a development chain and collect what the chain says happened.

Accounts: 0 is the requester, 1..H the hospitals (an attack's Sybil identities after the hospitals of the data),
then the honest aggregator, the cheating aggregator (only if the config scripts one), the watcher and a scored
task's validators (the first ones colluding with the attackers under the ``colluding_validators`` attack). The config's
mode picks the coordinator and the agents (plain or secure); an attack's attackers are the mode's participants
with forged updates (:mod:`fedchain.sim.attackers`). In a round where the cheating aggregator cheats it is stepped
before the honest one, so its wrong proposal is the one the watcher must catch; in every other round the honest
aggregator proposes first.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
from numpy.typing import NDArray

from fedchain.chain import Chain, GasRecord, connect
from fedchain.chain.audits import AuditParams
from fedchain.chain.coordinator import Mode, RoundPhase, TaskStatus
from fedchain.client import Client, ClientError, NDArrays, unflatten
from fedchain.client.api import numeric_metrics
from fedchain.client.evaluation import FederatedEvaluation
from fedchain.client.load import as_client
from fedchain.commit.quantize import dequantize
from fedchain.learn import (
    EvalMetrics,
    TorchTrainer,
    evaluate_model,
    model_parameter_names,
    run_baselines,
    seeded_model,
    set_model_parameters,
)
from fedchain.learn.baselines import POOLED
from fedchain.learn.errors import ModelSpecError
from fedchain.roles import (
    BaseAggregator,
    BaseParticipant,
    ColludingValidator,
    DroppingParticipant,
    OutOfRangeParticipant,
    SecureStep,
    SecureWithholdingAggregator,
    SilentParticipant,
    Validator,
    WithholdingAggregator,
)
from fedchain.roles.audit import AuditedParticipant, UntrainedParticipant
from fedchain.roles.task import fetch_model
from fedchain.sim.attackers import ATTACKERS, Attacking, Campaign
from fedchain.sim.attacks import AttackPlan, AttackSettings, flip_labels, plan_attack
from fedchain.sim.config import (
    PLACEHOLDER_TOKEN,
    TOKEN_DECIMALS,
    Adversary,
    SimulationConfig,
    SimulationSettings,
    check_hospitals,
)
from fedchain.sim.data import load_split
from fedchain.sim.engines import open_engine
from fedchain.sim.errors import ConfigError, SimulationError
from fedchain.sim.federation import Federation
from fedchain.sim.ledger import Ledger
from fedchain.sim.records import (
    AuditRecord,
    Baselines,
    ChainInfo,
    FinalModel,
    HospitalInfo,
    PairedOutcomes,
    Party,
    RoundRecord,
    Scores,
    SimulationResult,
    Slash,
)
from fedchain.storage import LocalBlobStore
from fedchain.task import TaskSpec, TaskSpecError, audit_params, audit_step, fit_config, scoring_params, task_params
from fedchain.task.learning import model_spec, train_config
from fedchain.task.params import base_units
from fedchain.zk.fixed.logreg import LogRegStep

if TYPE_CHECKING:
    from fedchain.zk.evm.onchain import DeployedVerifier
    from fedchain.zk.proof.artifacts import CircuitArtifacts

FUNDS_PER_ACCOUNT = 10**24
MAX_STEPS_PER_ROUND = 80
MAX_CLOSING_STEPS = 10
TAMPERED_COORDINATE = 0
BAD_UPDATE_COORDINATE = 0
UNTRAINED_FACTOR = 3
"""An untrained hospital submits this many times the update it trained (with a trajectory scaled to match)."""
MODEL_DTYPE = np.float32
CHEATING_AGGREGATORS: dict[Mode, type[BaseAggregator]] = {Mode.PLAIN: WithholdingAggregator,
                                                          Mode.SECURE: SecureWithholdingAggregator}
"""The demo's cheating aggregator: it tampers in every cheating round and withholds the blob in those where it
is a withholding aggregator."""
DROPS_BEFORE = {"before_commit": SecureStep.COMMIT, "before_upload": SecureStep.UPLOAD,
                "during_unmask": SecureStep.UNMASK}


class Observer(Protocol):
    """Receives progress while a simulation runs (the CLI's live view is one)."""

    def phase(self, round: int, phase: RoundPhase) -> None:
        """The current round is now in ``phase``."""

    def round_closed(self, record: RoundRecord) -> None:
        """A round was finalized or failed."""


class SilentObserver:
    """An observer that ignores everything."""

    def phase(self, round: int, phase: RoundPhase) -> None:
        """Ignored."""

    def round_closed(self, record: RoundRecord) -> None:
        """Ignored."""


@dataclass(frozen=True)
class Hospital:
    """A simulated hospital: its name, its client and what is known of its data (None: the client keeps it); an
    attacker that trains on flipped labels also has the ``poisoned`` client of its data with flipped labels, and a
    Sybil identity says whose data it runs (``identity_of``, a hospital's position)."""

    name: str
    client: Client
    source: str
    examples: int | None = None
    label_counts: tuple[int, ...] | None = None
    poisoned: Client | None = None
    identity_of: int | None = None
    arrays: tuple[NDArray[np.float64], NDArray[np.int64]] | None = None
    """Its prepared training features and labels, which an audited task's participant trains on itself."""


@dataclass(frozen=True)
class Start:
    """What a simulation starts from: the hospitals, the evaluating client, the initial model."""

    hospitals: list[Hospital]
    evaluator: Client
    parameters: NDArrays
    names: list[str] | None
    preprocessing: dict[str, Any] | None = None
    baselines: Callable[[FinalModel], Baselines] | None = None
    """Trains the baselines and compares them with the final model, example by example."""
    classes: tuple[str, ...] | None = None
    validators: tuple[Client, ...] = ()
    """A scored task's validators' clients, each evaluating on its own held-out data."""
    audit_step: LogRegStep | None = None
    """An audited task's step circuit (its hospitals train and prove it)."""


def run_simulation(config: SimulationConfig, observer: Observer | None = None, *,
                   baselines: bool = True) -> SimulationResult:
    """Run the federation ``config`` describes (the built-in trainer on the configured data) from deployment to
    the last claim; return what happened, with the pooled and local baselines unless ``baselines`` is False."""
    split = load_split(config)
    check_hospitals(config, len(split.clients), " the data gives")
    try:
        spec = model_spec(config.task, in_features=split.test.num_features, source="the simulated data")
        training = train_config(config.task, device=config.simulation.device)
        initial = seeded_model(spec, config.task.seed)  # a model named by a bad import path fails here, not later
    except TaskSpecError as error:
        raise ConfigError(str(error)) from None
    except ModelSpecError as error:
        raise ConfigError(f"model.name: {error}") from None
    seed = config.task.seed
    plan = _plan(config, len(split.clients))
    poisoned = plan.attackers if plan is not None and plan.attack.flipped_labels else ()
    hospitals = [Hospital(name=_hospital_name(position), source=data.name, examples=len(data),
                          client=TorchTrainer.from_spec(spec, init_seed=seed, train_data=data, config=training),
                          label_counts=tuple(int(count) for count in np.bincount(data.labels,
                                                                                 minlength=split.test.num_classes)),
                          poisoned=TorchTrainer.from_spec(spec, init_seed=seed, config=training, train_data=dataclasses
                                                          .replace(data, labels=flip_labels(data.labels,
                                                                                            spec.num_classes)))
                          if position in poisoned else None,
                          arrays=(data.features, data.labels) if config.task.audit is not None else None)
                 for position, data in enumerate(split.clients)]

    def compare(final: FinalModel) -> Baselines:
        report = run_baselines(spec, split.clients, split.test, training, config.task.rounds, init_seed=seed)
        model = seeded_model(spec, seed)
        set_model_parameters(model, final.parameters)
        federation = evaluate_model(model, split.test)
        if federation.accuracy != final.scores.get("accuracy"):
            raise SimulationError(f"the final model's accuracy on the test set is {federation.accuracy}, its "
                                  f"evaluation said {final.scores.get('accuracy')}")
        local = {_hospital_name(position): metrics for position, metrics in enumerate(report.local.values())}
        return Baselines(pooled=_evaluation(report.pooled),
                         local={name: _evaluation(metrics) for name, metrics in local.items()},
                         paired={name: _paired(federation, metrics)
                                 for name, metrics in {POOLED: report.pooled, **local}.items()},
                         test_label_counts=tuple(int(count) for count in np.bincount(
                             split.test.labels, minlength=split.test.num_classes)))

    held_out = [split.test.subset(part) for part in np.array_split(np.arange(len(split.test)), config.validators)
                ] if config.validators else []
    start = Start(hospitals=hospitals, evaluator=TorchTrainer.from_spec(spec, init_seed=seed, train_data=split.test),
                  parameters=[tensor.detach().numpy().copy() for tensor in initial.state_dict().values()],
                  names=model_parameter_names(initial), preprocessing=split.preprocessing.to_json(),
                  baselines=compare if baselines else None, classes=split.test.class_names,
                  validators=tuple(TorchTrainer.from_spec(spec, init_seed=seed, train_data=data, eval_data=data)
                                   for data in held_out),
                  audit_step=audit_step(config.task, split.test.num_features))
    return _execute(config, start, observer, plan)


def simulate(client_fn: Callable[[int], object], *, hospitals: int, task: TaskSpec | None = None,
             initial: NDArrays | Mapping[str, Any] | None = None, evaluator: object | None = None,
             chain: str = "embedded", adversaries: Sequence[Adversary] = (), attack: AttackSettings | None = None,
             observer: Observer | None = None, engine: str = "local", ray_address: str | None = None,
             ray_cpus: int | None = None) -> SimulationResult:
    """Run a federation of ``hospitals`` hospitals whose clients ``client_fn(hospital)`` builds, on a development
    chain (``"embedded"`` or ``"anvil"``), under ``task`` (default: :class:`TaskSpec` ()), and return what the chain
    says happened.

    The clients train in this process, one after another (``engine="local"``), or as Ray tasks in parallel
    (``engine="ray"``: on the Ray cluster at ``ray_address``, else on a local one of ``ray_cpus`` CPUs started for
    the run; :mod:`fedchain.sim.engines`), which gives the same updates; each client must then be picklable.

    A client is anything with Flower's NumPyClient methods (a ``flwr`` NumPyClient, fedchain's
    :class:`~fedchain.learn.TorchTrainer`) or a Flower ``ClientApp``, which gets Flower's simulation
    ``node_config`` (``partition-id``, ``num-partitions``) and the task's ``config`` as its run config. Each round
    every client's ``fit`` gets the task's training settings and own keys with the round under ``"server-round"``.
    The initial model is ``initial`` (a list of arrays, or a state dict whose names a ClientApp's
    ``to_torch_state_dict()`` needs), else the first hospital's ``get_parameters``; each anchored model is judged by
    ``evaluator`` (a client holding test data), else by every hospital's own ``evaluate``, averaged by example
    counts. ``adversaries`` stages incidents as in a simulation file, and ``attack`` makes a share of the hospitals
    attack (:mod:`fedchain.sim.attacks`: the ``[attack]`` table of a simulation file), except the attacks that train
    on flipped labels (``label_flip``, ``scaling``): fedchain cannot flip the labels your clients hold.
    :func:`fedchain.write_report` writes the result's report folder.
    """
    spec = task or TaskSpec()
    if spec.audit is not None:
        raise ConfigError("audit: simulate() runs your own clients, and an audited member trains the circuit's step on "
                          "its data itself; run an audited task with `fedchain simulate` (fedchain.run_simulation)")
    if spec.scoring is not None:
        raise ConfigError("scoring: simulate() runs your own clients and holds no held-out data for validators to "
                          "score updates on; run a scored task with `fedchain simulate` (fedchain.run_simulation)")
    settings = SimulationSettings(hospitals=hospitals, chain=chain,  # type: ignore[arg-type]
                                  stake=max(SimulationSettings().stake, spec.task.min_stake),
                                  engine=engine, ray_address=ray_address, ray_cpus=ray_cpus)  # type: ignore[arg-type]
    config = SimulationConfig(task=spec, simulation=settings, adversaries=tuple(adversaries), attack=attack)
    plan = _plan(config, hospitals)
    if plan is not None and plan.attack.flipped_labels:
        raise ConfigError(f"attack.kind: {plan.settings.kind!r} trains fedchain's built-in trainer on flipped labels; "
                          "simulate() runs your own clients, whose labels it cannot flip")
    names = list(initial) if isinstance(initial, Mapping) else None
    built = [client_fn(hospital) for hospital in range(hospitals)]
    clients = [as_client(client, hospital=hospital, hospitals=hospitals, run_config=dict(spec.config),
                         array_names=names) for hospital, client in enumerate(built)]
    if initial is None:
        try:
            parameters = clients[0].get_parameters({})
        except ClientError as error:
            raise ClientError(f"{error}: pass simulate(..., initial=...), e.g. the model's state dict") from None
    else:
        parameters = [np.asarray(array) for array in (initial.values() if isinstance(initial, Mapping) else initial)]
    judge = FederatedEvaluation(clients) if evaluator is None else as_client(
        evaluator, hospital=hospitals, hospitals=hospitals + 1, run_config=dict(spec.config), array_names=names)
    start = Start(hospitals=[Hospital(name=_hospital_name(position), client=client, source=type(original).__name__)
                             for position, (client, original) in enumerate(zip(clients, built, strict=True))],
                  evaluator=judge, parameters=[np.asarray(array) for array in parameters], names=names)
    return _execute(config, start, observer, plan)


def _plan(config: SimulationConfig, hospitals: int) -> AttackPlan | None:
    """The attack of ``config`` among ``hospitals`` hospitals (None: there is none)."""
    return None if config.attack is None else plan_attack(config.attack, hospitals, config.task.seed,
                                                          config.validators)


def _execute(config: SimulationConfig, start: Start, observer: Observer | None,
             plan: AttackPlan | None) -> SimulationResult:
    started = time.perf_counter()
    watch = observer or SilentObserver()
    accounts = len(start.hospitals) + (0 if plan is None else len(plan.extra_identities())) + 4 + len(start.validators)
    with _single_torch_thread(), open_engine(config.simulation) as engine, \
            connect(config.simulation.chain, dev_accounts=accounts) as chain, \
            tempfile.TemporaryDirectory(prefix="fedchain-sim-") as work:
        on_engine = [dataclasses.replace(hospital, client=engine.client(hospital.client),
                                         poisoned=None if hospital.poisoned is None else engine.client(
                                             hospital.poisoned))
                     for hospital in start.hospitals]  # each hospital's fit runs on the engine
        trained = dataclasses.replace(start, hospitals=on_engine + _identities(on_engine, plan))
        run = _Run(config, chain, trained, Path(work), watch, plan)
        rounds = run.rounds()
        run.close()
        collected = run.collect()
    return SimulationResult(
        config=config_as_dict(config),
        rounds=tuple(rounds),
        baselines=None if start.baselines is None else start.baselines(collected["final"]),
        preprocessing=start.preprocessing,
        classes=start.classes,
        wall_seconds=time.perf_counter() - started,
        **collected,
    )


def _hospital_name(position: int) -> str:
    return f"hospital-{position}"


def _identities(hospitals: list[Hospital], plan: AttackPlan | None) -> list[Hospital]:
    """The Sybil identities of ``plan``: each runs its hospital's client and declares its data."""
    if plan is None:
        return []
    identities: list[Hospital] = []
    for hospital in plan.extra_identities():
        number = 1 + sum(1 for identity in identities if identity.identity_of == hospital)
        identities.append(dataclasses.replace(hospitals[hospital], name=f"{hospitals[hospital].name}-sybil-{number}",
                                              identity_of=hospital))
    return identities


def token_units(amount: Decimal) -> int:
    """Whole tokens of the simulation's token in base units."""
    return base_units("amount", amount, TOKEN_DECIMALS, low=0, high=2**256 - 1)


def config_as_dict(config: SimulationConfig) -> dict[str, Any]:
    """The config as JSON-ready data (paths and token amounts as strings)."""
    def plain(value: Any) -> Any:
        if isinstance(value, Path | Decimal):
            return str(value)
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        return value
    return {key: plain(value) for key, value in dataclasses.asdict(config).items()}


class _Run:
    """One simulation's live state: the federation, who is who, and the gas already attributed."""

    def __init__(self, config: SimulationConfig, chain: Chain, start: Start, work: Path, observer: Observer,
                 plan: AttackPlan | None) -> None:
        self.config = config
        self.chain = chain
        self.start = start
        self.observer = observer
        hospitals = len(start.hospitals)
        self.artifacts: CircuitArtifacts | None = None
        self.verifier: DeployedVerifier | None = None
        self.audit_setup_seconds = 0.0
        try:
            template = task_params(config.task, token=PLACEHOLDER_TOKEN, decimals=TOKEN_DECIMALS, hospitals=hospitals)
        except TaskSpecError as error:
            raise ConfigError(str(error)) from None
        self.federation = Federation.launch(
            chain, LocalBlobStore(work / "blobs"), work / "journals", template=template,
            parameters=start.parameters, names=start.names, funds=FUNDS_PER_ACCOUNT, evaluator=start.evaluator,
            client_for=lambda hospital: start.hospitals[hospital].client, fit_config=fit_config(config.task),
            scoring=scoring_params(config.task, template, decimals=TOKEN_DECIMALS),
            audits=self._audits(),
        )
        withheld = frozenset(a.round for a in config.adversaries if a.kind == "withholding_aggregator")
        self.cheat_rounds = withheld | {a.round for a in config.adversaries if a.kind == "cheating_aggregator"}
        self.misbehaviour: dict[int, str] = {}
        self.campaign = None if plan is None else Campaign(plan, config.task.seed)
        for hospital in range(hospitals):
            self._add_hospital(hospital)
        self.honest = self.federation.add_aggregator(hospitals + 1)
        self.cheater: BaseAggregator | None = None
        if self.cheat_rounds:
            self.cheater = self.federation.add_aggregator(
                hospitals + 2, CHEATING_AGGREGATORS[self.federation.mode], rounds=self.cheat_rounds,
                coordinate=TAMPERED_COORDINATE, delta=2**config.task.task.scale_bits, withheld=withheld)
        self.watcher = self.federation.add_watcher(hospitals + 3)
        self._add_validators(hospitals + 4)
        self.parties = self._parties()
        self.ledger = Ledger(self.federation.coordinator, self.federation.token, self.federation.task_id,
                             self.parties)
        self.gas_attributed = len(chain.gas_records)
        self.slashes_attributed = 0
        self.slashed_hospitals: set[str] = set()
        self.setup_gas = list(chain.gas_records)

    def _audits(self) -> AuditParams | None:
        """An audited task's rules, with the verifier of its step circuit deployed (its artifacts built, or read from
        ``$FEDCHAIN_ZK_CACHE``: a locally generated SRS, for testing only)."""
        step = self.start.audit_step
        if step is None:
            return None
        # the zk extra (ezkl, onnx), imported only for an audited task
        from fedchain.zk.evm.onchain import deploy_verifier  # noqa: PLC0415
        from fedchain.zk.evm.solidity import compiled_verifier  # noqa: PLC0415
        from fedchain.zk.proof.artifacts import circuit_artifacts  # noqa: PLC0415

        started = time.perf_counter()
        self.artifacts = circuit_artifacts(step)
        compiled = compiled_verifier(self.artifacts)
        if compiled.reusable:
            raise ConfigError(f"audit: the step circuit's verifier ({compiled.runtime_size} bytes) is over EIP-170's "
                              "limit, and the coordinator calls only a verifier of its own; use a smaller "
                              "audit.batch_size or task.scale_bits")
        self.verifier = deploy_verifier(self.chain, compiled)
        self.audit_setup_seconds = time.perf_counter() - started
        return audit_params(self.config.task, verifier=self.verifier.contract.address, decimals=TOKEN_DECIMALS)

    def _add_hospital(self, hospital: int) -> None:
        mine = [a for a in self.config.adversaries if a.hospital == hospital]
        rounds = frozenset(a.round for a in mine)
        cls: type[BaseParticipant] | None = None  # the honest participant of the task's mode
        options: dict[str, Any] = {}
        entry = self.start.hospitals[hospital]
        if self.start.audit_step is not None:
            if entry.arrays is None:
                raise SimulationError(f"{entry.name}: an audited task's hospital needs its training data")
            cls = UntrainedParticipant if mine and mine[0].kind == "untrained_hospital" else AuditedParticipant
            options = {"step": self.start.audit_step, "features": entry.arrays[0], "labels": entry.arrays[1],
                       "artifacts": self.artifacts}
            if cls is UntrainedParticipant:
                options.update(rounds=rounds, factor=UNTRAINED_FACTOR)
        if mine and mine[0].kind == "out_of_range_hospital":
            cls, options = OutOfRangeParticipant, {"rounds": rounds, "coordinate": BAD_UPDATE_COORDINATE}
        elif mine and mine[0].kind == "silent_hospital":
            cls, options = SilentParticipant, {"rounds": rounds}
        elif mine and mine[0].kind == "dropping_hospital" and mine[0].phase is not None:
            cls, options = DroppingParticipant, {"rounds": rounds, "before": DROPS_BEFORE[mine[0].phase]}
        if mine:
            how = mine[0].kind if mine[0].phase is None else f"{mine[0].kind} ({mine[0].phase.replace('_', ' ')})"
            self.misbehaviour[hospital] = f"{how} in round(s) {', '.join(map(str, sorted(rounds)))}"
        campaign = self.campaign
        data = hospital if entry.identity_of is None else entry.identity_of
        if campaign is not None and data in campaign.plan.attackers:
            cls = ATTACKERS[self.federation.mode]
            options = {"campaign": campaign, "data_of": data, "poisoned": entry.poisoned}
            self.misbehaviour[hospital] = campaign.plan.describe() if entry.identity_of is None else (
                f"sybil identity of {self.start.hospitals[data].name}")
        self.federation.add_participant(hospital, cls, stake=token_units(self.config.simulation.stake), **options)

    def _add_validators(self, first_account: int) -> None:
        """A scored task's validators, from dev account ``first_account`` on; under the ``colluding_validators``
        attack the first ones collude with the attackers (every identity of theirs)."""
        colluding = 0 if self.campaign is None else self.campaign.plan.colluding_validators
        favoured = frozenset(participant.address for participant in self.federation.participants
                             if isinstance(participant, Attacking))
        for position, client in enumerate(self.start.validators):
            if position < colluding:
                self.federation.add_validator(first_account + position, ColludingValidator, client=client,
                                              favoured=favoured)
            else:
                self.federation.add_validator(first_account + position, Validator, client=client)

    def _parties(self) -> list[Party]:
        federation = self.federation
        parties = [Party("requester", "requester", federation.requester.address)]
        parties += [Party(hospital.name, "participant", participant.address)
                    for hospital, participant in zip(self.start.hospitals, federation.participants, strict=True)]
        parties.append(Party("aggregator-a", "aggregator", self.honest.address))
        if self.cheater is not None:
            parties.append(Party("aggregator-b", "aggregator", self.cheater.address))
        parties.append(Party("watcher", "watcher", self.watcher.address))
        parties += [Party(f"validator-{position}", "validator", validator.address)
                    for position, validator in enumerate(federation.validators)]
        return parties

    # -- rounds --------------------------------------------------------------------------------------

    def rounds(self) -> list[RoundRecord]:
        """Drive every round to its end and record it."""
        return [self._round(round) for round in range(self.config.task.rounds)]

    def _round(self, round: int) -> RoundRecord:
        federation = self.federation
        cheats = round in self.cheat_rounds
        federation.aggregators.sort(key=lambda agent: 0 if (agent is self.cheater) == cheats else 1)
        started = time.perf_counter()
        self._restore_stakes()
        for _ in range(MAX_STEPS_PER_ROUND):
            state = federation.state()
            if state.current_round != round or state.status != TaskStatus.RUNNING:
                break
            self.observer.phase(round, federation.coordinator.round_view(federation.task_id, round).phase)
            federation.advance()
        else:
            raise SimulationError(f"round {round} did not close within {MAX_STEPS_PER_ROUND} steps "
                                  f"(phase {federation.phase().name})")
        record = self._record(round, self._take_gas(), self._take_slashes(), time.perf_counter() - started)
        self.observer.round_closed(record)
        return record

    def _restore_stakes(self) -> None:
        """A slashed hospital below the task's minimum stake tops it back up to its deposit, so it can commit
        again (the aggregator agent does the same for its bond by itself). Only hospitals ever slashed are read (the
        slashes of every closed round were taken when it closed)."""
        federation = self.federation
        deposit = token_units(self.config.simulation.stake)
        for participant in (p for p in federation.participants if p.address.lower() in self.slashed_hospitals):
            member = federation.coordinator.member(federation.task_id, participant.address)
            if member.joined and member.stake < federation.params.min_stake:
                participant.ensure_allowance(deposit - member.stake)
                federation.coordinator.add_stake(federation.task_id, deposit - member.stake,
                                                 sender=participant.account)
                participant.log("addStake")

    def _take_slashes(self) -> tuple[Slash, ...]:
        """The slashes mined since the last round closed."""
        slashes = self.ledger.slashes()
        taken = tuple(slashes[self.slashes_attributed:])
        self.slashes_attributed = len(slashes)
        self.slashed_hospitals.update(slash.address.lower() for slash in taken if slash.role == "participant")
        return taken

    def _take_gas(self) -> dict[str, int]:
        records = self.chain.gas_records[self.gas_attributed:]
        self.gas_attributed = len(self.chain.gas_records)
        return _by_kind(records)

    def _record(self, round: int, gas: dict[str, int], slashes: tuple[Slash, ...], seconds: float) -> RoundRecord:
        ledger = self.ledger
        finalized = ledger.finalized(round)
        evaluation = next((e for e in self.federation.requester.evaluations if e.round == round), None)
        scores = None if evaluation is None else _scores(evaluation.loss, evaluation.metrics,
                                                         evaluation.num_examples)
        return RoundRecord(
            index=round, status=ledger.status(round), scores=scores,
            participants=tuple(ledger.name(included.participant) for included in ledger.included(round)),
            committed=ledger.committed(round), dropped=ledger.dropped(round), proposals=ledger.proposals(round),
            gas=gas, rewards=ledger.rewards(round), slashes=slashes,
            model_root=None if finalized is None else "0x" + bytes(finalized.args.modelRoot).hex(),
            wall_seconds=seconds,
        )

    def close(self) -> None:
        """After the last round: step the agents until they rest (they claim and withdraw what is theirs)."""
        for _ in range(MAX_CLOSING_STEPS):
            if not self.federation.advance():
                return
        raise SimulationError(f"the agents still act {MAX_CLOSING_STEPS} steps after the task ended")

    # -- the end -------------------------------------------------------------------------------------

    def collect(self) -> dict[str, Any]:
        """The final model, slashes, balances, chain and hospitals."""
        federation, ledger = self.federation, self.ledger
        state = federation.state()
        if state.status != TaskStatus.COMPLETED:
            raise SimulationError(f"task {federation.task_id} ended as {state.status.name}, not COMPLETED")
        slashes = ledger.slashes()
        closing = self.chain.gas_records[self.gas_attributed:]
        return {
            "final": self._final(),
            "slashes": tuple(slashes),
            "balances": tuple(ledger.balances(slashes)),
            "chain": ChainInfo(
                backend=self.chain.backend, chain_id=self.chain.chain_id,
                coordinator=federation.coordinator.address, token=federation.token.address,
                task_id=federation.task_id,
                contracts={**federation.coordinator.deployed_contracts(), "DevToken": federation.token.address}),
            "hospitals": tuple(
                HospitalInfo(name=hospital.name, address=participant.address, source=hospital.source,
                             examples=hospital.examples, label_counts=hospital.label_counts,
                             misbehaviour=self.misbehaviour.get(position), attacker=isinstance(participant, Attacking),
                             identity_of=None if hospital.identity_of is None
                             else self.start.hospitals[hospital.identity_of].name)
                for position, (hospital, participant) in enumerate(zip(self.start.hospitals,
                                                                       federation.participants, strict=True))),
            "quantization": {"scale_bits": federation.params.scale_bits,
                             "words_per_leaf": federation.params.words_per_leaf,
                             "num_params": federation.params.num_params, "clip": federation.params.clip},
            "gas_outside_rounds": _by_kind([*self.setup_gas, *closing]),
            "audits": tuple(self._audit_records()),
        }

    def _audit_records(self) -> list[AuditRecord]:
        """The task's audits as the chain recorded them, with the seconds each proof took at its hospital."""
        seconds: dict[tuple[int, str, int], float] = {}
        refused: dict[tuple[int, str, int], int] = {}
        for participant in self.federation.participants:
            if isinstance(participant, AuditedParticipant):
                for proof in participant.proofs:
                    at = (proof.round, participant.address.lower(), proof.step)
                    if proof.accepted:
                        seconds[at] = proof.seconds
                    else:
                        refused[at] = refused.get(at, 0) + 1
        return self.ledger.audits(seconds, refused)

    def _final(self) -> FinalModel:
        federation = self.federation
        rules = federation.requester.rules
        state = federation.state()
        anchors = federation.coordinator.finalized_models(federation.task_id)
        if not anchors:
            raise SimulationError(f"task {federation.task_id}: every one of its {self.config.task.rounds} rounds "
                                  "failed, so no model was anchored to report")
        anchor = anchors[-1]
        event = self.ledger.finalized(anchor.round)
        if event is None or (anchor.root, anchor.blob_ref) != (state.model_root, state.model_blob_ref):
            raise SimulationError(f"task {federation.task_id}: the last RoundFinalized event does not anchor the "
                                  "task's current model")
        vector = fetch_model(federation.store, rules, state.model_root, state.model_blob_ref)
        names = tuple(shape.name for shape in rules.shapes)
        parameters = unflatten(dequantize(vector, rules.quantization), [(s.name, s.dims) for s in rules.shapes],
                               dtype=MODEL_DTYPE)
        evaluation = next(e for e in federation.requester.evaluations if e.round == anchor.round)
        return FinalModel(
            round=anchor.round,
            scores=_scores(evaluation.loss, evaluation.metrics, evaluation.num_examples),
            model_root="0x" + state.model_root.hex(), model_blob_ref="0x" + state.model_blob_ref.hex(),
            anchor_tx=event.transactionHash.to_0x_hex(), anchor_block=int(event.blockNumber),
            names=names, parameters=list(parameters),
        )


@contextmanager
def _single_torch_thread() -> Iterator[None]:
    """Small models train fastest on one thread; the caller's setting is restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _by_kind(records: list[GasRecord]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for record in records:
        totals[record.kind] = totals.get(record.kind, 0) + record.gas_used
    return dict(sorted(totals.items()))


def _scores(loss: float, metrics: Mapping[str, Any], examples: int) -> Scores:
    """An evaluation's loss and its numeric metrics (others, such as strings, are left out) on ``examples``
    examples."""
    return Scores(loss=float(loss), metrics=numeric_metrics(metrics), examples=int(examples))


def _evaluation(metrics: EvalMetrics) -> Scores:
    return _scores(metrics.loss, metrics.as_dict(), metrics.num_examples)


def _paired(federation: EvalMetrics, baseline: EvalMetrics) -> PairedOutcomes:
    """How the federation's final model and ``baseline`` fared on each test example."""
    ours, theirs = federation.correct, baseline.correct
    return PairedOutcomes(both=int(np.sum(ours & theirs)), only_federation=int(np.sum(ours & ~theirs)),
                          only_baseline=int(np.sum(~ours & theirs)), neither=int(np.sum(~ours & ~theirs)))
