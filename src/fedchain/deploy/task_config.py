"""A task's configuration file (TOML), shared by the requester and every hospital of the consortium.

The requester creates the task from it (`fedchain task create --config task.toml`); each participant
reads its ``[model]`` and ``[training]`` sections to train (`fedchain participant run --config task.toml`),
and the chain checks the model it builds against the task's pinned model-spec hash. ``mode`` must be the
mode of the deployment's coordinator (`fedchain deploy --mode`). Every key is optional except
``model.name`` and ``model.in_features``; an unknown key, a wrong type or a value out of range is a
:class:`TaskConfigError` whose message starts with the dotted key. The section and key names are those of
``fedchain simulate`` where both have them.

    rounds = 10                  # round indices of the task
    seed = 0                     # seed of the initial model's weights
    mode = "plain"               # "plain" (commit-reveal) or "secure" (masked updates, SecAgg+)

    [model]     name ("mlp" or "logreg"), in_features, num_classes, hidden (the MLP's hidden widths)
    [training]  local_epochs, batch_size, learning_rate, optimizer ("sgd" or "adam"), momentum, seed
    [rule]      server_learning_rate, sample_cap
    [task]      commit_window, reveal_window, propose_window, challenge_window, availability_window,
                unbonding_delay (seconds, windows at least 10); cohort_cap, min_participants,
                max_silent_rounds; min_stake, aggregator_bond, reward_per_round, availability_bond (whole
                tokens: a number, or a string such as "0.5" to keep it exact);
                missed_reveal_slash_bps, silence_slash_bps, violation_slash_bps, aggregator_slash_bps,
                bounty_bps (at most 5000), aggregator_fee_bps; scale_bits, clip (largest |update| coordinate, in model
                units), words_per_leaf; allowlist, members (addresses approved at creation); secure mode
                only: neighbours, threshold (default from cohort_cap:
                :func:`fedchain.secagg.params.default_secure_params`)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Final, cast

from web3 import Web3

from fedchain.aggregate.constants import BPS_DENOMINATOR, MAX_SAMPLE_CAP, MAX_SERVER_LR_BPS, MAX_UPDATES
from fedchain.chain.coordinator import Mode, TaskParams
from fedchain.chain.limits import MAX_BOUNTY_BPS, MIN_SLASH_BPS, MIN_WINDOW_SECONDS
from fedchain.chain.modes import MODES
from fedchain.commit.constants import ALLOWED_WORDS_PER_LEAF, MAX_CLIP, MAX_SCALE_BITS
from fedchain.deploy.amounts import MAX_AMOUNT_UNITS, MAX_REWARD_UNITS, base_units
from fedchain.deploy.errors import TaskConfigError
from fedchain.learn import LearnError, ModelSpec, TrainConfig
from fedchain.learn.trainer import OptimizerName
from fedchain.secagg.constants import MAX_NEIGHBOURS, MIN_NEIGHBOURS, MIN_THRESHOLD, SECURE_WORDS_PER_LEAF
from fedchain.secagg.params import default_secure_params, neighbour_count
from fedchain.toml_table import Table, read_toml

UINT16_MAX: Final = 2**16 - 1
UINT32_MAX: Final = 2**32 - 1
UINT40_MAX: Final = 2**40 - 1
MODEL_NAMES: Final = ("mlp", "logreg")
OPTIMIZERS: Final = ("sgd", "adam")
DEFAULT_WINDOW_SECONDS: Final = 300
DEFAULT_HIDDEN: Final = (16,)
FEDAVG_RULE: Final = 0


@dataclass(frozen=True)
class TaskRules:
    """The on-chain rules a configuration gives; amounts in whole tokens until the token's decimals are known."""

    commit_window: int
    reveal_window: int
    propose_window: int
    challenge_window: int
    availability_window: int
    unbonding_delay: int
    cohort_cap: int
    min_participants: int
    max_silent_rounds: int
    sample_cap: int
    server_learning_rate: float
    min_stake: Decimal
    aggregator_bond: Decimal
    reward_per_round: Decimal
    availability_bond: Decimal
    missed_reveal_slash_bps: int
    silence_slash_bps: int
    violation_slash_bps: int
    aggregator_slash_bps: int
    bounty_bps: int
    aggregator_fee_bps: int
    scale_bits: int
    clip: float
    words_per_leaf: int
    allowlist: bool
    members: tuple[str, ...]
    neighbours: int
    threshold: int


@dataclass(frozen=True)
class TaskConfig:
    """A whole configuration: rounds, the initial model's seed, the mode, the model, local training, the rules."""

    rounds: int
    seed: int
    mode: Mode
    model: ModelSpec
    training: TrainConfig
    rules: TaskRules

    def task_params(self, token: str, decimals: int) -> TaskParams:
        """The task's parameters for ``token`` (with ``decimals``); ``num_params`` and the model-spec hash
        are left to :meth:`fedchain.roles.Requester.create_task`, which takes them from the model."""
        rules = self.rules
        clip_units = round(rules.clip * (1 << rules.scale_bits))
        if not 1 <= clip_units <= MAX_CLIP:
            raise TaskConfigError(f"task.clip: {rules.clip} x 2^{rules.scale_bits} = {clip_units} must lie in "
                                  f"[1, {MAX_CLIP}]")
        return TaskParams(
            commit_window=rules.commit_window, reveal_window=rules.reveal_window,
            propose_window=rules.propose_window, challenge_window=rules.challenge_window,
            availability_window=rules.availability_window, cohort_cap=rules.cohort_cap,
            min_participants=rules.min_participants, sample_cap=rules.sample_cap,
            num_rounds=self.rounds, max_silent_rounds=rules.max_silent_rounds, token=token, mode=self.mode,
            rule=FEDAVG_RULE, scale_bits=rules.scale_bits, words_per_leaf=rules.words_per_leaf, clip=clip_units,
            num_params=0, server_lr_bps=round(rules.server_learning_rate * BPS_DENOMINATOR),
            unbonding_delay=rules.unbonding_delay, allowlist=rules.allowlist,
            missed_reveal_slash_bps=rules.missed_reveal_slash_bps, silence_slash_bps=rules.silence_slash_bps,
            violation_slash_bps=rules.violation_slash_bps, aggregator_slash_bps=rules.aggregator_slash_bps,
            bounty_bps=rules.bounty_bps, aggregator_fee_bps=rules.aggregator_fee_bps,
            min_stake=base_units("task.min_stake", rules.min_stake, decimals, low=1, high=MAX_AMOUNT_UNITS),
            aggregator_bond=base_units("task.aggregator_bond", rules.aggregator_bond, decimals, low=1,
                                       high=MAX_AMOUNT_UNITS),
            reward_per_round=base_units("task.reward_per_round", rules.reward_per_round, decimals, low=0,
                                        high=MAX_REWARD_UNITS),
            availability_bond=base_units("task.availability_bond", rules.availability_bond, decimals, low=1,
                                         high=MAX_AMOUNT_UNITS),
            neighbours=rules.neighbours, threshold=rules.threshold, model_spec_hash=bytes(32),
        )


def load_task_config(path: Path) -> TaskConfig:
    """Read and validate a task configuration file."""
    raw = read_toml(path, TaskConfigError, "task configuration file")
    try:
        return parse_task_config(raw)
    except TaskConfigError as error:
        raise TaskConfigError(f"{path}: {error}") from None


def parse_task_config(raw: object) -> TaskConfig:
    """Build a validated configuration from parsed TOML."""
    top = Table(raw, "", TaskConfigError)
    rounds = top.integer("rounds", 10, low=1, high=UINT32_MAX)
    seed = top.integer("seed", 0, low=0, high=UINT32_MAX)
    mode = MODES[top.choice("mode", Mode.PLAIN.label, tuple(MODES))]
    model = _model(top.table("model"))
    training = _training(top.table("training"))
    rules = _rules(top.table("rule"), top.table("task"), mode)
    top.finish()
    return TaskConfig(rounds=rounds, seed=seed, mode=mode, model=model, training=training, rules=rules)


def _model(table: Table) -> ModelSpec:
    name = table.choice("name", None, MODEL_NAMES)
    in_features = table.integer("in_features", None, low=1, high=10**6)
    num_classes = table.integer("num_classes", 2, low=2, high=10**4)
    options: dict[str, object] = {}
    if name == "mlp":
        options["hidden"] = list(table.integers("hidden", DEFAULT_HIDDEN, low=1, high=4096))
    elif "hidden" in table.raw:
        raise TaskConfigError(f"{table.key('hidden')}: logistic regression has no hidden layers")
    table.finish()
    return ModelSpec(name, in_features=in_features, num_classes=num_classes, options=options)


def _training(table: Table) -> TrainConfig:
    defaults = TrainConfig()
    local_epochs = table.integer("local_epochs", defaults.local_epochs, low=1, high=1000)
    batch_size = table.integer("batch_size", defaults.batch_size, low=1, high=10**6)
    learning_rate = table.number("learning_rate", defaults.learning_rate, low=0.0, high=10.0, low_open=True)
    optimizer = cast(OptimizerName, table.choice("optimizer", defaults.optimizer, OPTIMIZERS))
    momentum = table.number("momentum", defaults.momentum, low=0.0, high=0.999)
    seed = table.integer("seed", defaults.seed, low=0, high=UINT32_MAX)
    table.finish()
    try:
        return TrainConfig(local_epochs=local_epochs, batch_size=batch_size, learning_rate=learning_rate,
                           optimizer=optimizer, momentum=momentum, seed=seed, num_threads=1)
    except LearnError as error:
        raise TaskConfigError(f"{table.where}: {error}") from None


def _rules(rule: Table, task: Table, mode: Mode) -> TaskRules:
    server_learning_rate = rule.number("server_learning_rate", 1.0, low=1 / BPS_DENOMINATOR,
                                       high=MAX_SERVER_LR_BPS / BPS_DENOMINATOR)
    sample_cap = rule.integer("sample_cap", 1000, low=1, high=MAX_SAMPLE_CAP)
    rule.finish()

    def window(name: str) -> int:
        return task.integer(name, DEFAULT_WINDOW_SECONDS, low=MIN_WINDOW_SECONDS, high=UINT32_MAX)

    def bps(name: str, default: int, low: int = 0, high: int = BPS_DENOMINATOR) -> int:
        return task.integer(name, default, low=low, high=high)

    cohort_cap = task.integer("cohort_cap", 16, low=1, high=MAX_UPDATES)
    neighbours, threshold = _secure_params(task, mode, cohort_cap)
    rules = TaskRules(
        commit_window=window("commit_window"), reveal_window=window("reveal_window"),
        propose_window=window("propose_window"), challenge_window=window("challenge_window"),
        availability_window=window("availability_window"),
        unbonding_delay=task.integer("unbonding_delay", DEFAULT_WINDOW_SECONDS, low=1, high=UINT40_MAX),
        cohort_cap=cohort_cap,
        min_participants=task.integer("min_participants", 2, low=1, high=cohort_cap),
        max_silent_rounds=task.integer("max_silent_rounds", 3, low=1, high=UINT16_MAX),
        sample_cap=sample_cap, server_learning_rate=server_learning_rate,
        min_stake=task.tokens("min_stake", Decimal(10)),
        aggregator_bond=task.tokens("aggregator_bond", Decimal(20)),
        reward_per_round=task.tokens("reward_per_round", Decimal(5)),
        availability_bond=task.tokens("availability_bond", Decimal(2)),
        missed_reveal_slash_bps=bps("missed_reveal_slash_bps", 1_000, low=MIN_SLASH_BPS),
        silence_slash_bps=bps("silence_slash_bps", 500),
        violation_slash_bps=bps("violation_slash_bps", 5_000, low=MIN_SLASH_BPS),
        aggregator_slash_bps=bps("aggregator_slash_bps", 5_000, low=MIN_SLASH_BPS),
        bounty_bps=bps("bounty_bps", 2_000, high=MAX_BOUNTY_BPS),
        aggregator_fee_bps=bps("aggregator_fee_bps", 500),
        scale_bits=task.integer("scale_bits", 16, low=0, high=MAX_SCALE_BITS),
        clip=task.number("clip", 8.0, low=0.0, high=float(MAX_CLIP), low_open=True),
        words_per_leaf=task.integer("words_per_leaf", 2, low=min(ALLOWED_WORDS_PER_LEAF),
                                    high=max(ALLOWED_WORDS_PER_LEAF)),
        allowlist=task.boolean("allowlist", False),
        members=_addresses(task, "members"), neighbours=neighbours, threshold=threshold,
    )
    if rules.words_per_leaf not in ALLOWED_WORDS_PER_LEAF:
        raise TaskConfigError(f"task.words_per_leaf: must be one of {ALLOWED_WORDS_PER_LEAF}, got "
                              f"{rules.words_per_leaf}")
    if mode == Mode.SECURE and rules.words_per_leaf not in SECURE_WORDS_PER_LEAF:
        raise TaskConfigError(f"task.words_per_leaf: secure mode needs one of {SECURE_WORDS_PER_LEAF}, got "
                              f"{rules.words_per_leaf}")
    if rules.members and not rules.allowlist:
        raise TaskConfigError("task.members: only used with allowlist = true (anyone may join otherwise)")
    task.finish()
    return rules


def _secure_params(task: Table, mode: Mode, cohort_cap: int) -> tuple[int, int]:
    """A secure task's neighbours and threshold, as configured or derived from the cohort cap (the most members
    a round can have); (0, 0) for a plain task, which must set neither."""
    given = {name: task.optional_integer(name, low=low, high=MAX_NEIGHBOURS)
             for name, low in (("neighbours", MIN_NEIGHBOURS), ("threshold", MIN_THRESHOLD))}
    if mode == Mode.PLAIN:
        for name, value in given.items():
            if value is not None:
                raise TaskConfigError(f"{task.key(name)}: only used with mode = \"secure\"")
        return 0, 0
    if given["neighbours"] is not None and given["neighbours"] % 2:
        raise TaskConfigError(f"{task.key('neighbours')}: must be even, got {given['neighbours']}")
    neighbours, threshold = default_secure_params(cohort_cap, neighbours=given["neighbours"],
                                                  threshold=given["threshold"])
    if threshold > neighbours:
        raise TaskConfigError(f"{task.key('threshold')}: {threshold} is more than task.neighbours {neighbours}")
    degree = neighbour_count(neighbours, cohort_cap)
    if threshold > degree:
        key = next((name for name in ("threshold", "neighbours") if given[name] is not None), "cohort_cap")
        hint = " (secure mode needs a cohort of at least 3)" if cohort_cap < 3 else ""
        raise TaskConfigError(f"{task.key(key)}: with cohort_cap = {cohort_cap} a member has at most {degree} "
                              f"neighbour{'' if degree == 1 else 's'} to share its secrets with, fewer than the "
                              f"threshold {threshold}{hint}")
    return neighbours, threshold


def _addresses(table: Table, name: str) -> tuple[str, ...]:
    addresses = table.strings(name)
    for address in addresses:
        if not Web3.is_address(address):
            raise TaskConfigError(f"{table.key(name)}: {address!r} is not an address")
    return tuple(Web3.to_checksum_address(address) for address in addresses)
