"""Run a configured federation on a development chain and collect what the chain says happened.

Accounts: 0 is the requester, 1..H the hospitals, then the honest aggregator, the cheating aggregator
(only if the config scripts one) and the watcher. The config's mode picks the coordinator and the agents
(plain or secure). In a round where the cheating aggregator cheats it is stepped before the honest one, so
its wrong proposal is the one the watcher must catch; in every other round the honest aggregator proposes
first.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from fedchain.chain import Chain, GasRecord, connect
from fedchain.chain.coordinator import Mode, RoundPhase, TaskParams, TaskStatus
from fedchain.chain.modes import MODES
from fedchain.client.params import unflatten
from fedchain.commit.quantize import dequantize
from fedchain.learn import (
    FederatedSplit,
    LearnError,
    ModelSpec,
    TorchTrainer,
    TrainConfig,
    model_parameter_names,
    run_baselines,
    seeded_model,
)
from fedchain.roles import (
    BaseAggregator,
    BaseParticipant,
    DroppingParticipant,
    OutOfRangeParticipant,
    SecureStep,
    SecureWithholdingAggregator,
    SilentParticipant,
    WithholdingAggregator,
)
from fedchain.roles.task import fetch_model
from fedchain.secagg.params import default_secure_params
from fedchain.sim.config import BPS, SimulationConfig, check_hospitals_for_mode, token_units
from fedchain.sim.data import load_split, model_spec
from fedchain.sim.errors import ConfigError, SimulationError
from fedchain.sim.federation import Federation
from fedchain.sim.ledger import Ledger
from fedchain.sim.records import (
    Baselines,
    ChainInfo,
    FinalModel,
    HospitalInfo,
    Metrics,
    Party,
    RoundRecord,
    SimulationResult,
    Slash,
)
from fedchain.storage import LocalBlobStore

FUNDS_PER_ACCOUNT = 10**24
MAX_STEPS_PER_ROUND = 80
MAX_CLOSING_STEPS = 10
MAX_SILENT_ROUNDS = 3
SILENCE_SLASH_BPS = 500
TAMPERED_COORDINATE = 0
BAD_UPDATE_COORDINATE = 0
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


def run_simulation(config: SimulationConfig, observer: Observer | None = None) -> SimulationResult:
    """Run the federation ``config`` describes from deployment to the last claim; return what happened."""
    started = time.perf_counter()
    watch = observer or SilentObserver()
    split = load_split(config.data, config.seed)
    check_against_split(config, split)
    spec = model_spec(config.model, split)
    training = _training(config)
    with _single_torch_thread(), connect(config.chain.backend, dev_accounts=len(split.clients) + 4) as chain, \
            tempfile.TemporaryDirectory(prefix="fedchain-sim-") as work:
        run = _Run(config, chain, split, spec, training, Path(work), watch)
        rounds = run.rounds()
        run.close()
        collected = run.collect()
        baselines = run_baselines(spec, split.clients, split.test, training, config.rounds, init_seed=config.seed)
    return SimulationResult(
        config=config_as_dict(config),
        rounds=tuple(rounds),
        baselines=Baselines(pooled=_metrics(baselines.pooled), local={
            run.hospital_name(position): _metrics(metrics)
            for position, metrics in enumerate(baselines.local.values())}),
        wall_seconds=time.perf_counter() - started,
        **collected,
    )


def check_against_split(config: SimulationConfig, split: FederatedSplit) -> None:
    """Settings that depend on how many hospitals the data gave (natural and CSV splits)."""
    hospitals = len(split.clients)
    check_hospitals_for_mode(config, hospitals, " (as the data gives)")
    if config.task.min_participants > hospitals:
        raise ConfigError(f"task.min_participants: {config.task.min_participants} is more than the {hospitals} "
                          "hospitals the data gives")
    for position, adversary in enumerate(config.adversaries):
        if adversary.hospital is not None and adversary.hospital >= hospitals:
            raise ConfigError(f"adversaries[{position}].hospital: {adversary.hospital} is not one of the {hospitals} "
                              f"hospitals the data gives (0..{hospitals - 1})")


def task_template(config: SimulationConfig, hospitals: int) -> TaskParams:
    """The task's on-chain rules; the token, num_params and the model-spec hash are filled in at launch."""
    task, window = config.task, config.task.window_seconds
    mode = MODES[config.mode]
    neighbours, threshold = default_secure_params(hospitals, neighbours=task.neighbours, threshold=task.threshold) \
        if mode == Mode.SECURE else (0, 0)
    return TaskParams(
        commit_window=window, reveal_window=window, propose_window=window, challenge_window=window,
        availability_window=window, cohort_cap=hospitals, min_participants=task.min_participants,
        sample_cap=config.rule.sample_cap,
        num_rounds=config.rounds, max_silent_rounds=MAX_SILENT_ROUNDS, token="0x" + "00" * 20, mode=mode, rule=0,
        scale_bits=task.scale_bits, words_per_leaf=task.words_per_leaf, clip=task.clip_units, num_params=0,
        server_lr_bps=round(config.rule.server_learning_rate * BPS), unbonding_delay=window, allowlist=False,
        missed_reveal_slash_bps=task.missed_reveal_slash_bps, silence_slash_bps=SILENCE_SLASH_BPS,
        violation_slash_bps=task.violation_slash_bps, aggregator_slash_bps=task.aggregator_slash_bps,
        bounty_bps=task.bounty_bps, aggregator_fee_bps=task.aggregator_fee_bps,
        min_stake=token_units(task.min_stake),
        aggregator_bond=token_units(task.aggregator_bond), reward_per_round=token_units(task.reward_per_round),
        availability_bond=token_units(task.availability_bond),
        neighbours=neighbours, threshold=threshold, model_spec_hash=bytes(32),
    )


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

    def __init__(self, config: SimulationConfig, chain: Chain, split: FederatedSplit, spec: ModelSpec,
                 training: TrainConfig, work: Path, observer: Observer) -> None:
        self.config = config
        self.chain = chain
        self.split = split
        self.observer = observer
        hospitals = len(split.clients)
        initial = seeded_model(spec, config.seed)
        self.federation = Federation.launch(
            chain, LocalBlobStore(work / "blobs"), work / "journals", template=task_template(config, hospitals),
            parameters=[tensor.detach().numpy().copy() for tensor in initial.state_dict().values()],
            names=model_parameter_names(initial), funds=FUNDS_PER_ACCOUNT,
            evaluator=TorchTrainer.from_spec(spec, init_seed=config.seed, train_data=split.test),
            client_for=lambda hospital: TorchTrainer.from_spec(spec, init_seed=config.seed,
                                                                train_data=split.clients[hospital], config=training),
        )
        withheld = frozenset(a.round for a in config.adversaries if a.kind == "withholding_aggregator")
        self.cheat_rounds = withheld | {a.round for a in config.adversaries if a.kind == "cheating_aggregator"}
        self.misbehaviour: dict[int, str] = {}
        for hospital in range(hospitals):
            self._add_hospital(hospital)
        self.honest = self.federation.add_aggregator(hospitals + 1)
        self.cheater: BaseAggregator | None = None
        if self.cheat_rounds:
            self.cheater = self.federation.add_aggregator(
                hospitals + 2, CHEATING_AGGREGATORS[self.federation.mode], rounds=self.cheat_rounds,
                coordinate=TAMPERED_COORDINATE, delta=2**config.task.scale_bits, withheld=withheld)
        self.watcher = self.federation.add_watcher(hospitals + 3)
        self.parties = self._parties()
        self.ledger = Ledger(self.federation.coordinator, self.federation.token, self.federation.task_id,
                             self.parties)
        self.gas_attributed = len(chain.gas_records)
        self.slashes_attributed = 0
        self.setup_gas = list(chain.gas_records)

    def hospital_name(self, hospital: int) -> str:
        """The readable name of hospital ``hospital``."""
        return f"hospital-{hospital}"

    def _add_hospital(self, hospital: int) -> None:
        mine = [a for a in self.config.adversaries if a.hospital == hospital]
        rounds = frozenset(a.round for a in mine)
        cls: type[BaseParticipant] | None = None  # the honest participant of the task's mode
        options: dict[str, Any] = {}
        if mine and mine[0].kind == "out_of_range_hospital":
            cls, options = OutOfRangeParticipant, {"rounds": rounds, "coordinate": BAD_UPDATE_COORDINATE}
        elif mine and mine[0].kind == "silent_hospital":
            cls, options = SilentParticipant, {"rounds": rounds}
        elif mine and mine[0].kind == "dropping_hospital" and mine[0].phase is not None:
            cls, options = DroppingParticipant, {"rounds": rounds, "before": DROPS_BEFORE[mine[0].phase]}
        if mine:
            how = mine[0].kind if mine[0].phase is None else f"{mine[0].kind} ({mine[0].phase.replace('_', ' ')})"
            self.misbehaviour[hospital] = f"{how} in round(s) {', '.join(map(str, sorted(rounds)))}"
        self.federation.add_participant(hospital, cls, stake=token_units(self.config.task.stake), **options)

    def _parties(self) -> list[Party]:
        federation = self.federation
        parties = [Party("requester", "requester", federation.requester.address)]
        parties += [Party(self.hospital_name(h), "participant", p.address)
                    for h, p in enumerate(federation.participants)]
        parties.append(Party("aggregator-a", "aggregator", self.honest.address))
        if self.cheater is not None:
            parties.append(Party("aggregator-b", "aggregator", self.cheater.address))
        parties.append(Party("watcher", "watcher", self.watcher.address))
        return parties

    # -- rounds --------------------------------------------------------------------------------------

    def rounds(self) -> list[RoundRecord]:
        """Drive every round to its end and record it."""
        return [self._round(round) for round in range(self.config.rounds)]

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
        again (the aggregator agent does the same for its bond by itself)."""
        federation = self.federation
        deposit = token_units(self.config.task.stake)
        for participant in federation.participants:
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
        return taken

    def _take_gas(self) -> dict[str, int]:
        records = self.chain.gas_records[self.gas_attributed:]
        self.gas_attributed = len(self.chain.gas_records)
        return _by_kind(records)

    def _record(self, round: int, gas: dict[str, int], slashes: tuple[Slash, ...], seconds: float) -> RoundRecord:
        ledger = self.ledger
        finalized = ledger.finalized(round)
        evaluation = next((e for e in self.federation.requester.evaluations if e.round == round), None)
        metrics = None
        if evaluation is not None:
            auc = evaluation.metrics.get("auc")
            metrics = Metrics(accuracy=float(evaluation.metrics["accuracy"]),
                              auc=None if auc is None else float(auc), loss=evaluation.loss)
        return RoundRecord(
            index=round, status=ledger.status(round), metrics=metrics,
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
                HospitalInfo(name=self.hospital_name(h), address=participant.address, source=self.split.clients[h].name,
                             examples=len(self.split.clients[h]),
                             label_counts=tuple(int(count) for count in np.bincount(
                                 self.split.clients[h].labels, minlength=self.split.test.num_classes)),
                             misbehaviour=self.misbehaviour.get(h))
                for h, participant in enumerate(federation.participants)),
            "quantization": {"scale_bits": federation.params.scale_bits,
                             "words_per_leaf": federation.params.words_per_leaf,
                             "num_params": federation.params.num_params, "clip": federation.params.clip},
            "gas_outside_rounds": _by_kind([*self.setup_gas, *closing]),
        }

    def _final(self) -> FinalModel:
        federation = self.federation
        rules = federation.requester.rules
        state = federation.state()
        anchor = federation.coordinator.finalized_models(federation.task_id)[-1]
        event = self.ledger.finalized(anchor.round)
        if event is None or (anchor.root, anchor.blob_ref) != (state.model_root, state.model_blob_ref):
            raise SimulationError(f"task {federation.task_id}: the last RoundFinalized event does not anchor the "
                                  "task's current model")
        vector = fetch_model(federation.store, rules, state.model_root, state.model_blob_ref)
        names = tuple(shape.name for shape in rules.shapes)
        parameters = unflatten(dequantize(vector, rules.quantization), [(s.name, s.dims) for s in rules.shapes],
                               dtype=MODEL_DTYPE)
        evaluation = next(e for e in federation.requester.evaluations if e.round == anchor.round)
        auc = evaluation.metrics.get("auc")
        return FinalModel(
            round=anchor.round,
            metrics=Metrics(accuracy=float(evaluation.metrics["accuracy"]), auc=None if auc is None else float(auc),
                            loss=evaluation.loss),
            model_root="0x" + state.model_root.hex(), model_blob_ref="0x" + state.model_blob_ref.hex(),
            anchor_tx=event.transactionHash.to_0x_hex(), anchor_block=int(event.blockNumber),
            names=names, parameters=list(parameters),
        )


def _training(config: SimulationConfig) -> TrainConfig:
    training = config.training
    try:
        return TrainConfig(local_epochs=training.local_epochs, batch_size=training.batch_size,
                           learning_rate=training.learning_rate, optimizer=training.optimizer,
                           momentum=training.momentum, seed=config.seed, num_threads=1)
    except LearnError as error:
        raise ConfigError(f"training: {error}") from None


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


def _metrics(metrics: Any) -> Metrics:
    return Metrics(accuracy=float(metrics.accuracy), auc=None if metrics.auc is None else float(metrics.auc),
                   loss=float(metrics.loss))
