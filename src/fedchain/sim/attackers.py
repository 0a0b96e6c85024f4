"""The attacks of :mod:`fedchain.sim.attacks` as participants of either mode.

An attacker is the task's participant (plain: commit, reveal; secure: mask, upload) whose update of every round from
the plan's ``from_round`` on is forged from what it trained, before a secure participant masks it; the chain sees an
update like any other. A :class:`Campaign` is what the attackers of one simulation share: the plan, one training per
attacking hospital and round (its Sybil identities all send that hospital's update), and the colluders' honestly
trained updates, which ALIE and IPM estimate the benign updates from (commit-reveal and masking hide everyone else's).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from fedchain.chain.coordinator import Mode
from fedchain.client.api import Client
from fedchain.client.jobs import FitResult, TrainingJob
from fedchain.roles import BaseParticipant
from fedchain.roles.participant import Participant
from fedchain.roles.secure_participant import SecureParticipant
from fedchain.roles.task import last_global_change
from fedchain.sim.attacks import AttackPlan, Floats, Situation, finish

NOISE_STREAM: Final = 0x6E6F697365
"""Mixed into the task's seed for an attacker's random draws (Gaussian noise), so they come from a stream of their
own, one per round and identity."""


class Attacking(BaseParticipant):
    """A participant that attacks for ``campaign``: it trains on the data of hospital ``data_of`` (as its
    ``identity``-th identity: 0 is the hospital's own, Sybils have more) and, for the attacks that train on flipped
    labels, holds ``poisoned``: a client of the same data with flipped labels, which trains every round it attacks."""

    def __init__(self, *args: Any, campaign: Campaign, data_of: int, poisoned: Client | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.hospital = data_of
        self.poisoned = poisoned
        self.identity = campaign.enlist(self)

    def training_client(self, round: int) -> Client:
        """The poisoned client in a round it attacks (where it has one), else its own."""
        if self.poisoned is not None and self.campaign.plan.attacking(round):
            return self.poisoned
        return self.client

    def start_training(self, round: int, global_model: NDArray[np.int32]) -> TrainingJob:
        """The campaign's training of this hospital's data for ``round`` (shared by its identities)."""
        return self.campaign.training(self, round, global_model)

    def own_training(self, round: int, global_model: NDArray[np.int32]) -> TrainingJob:
        """Start this member's own training of ``round``, as an honest member would."""
        return super().start_training(round, global_model)

    def honest_update(self, round: int, global_model: NDArray[np.int32], fitted: FitResult) -> NDArray[np.int32]:
        """The update an honest member would send from ``fitted``."""
        update, _ = super().make_update(round, global_model, fitted)
        return update

    def make_update(self, round: int, global_model: NDArray[np.int32],
                    fitted: FitResult) -> tuple[NDArray[np.int32], int]:
        """The forged update in a round it attacks (the trained one before), with the sample count it trained on."""
        update, sample_count = super().make_update(round, global_model, fitted)
        if not self.campaign.plan.attacking(round):
            return update, sample_count
        return self.campaign.forge(self, round, global_model, update), sample_count

    def last_global_change(self, global_model: NDArray[np.int32]) -> Floats:
        """g_t - g_(t-1) as the chain shows it (:func:`fedchain.roles.task.last_global_change`)."""
        change = last_global_change(self.coordinator, self.store, self.rules, self.task_id, global_model,
                                    verified=self.verified)
        return change.astype(np.float64)


class PlainAttacker(Attacking, Participant):
    """An attacker in a plain task: it commits to its forged update and reveals it."""


class SecureAttacker(Attacking, SecureParticipant):
    """An attacker in a secure task: it masks its forged update and uploads it."""


ATTACKERS: Final[Mapping[Mode, type[Attacking]]] = MappingProxyType({Mode.PLAIN: PlainAttacker,
                                                                     Mode.SECURE: SecureAttacker})


class Campaign:
    """What the attackers of one simulation share: the ``plan``, each attacking hospital's training per round, and
    the colluders' honest updates; ``seed`` (the task's) seeds their random draws."""

    def __init__(self, plan: AttackPlan, seed: int) -> None:
        self.plan = plan
        self.seed = seed
        self.attackers: list[Attacking] = []
        self._jobs: dict[tuple[int, int], TrainingJob] = {}
        self._colluders: dict[int, Floats] = {}

    def enlist(self, attacker: Attacking) -> int:
        """Add ``attacker``; returns its identity number among its hospital's identities (0 for the first)."""
        identity = sum(1 for other in self.attackers if other.hospital == attacker.hospital)
        self.attackers.append(attacker)
        return identity

    def training(self, attacker: Attacking, round: int, global_model: NDArray[np.int32]) -> TrainingJob:
        """The training of ``attacker``'s hospital for ``round``, started once for all its identities. Colluders that
        attack this round start every colluder's training with their first: each needs the others' updates."""
        self._jobs = {key: job for key, job in self._jobs.items() if key[0] >= round}
        colluding = self.plan.attack.colludes and self.plan.attacking(round)
        for member in (self._hospitals() if colluding else [attacker]):
            if (round, member.hospital) not in self._jobs:
                self._jobs[(round, member.hospital)] = member.own_training(round, global_model)
        return self._jobs[(round, attacker.hospital)]

    def forge(self, attacker: Attacking, round: int, global_model: NDArray[np.int32],
              update: NDArray[np.int32]) -> NDArray[np.int32]:
        """``attacker``'s update of ``round``, forged from the ``update`` it trained from ``global_model``."""
        attack = self.plan.attack
        if attack.forge is None:
            return update
        situation = Situation(
            own=update.astype(np.float64), strength=self.plan.strength or 0.0,
            units=attacker.rules.quantization.scale,
            rng=np.random.default_rng([self.seed, NOISE_STREAM, round, attacker.hospital, attacker.identity]),
            colluders=lambda: self.colluders(round, global_model),
            last_change=lambda: attacker.last_global_change(global_model))
        return finish(attack.forge(situation), attacker.rules.params.clip)

    def colluders(self, round: int, global_model: NDArray[np.int32]) -> Floats:
        """The colluders' honestly trained updates of ``round``, one row per attacking hospital (waiting for the
        trainings :meth:`training` started)."""
        if round not in self._colluders:
            self._colluders = {round: np.stack([
                member.honest_update(round, global_model, self._jobs[(round, member.hospital)].result())
                for member in self._hospitals()]).astype(np.float64)}
        return self._colluders[round]

    def _hospitals(self) -> list[Attacking]:
        """Each attacking hospital's first identity."""
        return [attacker for attacker in self.attackers if attacker.identity == 0]
