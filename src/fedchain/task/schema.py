"""The one task schema: every setting of a task, defined once with its default, its bounds and its meaning.

A task file (``fedchain task create``, ``fedchain participant run``), a simulation file (``fedchain
simulate``, which adds its own keys for the simulated data and chain) and the Python API (:class:`TaskSpec`)
all read these classes, and the chain's ``TaskParams`` is built from them (:func:`fedchain.task.params
.task_params`), so a key means the same thing with the same default everywhere. Each TOML table is one class:

    rounds, seed, mode             top level (:class:`TaskSpec`)
    [model]                        :class:`ModelSettings`
    [data]                         :class:`DataSettings` (the data every hospital must bring)
    [training]                     :class:`TrainingSettings` (sent to every client's ``fit``)
    [config]                       the task's own keys, sent to every client's ``fit`` beside [training]
    [rule]                         :class:`RuleSettings`
    [task]                         :class:`OnChainRules` (windows, stakes, slashing, quantization)
    [scoring]                      :class:`ScoringSettings` (plain mode; present, the task is scored)
    [audit]                        :class:`AuditSettings` (plain mode; present, the members' training is audited)

A field's ``metadata["setting"]`` (:class:`Setting`) holds its documentation and bounds; the reader
(:mod:`fedchain.task.read`) and the reference table of docs/tasks.md are derived from it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar, Final, Literal

from web3 import Web3

from fedchain.aggregate.constants import MAX_SAMPLE_CAP, MAX_SERVER_LR_BPS, MAX_UPDATES
from fedchain.aggregate.norm_bounded import DEFAULT_BOUND_BPS, MAX_BOUND_BPS
from fedchain.aggregate.registry import RULES
from fedchain.aggregate.rules import AggregationRule
from fedchain.aggregate.trimmed_mean import DEFAULT_TRIM_BPS, MAX_TRIM_BPS
from fedchain.chain.limits import MAX_BOUNTY_BPS, MIN_SLASH_BPS, MIN_WINDOW_SECONDS
from fedchain.chain.scoring import (
    DEFAULT_COMMITTEE,
    DEFAULT_MIN_SCORE_BPS,
    DEFAULT_TOLERANCE_BPS,
    DEFAULT_VALIDATOR_FEE_BPS,
    DEFAULT_VALIDATOR_SLASH_BPS,
)
from fedchain.client.api import ROUND_KEY
from fedchain.commit.constants import ALLOWED_WORDS_PER_LEAF, MAX_CLIP, MAX_SCALE_BITS
from fedchain.learn.defaults import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_LEARNING_RATE,
    DEFAULT_LOCAL_EPOCHS,
    DEFAULT_MOMENTUM,
    DEFAULT_OPTIMIZER,
    Missing,
    Normalization,
)
from fedchain.score.constants import MAX_SEATS
from fedchain.secagg.constants import MAX_NEIGHBOURS, MIN_NEIGHBOURS, MIN_THRESHOLD, SECURE_WORDS_PER_LEAF
from fedchain.task.errors import TaskSpecError
from fedchain.toml_table import kind_of
from fedchain.zk.errors import FixedPointError
from fedchain.zk.fixed.logreg import DEFAULT_LOGIT_BOUND, LogRegStep

ConfigValue = bool | int | float | str
"""A value of the task's own keys: what a TOML table and a Flower run config both hold."""
Mode = Literal["plain", "secure"]
Optimizer = Literal["sgd", "adam"]

BPS: Final = 10_000
UINT16_MAX: Final = 2**16 - 1
UINT32_MAX: Final = 2**32 - 1
UINT40_MAX: Final = 2**40 - 1
MAX_ROUNDS: Final = 100_000
MAX_TOKENS: Final = Decimal(10**12)
DEFAULT_WINDOW_SECONDS: Final = 300
BUILTIN_MODELS: Final = ("mlp", "logreg", "cnn")
"""The model names every installation knows (:mod:`fedchain.learn.models`); any other name is an import path."""


@dataclass(frozen=True)
class Setting:
    """What one setting means and which values it takes (bounds are closed unless said open)."""

    doc: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    unit: str = ""


def setting(default: Any, doc: str, *, low: float | None = None, high: float | None = None, low_open: bool = False,
            high_open: bool = False, unit: str = "") -> Any:
    """A dataclass field with its default and its :class:`Setting`."""
    meta = {"setting": Setting(doc=doc, low=low, high=high, low_open=low_open, high_open=high_open, unit=unit)}
    if isinstance(default, Mapping):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


class Section:
    """A table of settings: on construction every value is checked against its field's type and
    :class:`Setting` (lists become tuples, integers of a float setting floats, amounts :class:`Decimal`), then
    :meth:`check` relates the values; a problem is a :class:`TaskSpecError` naming the dotted key."""

    TABLE: ClassVar[str] = ""
    OPTIONAL: ClassVar[bool] = False
    """Whether the table is absent (None in :class:`TaskSpec`) unless it is given, its presence a choice."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for spec in fields(self):  # type: ignore[arg-type]
            described = spec.metadata.get("setting")
            if described is not None:
                value = _checked(self.key(spec.name), getattr(self, spec.name), hints[spec.name], described)
                object.__setattr__(self, spec.name, value)
        self.check()

    def key(self, name: str) -> str:
        """The dotted key of setting ``name``."""
        return f"{self.TABLE}.{name}" if self.TABLE else name

    def fail(self, name: str, problem: str) -> TaskSpecError:
        """The error saying that setting ``name`` has ``problem``."""
        return TaskSpecError(f"{self.key(name)}: {problem}")

    def check(self) -> None:
        """The checks that relate several settings of this table."""


def _checked(key: str, value: Any, hint: Any, described: Setting) -> Any:
    """``value`` of the type ``hint`` within ``described``'s bounds, normalized; else a :class:`TaskSpecError`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        if value is None:
            return None
        (hint,) = [arg for arg in args if arg is not type(None)]
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        if isinstance(value, bool) or value not in args:
            raise TaskSpecError(f"{key}: must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise TaskSpecError(f"{key}: must be a list, got {kind_of(value)} {value!r}")
        return tuple(_checked(f"{key}[{position}]", item, args[0], described) for position, item in enumerate(value))
    if origin in (Mapping, dict) or hint is Mapping:
        if not isinstance(value, Mapping):
            raise TaskSpecError(f"{key}: must be a table, got {kind_of(value)} {value!r}")
        for name, item in value.items():
            if not isinstance(name, str) or not isinstance(item, bool | int | float | str):
                raise TaskSpecError(f"{key}.{name}: must be a boolean, number or string, got {kind_of(item)}")
        return dict(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise TaskSpecError(f"{key}: must be true or false, got {kind_of(value)} {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str) or not value:
            raise TaskSpecError(f"{key}: must be a non-empty string, got {kind_of(value)} {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TaskSpecError(f"{key}: must be an integer, got {kind_of(value)} {value!r}")
        return _bounded(key, value, described)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TaskSpecError(f"{key}: must be a number, got {kind_of(value)} {value!r}")
        return float(_bounded(key, value, described))
    if hint is Decimal:
        return _bounded(key, _tokens(key, value), described)
    if hint is Path:
        if not isinstance(value, str | Path) or not str(value):
            raise TaskSpecError(f"{key}: must be a path, got {kind_of(value)} {value!r}")
        return Path(value)
    raise TypeError(f"{key}: no check for settings of type {hint}")  # a schema error, not the user's


def _tokens(key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise TaskSpecError(f"{key}: must be an amount of tokens, got {kind_of(value)} {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise TaskSpecError(f"{key}: {value!r} is not an amount of tokens") from None
    if not amount.is_finite() or amount > MAX_TOKENS:
        raise TaskSpecError(f"{key}: must be a finite amount of at most {MAX_TOKENS} tokens, got {value!r}")
    return amount


def _bounded(key: str, value: Any, described: Setting) -> Any:
    low, high = described.low, described.high
    if low is not None and (value < low or (described.low_open and value == low)):
        bound = f"> {low}" if described.low_open else f">= {low}"
        raise TaskSpecError(f"{key}: must be {bound}, got {value}")
    if high is not None and (value > high or (described.high_open and value == high)):
        bound = f"< {high}" if described.high_open else f"<= {high}"
        raise TaskSpecError(f"{key}: must be {bound}, got {value}")
    return value


@dataclass(frozen=True)
class ModelSettings(Section):
    """The model every hospital trains (its initial weights come from the task's seed)."""

    TABLE: ClassVar[str] = "model"

    name: str = setting("mlp", "a registered model (`mlp` and `logreg` are built in) or the import path "
                               "`package.module:function` of a builder `(in_features, num_classes, **options) -> "
                               "torch.nn.Module`")
    hidden: tuple[int, ...] = setting((16,), "hidden layer widths of `mlp`", low=1, high=4096)
    in_features: int | None = setting(None, "the model's inputs; default: the number of `data.features`, or the "
                                            "simulated data's columns", low=1, high=10**6)
    num_classes: int = setting(2, "classes the model predicts; every hospital's labels must lie in "
                                  "0..num_classes-1 (checked before it stakes)", low=2, high=10**4)
    options: Mapping[str, ConfigValue] = setting({}, "keyword options passed to the builder of a model other than "
                                                     "`mlp` (whose option is `hidden`)")

    def check(self) -> None:
        """An import path has a module and a function; ``hidden`` is non-empty."""
        if not self.name.isidentifier() and not _is_import_path(self.name):
            raise self.fail("name", f"{self.name!r} is neither a model name ({', '.join(BUILTIN_MODELS)}, or one "
                                    "registered with fedchain.register_model) nor an import path "
                                    "package.module:function")
        if not self.hidden:
            raise self.fail("hidden", "must list at least one width")

    def builder_options(self) -> dict[str, ConfigValue | list[int]]:
        """The keyword options of the model's builder: ``hidden`` for the mlp, else ``options``."""
        return {"hidden": list(self.hidden)} if self.name == "mlp" else dict(self.options)


@dataclass(frozen=True)
class DataSettings(Section):
    """What every hospital's data must look like, and how it is prepared: part of the task, and saved with the
    exported model, so the model applies to raw data the way it was trained."""

    TABLE: ClassVar[str] = "data"

    features: tuple[str, ...] = setting((), "the feature columns of a hospital's CSV file, in order (checked by "
                                             "name and order in every file); empty: any columns")
    label_column: str = setting("label", "the CSV column that holds the integer label")
    normalization: Normalization = setting("standardize", "`standardize`: (x - mean) / scale with the task's "
                                                          "statistics; `none`: features as they are")
    mean: tuple[float, ...] = setting((), "the agreed per-feature means of `standardize`; empty: fitted on the "
                                          "pooled training data (a simulation only)")
    scale: tuple[float, ...] = setting((), "the agreed per-feature scales (standard deviations) of `standardize`")
    missing: Missing = setting("refuse", "a missing value: `refuse` (an error naming the file, row and column) "
                                         "or `mean` (the task's mean for that feature)")

    def check(self) -> None:
        """Statistics only with ``standardize``, as many as the features, scales positive; names distinct."""
        if len(set(self.features)) != len(self.features):
            raise self.fail("features", f"names a column twice: {list(self.features)}")
        if self.label_column in self.features:
            raise self.fail("label_column", f"{self.label_column!r} is also listed in data.features")
        if self.normalization == "none":
            for name in ("mean", "scale"):
                if getattr(self, name):
                    raise self.fail(name, "only used with normalization = \"standardize\"")
            if self.missing == "mean":
                raise self.fail("missing", "\"mean\" fills in the task's mean: it needs normalization = "
                                           "\"standardize\"")
        if len(self.mean) != len(self.scale):
            raise self.fail("scale", f"{len(self.scale)} scales for {len(self.mean)} means")
        if self.features and self.mean and len(self.mean) != len(self.features):
            raise self.fail("mean", f"{len(self.mean)} means for the {len(self.features)} data.features")
        if any(not scale > 0 for scale in self.scale):
            raise self.fail("scale", f"every scale must be > 0, got {list(self.scale)}")



@dataclass(frozen=True)
class TrainingSettings(Section):
    """Local training at each hospital, per round: sent to every client's ``fit`` in its config."""

    TABLE: ClassVar[str] = "training"

    local_epochs: int = setting(DEFAULT_LOCAL_EPOCHS, "passes over the local data per round", low=1, high=1_000)
    batch_size: int = setting(DEFAULT_BATCH_SIZE, "examples per minibatch", low=1, high=10**6)
    learning_rate: float = setting(DEFAULT_LEARNING_RATE, "the local optimizer's step size", low=0.0, low_open=True,
                                   high=10.0)
    optimizer: Optimizer = setting(DEFAULT_OPTIMIZER, "the built-in trainer's optimizer: `sgd` or `adam`")
    momentum: float = setting(DEFAULT_MOMENTUM, "momentum of `sgd`", low=0.0, high=1.0, high_open=True)


@dataclass(frozen=True)
class RuleSettings(Section):
    """The aggregation rule (docs/protocol.md section 4)."""

    TABLE: ClassVar[str] = "rule"

    name: str = setting("fedavg", "the aggregation rule: " + "; ".join(
        f"`{name}`, {rule.summary}" for name, rule in RULES.items()))
    server_learning_rate: float = setting(1.0, "the step from the old model towards the weighted mean",
                                          low=1 / BPS, high=MAX_SERVER_LR_BPS / BPS)
    sample_cap: int = setting(1_000, "an update weighs min(its examples, sample_cap)", low=1, high=MAX_SAMPLE_CAP)
    trim: float | None = setting(None, f"`trimmed_mean`: the fraction of the updates dropped at each end of every "
                                       f"coordinate (default {DEFAULT_TRIM_BPS / BPS})", low=1 / BPS,
                                 high=MAX_TRIM_BPS / BPS)
    norm_bound: float | None = setting(None, f"`norm_bounded`: the L2 bound of an update, as a fraction of the "
                                             f"largest norm the clip allows (clip * sqrt(params); default "
                                             f"{DEFAULT_BOUND_BPS / BPS})", low=1 / BPS, high=MAX_BOUND_BPS / BPS)

    def check(self) -> None:
        """A registered rule, and a parameter only for the rule that takes it."""
        if self.name not in RULES:
            raise self.fail("name", f"must be one of {', '.join(map(repr, RULES))}, got {self.name!r}")
        parameter = self.aggregation_rule.parameter
        for key in ("trim", "norm_bound"):
            if getattr(self, key) is not None and (parameter is None or parameter.key != key):
                raise self.fail(key, f"not a setting of rule {self.name!r}")

    @property
    def aggregation_rule(self) -> type[AggregationRule]:
        """The rule's class."""
        return RULES[self.name]

    @property
    def param_bps(self) -> int:
        """The chain's ``ruleParam``: the rule's parameter in basis points (its default if not set; 0 for a rule
        without one)."""
        parameter = self.aggregation_rule.parameter
        if parameter is None:
            return 0
        value = getattr(self, parameter.key)
        return parameter.default_bps if value is None else round(value * BPS)


@dataclass(frozen=True)
class OnChainRules(Section):
    """The rules the chain enforces (the TOML table ``[task]``); amounts in whole tokens of the task's token."""

    TABLE: ClassVar[str] = "task"

    commit_window: int = setting(DEFAULT_WINDOW_SECONDS, "train and commit (secure: advertise, then train and "
                                 "commit shares, a window each)", low=MIN_WINDOW_SECONDS, high=UINT32_MAX,
                                 unit="seconds")
    reveal_window: int = setting(DEFAULT_WINDOW_SECONDS, "reveal the update (secure: upload, then unmask, a window "
                                 "each)", low=MIN_WINDOW_SECONDS, high=UINT32_MAX, unit="seconds")
    propose_window: int = setting(DEFAULT_WINDOW_SECONDS, "the aggregators' turn", low=MIN_WINDOW_SECONDS,
                                  high=UINT32_MAX, unit="seconds")
    challenge_window: int = setting(DEFAULT_WINDOW_SECONDS, "anyone may prove the proposal wrong",
                                    low=MIN_WINDOW_SECONDS, high=UINT32_MAX, unit="seconds")
    availability_window: int = setting(DEFAULT_WINDOW_SECONDS, "to answer an availability challenge or a dispute "
                                       "step", low=MIN_WINDOW_SECONDS, high=UINT32_MAX, unit="seconds")
    unbonding_delay: int = setting(DEFAULT_WINDOW_SECONDS, "from an exit request to the stake's withdrawal while "
                                   "the task runs", low=1, high=UINT40_MAX, unit="seconds")
    cohort_cap: int | None = setting(None, "most members in a round; default: the number of hospitals (a "
                                           "simulation knows it; a task file must set it)", low=1, high=MAX_UPDATES)
    min_participants: int = setting(2, "fewest included updates a round needs; round 0 opens when this many "
                                    "members have joined", low=1, high=MAX_UPDATES)
    max_silent_rounds: int = setting(3, "rounds a member may miss before it can be slashed for silence", low=1,
                                     high=UINT16_MAX)
    min_stake: Decimal = setting(Decimal(10), "a member's minimum stake", low=0, low_open=True, unit="tokens")
    aggregator_bond: Decimal = setting(Decimal(20), "an aggregator's bond", low=0, low_open=True, unit="tokens")
    reward_per_round: Decimal = setting(Decimal(5), "paid per finalized round to its included members", low=0,
                                        unit="tokens")
    availability_bond: Decimal = setting(Decimal(2), "a challenger's deposit per availability challenge or "
                                         "dispute", low=0, low_open=True, unit="tokens")
    missed_reveal_slash_bps: int = setting(1_000, "of a stake, for committing and never revealing (uploading)",
                                           low=MIN_SLASH_BPS, high=BPS, unit="bps")
    silence_slash_bps: int = setting(500, "of a stake, for more than max_silent_rounds silent rounds", low=0,
                                     high=BPS, unit="bps")
    violation_slash_bps: int = setting(5_000, "of a stake, for a provably invalid update", low=MIN_SLASH_BPS,
                                       high=BPS, unit="bps")
    aggregator_slash_bps: int = setting(5_000, "of a bond, for a provably wrong or withheld aggregate",
                                        low=MIN_SLASH_BPS, high=BPS, unit="bps")
    bounty_bps: int = setting(2_000, "of every slash, to whoever proved it", low=0, high=MAX_BOUNTY_BPS, unit="bps")
    aggregator_fee_bps: int = setting(500, "of each round's reward, to its aggregator", low=0, high=BPS, unit="bps")
    scale_bits: int = setting(16, "fixed point: a value v is committed as round(v * 2^scale_bits)", low=0,
                              high=MAX_SCALE_BITS)
    clip: float = setting(8.0, "largest |coordinate| of an update, in model units (on chain: "
                               "round(clip * 2^scale_bits))", low=0.0, low_open=True, high=float(MAX_CLIP))
    words_per_leaf: int = setting(2, f"words of 8 coordinates per Merkle leaf: one of "
                                     f"{', '.join(map(str, ALLOWED_WORDS_PER_LEAF))} (secure mode: 1, 2 or 4)",
                                  low=min(ALLOWED_WORDS_PER_LEAF), high=max(ALLOWED_WORDS_PER_LEAF))
    allowlist: bool = setting(False, "only the addresses in `members` may join")
    members: tuple[str, ...] = setting((), "addresses approved at creation (with allowlist = true)")
    neighbours: int | None = setting(None, "secure mode: each member's neighbours k (even); default: the cohort "
                                           "cap - 1 rounded up to even, at most 8", low=MIN_NEIGHBOURS,
                                     high=MAX_NEIGHBOURS)
    threshold: int | None = setting(None, "secure mode: the Shamir threshold t; default: k/2 + 1, lowered so a "
                                          "round survives one dropout", low=MIN_THRESHOLD, high=MAX_NEIGHBOURS)

    def check(self) -> None:
        """Leaf width, clip, cohort, allowlist and the secure parameters agree with each other."""
        if self.words_per_leaf not in ALLOWED_WORDS_PER_LEAF:
            raise self.fail("words_per_leaf", f"must be one of {', '.join(map(str, ALLOWED_WORDS_PER_LEAF))}, got "
                                              f"{self.words_per_leaf}")
        if not 1 <= self.clip_units <= MAX_CLIP:
            raise self.fail("clip", f"{self.clip} x 2^{self.scale_bits} = {self.clip_units} must lie in "
                                    f"[1, {MAX_CLIP}]")
        if self.cohort_cap is not None and self.min_participants > self.cohort_cap:
            raise self.fail("min_participants", f"{self.min_participants} is more than task.cohort_cap "
                                                f"{self.cohort_cap}")
        if self.members and not self.allowlist:
            raise self.fail("members", "only used with allowlist = true (anyone may join otherwise)")
        for address in self.members:
            if not Web3.is_address(address):
                raise self.fail("members", f"{address!r} is not an address")
        object.__setattr__(self, "members", tuple(Web3.to_checksum_address(address) for address in self.members))
        if self.neighbours is not None and self.neighbours % 2:
            raise self.fail("neighbours", f"must be even, got {self.neighbours}")
        if self.neighbours is not None and self.threshold is not None and self.threshold > self.neighbours:
            raise self.fail("threshold", f"{self.threshold} is more than task.neighbours {self.neighbours}")

    @property
    def clip_units(self) -> int:
        """The clip as the protocol's integer bound ``round(clip * 2^scale_bits)``."""
        return round(self.clip * (1 << self.scale_bits))


@dataclass(frozen=True)
class ScoringSettings(Section):
    """Contribution scores (docs/protocol.md section 12; plain mode only): with this table, even empty, a staked
    validator committee scores every included update on its own held-out data, and each update earns its median
    score instead of its examples' share; an update scored below `min_score_bps` is dropped and its owner slashed."""

    TABLE: ClassVar[str] = "scoring"
    OPTIONAL: ClassVar[bool] = True

    committee: int = setting(DEFAULT_COMMITTEE, "validators sampled into each round's committee (of at most "
                                                f"{MAX_SEATS} seats)", low=1, high=MAX_SEATS)
    score_window: int | None = setting(None, "the score commit window, and again the score reveal window, "
                                             "between the reveal and the propose windows; default: "
                                             "task.reveal_window", low=MIN_WINDOW_SECONDS, high=UINT32_MAX,
                                       unit="seconds")
    min_score_bps: int = setting(DEFAULT_MIN_SCORE_BPS, "an update whose median score is below this may be "
                                 "dropped and its owner slashed task.violation_slash_bps (0: never)", low=0,
                                 high=BPS, unit="bps")
    tolerance_bps: int = setting(DEFAULT_TOLERANCE_BPS, "a validator whose score is farther than this from an "
                                 "update's median may be slashed", low=1, high=BPS, unit="bps")
    validator_slash_bps: int = setting(DEFAULT_VALIDATOR_SLASH_BPS, "of a seat's stake, for a silent or "
                                       "deviating validator (at most once a round)", low=MIN_SLASH_BPS, high=BPS,
                                       unit="bps")
    validator_fee_bps: int = setting(DEFAULT_VALIDATOR_FEE_BPS, "of each round's reward, shared by the validators "
                                     "that revealed their scores", low=0, high=BPS, unit="bps")
    validator_stake: Decimal | None = setting(None, "the stake of a committee seat; default: task.min_stake",
                                              low=0, low_open=True, unit="tokens")


MAX_AUDIT_STEPS: Final = 16
MAX_STEPS: Final = 1024
MAX_SIGMOID_TABLE: Final = 2**16
"""The largest sigmoid lookup table of an audited task's circuit (2 logit_bound 2^scale_bits entries): the circuit's
default, scale 2^-12 with logits clipped to ±8; a larger table makes every proof slower than a proof window."""
AUDIT_MODEL: Final = "model.name = \"logreg\", model.num_classes = 2 and model.options = { binary = true }"


@dataclass(frozen=True)
class AuditSettings(Section):
    """Audited training (docs/protocol.md section 13; plain mode and binary logistic regression only): with this
    table, even empty, every member registers a commitment to its quantized training data, trains `steps`
    fixed-point SGD steps per round on the batches the protocol designates, commits to the trajectory, and must
    prove with a zero-knowledge proof (EZKL) any step the chain's draw or a bonded demand selects, or lose its
    update and task.violation_slash_bps of its stake. The step is the circuit's: plain SGD at [training]
    learning_rate, at 2^-task.scale_bits, the logit clipped to ±logit_bound."""

    TABLE: ClassVar[str] = "audit"
    OPTIONAL: ClassVar[bool] = True

    steps: int = setting(4, "S: fixed-point SGD steps per round (a trajectory of S + 1 models)", low=1,
                         high=MAX_STEPS)
    batch_size: int = setting(8, "B: samples per step; a member trains on its data's whole batches of B rows, and "
                                 "its update weighs min(batches * B, rule.sample_cap)", low=1, high=UINT16_MAX)
    audit_bps: int = setting(2_500, "q: the chance per round that the chain's draw selects an update for audit",
                             low=0, high=BPS, unit="bps")
    audit_steps: int = setting(2, "m: steps drawn (with replacement) in a selected update", low=1,
                               high=MAX_AUDIT_STEPS)
    proof_window: int = setting(600, "an audited member's time to post its proof", low=MIN_WINDOW_SECONDS,
                                high=UINT32_MAX, unit="seconds")
    demand_bond: Decimal = setting(Decimal(2), "the bond of a demanded audit: the member's if it proves the step, "
                                               "back to the demander with the bounty if not", low=0, low_open=True,
                                   unit="tokens")
    logit_bound: int = setting(DEFAULT_LOGIT_BOUND, "the circuit clips the logit to ±logit_bound before its sigmoid "
                                                    "lookup table (2 logit_bound 2^task.scale_bits entries, at most "
                                                    f"{MAX_SIGMOID_TABLE})", low=1, high=2**10)

    def step(self, spec: TaskSpec, features: int) -> LogRegStep:
        """The step circuit of task ``spec`` for a model of ``features`` inputs (a `TaskSpecError` naming the key
        when the settings make no circuit)."""
        try:
            return LogRegStep(features=features, batch=self.batch_size, learning_rate=spec.training.learning_rate,
                              scale=spec.task.scale_bits, logit_bound=self.logit_bound)
        except FixedPointError as error:
            raise TaskSpecError(f"audit: the step circuit of this task cannot be built: {error} (task.scale_bits "
                                f"{spec.task.scale_bits}, audit.batch_size {self.batch_size}, training.learning_rate "
                                f"{spec.training.learning_rate}, audit.logit_bound {self.logit_bound})") from None


def check_audited(spec: TaskSpec, audit: AuditSettings) -> None:
    """An audited task's other tables fit the circuit: plain mode, not scored, binary logistic regression trained by
    plain SGD, a scale whose sigmoid table is small enough, and a step the circuit can take."""
    if spec.mode != "plain":
        raise TaskSpecError("audit: only plain tasks are audited (a masked update cannot be tied to a proven step): "
                            "set mode = \"plain\", or leave out [audit]")
    if spec.scoring is not None:
        raise TaskSpecError("audit: a task is scored or audited, not both: leave out [scoring] or [audit]")
    model = spec.model
    if model.name != "logreg" or model.num_classes != 2 or dict(model.options) != {"binary": True}:
        raise spec.model.fail("name", f"the audit circuit proves steps of binary logistic regression only: set "
                                      f"{AUDIT_MODEL} (got name {model.name!r}, num_classes {model.num_classes}, "
                                      f"options {dict(model.options)})")
    training = spec.training
    if training.optimizer != "sgd" or training.momentum != 0:
        raise training.fail("optimizer", f"an audited step is plain SGD: set optimizer = \"sgd\" and momentum = 0 "
                                         f"(got {training.optimizer!r} with momentum {training.momentum})")
    table = 2 * audit.logit_bound << spec.task.scale_bits
    if table > MAX_SIGMOID_TABLE:
        raise spec.task.fail("scale_bits", f"{spec.task.scale_bits} with audit.logit_bound {audit.logit_bound} makes "
                                           f"the circuit's sigmoid table {table} entries, more than "
                                           f"{MAX_SIGMOID_TABLE}: lower task.scale_bits (12 or less with logit_bound "
                                           "8) or audit.logit_bound")
    audit.step(spec, spec.inputs or 1)


@dataclass(frozen=True)
class TaskSpec(Section):
    """A whole task: what the requester creates, what every hospital trains, what the chain enforces.

    Every field has a default, so ``TaskSpec()`` is a valid secure task and ``TaskSpec(rounds=5,
    mode="plain")`` states only what it changes.
    """

    rounds: int = setting(20, "rounds of the task", low=1, high=MAX_ROUNDS)
    seed: int = setting(7, "seed of the initial model's weights and of local training", low=0, high=UINT32_MAX)
    mode: Mode = setting("secure", "`secure` (masked updates, SecAgg+) or `plain` (commit-reveal)")
    model: ModelSettings = field(default_factory=ModelSettings)
    data: DataSettings = field(default_factory=DataSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    config: Mapping[str, ConfigValue] = setting({}, "the task's own keys (a TOML table), sent to every client's "
                                                    "fit beside [training], and a Flower ClientApp's run config")
    rule: RuleSettings = field(default_factory=RuleSettings)
    task: OnChainRules = field(default_factory=OnChainRules)
    scoring: ScoringSettings | None = None
    audit: AuditSettings | None = None

    def check(self) -> None:
        """The checks across tables: the tables' types, the model's inputs and the declared features, the task's
        own keys, each mode's settings, the shares of the reward."""
        for section in SECTIONS:
            table = getattr(self, section.TABLE)
            if not isinstance(table, section) and not (section.OPTIONAL and table is None):
                raise TaskSpecError(f"{section.TABLE}: must be a {section.__name__}, got "
                                    f"{kind_of(getattr(self, section.TABLE))}")
        reserved = {spec.name for spec in fields(TrainingSettings)} | {ROUND_KEY}
        for name in self.config:
            if name in reserved:
                raise TaskSpecError(f"config.{name}: a reserved key (set it in [training], or pick another name)")
        features, in_features = self.data.features, self.model.in_features
        if features and in_features is not None and in_features != len(features):
            raise TaskSpecError(f"model.in_features: {in_features}, but data.features lists {len(features)} columns")
        if self.mode == "secure" and not self.rule.aggregation_rule.secure:
            raise self.rule.fail("name", f"{self.rule.name!r} works in plain mode only (secure aggregation unmasks "
                                         f"only the weighted sum of the updates: use \"fedavg\")")
        rules, scoring = self.task, self.scoring
        if scoring is not None and self.mode == "secure":
            raise TaskSpecError("scoring: only plain tasks are scored (a masked update cannot be evaluated alone): "
                                "set mode = \"plain\", or leave out [scoring]")
        if scoring is not None and scoring.validator_fee_bps + rules.aggregator_fee_bps > BPS:
            raise scoring.fail("validator_fee_bps", f"{scoring.validator_fee_bps} and task.aggregator_fee_bps "
                                                    f"{rules.aggregator_fee_bps} are more than {BPS} together")
        if self.audit is not None:
            check_audited(self, self.audit)
        if self.mode == "plain":
            for name in ("neighbours", "threshold"):
                if getattr(rules, name) is not None:
                    raise rules.fail(name, "only used with mode = \"secure\"")
        elif rules.words_per_leaf not in SECURE_WORDS_PER_LEAF:
            raise rules.fail("words_per_leaf", f"secure mode needs one of "
                                               f"{', '.join(map(str, SECURE_WORDS_PER_LEAF))}, got "
                                               f"{rules.words_per_leaf}")

    @property
    def inputs(self) -> int | None:
        """The model's inputs: ``model.in_features``, else the number of declared features (None: unknown)."""
        if self.model.in_features is not None:
            return self.model.in_features
        return len(self.data.features) or None


SECTIONS: Final[tuple[type[Section], ...]] = (ModelSettings, DataSettings, TrainingSettings, RuleSettings,
                                             OnChainRules, ScoringSettings, AuditSettings)
"""The TOML tables of a task, in the order a task file lists them."""


def _is_import_path(name: str) -> bool:
    module, _, attribute = name.partition(":")
    return bool(module) and bool(attribute) and all(part.isidentifier() for part in
                                                     [*module.split("."), *attribute.split(".")])
