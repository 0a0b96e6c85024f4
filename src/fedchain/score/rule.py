"""The reference scoring rule every fedchain validator applies (docs/protocol.md section 12.7, described in
docs/architecture.md, "Contribution scores").

For the round's global model g and each included update u_i:

- **copies score 0**: an update of zeros, or one (nearly) identical to another update of the round or to the
  global model's last change g_t - g_(t-1) (cosine of the two vectors at least :data:`COPY_COSINE`; equal
  vectors have cosine 1). Every update of a group of copies scores 0, so a Sybil that sends one update under
  several identities earns nothing for any of them, and a free rider that resubmits the last step neither;
- every other update is applied **at its share** of the round: the task's own rule and server step over that one
  update (the model a round with only that update would give) moves g by some step s_i, of which the update
  gets 1/n for the round's n included updates, g_i = g + tdiv(s_i, n) (its influence in an average of n); it is
  scored by its improvement of the loss on the validator's held-out data, delta_i = L(g) - L(g_i):

      floor = LOSS_FLOOR * L(g) / n;  ref = REFERENCE_SHARE * the median of the positive deltas (0 if none)
      score_i = clamp(round(SCORE_ONE * (delta_i + floor) / (ref + floor)), 0, SCORE_ONE)

  While the round improves the model (ref well above the floor) this is SCORE_ONE * delta_i / ref: an update
  that helps at least half as much as the median helpful one scores SCORE_ONE, one that helps a quarter as much
  half of it, one that does not help or harms 0. (Against the median itself, two validators' held-out samples
  put an honest update on either side of it often enough to disagree by more than a tolerance; see
  docs/architecture.md.) Once the federation has converged and no update meaningfully improves the loss
  (ref small against the floor), every update that does not meaningfully harm it scores about SCORE_ONE, and one
  that raises the loss by the floor or more scores 0. The floor makes the score continuous in ref, so that two
  honest validators near convergence, whose held-out data put ref on either side of the floor, still agree.

Why the share and not the whole step: one hospital's local epoch applied alone overshoots once the model has
learnt the easy part, so the held-out loss rises for honest updates too, while their average still improves it
(measured on the digits CNN, 10 hospitals IID: the whole step scored 52 of 100 honest updates below 20%, the
share 8; docs/architecture.md). At 1/n the step is close to the update's first-order effect, -grad L . u_i / n,
which is what the round's average is made of; a forgery that harms the model harms it at any share. The floor
shrinks with the share, as every delta does: with the whole step's floor, an IPM update near convergence harmed
the model at its share by less than the floor and scored as an honest one (digits, FedAvg: 74.9% against 89.1%).

The loss is the caller's function of a quantized model (a validator dequantizes it and asks its client's
``evaluate``); this module does no I/O.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Final

import numpy as np
from numpy.typing import NDArray

from fedchain.aggregate.rules import AggregationRule, truncating_divide
from fedchain.score.constants import NO_SCORE, SCORE_ONE
from fedchain.score.errors import ScoreError

COPY_COSINE: Final = 0.999
"""Two updates whose cosine is at least this are copies of one another (honest updates of one round measured at
most 0.97 on breast cancer, IID or Dirichlet-split, with logistic regression or the MLP)."""
REFERENCE_SHARE: Final = 0.5
"""The share of the median positive improvement that scores SCORE_ONE."""
LOSS_FLOOR: Final = 1e-3
"""The loss change, relative to L(g), below which an improvement or a harm is not meaningful."""

LossFunction = Callable[[NDArray[np.int32]], float]
"""The validator's loss of a quantized global model on its held-out data."""


@dataclass(frozen=True)
class Contribution:
    """An included update as the rule sees it: its verified int32 vector and its revealed sample count."""

    vector: NDArray[np.int32]
    sample_count: int


@dataclass(frozen=True)
class RoundScores:
    """A validator's scores of a round's updates, in their order, and how it came to them: ``deltas`` (the loss
    improvement of each update applied alone; None for a copy or an abstention), the indices of the ``copies`` and
    ``reference`` (:data:`REFERENCE_SHARE` of the median positive delta, 0 for none) against the ``floor``."""

    scores: tuple[int, ...]
    deltas: tuple[float | None, ...]
    copies: frozenset[int]
    reference: float
    floor: float


def score_round(previous: NDArray[np.int32], updates: Sequence[Contribution | None], *, rule: AggregationRule,
                last_change: NDArray[np.int64] | None, loss: LossFunction) -> RoundScores:
    """Score every update of a round whose global model is ``previous``: NO_SCORE for an update the validator could
    not read (None), 0 for a copy, else its loss improvement against the round's (module docstring).
    ``last_change`` is g_t - g_(t-1) (None before any round has changed the model)."""
    size = previous.size
    for index, update in enumerate(updates):
        if update is not None and update.vector.shape != (size,):
            raise ScoreError(f"update {index} has shape {update.vector.shape}, the model {size} coordinates")
    if last_change is not None and last_change.shape != (size,):
        raise ScoreError(f"the last global change has shape {last_change.shape}, the model {size} coordinates")
    copies = find_copies([None if update is None else update.vector for update in updates], last_change)
    base = float(loss(previous))
    if not np.isfinite(base):
        raise ScoreError(f"the loss of the round's global model is {base}: nothing can be scored against it")
    deltas: list[float | None] = [None] * len(updates)
    for index, update in enumerate(updates):
        if update is not None and index not in copies:
            whole = rule.aggregate(previous, [update.vector], [update.sample_count])
            alone = float(loss(at_share(previous, whole, len(updates))))
            deltas[index] = base - alone if np.isfinite(alone) else -math.inf  # a model it breaks: harmful
    positive = [delta for delta in deltas if delta is not None and delta > 0]
    reference = REFERENCE_SHARE * float(median(positive)) if positive else 0.0
    floor = LOSS_FLOOR * abs(base) / len(updates)
    scores = []
    for index, delta in enumerate(deltas):
        if delta is None:
            scores.append(NO_SCORE if updates[index] is None else 0)
        else:
            scores.append(proportional_score(delta, reference, floor))
    return RoundScores(scores=tuple(scores), deltas=tuple(deltas), copies=frozenset(copies), reference=reference,
                       floor=floor)


def at_share(previous: NDArray[np.int32], whole: NDArray[np.int32], share: int) -> NDArray[np.int32]:
    """``previous + tdiv(whole - previous, share)``: the model ``whole`` would give, its step divided by ``share``
    (truncated toward zero, in int64, so the result stays within int32 whenever both models are)."""
    if share < 1:
        raise ScoreError(f"an update's share of a round needs at least one update, got {share}")
    step = whole.astype(np.int64) - previous.astype(np.int64)
    moved: NDArray[np.int32] = (previous.astype(np.int64) + truncating_divide(step, share)).astype(np.int32)
    return moved


def proportional_score(delta: float, reference: float, floor: float) -> int:
    """``clamp(round(SCORE_ONE * (delta + floor) / (reference + floor)), 0, SCORE_ONE)``; a zero floor and reference
    (a loss of exactly 0: nothing left to learn) score SCORE_ONE for any delta that is not negative; an update whose
    model has no finite loss (delta -inf) scores 0."""
    if not math.isfinite(delta):
        return 0
    denominator = reference + floor
    if denominator <= 0:
        return SCORE_ONE if delta >= 0 else 0
    return int(min(max(round(SCORE_ONE * (delta + floor) / denominator), 0), SCORE_ONE))


def find_copies(vectors: Sequence[NDArray[np.int32] | None], last_change: NDArray[np.int64] | None) -> set[int]:
    """The indices of the updates that are copies: all zeros, or at cosine :data:`COPY_COSINE` or more with another
    update (both are copies) or with ``last_change``. None (an unread update) is nobody's copy."""
    copies: set[int] = set()
    units: list[NDArray[np.float32]] = []
    positions: list[int] = []
    for index, vector in enumerate(vectors):
        if vector is None:
            continue
        unit = _unit(vector)
        if unit is None:
            copies.add(index)
        else:
            units.append(unit)
            positions.append(index)
    if not units:
        return copies
    matrix = np.stack(units)
    cosines = matrix @ matrix.T
    np.fill_diagonal(cosines, -1.0)
    change = None if last_change is None else _unit(last_change)
    from_change = matrix @ change if change is not None else np.full(len(units), -1.0)
    for row, index in enumerate(positions):
        if cosines[row].max() >= COPY_COSINE or from_change[row] >= COPY_COSINE:
            copies.add(index)
    return copies


def _unit(vector: NDArray[np.int32] | NDArray[np.int64]) -> NDArray[np.float32] | None:
    """``vector`` scaled to length 1, in float32 (enough for a cosine threshold at 1e-3); None for zeros."""
    values = vector.astype(np.float64)
    norm = float(np.linalg.norm(values))
    if norm == 0.0:
        return None
    unit: NDArray[np.float32] = (values / norm).astype(np.float32)
    return unit
