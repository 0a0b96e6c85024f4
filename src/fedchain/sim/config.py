"""The simulation configuration: a task (:mod:`fedchain.task.schema`, the same keys and defaults as a deployment's
task file), plus what only a simulation has: its data, chain and scripted incidents. Loaded from TOML.

The task's defaults are a task file's, the ``[simulation]`` defaults are below, and the incidents default to the
demo's (``adversaries = []`` turns them off), so a file states only what it changes. `fedchain demo`
(:func:`demo_config`, written out in examples/breast_cancer.toml) departs from these defaults where it must to show
a federation learning: a stronger label skew (:data:`DEMO_ALPHA`) and slower local training
(:data:`DEMO_TRAINING`). An unknown key, a value of the wrong type or out of range is a :class:`ConfigError`
whose message starts with the key (``simulation.alpha: must be > 0, got -1``), raised before any data is loaded
or any chain started.

    rounds, seed, mode, [model], [data], [training], [config], [rule], [task], [scoring]
                     the task: docs/tasks.md lists every key (``task.cohort_cap`` defaults to the number of
                     hospitals; with ``[scoring]`` the task is scored by validators)
    [simulation]     dataset, partition, hospitals, alpha, test_fraction, min_hospital_size, files (one CSV per
                     hospital), stake (what each hospital deposits), validators (of a scored task, each holding an
                     equal part of the test split), chain ("embedded" or "anvil"), device, engine ("local" or
                     "ray"), ray_address, ray_cpus, output (folder for report.json, report.html, model.pt,
                     anchor.json, from the cwd)
    [[adversaries]]  kind, round, hospital (for the hospital kinds), phase (for a dropping hospital):
                     both modes: "cheating_aggregator", "withholding_aggregator" (a wrong model whose blob it
                     withholds); plain mode: "out_of_range_hospital", "silent_hospital"; secure mode:
                     "dropping_hospital" with phase "before_commit", "before_upload" or "during_unmask"; an audited
                     task ([audit]): "untrained_hospital" (submits an update it did not train)
    [attack]         kind, share, from_round, strength: a share of the hospitals, picked from the seed, attack in
                     every round from from_round on (:mod:`fedchain.sim.attacks` describes each kind): "sign_flip",
                     "scaling", "gaussian_noise", "label_flip", "alie", "ipm", "free_rider_zero",
                     "free_rider_copy", "sybil" in either mode (a secure attacker attacks before masking), and
                     "colluding_validators" in a scored task

The default adversaries are the demo's incidents of the configured mode (:data:`DEMO_ADVERSARIES`); there is no
attack by default. A hospital does one thing wrong: an attacker cannot also be an incident's hospital.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Final, Literal, get_args

from fedchain.score.constants import MAX_SEATS
from fedchain.sim.attacks import AttackKind, AttackSettings, plan_attack
from fedchain.sim.errors import ConfigError
from fedchain.task.errors import TaskSpecError
from fedchain.task.params import MAX_AMOUNT_UNITS, base_units, task_params
from fedchain.task.read import read_section, read_task
from fedchain.task.schema import Section, TaskSpec, TrainingSettings, setting
from fedchain.toml_table import Table, read_toml

Dataset = Literal["breast_cancer", "diabetes", "digits", "lung", "csv"]
Partition = Literal["dirichlet", "iid", "natural"]
Backend = Literal["embedded", "anvil"]
Device = Literal["cpu", "cuda", "auto"]
Engine = Literal["local", "ray"]
AdversaryKind = Literal["cheating_aggregator", "withholding_aggregator", "out_of_range_hospital", "silent_hospital",
                        "dropping_hospital", "untrained_hospital"]
DropPhase = Literal["before_commit", "before_upload", "during_unmask"]

HOSPITAL_ADVERSARIES: Final = ("out_of_range_hospital", "silent_hospital", "dropping_hospital", "untrained_hospital")
MODE_ADVERSARIES: Final[dict[str, tuple[str, ...]]] = {
    "plain": ("cheating_aggregator", "withholding_aggregator", "out_of_range_hospital", "silent_hospital",
              "untrained_hospital"),
    "secure": ("cheating_aggregator", "withholding_aggregator", "dropping_hospital"),
}
"""Which incidents each mode can stage: a masked update cannot be range-checked, and a secure member that
commits and never uploads is a dropping hospital (before_upload), not a silent one. An untrained hospital (an
audited task's: it submits three times the update it trained, with a trajectory scaled to match, which no proof can
verify) needs ``[audit]``, whose hospitals stage no other incident."""
AUDITED_ADVERSARIES: Final = ("cheating_aggregator", "withholding_aggregator", "untrained_hospital")
TOKEN_DECIMALS: Final = 18
PLACEHOLDER_TOKEN: Final = "0x" + "00" * 20
"""The token a simulated task's rules are checked with; the run sets its dev token's address."""
MAX_HOSPITALS: Final = 4096
"""Every hospital is a funded development account and a member of the task; when there are more than the task's
``cohort_cap`` (at most 256), the chain samples each round's cohort from them. bench/bench_scale.py runs 1000."""


@dataclass(frozen=True)
class SimulationSettings(Section):
    """What only a simulation has: its data and how it is split among hospitals, the chain, the output."""

    TABLE: ClassVar[str] = "simulation"

    dataset: Dataset = setting("breast_cancer", "`breast_cancer`, `diabetes`, `digits` (8x8 images: 64 features, "
                                                "10 classes), `lung` (scikit-learn's and lifelines' data, no "
                                                "download) or `csv` (your files)")
    partition: Partition = setting("dirichlet", "how the data is split: `dirichlet` (label skew), `iid`, or "
                                                "`natural` (one hospital per institution or file)")
    hospitals: int = setting(5, "hospitals of an iid or dirichlet split", low=2, high=MAX_HOSPITALS)
    alpha: float = setting(0.5, "skew of a dirichlet split (smaller: more skewed)", low=0.0, low_open=True)
    test_fraction: float = setting(0.2, "stratified held-out test set", low=0.0, high=1.0, low_open=True,
                                   high_open=True)
    min_hospital_size: int = setting(10, "training examples every hospital gets at least", low=1, high=10**6)
    files: tuple[Path, ...] = setting((), "one CSV file per hospital (dataset = \"csv\"), relative to the file")
    stake: Decimal = setting(Decimal(20), "what each hospital deposits (at least task.min_stake)", low=0,
                             low_open=True, unit="tokens")
    validators: int | None = setting(None, "validators of a scored task (`[scoring]`), each holding an equal part of "
                                           "the held-out test split (the requester evaluates on all of it); default: "
                                           "scoring.committee", low=1, high=MAX_SEATS)
    chain: Backend = setting("embedded", "`embedded` (py-evm in this process) or `anvil` (a local node)")
    device: Device = setting("cpu", "where the hospitals train: `cpu`, `cuda` or `auto`")
    engine: Engine = setting("local", "what runs the hospitals' training: `local` (this process, one after "
                                      "another) or `ray` (Ray tasks in parallel; `pip install 'fedchain[ray]'`)")
    ray_address: str | None = setting(None, "the Ray cluster to join (engine = \"ray\"), as `ray.init(address="
                                            "...)` takes it; left out: a local cluster started for the run")
    ray_cpus: int | None = setting(None, "CPUs of the local Ray cluster started for the run; left out: the "
                                         "machine's", low=1, high=4096)
    output: Path = setting(Path("fedchain-out"), "the output folder (from the current directory)")

    def check(self) -> None:
        """The data source and its split agree."""
        if self.partition == "natural" and self.dataset not in ("lung", "csv"):
            raise self.fail("partition", f"'natural' needs a dataset with institutions ('lung' or 'csv'), not "
                                         f"{self.dataset!r}")
        if self.dataset == "csv" and self.partition != "natural":
            raise self.fail("partition", "a CSV federation is split by file (one hospital per file); use "
                                         "partition = \"natural\"")
        if self.dataset == "csv" and len(self.files) < 2:
            raise self.fail("files", f"a CSV federation needs at least two files (one per hospital), got "
                                     f"{len(self.files)}")
        if self.dataset != "csv" and self.files:
            raise self.fail("files", f"only used with dataset = \"csv\", not {self.dataset!r}")
        for name in ("ray_address", "ray_cpus"):
            if self.engine != "ray" and getattr(self, name) is not None:
                raise self.fail(name, "only used with engine = \"ray\"")
        if self.ray_address is not None and self.ray_cpus is not None:
            raise self.fail("ray_cpus", "sets up a local cluster; the cluster at ray_address has its own CPUs")


@dataclass(frozen=True)
class Adversary:
    """One scripted incident: who misbehaves, how, in which round (and where a dropping hospital drops)."""

    kind: AdversaryKind
    round: int
    hospital: int | None = None
    phase: DropPhase | None = None


DEMO_ADVERSARIES: Final[dict[str, tuple[Adversary, ...]]] = {
    "secure": (
        Adversary(kind="cheating_aggregator", round=4),
        Adversary(kind="withholding_aggregator", round=6),
        Adversary(kind="dropping_hospital", round=9, hospital=2, phase="before_upload"),
    ),
    "plain": (
        Adversary(kind="cheating_aggregator", round=4),
        Adversary(kind="withholding_aggregator", round=6),
        Adversary(kind="out_of_range_hospital", round=9, hospital=2),
    ),
}
"""The demo's incidents in each mode: round 4's cheating aggregator, round 6's aggregator that proposes a wrong
model and withholds its blob (disputed, left unanswered, rejected and slashed), and in round 9 a hospital that
commits its shares and never uploads (secure) or puts a coordinate outside the clip (plain)."""
DEFAULT_HINT: Final = " (these are the demo's adversaries: set adversaries = [] or list your own)"
DEMO_ALPHA: Final = 0.2
"""The demo's label skew: every hospital sees mostly one diagnosis (a screening clinic's benign cases, a referral
centre's malignant ones), so that a hospital alone cannot learn to tell them apart and the federation can."""
DEMO_TRAINING: Final = TrainingSettings(learning_rate=0.01, momentum=0.0)
"""The demo's local training: plain SGD (FedAvg as first published) at a step small enough that the federation's
learning shows round by round; with the default step and momentum breast cancer is learned within the first round."""


@dataclass(frozen=True)
class SimulationConfig:
    """Everything a simulation needs (the defaults: see the module's docstring)."""

    task: TaskSpec = field(default_factory=TaskSpec)
    simulation: SimulationSettings = field(default_factory=SimulationSettings)
    adversaries: tuple[Adversary, ...] = DEMO_ADVERSARIES["secure"]
    attack: AttackSettings | None = None

    def __post_init__(self) -> None:
        check_config(self)

    @property
    def hospitals(self) -> int | None:
        """The number of hospitals, where the settings fix it (a natural split's depends on the data)."""
        return None if self.simulation.partition == "natural" else self.simulation.hospitals

    @property
    def validators(self) -> int:
        """The validators of a scored task (0 without scoring)."""
        scoring = self.task.scoring
        if scoring is None:
            return 0
        return scoring.committee if self.simulation.validators is None else self.simulation.validators


def demo_config(mode: Literal["plain", "secure"] = "secure") -> SimulationConfig:
    """The configuration of `fedchain demo` in ``mode`` (its incidents are the mode's): the defaults, with the demo's
    label skew and local training."""
    return SimulationConfig(task=TaskSpec(mode=mode, training=DEMO_TRAINING),
                            simulation=SimulationSettings(alpha=DEMO_ALPHA), adversaries=DEMO_ADVERSARIES[mode])


def load_config(path: str | Path) -> SimulationConfig:
    """Read and validate a TOML file; relative data files are relative to the file's folder, ``output`` to
    the current directory."""
    source = Path(path)
    raw = read_toml(source, ConfigError, "configuration file")
    return parse_config(raw, base=source.parent)


def parse_config(raw: Mapping[str, Any], *, base: Path = Path()) -> SimulationConfig:
    """Build a validated config from parsed TOML (``base``: folder that relative data files start from)."""
    top = Table(raw, "", ConfigError)
    task = read_task(top)
    simulation = _simulation(top.table("simulation"), base)
    adversaries = _adversaries(top, task.mode)
    attack = _attack(top)
    top.finish()
    try:
        return SimulationConfig(task=task, simulation=simulation, adversaries=adversaries, attack=attack)
    except TaskSpecError as error:
        raise ConfigError(str(error)) from None


def check_config(config: SimulationConfig) -> None:
    """The checks that relate the task, the simulation and the incidents (each alone was checked already)."""
    task, simulation = config.task, config.simulation
    if simulation.stake < task.task.min_stake:
        raise ConfigError(f"simulation.stake: {simulation.stake} is below task.min_stake {task.task.min_stake}")
    try:
        base_units("simulation.stake", simulation.stake, TOKEN_DECIMALS, low=1, high=MAX_AMOUNT_UNITS)
    except TaskSpecError as error:
        raise ConfigError(str(error)) from None
    if simulation.validators is not None and task.scoring is None:
        raise ConfigError("simulation.validators: only used with a scored task (add a [scoring] table)")
    if task.audit is not None and config.attack is not None:
        raise ConfigError("attack: the attacks train through the hospitals' clients, an audited task's hospitals train "
                          "the circuit's step themselves; stage an \"untrained_hospital\" adversary instead, or leave "
                          "out [audit]")
    if config.attack is not None and config.attack.from_round >= task.rounds:
        raise ConfigError(f"attack.from_round: {config.attack.from_round} is not a round of a {task.rounds}-round "
                          "task")
    if config.hospitals is not None:
        check_hospitals(config, config.hospitals, "")
    seen: dict[int, str] = {}
    hint = DEFAULT_HINT if config.adversaries in DEMO_ADVERSARIES.values() else ""
    for position, adversary in enumerate(config.adversaries):
        key = f"adversaries[{position}]"
        if adversary.kind not in MODE_ADVERSARIES[task.mode]:
            allowed = ", ".join(repr(kind) for kind in MODE_ADVERSARIES[task.mode])
            raise ConfigError(f"{key}.kind: {adversary.kind!r} is not an incident of {task.mode} mode "
                              f"(it has {allowed}){hint}")
        if adversary.round >= task.rounds:
            raise ConfigError(f"{key}.round: {adversary.round} is not a round of a {task.rounds}-round task{hint}")
        if adversary.kind == "untrained_hospital" and task.audit is None:
            raise ConfigError(f"{key}.kind: 'untrained_hospital' needs an audited task (add an [audit] table)")
        if task.audit is not None and adversary.kind not in AUDITED_ADVERSARIES:
            raise ConfigError(f"{key}.kind: {adversary.kind!r} is not staged in an audited task (it has "
                              f"{', '.join(map(repr, AUDITED_ADVERSARIES))}){hint}")
        if adversary.kind == "dropping_hospital" and adversary.phase is None:
            raise ConfigError(f"{key}.phase: required for kind 'dropping_hospital'")
        if adversary.kind != "dropping_hospital" and adversary.phase is not None:
            raise ConfigError(f"{key}.phase: not used by kind {adversary.kind!r}")
        if adversary.kind in HOSPITAL_ADVERSARIES:
            if adversary.hospital is None:
                raise ConfigError(f"{key}.hospital: required for kind {adversary.kind!r}")
            if config.hospitals is not None and adversary.hospital >= config.hospitals:
                raise ConfigError(f"{key}.hospital: {adversary.hospital} is not one of the {config.hospitals} "
                                  f"hospitals (0..{config.hospitals - 1})")
            behaviour = adversary.kind if adversary.phase is None else f"{adversary.kind} {adversary.phase}"
            if seen.setdefault(adversary.hospital, behaviour) != behaviour:
                raise ConfigError(f"{key}.kind: hospital {adversary.hospital} is already "
                                  f"{seen[adversary.hospital]!r}; one misbehaviour per hospital")
        elif adversary.hospital is not None:
            raise ConfigError(f"{key}.hospital: not used by kind {adversary.kind!r}")


def check_hospitals(config: SimulationConfig, hospitals: int, source: str) -> None:
    """The settings that depend on the number of hospitals (``source`` says where that number comes from, for
    the message): the task's on-chain rules with its cohort, and in secure mode every member's neighbours to share
    its secrets with."""
    try:  # every on-chain rule, its amounts in the simulation token's decimals, before any chain starts
        params = task_params(config.task, token=PLACEHOLDER_TOKEN, decimals=TOKEN_DECIMALS, hospitals=hospitals,
                             source=f" (hospitals{source})")
        if params.cohort_cap > hospitals:
            raise TaskSpecError(f"task.cohort_cap: {params.cohort_cap} is more than the {hospitals} hospitals{source}")
    except TaskSpecError as error:
        raise ConfigError(str(error)) from None
    for position, adversary in enumerate(config.adversaries):
        if adversary.hospital is not None and adversary.hospital >= hospitals:
            raise ConfigError(f"adversaries[{position}].hospital: {adversary.hospital} is not one of the "
                              f"{hospitals} hospitals{source} (0..{hospitals - 1})")
    if config.attack is not None:
        attackers = plan_attack(config.attack, hospitals, config.task.seed, config.validators).attackers
        for position, adversary in enumerate(config.adversaries):
            if adversary.hospital in attackers:
                hint = DEFAULT_HINT if config.adversaries in DEMO_ADVERSARIES.values() else ""
                raise ConfigError(f"adversaries[{position}].hospital: hospital {adversary.hospital} is one of the "
                                  f"attackers {list(attackers)} the seed picks; one misbehaviour per hospital{hint}")


# -- sections ------------------------------------------------------------------------------------------


def _simulation(table: Table, base: Path) -> SimulationSettings:
    given = set(table.raw)
    raw = dict(table.raw)
    if isinstance(raw.get("files"), list):
        raw["files"] = [base / item if isinstance(item, str) else item for item in raw["files"]]
    settings = read_section(SimulationSettings, Table(raw, table.where, table.error))
    if settings.partition == "natural" and "hospitals" in given:
        raise table.fail("hospitals", "a natural split has one hospital per institution or file; remove this "
                                      "setting")
    if settings.partition != "dirichlet" and "alpha" in given:
        raise table.fail("alpha", "only used with partition = \"dirichlet\"")
    return settings


def _adversaries(top: Table, mode: str) -> tuple[Adversary, ...]:
    if "adversaries" not in top.raw:
        top.seen.add("adversaries")
        return DEMO_ADVERSARIES[mode]
    adversaries = []
    for table in top.table_list("adversaries"):
        kind = table.choice("kind", None, get_args(AdversaryKind))
        round = table.integer("round", None, low=0, high=10**6)
        hospital = table.integer("hospital", None, low=0, high=MAX_HOSPITALS - 1) if "hospital" in table.raw else None
        phase = table.choice("phase", None, get_args(DropPhase)) if "phase" in table.raw else None
        adversary = Adversary(kind=kind, round=round, hospital=hospital, phase=phase)
        table.finish()
        adversaries.append(adversary)
    return tuple(adversaries)


def _attack(top: Table) -> AttackSettings | None:
    if "attack" not in top.raw:
        top.seen.add("attack")
        return None
    table = top.table("attack")
    if "kind" not in table.raw:
        raise table.fail("kind", f"required: one of {', '.join(map(repr, get_args(AttackKind)))}")
    return read_section(AttackSettings, table)


def with_output(config: SimulationConfig, output: Path | None) -> SimulationConfig:
    """``config`` writing to ``output`` (unchanged when None)."""
    return config if output is None else replace(config, simulation=replace(config.simulation, output=output))
