"""`fedchain attack-bench`: the attack suite against every aggregation rule, as a grid of real simulations.

Each cell is one federation run by :func:`fedchain.sim.run.run_simulation` (plain mode, the robust rules being
plain-mode rules), so its accuracy is the requester's evaluation of the model anchored on chain and its stakes and
earnings are the chain's: the grid is attacks x rules (the names the task schema accepts for ``[rule] name``,
:data:`fedchain.aggregate.registry.RULES`) x attacker shares x tasks, plus one clean run per task and rule; and again,
with contribution scores on (a ``[scoring]`` table with its defaults: three validators, each holding a third of the
test split), for the scored attacks under the scored rules, which adds ``colluding_validators`` (an attack only a
scored task has). A cell that cannot be staged (ALIE with a single attacker) is kept with its reason.
:mod:`fedchain.report.attack_tables` writes the results as JSON, Markdown and an HTML page with a plot.

Tasks (:data:`TASKS`): breast cancer split IID and by a Dirichlet label skew of alpha 0.5 (the MLP), and
scikit-learn's digits split IID (the CNN). Each hospital deposits the simulation's stake; an attacker's stake and
earnings are summed over its identities (a Sybil attacker's are several), so that they compare with an honest
hospital's.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, get_args

from fedchain.aggregate.registry import RULES
from fedchain.sim.attacks import ATTACKS, AttackKind
from fedchain.sim.config import Backend, SimulationSettings, parse_config
from fedchain.sim.errors import ConfigError
from fedchain.sim.records import Balance, SimulationResult
from fedchain.sim.run import run_simulation

TOKEN_UNIT: Final = 10**18
TASKS: Final[Mapping[str, Mapping[str, Any]]] = MappingProxyType({
    "breast_cancer_iid": {"simulation": {"dataset": "breast_cancer", "partition": "iid"}},
    "breast_cancer_dirichlet": {"simulation": {"dataset": "breast_cancer", "partition": "dirichlet", "alpha": 0.5}},
    "digits_cnn": {"simulation": {"dataset": "digits", "partition": "iid"},
                   "model": {"name": "cnn", "num_classes": 10}},
    "digits_cnn_dirichlet": {"simulation": {"dataset": "digits", "partition": "dirichlet", "alpha": 0.5},
                             "model": {"name": "cnn", "num_classes": 10}},
})
"""Each bench task as the tables of a simulation file it sets (the rest are the defaults)."""
ATTACK_KINDS: Final[tuple[str, ...]] = get_args(AttackKind)
UNSCORED_KINDS: Final[tuple[str, ...]] = tuple(kind for kind, attack in ATTACKS.items() if not attack.validators)
"""The attacks a task without scoring can stage (colluding validators need validators)."""
DEFAULT_SHARES: Final = (0.1, 0.2, 0.3)
DEFAULT_ROUNDS: Final = 10
DEFAULT_HOSPITALS: Final = 10


def _known(option: str, given: Sequence[str], known: Sequence[str]) -> None:
    if not given:
        raise ConfigError(f"{option}: name at least one of {', '.join(known)}")
    for name in given:
        if name not in known:
            raise ConfigError(f"{option}: {name!r} is not one of {', '.join(known)}")


@dataclass(frozen=True)
class BenchSettings:
    """One grid: which attacks, rules, shares and tasks, which attacks and rules again with scores on (none: no
    scored runs), and the federations' size and chain."""

    attacks: tuple[str, ...] = UNSCORED_KINDS
    rules: tuple[str, ...] = tuple(RULES)
    shares: tuple[float, ...] = DEFAULT_SHARES
    tasks: tuple[str, ...] = tuple(TASKS)
    rounds: int = DEFAULT_ROUNDS
    hospitals: int = DEFAULT_HOSPITALS
    chain: Backend = "embedded"
    scored_attacks: tuple[str, ...] = ATTACK_KINDS
    scored_rules: tuple[str, ...] = tuple(RULES)

    def __post_init__(self) -> None:
        _known("--attacks", self.attacks, UNSCORED_KINDS)
        _known("--rules", self.rules, tuple(RULES))
        _known("--tasks", self.tasks, tuple(TASKS))
        for option, given, known in (("--scored-attacks", self.scored_attacks, ATTACK_KINDS),
                                     ("--scored-rules", self.scored_rules, tuple(RULES))):
            if given:
                _known(option, given, known)
        for share in self.shares:
            if not 0 < share <= 0.5:
                raise ConfigError(f"--shares: each share must be > 0 and <= 0.5, got {share}")
        if self.rounds < 1:
            raise ConfigError(f"--rounds: must be >= 1, got {self.rounds}")
        if self.hospitals < 2:
            raise ConfigError(f"--hospitals: must be >= 2, got {self.hospitals}")
        if self.chain not in get_args(Backend):
            raise ConfigError(f"--chain: must be one of {', '.join(get_args(Backend))}, got {self.chain!r}")


    def command(self) -> str:
        """The command that runs this grid, every option spelled out."""
        return (f"fedchain attack-bench --attacks {','.join(self.attacks)} --rules {','.join(self.rules)} "
                f"--shares {','.join(f'{share:g}' for share in self.shares)} --tasks {','.join(self.tasks)} "
                f"--rounds {self.rounds} --hospitals {self.hospitals} --chain {self.chain} "
                f"--scored-attacks {','.join(self.scored_attacks) or NONE} "
                f"--scored-rules {','.join(self.scored_rules) or NONE}")


NONE: Final = "none"
"""What ``--scored-attacks`` and ``--scored-rules`` take for no scored runs."""
QUICK: Final = BenchSettings(attacks=("scaling", "ipm"), shares=(0.25,), tasks=("breast_cancer_iid",), rounds=2,
                             hospitals=4, scored_attacks=("free_rider_zero", "sybil"), scored_rules=("fedavg",))
"""``--quick``: every rule, two attacks that must break FedAvg, one attacker of four hospitals, two rounds; and with
scores on under FedAvg, a free rider and a Sybil."""


def bench_settings(*, quick: bool = False, attacks: str | None = None, rules: str | None = None,
                   shares: str | None = None, tasks: str | None = None, rounds: int | None = None,
                   hospitals: int | None = None, chain: str | None = None, scored_attacks: str | None = None,
                   scored_rules: str | None = None) -> BenchSettings:
    """The grid the command line asks for: comma-separated lists (``none`` for no scored attacks or rules), each
    option left out taken from the defaults, or from :data:`QUICK` with ``quick``."""
    base = QUICK if quick else BenchSettings()
    return BenchSettings(
        attacks=base.attacks if attacks is None else _names(attacks), rules=base.rules if rules is None else
        _names(rules), shares=base.shares if shares is None else _shares(shares),
        tasks=base.tasks if tasks is None else _names(tasks), rounds=base.rounds if rounds is None else rounds,
        hospitals=base.hospitals if hospitals is None else hospitals,
        chain=base.chain if chain is None else chain,  # type: ignore[arg-type]  # checked on construction
        scored_attacks=base.scored_attacks if scored_attacks is None else _optional_names(scored_attacks),
        scored_rules=base.scored_rules if scored_rules is None else _optional_names(scored_rules))


def _optional_names(text: str) -> tuple[str, ...]:
    return () if text.strip() == NONE else _names(text)


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _shares(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(share) for share in _names(text))
    except ValueError:
        raise ConfigError(f"--shares: comma-separated numbers such as 0.1,0.2,0.3, got {text!r}") from None


@dataclass(frozen=True)
class Cell:
    """One point of the grid (``attack`` None: the clean run of its task and rule; ``scored``: with contribution
    scores on)."""

    task: str
    rule: str
    attack: str | None = None
    share: float | None = None
    scored: bool = False

    @property
    def rule_label(self) -> str:
        """The rule as the tables name it: ``fedavg``, or ``fedavg, scored``."""
        return f"{self.rule}, scored" if self.scored else self.rule

    def raw_config(self, settings: BenchSettings) -> dict[str, Any]:
        """The cell as a parsed simulation file."""
        task = TASKS[self.task]
        raw: dict[str, Any] = {"rounds": settings.rounds, "mode": "plain", "rule": {"name": self.rule},
                               "adversaries": [], **{key: value for key, value in task.items() if key != "simulation"},
                               "simulation": {**task["simulation"], "hospitals": settings.hospitals,
                                              "chain": settings.chain}}
        if self.attack is not None:
            raw["attack"] = {"kind": self.attack, "share": self.share}
        if self.scored:
            raw["scoring"] = {}
        return raw


def grid(settings: BenchSettings) -> list[Cell]:
    """Every cell of ``settings``, task by task and rule by rule, the clean run first, then the scored ones."""
    cells = []
    for task in settings.tasks:
        for rule in settings.rules:
            cells += [Cell(task, rule), *(Cell(task, rule, attack, share) for attack in settings.attacks
                                          for share in settings.shares)]
        if settings.scored_attacks:
            for rule in settings.scored_rules:
                cells += [Cell(task, rule, scored=True), *(Cell(task, rule, attack, share, scored=True)
                                                           for attack in settings.scored_attacks
                                                           for share in settings.shares)]
    return cells


@dataclass(frozen=True)
class Party:
    """An attacker (its identities together) or an honest hospital at the end: what it staked back and earned."""

    name: str
    examples: int | None
    identities: int
    stake: float
    """Tokens it held or took back as stake at the end (its deposits less what slashes took)."""
    earnings: float
    """Tokens of reward, less what slashes took."""


@dataclass(frozen=True)
class Outcome:
    """What one cell gave: the final accuracy and every party's stake and earnings, or why it was skipped."""

    cell: Cell
    accuracy: float | None = None
    attackers: tuple[Party, ...] = ()
    honest: tuple[Party, ...] = ()
    described: str | None = None
    """The attack as the attackers' report line names it (kind, first round, strength)."""
    seconds: float = 0.0
    skipped: str | None = None


def run_cell(cell: Cell, settings: BenchSettings) -> Outcome:
    """Run one cell's federation (or say why it cannot be staged)."""
    started = time.perf_counter()
    try:
        config = parse_config(cell.raw_config(settings))
    except ConfigError as error:
        return Outcome(cell=cell, skipped=str(error))
    result = run_simulation(config, baselines=False)
    attackers, honest = parties(result)
    described = next((h.misbehaviour for h in result.hospitals if h.attacker), None)
    return Outcome(cell=cell, accuracy=result.final.scores.metrics["accuracy"], attackers=attackers, honest=honest,
                   described=described, seconds=time.perf_counter() - started)


def parties(result: SimulationResult) -> tuple[tuple[Party, ...], tuple[Party, ...]]:
    """The attackers (each with its Sybil identities) and the honest hospitals, from the chain's balances."""
    balances = {balance.party.name: balance for balance in result.balances}
    attackers: list[Party] = []
    honest: list[Party] = []
    for hospital in result.hospitals:
        if hospital.identity_of is not None:
            continue
        identities = [hospital.name, *(h.name for h in result.hospitals if h.identity_of == hospital.name)]
        held = [balances[name] for name in identities]
        party = Party(name=hospital.name, examples=hospital.examples, identities=len(identities),
                      stake=sum(_stake(balance) for balance in held), earnings=sum(_earnings(b) for b in held))
        (attackers if hospital.attacker else honest).append(party)
    return tuple(attackers), tuple(honest)


def _stake(balance: Balance) -> float:
    return (balance.stake + balance.withdrawn) / TOKEN_UNIT


def _earnings(balance: Balance) -> float:
    return (balance.rewards_claimed + balance.rewards_unclaimed - balance.slashed) / TOKEN_UNIT


@dataclass(frozen=True)
class BenchResult:
    """The grid's settings, each cell's outcome, and the wall time."""

    settings: BenchSettings
    outcomes: tuple[Outcome, ...]
    wall_seconds: float
    command: str
    stake: Decimal

    def clean(self, task: str, rule: str, scored: bool = False) -> Outcome | None:
        """The clean run of ``task`` under ``rule`` (with scores on, if ``scored``)."""
        return next((o for o in self.outcomes if o.cell == Cell(task, rule, scored=scored)), None)

    def seconds_per_cell(self) -> float | None:
        """The median wall time of the cells that ran."""
        ran = [outcome.seconds for outcome in self.outcomes if outcome.skipped is None]
        return statistics.median(ran) if ran else None

    def to_json(self) -> dict[str, Any]:
        """The results as JSON-ready data."""
        return {"command": self.command, "settings": asdict(self.settings), "stake": str(self.stake),
                "wall_seconds": self.wall_seconds, "seconds_per_cell": self.seconds_per_cell(),
                "cells": [_outcome_json(outcome, self.clean(outcome.cell.task, outcome.cell.rule,
                                                            outcome.cell.scored)) for outcome in self.outcomes]}


def _outcome_json(outcome: Outcome, clean: Outcome | None) -> dict[str, Any]:
    baseline = None if clean is None else clean.accuracy
    drop = None if outcome.accuracy is None or baseline is None else baseline - outcome.accuracy
    return {**asdict(outcome.cell), "accuracy": outcome.accuracy, "clean_accuracy": baseline, "drop": drop,
            "described": outcome.described, "seconds": outcome.seconds, "skipped": outcome.skipped,
            "attackers": [asdict(party) for party in outcome.attackers],
            "honest": [asdict(party) for party in outcome.honest]}


def run_bench(settings: BenchSettings, progress: Callable[[Outcome, int, int], None]) -> BenchResult:
    """Run every cell of ``settings``, telling ``progress`` each outcome (with its number and the total)."""
    started = time.perf_counter()
    cells = grid(settings)
    outcomes = []
    for number, cell in enumerate(cells, start=1):
        outcome = run_cell(cell, settings)
        progress(outcome, number, len(cells))
        outcomes.append(outcome)
    return BenchResult(settings=settings, outcomes=tuple(outcomes), wall_seconds=time.perf_counter() - started,
                       command=settings.command(), stake=SimulationSettings().stake)
