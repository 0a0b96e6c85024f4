"""Audited training in the roles (docs/protocol.md section 13): the participant that trains along a committed
trajectory and proves its drawn steps, and the watcher's audit chores.

- :class:`AuditedData` is a member's training data as the circuit sees it: quantized at the task's scale, cut into
  ``batches = len(data) // B`` batches of B rows in the data's order (the rest is not trained on), each packed with
  a salt drawn from one journaled seed; their Poseidon hashes make the dataset tree the member registers, and the
  sample count is ``batches * B``.
- :func:`train_trajectory` is the round's training: S fixed-point SGD steps (`fedchain.zk.fixed.logreg.sgd_step`)
  from the anchored global model, step t on batch ``(r S + t) mod batches``; the update is ``clamp(w_S - w_0)``.
- :class:`AuditedParticipant` registers its dataset before its first commit, submits exactly that update, commits
  the trajectory's root right after its commitment, and proves every step of its update audited on chain (drawn or
  demanded) with EZKL (`fedchain.zk.proof.prove_step`), within the proof window. Everything it proves is recomputed
  from its data, the journaled seed and the chain, so a restarted participant proves what it committed to.
- :func:`watch_audits` is the watcher's part: draw the round's audits once the reveal deadline has passed, open
  every drawn audit, and settle every audit whose deadline passed unproven (the update is dropped and its owner
  slashed). There is one way to do each, so a federation's watchers all run it.
- :class:`UntrainedParticipant` is the adversary: in chosen rounds it submits a scaled copy of its trained update with
  the trajectory scaled to match, so the trajectory binds the global model and the update but no step of it is a
  training step; it tries to prove anyway, and the contract refuses the proof.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from fedchain.chain.audits import (
    AuditParams,
    AuditStatus,
    StepOpening,
    TrajectoryLeaf,
    batch_index,
    dataset_leaf,
    trajectory_leaf,
    tree_path,
    tree_root,
)
from fedchain.chain.coordinator import Coordinator, RoundPhase, RoundView, TaskState
from fedchain.chain.errors import ContractRevertError
from fedchain.client.jobs import FinishedJob, FitResult, TrainingJob
from fedchain.commit.leaves import LeafLayout, coordinates_to_words, pad_vector
from fedchain.commit.merkle import merkle_root
from fedchain.roles.agent import Agent
from fedchain.roles.participant import Participant
from fedchain.roles.task import RoleError, fetch_model, included_reveals
from fedchain.zk.fixed.arith import Ints, quantize
from fedchain.zk.fixed.logreg import LogRegStep, new_salt, pack_batch, sgd_step
from fedchain.zk.proof.poseidon import poseidon

if TYPE_CHECKING:
    from fedchain.zk.proof.artifacts import CircuitArtifacts

SEED_BYTES = 32


@dataclass(frozen=True)
class ProofAttempt:
    """One proof a member made of an audited step: how long proving took, and whether the chain accepted it (with the
    proveStep transaction's gas) or refused it (the error the contract named)."""

    round: int
    step: int
    seconds: float
    accepted: bool
    gas: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class AuditedData:
    """A member's training data as the step circuit takes it (module docstring): ``features`` (rows x F, at the
    circuit's scale) and ``labels`` (0 or 1) of the ``batches`` whole batches, and one salt per batch."""

    spec: LogRegStep
    features: Ints
    labels: Ints
    salts: Ints

    @classmethod
    def prepare(cls, spec: LogRegStep, features: npt.ArrayLike, labels: npt.ArrayLike, seed: bytes) -> AuditedData:
        """Quantize ``features`` (already prepared as the task declares) at the circuit's scale and cut them into
        whole batches of B rows; the salts come from ``seed``. A `RoleError` says what does not fit the circuit."""
        x = np.asarray(features, dtype=np.float64)
        y = np.asarray(labels)
        if x.ndim != 2 or x.shape[1] != spec.features:
            raise RoleError(f"the audited step takes {spec.features} features per row, the data has shape {x.shape}")
        if y.shape != (len(x),) or not np.isin(y, (0, 1)).all():
            raise RoleError("binary logistic regression needs one label per row, each 0 or 1")
        batches = len(x) // spec.batch
        if batches < 1:
            raise RoleError(f"{len(x)} rows make no whole batch of {spec.batch} (the task's audit.batch_size)")
        used = batches * spec.batch
        rng = np.random.default_rng(int.from_bytes(seed, "big"))
        salts = np.stack([new_salt(rng) for _ in range(batches)])
        return cls(spec, quantize(x[:used], spec.scale), y[:used].astype(np.int64), salts)

    @property
    def batches(self) -> int:
        """Whole batches of B rows."""
        return len(self.salts)

    @property
    def sample_count(self) -> int:
        """The rows trained on: the weight the chain requires (min(batches * B, sampleCap))."""
        return self.batches * self.spec.batch

    def batch(self, b: int) -> tuple[Ints, Ints]:
        """Batch ``b``'s features and labels."""
        rows = slice(b * self.spec.batch, (b + 1) * self.spec.batch)
        return self.features[rows], self.labels[rows]

    def packed(self, b: int) -> Ints:
        """Batch ``b`` packed with its salt: the circuit's private input."""
        x, y = self.batch(b)
        return pack_batch(self.spec, x, y, self.salts[b])

    @cached_property
    def batch_hashes(self) -> tuple[int, ...]:
        """The Poseidon hash of every packed batch (what the circuit makes public)."""
        return tuple(poseidon(self.packed(b)) for b in range(self.batches))

    @cached_property
    def leaves(self) -> tuple[bytes, ...]:
        """The dataset tree's leaves."""
        return tuple(dataset_leaf(b, digest) for b, digest in enumerate(self.batch_hashes))

    @property
    def root(self) -> bytes:
        """The dataset root the member registers."""
        return tree_root(self.leaves)


def train_trajectory(data: AuditedData, theta: Ints, round: int, steps: int) -> list[Ints]:
    """The models w_0 = ``theta`` (the round's global model) to w_S of ``round``'s S fixed-point steps."""
    models = [np.asarray(theta, dtype=np.int64)]
    for step in range(steps):
        x, y = data.batch(batch_index(round, steps, step, data.batches))
        models.append(sgd_step(data.spec, models[-1], x, y))
    return models


@dataclass(frozen=True)
class Trajectory:
    """A round's trajectory as committed: its models, their trees' leaves and its root."""

    models: tuple[Ints, ...]
    leaves: tuple[bytes, ...]

    @classmethod
    def of(cls, models: Sequence[Ints], layout: LeafLayout) -> Trajectory:
        """The trajectory of ``models`` (each leaf binds a model's Merkle root and its Poseidon hash)."""
        leaves = tuple(trajectory_leaf(j, merkle_root(model, layout), poseidon(model))
                       for j, model in enumerate(models))
        return cls(tuple(models), leaves)

    @property
    def root(self) -> bytes:
        """The trajectory root the member commits."""
        return tree_root(self.leaves)

    def update(self, clip: int) -> NDArray[np.int32]:
        """The update it ends in: clamp(w_S - w_0, -clip, clip)."""
        update: NDArray[np.int32] = np.clip(self.models[-1] - self.models[0], -clip, clip).astype(np.int32)
        return update

    def opening(self, data: AuditedData, layout: LeafLayout, round: int, step: int) -> StepOpening:
        """The openings of step ``step`` (trajectory leaves 0, t, t + 1 and S, each with all the model's words, padding
        included; the batch and its path)."""
        steps = len(self.models) - 1
        opened = tuple(TrajectoryLeaf(coordinates_to_words(pad_vector(self.models[j], layout)),
                                      poseidon(self.models[j]), tree_path(self.leaves, j))
                       for j in (0, step, step + 1, steps))
        b = batch_index(round, steps, step, data.batches)
        return StepOpening(opened, data.batch_hashes[b], tree_path(data.leaves, b))  # type: ignore[arg-type]


class AuditedParticipant(Participant):
    """A participant of an audited task: trains ``step`` (the task's circuit, which its verifier checks) on
    ``features`` and ``labels`` (prepared as the task declares), and proves its audited steps with the circuit's
    ``artifacts`` (built under ``$FEDCHAIN_ZK_CACHE`` when not given). Its client is not asked to ``fit``."""

    def __init__(self, *args: Any, step: LogRegStep, features: npt.ArrayLike, labels: npt.ArrayLike,
                 artifacts: CircuitArtifacts | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step_spec = step
        self._features = np.asarray(features)
        self._labels = np.asarray(labels)
        self._artifacts = artifacts
        self._data: AuditedData | None = None
        self._trajectories: dict[tuple[int, bytes], Trajectory] = {}
        self._attempted: set[tuple[int, int]] = set()
        self.proofs: list[ProofAttempt] = []
        """Each proof this member made: round, step, seconds to prove, and the chain's verdict."""

    # -- the task and the data -----------------------------------------------------------------------

    @cached_property
    def audit(self) -> AuditParams:
        """The task's audit rules; a `RoleError` when the task is not audited or its circuit is not ``step``."""
        audit = self.rules.audit
        params, spec = self.rules.params, self.step_spec
        if audit is None:
            raise RoleError(f"task {self.task_id} is not audited: an audited participant has nothing to prove")
        if (spec.scale, spec.batch, spec.parameters) != (params.scale_bits, audit.batch_size, params.num_params):
            raise RoleError(f"task {self.task_id}'s circuit takes {params.num_params} parameters at 2^-"
                            f"{params.scale_bits} and batches of {audit.batch_size}; this participant's step has "
                            f"{spec.parameters} at 2^-{spec.scale} and batches of {spec.batch}")
        return audit

    @property
    def data(self) -> AuditedData:
        """The training data, its salts drawn from the journaled seed (drawn and journaled the first time)."""
        if self._data is None:
            seed = self.journal.dataset_seed()
            if seed is None:
                seed = secrets.token_bytes(SEED_BYTES)
                self.journal.record_dataset_seed(seed)
            self._data = AuditedData.prepare(self.step_spec, self._features, self._labels, seed)
        return self._data

    @property
    def artifacts(self) -> CircuitArtifacts:
        """The circuit's proving artifacts (built once, cached on disk)."""
        if self._artifacts is None:
            from fedchain.zk.proof.artifacts import circuit_artifacts  # noqa: PLC0415 (onnx: the zk extra)
            self._artifacts = circuit_artifacts(self.step_spec)
        return self._artifacts

    # -- training ------------------------------------------------------------------------------------

    def start_training(self, round: int, global_model: NDArray[np.int32]) -> TrainingJob:
        """No client ``fit``: the update comes from the trajectory (:meth:`make_update`)."""
        return FinishedJob(([], self.data.sample_count, {}))

    def make_update(self, round: int, global_model: NDArray[np.int32],
                    fitted: FitResult) -> tuple[NDArray[np.int32], int]:
        """Exactly the update of the round's trajectory, and the sample count the dataset gives."""
        trajectory = self.trajectory(round, global_model)
        return trajectory.update(self.rules.params.clip), self.data.sample_count

    def trajectory(self, round: int, global_model: NDArray[np.int32]) -> Trajectory:
        """The trajectory of ``round`` from ``global_model`` (computed once)."""
        key = (round, bytes(np.asarray(global_model, dtype=np.int32).tobytes()))
        if key not in self._trajectories:
            trained = train_trajectory(self.data, global_model.astype(np.int64), round, self.audit.steps)
            models = self.trained_models(round, trained)
            self._trajectories = {key: Trajectory.of(models, self.rules.layout)}
        return self._trajectories[key]

    def trained_models(self, round: int, models: list[Ints]) -> list[Ints]:
        """The models this member commits to for ``round`` (an honest member: those it trained)."""
        return models

    # -- the round -----------------------------------------------------------------------------------

    def play_round(self, state: TaskState) -> None:
        """The plain round, with the dataset registered before the first commit, the trajectory committed after the
        commitment, and every open audit of this member's update proven."""
        round = state.current_round
        view = self.coordinator.round_view(self.task_id, round)
        if view.phase == RoundPhase.COMMIT:
            self._ensure_dataset()
        super().play_round(state)
        if not self.entered(round) or self.in_flight():
            return
        if view.phase in (RoundPhase.COMMIT, RoundPhase.REVEAL):
            self._ensure_trajectory(round, state)
        elif view.open_challenges:
            self._prove_audits(round, state)

    def _ensure_dataset(self) -> None:
        if self.coordinator.member(self.task_id, self.address).joined and \
                self.coordinator.dataset_of(self.task_id, self.address).batches == 0:
            data = self.data
            self._send("registerDataset", lambda: self.coordinator.register_dataset(
                self.task_id, data.root, data.batches, sender=self.account))

    def _global_model(self, state: TaskState) -> NDArray[np.int32]:
        return fetch_model(self.store, self.rules, state.model_root, state.model_blob_ref, verified=self.verified)

    def _ensure_trajectory(self, round: int, state: TaskState) -> None:
        """Commit the trajectory of ``round`` once this member's commitment is on chain, before the reveal deadline."""
        if self.coordinator.trajectory_of(self.task_id, round, self.address) != bytes(32):
            return
        if self.coordinator.chain.now() >= self.coordinator.round_view(self.task_id, round).reveal_end:
            return
        trajectory = self.trajectory(round, self._global_model(state))
        self._send(f"commitTrajectory:{round}", lambda: self.coordinator.commit_trajectory(
            self.task_id, trajectory.root, sender=self.account), round)

    def _prove_audits(self, round: int, state: TaskState) -> None:
        """Prove every open audit of this member's update of ``round`` (each step tried once by this process)."""
        from fedchain.zk.proof.prover import prove_step  # noqa: PLC0415 (the zk extra)

        now = self.coordinator.chain.now()
        for opened in self.coordinator.audits_opened(self.task_id, round):
            key = (round, opened.step)
            if opened.participant.lower() != self.address.lower() or key in self._attempted or now >= opened.deadline:
                continue
            if self.coordinator.audit_of(self.task_id, round, self.address, opened.step).status != AuditStatus.OPEN:
                continue
            self._attempted.add(key)
            trajectory = self.trajectory(round, self._global_model(state))
            data, step = self.data, opened.step
            started = time.perf_counter()
            proof = prove_step(self.artifacts, self.step_spec, trajectory.models[step],
                               data.packed(batch_index(round, self.audit.steps, step, data.batches)))
            seconds = time.perf_counter() - started
            opening = trajectory.opening(data, self.rules.layout, round, step)
            try:
                receipt = self.coordinator.prove_step(self.task_id, round, self.address, step, opening, proof.proof,
                                                      sender=self.account)
            except ContractRevertError as error:
                self.proofs.append(ProofAttempt(round, step, seconds, accepted=False, error=error.error.name))
                self.warn(f"round {round}: the chain refused its proof of step {step} ({error})", event="proof_refused",
                          round=round, step=step)
                continue
            self.proofs.append(ProofAttempt(round, step, seconds, accepted=True, gas=int(receipt["gasUsed"])))
            self.log(f"proveStep {round} step {step}", round=round, step=step, seconds=round_seconds(seconds),
                     gas=int(receipt["gasUsed"]))


def round_seconds(seconds: float) -> float:
    """Seconds to the millisecond, for a log line."""
    return round(seconds, 3)


class UntrainedParticipant(AuditedParticipant):
    """Adversarial: in ``rounds`` it submits ``factor`` times the update it trained, with a trajectory scaled to
    match (w'_j = w_0 + factor (w_j - w_0)): it starts at the global model and ends at the submitted update, but no
    step of it is a training step, so no audit of it can be proven."""

    def __init__(self, *args: Any, rounds: frozenset[int], factor: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bad_rounds = rounds
        self.factor = factor

    def trained_models(self, round: int, models: list[Ints]) -> list[Ints]:
        """The scaled trajectory in a bad round."""
        if round not in self.bad_rounds:
            return models
        start = models[0]
        return [start + self.factor * (model - start) for model in models]


def watch_audits(agent: Agent, coordinator: Coordinator, round: int, view: RoundView) -> None:
    """The audit chores of the current ``round`` of an audited task, as ``agent``: draw the audits once its reveal
    deadline has passed, open every drawn step of every included update, and settle every audit whose deadline
    passed without a proof. Nothing before the reveal deadline, nothing once a pending proposal's challenge window
    has closed (the contract's window for drawing and opening)."""
    now = coordinator.chain.now()
    if now < view.reveal_end:
        return
    task_id = agent.task_id
    for opened in coordinator.audits_opened(task_id, round):
        if now >= opened.deadline and coordinator.audit_of(task_id, round, opened.participant,
                                                           opened.step).status == AuditStatus.OPEN:
            coordinator.settle_audit(task_id, round, opened.participant, opened.step, sender=agent.account)
            agent.log(f"settleAudit {round} {opened.participant} step {opened.step}", round=round,
                      participant=opened.participant, step=opened.step)
    if view.has_proposal and now >= view.challenge_end:
        return
    if coordinator.audit_seed(task_id, round) == 0:
        coordinator.draw_audits(task_id, sender=agent.account)
        agent.log(f"drawAudits {round}", round=round)
    for reveal in included_reveals(coordinator, task_id, round):
        chosen, steps = coordinator.audit_draw(task_id, round, reveal.participant)
        if not chosen:
            continue
        for draw, step in enumerate(steps):
            if step in steps[:draw]:
                continue  # drawn twice: one audit
            if coordinator.audit_of(task_id, round, reveal.participant, step).status == AuditStatus.NONE:
                coordinator.open_audit(task_id, reveal.participant, reveal.root, reveal.weight, draw,
                                       sender=agent.account)
                agent.log(f"openAudit {round} {reveal.participant} step {step}", round=round,
                          participant=reveal.participant, step=step)
