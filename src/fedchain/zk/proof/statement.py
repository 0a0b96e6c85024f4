"""What a proof of a training step states, and the public instances the verifiers check it against.

The statement is what the chain holds: the global model the step started from (``theta_in``), the Poseidon
commitment to the private batch and its salt (``batch_hash``), and the update the hospital submitted
(``theta_out``), all fixed-point integers. A verifier never takes the public values a proof carries: it builds
them from the statement, so a proof made for another model, other data or another update does not verify.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fedchain.zk.fixed.arith import Ints
from fedchain.zk.proof.felts import to_field
from fedchain.zk.proof.poseidon import poseidon


@dataclass(frozen=True)
class Statement:
    """The public side of one proven training step."""

    theta_in: tuple[int, ...]
    batch_hash: int
    theta_out: tuple[int, ...]

    @classmethod
    def of(cls, theta_in: Ints, batch_hash: int, theta_out: Ints) -> Statement:
        """A statement from weight arrays (fixed-point integers)."""
        return cls(tuple(int(v) for v in np.asarray(theta_in)), int(batch_hash),
                   tuple(int(v) for v in np.asarray(theta_out)))

    def instances(self) -> list[int]:
        """The circuit's public instances, in its order: the Poseidon hash of each input (the weights', then the
        batch's), then each output (the input weights echoed, then the new weights), as field elements."""
        weights_hash = poseidon(np.asarray(self.theta_in, dtype=np.int64))
        return [weights_hash, to_field(self.batch_hash), *(to_field(v) for v in self.theta_in),
                *(to_field(v) for v in self.theta_out)]
