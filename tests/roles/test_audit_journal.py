"""An audited member's journal keeps the seed of its batches' salts (docs/protocol.md section 13.2) across a restart:
the data prepared again from it has the same batch hashes and dataset root, so a restarted member proves against the
dataset it registered; a different seed is refused, and another seed gives another root."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fedchain.commit.leaves import LeafLayout
from fedchain.roles.audit import AuditedData, Trajectory, train_trajectory
from fedchain.roles.journal import Journal, JournalError
from fedchain.zk.fixed.arith import quantize
from fedchain.zk.fixed.logreg import LogRegStep, sgd_step

STEP = LogRegStep(features=3, batch=4, learning_rate=0.3, scale=8, logit_bound=4)
OWNER = "0x" + "ab" * 20


def test_the_dataset_seed_survives_a_restart(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    features, labels = rng.normal(0.0, 1.0, (10, 3)), rng.integers(0, 2, 10)
    journal = Journal(tmp_path / "j.json", owner=OWNER, task_id=1)
    assert journal.dataset_seed() is None
    journal.record_dataset_seed(b"\x07" * 32)
    reopened = Journal(tmp_path / "j.json", owner=OWNER, task_id=1)
    seed = reopened.dataset_seed()
    assert seed == b"\x07" * 32
    with pytest.raises(JournalError, match="already holds a different dataset seed"):
        reopened.record_dataset_seed(b"\x08" * 32)
    first, again = (AuditedData.prepare(STEP, features, labels, seed) for _ in range(2))
    assert first.batch_hashes == again.batch_hashes and first.root == again.root and first.batches == 2
    assert AuditedData.prepare(STEP, features, labels, b"\x08" * 32).root != first.root


def test_the_trajectory_is_the_circuits_steps_on_the_designated_batches() -> None:
    rng = np.random.default_rng(4)
    data = AuditedData.prepare(STEP, rng.normal(0.0, 1.0, (12, 3)), rng.integers(0, 2, 12), b"\x01" * 32)
    theta = quantize(rng.normal(0.0, 1.0, STEP.parameters), STEP.scale)
    models = train_trajectory(data, theta, round=1, steps=2)
    # round 1, S = 2, 3 batches: steps 0 and 1 train on batches (1 * 2 + t) mod 3 = 2 and 0
    assert np.array_equal(models[1], sgd_step(STEP, theta, *data.batch(2)))
    assert np.array_equal(models[2], sgd_step(STEP, models[1], *data.batch(0)))
    trajectory = Trajectory.of(models, LeafLayout(STEP.parameters, 1))
    assert np.array_equal(trajectory.update(clip=1 << 20), models[2] - models[0])
    assert int(np.abs(trajectory.update(clip=1)).max()) <= 1
