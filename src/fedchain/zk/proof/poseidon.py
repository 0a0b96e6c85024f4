"""The Poseidon hash EZKL computes over an input tensor in the circuit, computed off the circuit."""

from __future__ import annotations

from fedchain.zk.fixed.arith import Ints
from fedchain.zk.proof.ezkl_api import ezkl
from fedchain.zk.proof.felts import felt_from_hex, felts_hex


def poseidon(values: Ints) -> int:
    """The field element EZKL's hashed visibility makes public for an input holding ``values`` (fixed-point
    integers, in the input's flattened order). For the packed batch (`fedchain.zk.fixed.logreg.pack_batch`) it is
    the batch's commitment."""
    digest = ezkl().poseidon_hash(felts_hex(int(v) for v in values.ravel()))
    if len(digest) != 1:
        raise ValueError(f"EZKL's Poseidon returned {len(digest)} elements for one tensor")
    return felt_from_hex(digest[0])
