"""EZKL's run arguments for a training step: scales, visibility and the sigmoid's lookup range."""

from __future__ import annotations

from typing import Any

from fedchain.zk.fixed.logreg import LogRegStep

INPUT_VISIBILITY = "hashed/public"
"""Each input is Poseidon-hashed in the circuit and the hashes are public: the batch's is its commitment."""

OUTPUT_VISIBILITY = "public"
"""The input weights (echoed) and the new weights are public values the verifier checks."""

PARAM_VISIBILITY = "fixed"
"""The graph's constants (the learning rate, the clip bounds) are fixed columns, part of the verifying key."""


def run_args(spec: LogRegStep) -> dict[str, Any]:
    """The run arguments as a plain dict (:func:`fedchain.zk.proof.setup` copies them into ``ezkl.PyRunArgs``)."""
    low, high = spec.logit_range
    return {
        "input_scale": spec.scale,
        "param_scale": spec.scale,
        "scale_rebase_multiplier": 1,
        "lookup_range": (low, high),
        "input_visibility": INPUT_VISIBILITY,
        "output_visibility": OUTPUT_VISIBILITY,
        "param_visibility": PARAM_VISIBILITY,
    }
