"""One SGD step of binary logistic regression in EZKL's fixed-point arithmetic (pure: integers in, integers out).

The model is ``theta = (w_1 .. w_F, b)``; a batch is ``B`` rows of ``F`` features and a 0/1 label each. The step is
the one every framework takes, written out:

    z     = clip(X @ w + b, -L, L)
    p     = sigmoid(z)
    e     = p - y                          the gradient of BCE-with-logits with respect to z
    g     = (X^T @ e, sum(e))              the gradient summed over the batch
    theta = theta - (lr / B) * g

at scale ``2**-scale``: every product is rescaled to ``scale`` and rounded half away from zero (``X @ w`` before
the bias is added: the rounding of a tie depends on the sign of what is rounded), the sigmoid is
EZKL's lookup table, and ``lr / B`` is the integer ``round(lr / B * 2**scale)``. The logit is clipped to ``±L``
(``logit_bound``) because the sigmoid's lookup table covers only that range; beyond it sigmoid is within
``1 - sigmoid(L)`` of 0 or 1 (3.4e-4 for L = 8). :func:`sgd_step` is therefore not float SGD but exactly what the
circuit (`fedchain.zk.circuit`) computes: a proof certifies this function's output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fedchain.zk.errors import FixedPointError
from fedchain.zk.fixed.arith import MAX_MAGNITUDE, Ints, check_scale, rescale, round_half_away, sigmoid

DEFAULT_SCALE = 12
"""Weights and data at 2**-12 (about 2.4e-4): the sigmoid's table for ``|z| <= 8`` then has 2**16 + 1 entries."""

DEFAULT_LOGIT_BOUND = 8
"""Logits are clipped to ±8 before the sigmoid (its table's range)."""

SALT_WORDS = 8
"""Salt integers packed with the batch, each below 2**SALT_BITS: 176 bits that keep the batch's hash unguessable."""

SALT_BITS = 22


@dataclass(frozen=True)
class LogRegStep:
    """What one audited training step is: the model's and batch's shape, the learning rate and the arithmetic."""

    features: int
    batch: int
    learning_rate: float
    scale: int = DEFAULT_SCALE
    logit_bound: int = DEFAULT_LOGIT_BOUND

    def __post_init__(self) -> None:
        check_scale(self.scale)
        if self.features < 1 or self.batch < 1:
            raise FixedPointError(f"a step needs at least one feature and one sample, not {self.features} "
                                  f"and {self.batch}")
        if self.logit_bound < 1 or self.logit_bound << self.scale > MAX_MAGNITUDE:
            raise FixedPointError(f"logit_bound {self.logit_bound} is outside 1..{MAX_MAGNITUDE >> self.scale} "
                                  f"at scale {self.scale}")
        step = self.step_size
        if step < 1:
            raise FixedPointError(f"learning_rate / batch = {self.learning_rate / self.batch:g} rounds to 0 at "
                                  f"scale {self.scale}")
        if step & (step - 1) == 0:
            # EZKL folds a multiplication by a power of two into a change of scale and rounds only once, later:
            # the step would no longer be the one below.
            raise FixedPointError(f"learning_rate / batch must not be a power of two at scale {self.scale} "
                                  f"(it is {step} / 2**{self.scale}); take a slightly different learning rate")

    @property
    def step_size(self) -> int:
        """``lr / B`` as a fixed-point integer: the constant the circuit multiplies the gradient by."""
        return int(round_half_away(self.learning_rate / self.batch * 2.0**self.scale))

    @property
    def parameters(self) -> int:
        """The number of weights, bias included."""
        return self.features + 1

    @property
    def packed_length(self) -> int:
        """The length of the packed private input: features, labels and salt."""
        return self.batch * self.features + self.batch + SALT_WORDS

    @property
    def logit_range(self) -> tuple[int, int]:
        """The clipped logit's range as fixed-point integers (the sigmoid's lookup range)."""
        bound = self.logit_bound << self.scale
        return -bound, bound


def check_weights(spec: LogRegStep, theta: Ints) -> Ints:
    """``theta`` as an int64 vector of the model's length, or a `FixedPointError`."""
    array = np.asarray(theta)
    if array.shape != (spec.parameters,) or not np.issubdtype(array.dtype, np.integer):
        raise FixedPointError(f"weights must be {spec.parameters} integers, not an array of shape {array.shape} "
                              f"and type {array.dtype}")
    if array.size and int(np.abs(array).max()) > MAX_MAGNITUDE:
        raise FixedPointError(f"a weight exceeds {MAX_MAGNITUDE} in magnitude")
    return array.astype(np.int64)


def check_batch(spec: LogRegStep, features: Ints, labels: npt.ArrayLike) -> tuple[Ints, Ints]:
    """The batch as int64 arrays of the step's shape (features at ``scale``, labels 0 or 1), or an error."""
    x = np.asarray(features)
    y = np.asarray(labels)
    if x.shape != (spec.batch, spec.features) or not np.issubdtype(x.dtype, np.integer):
        raise FixedPointError(f"features must be integers of shape {(spec.batch, spec.features)}, not {x.shape} "
                              f"{x.dtype}")
    if x.size and int(np.abs(x).max()) > MAX_MAGNITUDE:
        raise FixedPointError(f"a feature exceeds {MAX_MAGNITUDE} in magnitude")
    if y.shape != (spec.batch,) or not np.isin(y, (0, 1)).all():
        raise FixedPointError(f"labels must be {spec.batch} values, each 0 or 1")
    return x.astype(np.int64), y.astype(np.int64)


def pack_batch(spec: LogRegStep, features: Ints, labels: npt.ArrayLike, salt: Ints) -> Ints:
    """The one private input the circuit hashes: features (row by row), labels at ``scale``, then the salt.

    Packing the salt with the data makes the batch's Poseidon hash a hiding commitment: EZKL hashes each input
    tensor on its own, and a hash of a few labels alone could be found by trying them all."""
    x, y = check_batch(spec, features, labels)
    salt_array = np.asarray(salt)
    if salt_array.shape != (SALT_WORDS,) or not np.issubdtype(salt_array.dtype, np.integer) \
            or (salt_array < 0).any() or (salt_array >= 1 << SALT_BITS).any():
        raise FixedPointError(f"salt must be {SALT_WORDS} integers in [0, 2**{SALT_BITS})")
    return np.concatenate([x.ravel(), y << spec.scale, salt_array.astype(np.int64)])


def new_salt(rng: np.random.Generator) -> Ints:
    """A fresh salt for :func:`pack_batch` (draw it from a cryptographic source in deployment:
    ``np.random.default_rng(secrets.randbits(128))``)."""
    return rng.integers(0, 1 << SALT_BITS, SALT_WORDS, dtype=np.int64)


def sgd_step(spec: LogRegStep, theta: Ints, features: Ints, labels: npt.ArrayLike) -> Ints:
    """The weights after one fixed-point SGD step on the batch: exactly the circuit's output for these inputs."""
    weights = check_weights(spec, theta)
    x, y = check_batch(spec, features, labels)
    low, high = spec.logit_range
    logits = np.clip(rescale(x @ weights[:-1], spec.scale) + weights[-1], low, high)
    errors = sigmoid(logits, spec.scale) - (y << spec.scale)
    gradient = np.append(rescale(x.T @ errors, spec.scale), errors.sum())
    return weights - rescale(gradient * spec.step_size, spec.scale)
