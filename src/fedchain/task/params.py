"""The chain's ``TaskParams`` (and ``ScoringParams`` for a scored task) from a :class:`~fedchain.task.schema.TaskSpec`,
the declared preprocessing its model blobs carry (pinned on chain by the model-spec hash), and the config every
client's fit gets: the one place where the task's settings become what the contract and the clients read."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from fedchain.chain.audits import AuditParams
from fedchain.chain.coordinator import TaskParams
from fedchain.chain.modes import MODES
from fedchain.chain.scoring import ScoringParams
from fedchain.client.api import Config
from fedchain.secagg.params import default_secure_params, neighbour_count
from fedchain.storage.blob import DataSpec
from fedchain.storage.errors import BlobFormatError
from fedchain.task.errors import TaskSpecError
from fedchain.task.schema import BPS, DataSettings, TaskSpec
from fedchain.zk.fixed.logreg import LogRegStep

MAX_AMOUNT_UNITS: Final = 2**128 - 1
"""Largest stake, bond or deposit in base units (the contract's uint128 amounts)."""
MAX_REWARD_UNITS: Final = 2**96 - 1
"""Largest reward per round, and largest validator stake, in base units (the contract's uint96 bounds)."""


def cohort_of(spec: TaskSpec, hospitals: int | None) -> int:
    """The task's cohort cap: as set, else ``hospitals`` (a simulation's count); a task file must set it."""
    cohort = spec.task.cohort_cap if spec.task.cohort_cap is not None else hospitals
    if cohort is None:
        raise TaskSpecError("task.cohort_cap: required in a task file (the most members a round takes)")
    if spec.task.min_participants > cohort:
        raise TaskSpecError(f"task.min_participants: {spec.task.min_participants} is more than the cohort of "
                            f"{cohort}")
    return cohort


def secure_parameters(spec: TaskSpec, members: int, source: str = "") -> tuple[int, int]:
    """A secure task's neighbours k and threshold t, as set or derived from ``members`` (the cohort); (0, 0) for a
    plain task. Every member must be able to share its secrets with t of its neighbours; ``source`` says where
    ``members`` came from, for the message."""
    if spec.mode == "plain":
        return 0, 0
    rules = spec.task
    neighbours, threshold = default_secure_params(members, neighbours=rules.neighbours, threshold=rules.threshold)
    degree = neighbour_count(neighbours, members)
    if threshold > degree:
        key = next((f"task.{name}" for name in ("threshold", "neighbours") if getattr(rules, name) is not None),
                   "task.cohort_cap")
        hint = " (secure mode needs at least 3 members)" if members < 3 else ""
        raise TaskSpecError(f"{key}: with {members} members{source} and neighbours = {neighbours}, a member has "
                            f"{degree} neighbour{'' if degree == 1 else 's'} to share its secrets with, fewer than "
                            f"the threshold {threshold}{hint}")
    return neighbours, threshold


def base_units(key: str, amount: Decimal, decimals: int, *, low: int, high: int) -> int:
    """``amount`` whole tokens in base units of a token with ``decimals``; exact, within ``[low, high]``."""
    units = amount.scaleb(decimals)
    if units != units.to_integral_value():
        raise TaskSpecError(f"{key}: {amount} has more decimals than the token's {decimals}")
    if not low <= int(units) <= high:
        raise TaskSpecError(f"{key}: {amount} tokens is {int(units)} base units, outside [{low}, {high}]")
    return int(units)


def task_params(spec: TaskSpec, *, token: str, decimals: int, hospitals: int | None = None,
                source: str = "") -> TaskParams:
    """The task's rules as the contract takes them, for ``token`` (with ``decimals``); ``num_params`` and the
    model-spec hash are left to :meth:`fedchain.roles.Requester.create_task`, which takes them from the model.
    ``hospitals`` is the cohort when ``task.cohort_cap`` is not set (a simulation's number of hospitals; ``source``
    says where it comes from, for a message)."""
    rules = spec.task
    cohort = cohort_of(spec, hospitals)
    neighbours, threshold = secure_parameters(spec, cohort, source)

    def amount(name: str, low: int, high: int = MAX_AMOUNT_UNITS) -> int:
        return base_units(f"task.{name}", getattr(rules, name), decimals, low=low, high=high)

    return TaskParams(
        commit_window=rules.commit_window, reveal_window=rules.reveal_window, propose_window=rules.propose_window,
        challenge_window=rules.challenge_window, availability_window=rules.availability_window, cohort_cap=cohort,
        min_participants=rules.min_participants, sample_cap=spec.rule.sample_cap, num_rounds=spec.rounds,
        max_silent_rounds=rules.max_silent_rounds, token=token, mode=MODES[spec.mode],
        rule=spec.rule.aggregation_rule.rule_id, rule_param=spec.rule.param_bps,
        scale_bits=rules.scale_bits, words_per_leaf=rules.words_per_leaf, clip=rules.clip_units, num_params=0,
        server_lr_bps=round(spec.rule.server_learning_rate * BPS), unbonding_delay=rules.unbonding_delay,
        allowlist=rules.allowlist, missed_reveal_slash_bps=rules.missed_reveal_slash_bps,
        silence_slash_bps=rules.silence_slash_bps, violation_slash_bps=rules.violation_slash_bps,
        aggregator_slash_bps=rules.aggregator_slash_bps, bounty_bps=rules.bounty_bps,
        aggregator_fee_bps=rules.aggregator_fee_bps, min_stake=amount("min_stake", 1),
        aggregator_bond=amount("aggregator_bond", 1), reward_per_round=amount("reward_per_round", 0, MAX_REWARD_UNITS),
        availability_bond=amount("availability_bond", 1), neighbours=neighbours, threshold=threshold,
        model_spec_hash=bytes(32),
    )


def scoring_params(spec: TaskSpec, params: TaskParams, *, decimals: int) -> ScoringParams | None:
    """A scored task's committee rules as the contract takes them (None for a task without ``[scoring]``): the
    score window defaults to the task's reveal window and the seat's stake to its minimum stake (``params``, the
    task's TaskParams, in base units of a token with ``decimals``)."""
    scoring = spec.scoring
    if scoring is None:
        return None
    stake = params.min_stake if scoring.validator_stake is None else base_units(
        "scoring.validator_stake", scoring.validator_stake, decimals, low=1, high=MAX_REWARD_UNITS)
    return ScoringParams(committee=scoring.committee, score_window=scoring.score_window or params.reveal_window,
                         min_score_bps=scoring.min_score_bps, tolerance_bps=scoring.tolerance_bps,
                         validator_slash_bps=scoring.validator_slash_bps, validator_fee_bps=scoring.validator_fee_bps,
                         validator_stake=stake)


def audit_params(spec: TaskSpec, *, verifier: str, decimals: int) -> AuditParams | None:
    """An audited task's rules as the contract takes them (None for a task without ``[audit]``), with the address of
    the verifier of its step circuit (deployed from :func:`audit_step`'s circuit) and the demand bond in base units
    of a token with ``decimals``."""
    audit = spec.audit
    if audit is None:
        return None
    return AuditParams(verifier=verifier, steps=audit.steps, batch_size=audit.batch_size, audit_bps=audit.audit_bps,
                       audit_steps=audit.audit_steps, proof_window=audit.proof_window,
                       demand_bond=base_units("audit.demand_bond", audit.demand_bond, decimals, low=1,
                                              high=MAX_REWARD_UNITS))


def audit_step(spec: TaskSpec, features: int) -> LogRegStep | None:
    """The step circuit of an audited task whose model has ``features`` inputs (None without ``[audit]``)."""
    return None if spec.audit is None else spec.audit.step(spec, features)


def data_spec(data: DataSettings) -> DataSpec | None:
    """The task's ``[data]`` as its model blobs carry it (docs/protocol.md section 6, ``data``): the settings that
    change what the model sees (the feature columns in order, the normalization with its fixed statistics, the
    missing-value rule; not ``label_column``, which only names a CSV column). None while the statistics of
    ``standardize`` are not fixed (a simulation fits them; a deployment must fix them)."""
    if data.normalization == "standardize" and not data.mean:
        return None
    try:
        return DataSpec(features=data.features, normalization=data.normalization, mean=data.mean, scale=data.scale,
                        missing=data.missing)
    except BlobFormatError as error:  # the schema's checks make this unreachable; kept as a clear error
        raise TaskSpecError(str(error)) from None


def fit_config(spec: TaskSpec) -> Config:
    """What every client's ``fit`` gets besides the round: the training settings and the task's own keys, as a
    Flower strategy's ``on_fit_config_fn`` would send them."""
    training = spec.training
    return {**spec.config, "local_epochs": training.local_epochs, "batch_size": training.batch_size,
            "learning_rate": training.learning_rate, "optimizer": training.optimizer, "momentum": training.momentum}
