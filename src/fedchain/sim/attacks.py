"""Attacks by hospitals, as simulation settings: what each attack sends, and which hospitals attack.

A share of the hospitals, picked from the task's seed (:func:`plan_attack`), attack in every round from
``from_round`` on; before it they train honestly. Each kind is one :class:`Attack` in :data:`ATTACKS` (its own
code is a pure function below); :mod:`fedchain.sim.attackers` runs them as participants of either mode. An attack
works on the update a hospital would send, in the protocol's integer units (docs/protocol.md section 1), before a
secure participant masks it; what it forges is rounded and clipped to the task's range like any update, so every
attack passes the chain's checks. The TOML table, every key but ``kind`` optional:

    [attack]   kind, share (of the hospitals, > 0 and at most 0.5; at least one hospital attacks), from_round,
               strength (the kind's parameter; left out: its default)

    sign_flip        the update it trained, negated
    scaling          model replacement (Bagdasaryan et al. 2020; Bhagoji et al. 2019's explicit boosting): it trains
                     the model it wants the federation to have, here on flipped labels, and sends that update times
                     ``strength`` (default: the number of members), so that FedAvg's weighted mean becomes about its
                     own model
    gaussian_noise   Gaussian noise instead of an update (Blanchard et al. 2017), standard deviation ``strength``
                     model units per coordinate (default 1)
    label_flip       an honest update of training on flipped labels: y becomes C - 1 - y (1 - y for two classes)
    alie             "A little is enough" (Baruch et al. 2019): per coordinate, the benign mean minus ``strength``
                     standard deviations (default: the paper's z_max for n members and m attackers)
    ipm              inner product manipulation (Xie et al. 2020): -``strength`` times the benign mean (default 10:
                     with attackers' weight share f, FedAvg moves by (1 - f (1 + 10)) times the benign mean, backwards
                     from f = 1/11 on)
    free_rider_zero  an update of zeros: it trains nothing and is paid for its declared examples
    free_rider_copy  the last change of the global model, g_t - g_(t-1) (zero in round 0): commit-reveal (and
                     masking) hide this round's updates until every commitment is in, so the newest update a
                     copier can resubmit is the federation's own last step
    sybil            each attacking hospital's data run as ``strength`` identities (default 3), each staking,
                     each sending the update that hospital trained and declaring its examples
    colluding_validators
                     in a scored task (``[scoring]``): the attackers are free riders (zeros) and ``strength`` of the
                     validators (default: a minority, (validators - 1) // 2, at least one) collude with them, scoring
                     their updates SCORE_ONE and every honest update 0

Colluders (ALIE, IPM) know only what they trained themselves: commit-reveal hides the honest updates until every
commitment is in, and secure mode never shows them. So they estimate the benign mean and standard deviation from
their own honestly trained updates of the round, which the simulation shares among them (as colluders would over
a side channel); ALIE therefore needs at least two attackers, to have a spread to estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from types import MappingProxyType
from typing import ClassVar, Final, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from fedchain.sim.errors import ConfigError
from fedchain.task.schema import MAX_ROUNDS, Section, Setting, setting

AttackKind = Literal["sign_flip", "scaling", "gaussian_noise", "label_flip", "alie", "ipm", "free_rider_zero",
                     "free_rider_copy", "sybil", "colluding_validators"]
Floats = NDArray[np.float64]
MAX_STRENGTH: Final = 10.0**6
MAX_SHARE: Final = 0.5
SHARE_ROUNDING: Final = 1e-9
"""``share x hospitals`` is rounded down after adding this, so that 0.3 x 10 (2.9999...96 in binary) is 3."""
ATTACKER_STREAM: Final = 0x61747461636B
"""Mixed into the task's seed for the choice of attackers, so it draws from a stream of its own."""


@dataclass(frozen=True)
class Census:
    """Who takes part: every member of the task (Sybil identities counted), the attacking hospitals and a scored
    task's validators."""

    members: int
    attackers: int
    validators: int = 0


@dataclass(frozen=True)
class Strength:
    """An attack's parameter: its name, meaning and default (a function of the census where it depends on it)."""

    name: str
    doc: str
    default: Callable[[Census], float]
    integer: bool = False
    low: float = 0.0


@dataclass(frozen=True)
class Situation:
    """What an attacker knows when it forges its update of a round. Updates are in integer units (2^scale_bits per
    model unit), as float64; ``colluders`` and ``last_change`` are read only by the attacks that need them."""

    own: Floats
    """The update it trained (honestly, or on flipped labels for the attacks that train so)."""
    strength: float
    units: float
    """Integer units per model unit (2^scale_bits)."""
    rng: np.random.Generator
    colluders: Callable[[], Floats]
    """The colluders' own honestly trained updates of the round, one row each (its own among them)."""
    last_change: Callable[[], Floats]
    """The global model's last change, g_t - g_(t-1) (zeros while there is none)."""


Forge = Callable[[Situation], Floats]


@dataclass(frozen=True)
class Attack:
    """One kind of attack: what it sends (``forge``; None: the update it trained, as it is), its parameter, whether it
    trains on flipped labels, colludes (needs the colluders' updates), runs several identities, has validators of a
    scored task collude (its strength their number), and how many attackers it needs at least."""

    summary: str
    forge: Forge | None = None
    strength: Strength | None = None
    flipped_labels: bool = False
    colludes: bool = False
    identities: bool = False
    validators: bool = False
    min_attackers: int = 1


# -- what each attack sends (pure) ---------------------------------------------------------------------------------


def sign_flip(update: Floats) -> Floats:
    """The update negated."""
    return -update


def scaled(update: Floats, factor: float) -> Floats:
    """The update times ``factor`` (model replacement sends factor = the number of members)."""
    return factor * update


def gaussian_noise(size: int, sigma: float, rng: np.random.Generator) -> Floats:
    """``size`` independent draws of N(0, sigma^2)."""
    return rng.normal(0.0, sigma, size)


def alie(updates: Floats, z: float) -> Floats:
    """Baruch et al.'s update: per coordinate, the mean of ``updates`` (one row each) minus ``z`` of their standard
    deviations (the sample's, ddof 1: an estimate of the benign spread from a few of them)."""
    forged: Floats = np.mean(updates, axis=0) - z * np.std(updates, axis=0, ddof=1)
    return forged


def ipm(updates: Floats, epsilon: float) -> Floats:
    """Xie et al.'s update: -``epsilon`` times the mean of ``updates`` (one row each)."""
    forged: Floats = -epsilon * np.mean(updates, axis=0)
    return forged


def zero(update: Floats) -> Floats:
    """Nothing: an update of zeros."""
    return np.zeros_like(update)


def flip_labels(labels: NDArray[np.int64], num_classes: int) -> NDArray[np.int64]:
    """Every label y becomes ``num_classes - 1 - y`` (1 - y for two classes)."""
    return num_classes - 1 - labels


def baruch_z(members: int, attackers: int) -> float:
    """ALIE's z_max (Baruch et al. 2019, section 3): with s = floor(n/2 + 1) - m honest members needed for a majority,
    the z whose normal quantile is (n - s) / n, so that the forged value still looks closer to the mean than s of the
    honest ones."""
    supporters = math.floor(members / 2 + 1) - attackers
    return NormalDist().inv_cdf((members - supporters) / members)


def finish(forged: Floats, clip: int) -> NDArray[np.int32]:
    """A forged update as the protocol takes it: rounded to integer units and clipped to ``[-clip, clip]``."""
    return np.clip(np.rint(forged), -clip, clip).astype(np.int32)


ATTACKS: Final[Mapping[AttackKind, Attack]] = MappingProxyType({
    "sign_flip": Attack("the trained update, negated", forge=lambda s: sign_flip(s.own)),
    "scaling": Attack("model replacement: trained on flipped labels, times the factor",
                      forge=lambda s: scaled(s.own, s.strength), flipped_labels=True,
                      strength=Strength("factor", "the update's factor (default: the number of members)",
                                        default=lambda census: float(census.members))),
    "gaussian_noise": Attack("Gaussian noise instead of an update",
                             forge=lambda s: gaussian_noise(s.own.size, s.strength * s.units, s.rng),
                             strength=Strength("sigma", "standard deviation in model units (default 1)",
                                               default=lambda _: 1.0)),
    "label_flip": Attack("an honest update of training on flipped labels", flipped_labels=True),
    "alie": Attack("the colluders' mean minus z standard deviations", forge=lambda s: alie(s.colluders(), s.strength),
                   colludes=True, min_attackers=2,
                   strength=Strength("z", "standard deviations below the mean (default: Baruch et al.'s z_max)",
                                     default=lambda census: baruch_z(census.members, census.attackers))),
    "ipm": Attack("-epsilon times the colluders' mean", forge=lambda s: ipm(s.colluders(), s.strength), colludes=True,
                  strength=Strength("epsilon", "the factor of the negated mean (default 10)", default=lambda _: 10.0)),
    "free_rider_zero": Attack("an update of zeros", forge=lambda s: zero(s.own)),
    "free_rider_copy": Attack("the global model's last change", forge=lambda s: s.last_change()),
    "sybil": Attack("one hospital's data as several identities", identities=True,
                    strength=Strength("identities", "identities per attacking hospital (default 3)",
                                      default=lambda _: 3.0, integer=True, low=2.0)),
    "colluding_validators": Attack("free riders whose colluding validators score them 10000 and honest updates 0",
                                   forge=lambda s: zero(s.own), validators=True,
                                   strength=Strength("validators", "colluding validators (default: a minority, "
                                                     "(validators - 1) // 2, at least 1)", integer=True, low=1.0,
                                                     default=lambda census: float(max(1, (census.validators - 1)
                                                                                      // 2)))),
})
"""Every attack by its kind (the ``[attack]`` table's ``kind``)."""


# -- the settings --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttackSettings(Section):
    """The ``[attack]`` table: which attack, by what share of the hospitals, from which round, how strong."""

    TABLE: ClassVar[str] = "attack"

    kind: AttackKind = field(metadata={"setting": Setting(
        f"the attack (required): {', '.join(f'`{kind}`' for kind in get_args(AttackKind))}")})
    share: float = setting(0.2, "the share of the hospitals that attack (rounded down, at least one)", low=0.0,
                           high=MAX_SHARE, low_open=True)
    from_round: int = setting(0, "the first round they attack (before it they train honestly)", low=0,
                              high=MAX_ROUNDS)
    strength: float | None = setting(None, "the attack's parameter (scaling: factor, gaussian_noise: sigma, alie: "
                                           "z, ipm: epsilon, sybil: identities, colluding_validators: validators); "
                                           "left out: its default", low=0.0,
                                     high=MAX_STRENGTH, low_open=True)

    def check(self) -> None:
        """The strength is one the kind takes; Sybils exist from the start."""
        attack = ATTACKS[self.kind]
        described = attack.strength
        if self.strength is not None and described is None:
            raise self.fail("strength", f"not used by kind {self.kind!r} (it has no parameter)")
        if self.strength is not None and described is not None:
            if described.integer and not self.strength.is_integer():
                raise self.fail("strength", f"{self.kind}'s {described.name} is a whole number, got {self.strength}")
            if self.strength < described.low:
                raise self.fail("strength", f"{self.kind}'s {described.name} must be >= {described.low:g}, got "
                                            f"{self.strength:g}")
        if attack.identities and self.from_round != 0:
            raise self.fail("from_round", f"not used by kind {self.kind!r}: its identities join and take part from "
                                          "round 0")


# -- who attacks ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttackPlan:
    """An attack as one simulation runs it: the settings, the attacking hospitals (positions in the data's split, in
    order), the number of identities each runs and the strength (the default resolved)."""

    settings: AttackSettings
    attackers: tuple[int, ...]
    identities: int
    strength: float | None

    @property
    def attack(self) -> Attack:
        """The kind's :class:`Attack`."""
        return ATTACKS[self.settings.kind]

    def attacking(self, round: int) -> bool:
        """Whether the attackers attack in ``round``."""
        return round >= self.settings.from_round

    @property
    def colluding_validators(self) -> int:
        """How many of a scored task's validators collude with the attackers (0 for the other kinds)."""
        return int(self.strength or 0) if self.attack.validators else 0

    def extra_identities(self) -> list[int]:
        """The hospital each identity beyond the hospitals' own runs for, in order (Sybils only: each attacker's
        ``identities - 1`` further identities, attacker by attacker)."""
        return [hospital for hospital in self.attackers for _ in range(self.identities - 1)]

    def describe(self) -> str:
        """The attack in a few words, as a report names an attacker's misbehaviour."""
        described = self.attack.strength
        strength = "" if described is None or self.strength is None else f", {described.name} {self.strength:g}"
        return f"{self.settings.kind} from round {self.settings.from_round}{strength}"


def attacker_count(share: float, hospitals: int) -> int:
    """How many of ``hospitals`` attack at ``share``: rounded down, at least one (with at most half of them
    attacking and at least two hospitals, at least one is honest)."""
    return max(1, math.floor(share * hospitals + SHARE_ROUNDING))


def plan_attack(settings: AttackSettings, hospitals: int, seed: int, validators: int = 0) -> AttackPlan:
    """Pick the attackers among ``hospitals`` from ``seed`` (the same every time) and resolve the strength (a scored
    task has ``validators``); an attack these hospitals cannot stage is a :class:`ConfigError` naming the key."""
    attack = ATTACKS[settings.kind]
    if attack.validators and not validators:
        raise ConfigError(f"attack.kind: {settings.kind} has validators collude, and only a scored task has "
                          "validators: add a [scoring] table")
    count = attacker_count(settings.share, hospitals)
    if count < attack.min_attackers:
        raise ConfigError(f"attack.share: {settings.kind} estimates the benign spread from its colluders' own "
                          f"updates and needs at least {attack.min_attackers} attackers; {settings.share} of "
                          f"{hospitals} hospitals gives {count}")
    rng = np.random.default_rng([seed, ATTACKER_STREAM])
    attackers = tuple(sorted(int(position) for position in rng.choice(hospitals, size=count, replace=False)))
    described = attack.strength
    identities = 1
    if attack.identities and described is not None:
        chosen = settings.strength
        identities = int(described.default(Census(hospitals, count)) if chosen is None else chosen)
    census = Census(members=hospitals + count * (identities - 1), attackers=count, validators=validators)
    strength = settings.strength
    if strength is None and described is not None:
        strength = described.default(census)
    if attack.validators and strength is not None and strength > validators:
        raise ConfigError(f"attack.strength: {strength:g} colluding validators, but the task has {validators}")
    return AttackPlan(settings=settings, attackers=attackers, identities=identities, strength=strength)
