"""The simulation configuration: typed, validated, loaded from TOML; its defaults are `fedchain demo`.

Every key of a ``CONFIG.toml`` has the demo's value as its default, so an empty file runs the demo and
a file states only what it changes (``adversaries = []`` turns the scripted incidents off). An unknown
key, a value of the wrong type or out of range is a :class:`ConfigError` whose message starts with the
key (``data.alpha: must be > 0, got -1``), raised before any data is loaded or any chain started.

    rounds = 20                 # rounds of the task
    seed = 7                    # data split, initial model, local training
    mode = "secure"             # "secure" (masked updates, SecAgg+) or "plain" (commit-reveal)
    output = "fedchain-out"     # folder for report.json, report.html, model.pt, anchor.json (from the cwd)

    [data]     dataset, partition, hospitals, alpha, test_fraction, min_hospital_size, files, label_column
    [model]    name ("mlp" or "logreg"), hidden (widths of the MLP's hidden layers)
    [training] local_epochs, batch_size, learning_rate, optimizer ("sgd" or "adam"), momentum
    [rule]     name ("fedavg"), server_learning_rate, sample_cap
    [task]     window_seconds (every window, availability included; at least 10), min_participants,
               min_stake, stake (what each hospital deposits), availability_bond (a challenger's deposit),
               aggregator_bond, reward_per_round (amounts in whole tokens),
               violation_slash_bps, aggregator_slash_bps, missed_reveal_slash_bps, bounty_bps,
               aggregator_fee_bps, scale_bits, clip (largest |update| coordinate, in model units),
               words_per_leaf, neighbours and threshold (secure mode only; derived from the number of
               hospitals when not given: :func:`fedchain.secagg.params.default_secure_params`)
    [chain]    backend ("embedded" or "anvil")
    [[adversaries]]  kind, round, hospital (for the hospital kinds), phase (for a dropping hospital):
                     both modes: "cheating_aggregator", "withholding_aggregator" (a wrong model whose
                     blob it withholds);
                     plain mode: "out_of_range_hospital", "silent_hospital";
                     secure mode: "dropping_hospital" with phase "before_commit", "before_upload" or
                     "during_unmask"

The default adversaries are the demo's incidents of the configured mode (:data:`DEMO_ADVERSARIES`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal, get_args

from fedchain.aggregate.constants import MAX_SAMPLE_CAP, MAX_SERVER_LR_BPS, MAX_UPDATES
from fedchain.chain.limits import MAX_BOUNTY_BPS, MIN_SLASH_BPS, MIN_WINDOW_SECONDS
from fedchain.commit.constants import MAX_CLIP, MAX_SCALE_BITS
from fedchain.secagg.constants import MAX_NEIGHBOURS, MIN_NEIGHBOURS, MIN_THRESHOLD, SECURE_WORDS_PER_LEAF
from fedchain.secagg.params import default_secure_params, neighbour_count
from fedchain.sim.errors import ConfigError
from fedchain.toml_table import Table, read_toml

Dataset = Literal["breast_cancer", "diabetes", "lung", "csv"]
Partition = Literal["dirichlet", "iid", "natural"]
ModelName = Literal["mlp", "logreg"]
Optimizer = Literal["sgd", "adam"]
RuleName = Literal["fedavg"]
Backend = Literal["embedded", "anvil"]
Mode = Literal["plain", "secure"]
AdversaryKind = Literal["cheating_aggregator", "withholding_aggregator", "out_of_range_hospital", "silent_hospital",
                        "dropping_hospital"]
DropPhase = Literal["before_commit", "before_upload", "during_unmask"]

HOSPITAL_ADVERSARIES: Final = ("out_of_range_hospital", "silent_hospital", "dropping_hospital")
MODE_ADVERSARIES: Final[dict[str, tuple[str, ...]]] = {
    "plain": ("cheating_aggregator", "withholding_aggregator", "out_of_range_hospital", "silent_hospital"),
    "secure": ("cheating_aggregator", "withholding_aggregator", "dropping_hospital"),
}
"""Which incidents each mode can stage: a masked update cannot be range-checked, and a secure member that
commits and never uploads is a dropping hospital (before_upload), not a silent one."""
TOKEN_DECIMALS: Final = 18
TOKEN_UNIT: Final = 10**TOKEN_DECIMALS
MAX_TOKENS: Final = Decimal(10**9)
BPS: Final = 10_000
MAX_ROUNDS: Final = 1_000
MAX_HOSPITALS: Final = 64
"""Every hospital is a funded development account; 64 keeps the dev chains' account lists small."""


@dataclass(frozen=True)
class DataConfig:
    """Which data, and how it is split among hospitals (``hospitals`` and ``alpha`` for iid/dirichlet)."""

    dataset: Dataset = "breast_cancer"
    partition: Partition = "dirichlet"
    hospitals: int = 5
    alpha: float = 0.5
    test_fraction: float = 0.2
    min_hospital_size: int = 10
    files: tuple[Path, ...] = ()
    label_column: str = "label"


@dataclass(frozen=True)
class ModelConfig:
    """The model every hospital trains: a small MLP (``hidden`` widths) or logistic regression."""

    name: ModelName = "mlp"
    hidden: tuple[int, ...] = (16,)


@dataclass(frozen=True)
class TrainingConfig:
    """Local training at each hospital, per round."""

    local_epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 0.05
    optimizer: Optimizer = "sgd"
    momentum: float = 0.9


@dataclass(frozen=True)
class RuleConfig:
    """The aggregation rule (docs/protocol.md §4)."""

    name: RuleName = "fedavg"
    server_learning_rate: float = 1.0
    sample_cap: int = 1_000


@dataclass(frozen=True)
class TaskConfig:
    """The on-chain rules: windows, stakes, rewards, slashing and quantization."""

    window_seconds: int = 60
    min_participants: int = 2
    min_stake: Decimal = Decimal(10)
    stake: Decimal = Decimal(20)
    aggregator_bond: Decimal = Decimal(20)
    reward_per_round: Decimal = Decimal(5)
    availability_bond: Decimal = Decimal(2)
    violation_slash_bps: int = 5_000
    aggregator_slash_bps: int = 5_000
    missed_reveal_slash_bps: int = 1_000
    bounty_bps: int = 2_000
    aggregator_fee_bps: int = 500
    scale_bits: int = 16
    clip: float = 8.0
    words_per_leaf: int = 2
    neighbours: int | None = None
    threshold: int | None = None

    @property
    def clip_units(self) -> int:
        """The clip as the protocol's integer bound ``round(clip * 2^scale_bits)``."""
        return round(self.clip * (1 << self.scale_bits))


@dataclass(frozen=True)
class ChainConfig:
    """Where the contracts run."""

    backend: Backend = "embedded"


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


@dataclass(frozen=True)
class SimulationConfig:
    """Everything a simulation needs; the defaults are `fedchain demo`."""

    rounds: int = 20
    seed: int = 7
    mode: Mode = "secure"
    output: Path = Path("fedchain-out")
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    rule: RuleConfig = field(default_factory=RuleConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    chain: ChainConfig = field(default_factory=ChainConfig)
    adversaries: tuple[Adversary, ...] = DEMO_ADVERSARIES["secure"]

    def __post_init__(self) -> None:
        check_config(self)


def demo_config(mode: Mode = "secure") -> SimulationConfig:
    """The configuration of `fedchain demo` in ``mode`` (its incidents are the mode's)."""
    return SimulationConfig(mode=mode, adversaries=DEMO_ADVERSARIES[mode])


def load_config(path: str | Path) -> SimulationConfig:
    """Read and validate a TOML file; relative data files are relative to the file's folder, ``output`` to
    the current directory."""
    source = Path(path)
    raw = read_toml(source, ConfigError, "configuration file")
    return parse_config(raw, base=source.parent)


def parse_config(raw: Mapping[str, Any], *, base: Path = Path()) -> SimulationConfig:
    """Build a validated config from parsed TOML (``base``: folder that relative paths start from)."""
    top = Table(raw, "", ConfigError)
    defaults = SimulationConfig()
    mode = _mode(top)
    config = SimulationConfig(
        rounds=top.integer("rounds", defaults.rounds, low=1, high=MAX_ROUNDS),
        seed=top.integer("seed", defaults.seed, low=0, high=2**32 - 1),
        mode=mode,
        output=top.path("output", defaults.output, Path()),
        data=_data(top.table("data"), base),
        model=_model(top.table("model")),
        training=_training(top.table("training")),
        rule=_rule(top.table("rule")),
        task=_task(top.table("task")),
        chain=_chain(top.table("chain")),
        adversaries=_adversaries(top, mode),
    )
    top.finish()
    return config


def check_config(config: SimulationConfig) -> None:
    """The checks that relate several settings (each alone was checked when parsed)."""
    data, task = config.data, config.task
    if data.partition == "natural" and data.dataset not in ("lung", "csv"):
        raise ConfigError(f"data.partition: 'natural' needs a dataset with institutions ('lung' or 'csv'), "
                          f"not {data.dataset!r}")
    if data.dataset == "csv" and data.partition != "natural":
        raise ConfigError("data.partition: a CSV federation is split by file (one hospital per file); "
                          "use partition = \"natural\"")
    if data.dataset == "csv" and len(data.files) < 2:
        raise ConfigError(f"data.files: a CSV federation needs at least two files (one per hospital), "
                          f"got {len(data.files)}")
    if data.dataset != "csv" and data.files:
        raise ConfigError(f"data.files: only used with dataset = \"csv\", not {data.dataset!r}")
    if task.stake < task.min_stake:
        raise ConfigError(f"task.stake: {task.stake} is below task.min_stake {task.min_stake}")
    if task.clip_units < 1 or task.clip_units > MAX_CLIP:
        raise ConfigError(f"task.clip: {task.clip} x 2^{task.scale_bits} must lie in [1, {MAX_CLIP}]")
    if config.data.partition != "natural" and task.min_participants > data.hospitals:
        raise ConfigError(f"task.min_participants: {task.min_participants} is more than the "
                          f"{data.hospitals} hospitals")
    _check_mode(config)
    if config.data.partition != "natural":
        check_hospitals_for_mode(config, data.hospitals, "")
    seen: dict[int, str] = {}
    hint = DEFAULT_HINT if config.adversaries in DEMO_ADVERSARIES.values() else ""
    for position, adversary in enumerate(config.adversaries):
        key = f"adversaries[{position}]"
        if adversary.kind not in MODE_ADVERSARIES[config.mode]:
            allowed = ", ".join(repr(kind) for kind in MODE_ADVERSARIES[config.mode])
            raise ConfigError(f"{key}.kind: {adversary.kind!r} is not an incident of {config.mode} mode "
                              f"(it has {allowed}){hint}")
        if adversary.round >= config.rounds:
            raise ConfigError(f"{key}.round: {adversary.round} is not a round of a {config.rounds}-round task{hint}")
        if adversary.kind == "dropping_hospital" and adversary.phase is None:
            raise ConfigError(f"{key}.phase: required for kind 'dropping_hospital'")
        if adversary.kind != "dropping_hospital" and adversary.phase is not None:
            raise ConfigError(f"{key}.phase: not used by kind {adversary.kind!r}")
        if adversary.kind in HOSPITAL_ADVERSARIES:
            if adversary.hospital is None:
                raise ConfigError(f"{key}.hospital: required for kind {adversary.kind!r}")
            if config.data.partition != "natural" and adversary.hospital >= data.hospitals:
                raise ConfigError(f"{key}.hospital: {adversary.hospital} is not one of the {data.hospitals} "
                                  f"hospitals (0..{data.hospitals - 1})")
            behaviour = adversary.kind if adversary.phase is None else f"{adversary.kind} {adversary.phase}"
            if seen.setdefault(adversary.hospital, behaviour) != behaviour:
                raise ConfigError(f"{key}.kind: hospital {adversary.hospital} is already "
                                  f"{seen[adversary.hospital]!r}; one misbehaviour per hospital")
        elif adversary.hospital is not None:
            raise ConfigError(f"{key}.hospital: not used by kind {adversary.kind!r}")


def check_hospitals_for_mode(config: SimulationConfig, hospitals: int, source: str) -> None:
    """The settings that depend on the number of hospitals in secure mode (``source`` says where that number
    comes from, for the message): every member must be able to share its secrets with ``threshold`` of its
    neighbours."""
    if config.mode != "secure":
        return
    neighbours, threshold = default_secure_params(hospitals, neighbours=config.task.neighbours,
                                                  threshold=config.task.threshold)
    degree = neighbour_count(neighbours, hospitals)
    if threshold > degree:
        key = next((f"task.{name}" for name in ("threshold", "neighbours") if getattr(config.task, name) is not None),
                   "data.hospitals")
        hint = " (secure mode needs at least 3 hospitals)" if hospitals < 3 else ""
        raise ConfigError(f"{key}: with {hospitals} hospitals{source} and neighbours = {neighbours}, a hospital has "
                          f"{degree} neighbour{'' if degree == 1 else 's'} to share its secrets with, fewer than the "
                          f"threshold {threshold}{hint}")


def token_units(amount: Decimal) -> int:
    """Whole tokens (possibly fractional) in base units."""
    return int(amount * TOKEN_UNIT)


def _check_mode(config: SimulationConfig) -> None:
    task = config.task
    if config.mode == "plain":
        for name in ("neighbours", "threshold"):
            if getattr(task, name) is not None:
                raise ConfigError(f"task.{name}: only used with mode = \"secure\"")
        return
    if task.words_per_leaf not in SECURE_WORDS_PER_LEAF:
        raise ConfigError(f"task.words_per_leaf: secure mode needs one of "
                          f"{', '.join(map(str, SECURE_WORDS_PER_LEAF))}, got {task.words_per_leaf}")
    if task.neighbours is not None and task.neighbours % 2:
        raise ConfigError(f"task.neighbours: must be even, got {task.neighbours}")
    if task.neighbours is not None and task.threshold is not None and task.threshold > task.neighbours:
        raise ConfigError(f"task.threshold: {task.threshold} is more than task.neighbours {task.neighbours}")


# -- sections ------------------------------------------------------------------------------------------


def _mode(top: Table) -> Mode:
    mode: Mode = top.choice("mode", SimulationConfig.mode, get_args(Mode))
    return mode


def _data(table: Table, base: Path) -> DataConfig:
    defaults = DataConfig()
    config = DataConfig(
        dataset=table.choice("dataset", defaults.dataset, get_args(Dataset)),
        partition=table.choice("partition", defaults.partition, get_args(Partition)),
        hospitals=table.integer("hospitals", defaults.hospitals, low=2, high=MAX_HOSPITALS),
        alpha=table.number("alpha", defaults.alpha, low=0.0, low_open=True),
        test_fraction=table.number("test_fraction", defaults.test_fraction, low=0.0, high=1.0, low_open=True,
                                   high_open=True),
        min_hospital_size=table.integer("min_hospital_size", defaults.min_hospital_size, low=1, high=10**6),
        files=table.paths("files", base),
        label_column=table.string("label_column", defaults.label_column),
    )
    if config.partition == "natural" and "hospitals" in table.raw:
        raise ConfigError(f"{table.key('hospitals')}: a natural split has one hospital per institution or file; "
                          "remove this setting")
    if config.partition != "dirichlet" and "alpha" in table.raw:
        raise ConfigError(f"{table.key('alpha')}: only used with partition = \"dirichlet\"")
    if config.dataset != "csv" and "label_column" in table.raw:
        raise ConfigError(f"{table.key('label_column')}: only used with dataset = \"csv\"")
    table.finish()
    return config


def _model(table: Table) -> ModelConfig:
    defaults = ModelConfig()
    config = ModelConfig(name=table.choice("name", defaults.name, get_args(ModelName)),
                         hidden=table.integers("hidden", defaults.hidden, low=1, high=4096))
    if config.name == "logreg" and "hidden" in table.raw:
        raise ConfigError("model.hidden: logistic regression has no hidden layers")
    table.finish()
    return config


def _training(table: Table) -> TrainingConfig:
    defaults = TrainingConfig()
    config = TrainingConfig(
        local_epochs=table.integer("local_epochs", defaults.local_epochs, low=1, high=1_000),
        batch_size=table.integer("batch_size", defaults.batch_size, low=1, high=100_000),
        learning_rate=table.number("learning_rate", defaults.learning_rate, low=0.0, low_open=True, high=10.0),
        optimizer=table.choice("optimizer", defaults.optimizer, get_args(Optimizer)),
        momentum=table.number("momentum", defaults.momentum, low=0.0, high=1.0, high_open=True),
    )
    table.finish()
    return config


def _rule(table: Table) -> RuleConfig:
    defaults = RuleConfig()
    config = RuleConfig(
        name=table.choice("name", defaults.name, get_args(RuleName)),
        server_learning_rate=table.number("server_learning_rate", defaults.server_learning_rate,
                                          low=1 / BPS, high=MAX_SERVER_LR_BPS / BPS),
        sample_cap=table.integer("sample_cap", defaults.sample_cap, low=1, high=MAX_SAMPLE_CAP),
    )
    table.finish()
    return config


def _task(table: Table) -> TaskConfig:
    defaults = TaskConfig()
    config = TaskConfig(
        window_seconds=table.integer("window_seconds", defaults.window_seconds, low=MIN_WINDOW_SECONDS,
                                     high=2**32 - 1),
        min_participants=table.integer("min_participants", defaults.min_participants, low=1, high=MAX_UPDATES),
        min_stake=_tokens(table, "min_stake", defaults.min_stake),
        stake=_tokens(table, "stake", defaults.stake),
        aggregator_bond=_tokens(table, "aggregator_bond", defaults.aggregator_bond),
        reward_per_round=_tokens(table, "reward_per_round", defaults.reward_per_round),
        availability_bond=_tokens(table, "availability_bond", defaults.availability_bond),
        violation_slash_bps=table.integer("violation_slash_bps", defaults.violation_slash_bps, low=MIN_SLASH_BPS,
                                          high=BPS),
        aggregator_slash_bps=table.integer("aggregator_slash_bps", defaults.aggregator_slash_bps,
                                           low=MIN_SLASH_BPS, high=BPS),
        missed_reveal_slash_bps=table.integer("missed_reveal_slash_bps", defaults.missed_reveal_slash_bps,
                                              low=MIN_SLASH_BPS, high=BPS),
        bounty_bps=table.integer("bounty_bps", defaults.bounty_bps, low=0, high=MAX_BOUNTY_BPS),
        aggregator_fee_bps=table.integer("aggregator_fee_bps", defaults.aggregator_fee_bps, low=0, high=BPS),
        scale_bits=table.integer("scale_bits", defaults.scale_bits, low=0, high=MAX_SCALE_BITS),
        clip=table.number("clip", defaults.clip, low=0.0, low_open=True),
        words_per_leaf=table.choice("words_per_leaf", defaults.words_per_leaf, (1, 2, 4, 8)),
        neighbours=table.optional_integer("neighbours", low=MIN_NEIGHBOURS, high=MAX_NEIGHBOURS),
        threshold=table.optional_integer("threshold", low=MIN_THRESHOLD, high=MAX_NEIGHBOURS),
    )
    table.finish()
    return config


def _tokens(table: Table, name: str, default: Decimal) -> Decimal:
    """A positive amount of the simulation's token, at most 10^9 tokens and to its decimals."""
    return table.tokens(name, default, positive=True, decimals=TOKEN_DECIMALS, most=MAX_TOKENS)


def _chain(table: Table) -> ChainConfig:
    config = ChainConfig(backend=table.choice("backend", ChainConfig.backend, get_args(Backend)))
    table.finish()
    return config


def _adversaries(top: Table, mode: Mode) -> tuple[Adversary, ...]:
    if "adversaries" not in top.raw:
        top.seen.add("adversaries")
        return DEMO_ADVERSARIES[mode]
    adversaries = []
    for table in top.table_list("adversaries"):
        kind = table.choice("kind", None, get_args(AdversaryKind))
        round = table.integer("round", None, low=0, high=MAX_ROUNDS - 1)
        hospital = table.integer("hospital", None, low=0, high=MAX_HOSPITALS - 1) if "hospital" in table.raw else None
        phase = table.choice("phase", None, get_args(DropPhase)) if "phase" in table.raw else None
        adversary = Adversary(kind=kind, round=round, hospital=hospital, phase=phase)
        table.finish()
        adversaries.append(adversary)
    return tuple(adversaries)
