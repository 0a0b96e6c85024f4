"""Secure-mode task parameters and the ring bound checked at task creation (docs/protocol.md §10.1).

A participant masks ``w * u`` with ``|u| <= clip`` and ``w <= sampleCap``; at most ``cohortCap`` of them
are summed. The sum of honest inputs has ``|S| <= clip * sampleCap * cohortCap``, and it is read back as
a signed residue of Z_2^64, so the task must satisfy ``clip * sampleCap * cohortCap <= 2^63 - 1``. The
ranges of plain mode (clip < 2^31, sampleCap <= 2^20, cohortCap <= 256) already imply it (< 2^59); the
check stays so that a future change of those ranges cannot silently break unmasking.
"""

from dataclasses import dataclass

from fedchain.secagg.constants import (
    MAX_COHORT,
    MAX_NEIGHBOURS,
    MIN_NEIGHBOURS,
    MIN_THRESHOLD,
    SECURE_WORDS_PER_LEAF,
    SIGNED_RING_MAX,
)
from fedchain.secagg.errors import SecureParamsError


@dataclass(frozen=True)
class SecureParams:
    """The secure-mode settings of a task: ``neighbours`` k (even) and the Shamir ``threshold`` t <= k."""

    neighbours: int
    threshold: int

    def __post_init__(self) -> None:
        k, t = self.neighbours, self.threshold
        if not _is_int(k) or not MIN_NEIGHBOURS <= k <= MAX_NEIGHBOURS or k % 2:
            raise SecureParamsError(
                f"neighbours must be an even integer in [{MIN_NEIGHBOURS}, {MAX_NEIGHBOURS}], got {k!r}"
            )
        if not _is_int(t) or not MIN_THRESHOLD <= t <= k:
            raise SecureParamsError(f"threshold must be an integer in [{MIN_THRESHOLD}, neighbours={k}], got {t!r}")


def check_ring_bound(clip: int, sample_cap: int, cohort_cap: int) -> int:
    """Return the largest possible |weighted sum| ``clip * sampleCap * cohortCap``, or raise if it could wrap."""
    for name, value in (("clip", clip), ("sample_cap", sample_cap), ("cohort_cap", cohort_cap)):
        if not _is_int(value) or value < 1:
            raise SecureParamsError(f"{name} must be a positive integer, got {value!r}")
    if cohort_cap > MAX_COHORT:
        raise SecureParamsError(f"cohort_cap must be at most {MAX_COHORT}, got {cohort_cap}")
    bound = clip * sample_cap * cohort_cap
    if bound > SIGNED_RING_MAX:
        raise SecureParamsError(
            f"clip * sample_cap * cohort_cap = {bound} exceeds 2^63 - 1: the masked sum could wrap the ring Z_2^64"
        )
    return bound


def check_secure_leaf_width(words_per_leaf: int) -> int:
    """Return ``words_per_leaf`` if secure mode allows it (1, 2 or 4), else raise."""
    if not _is_int(words_per_leaf) or words_per_leaf not in SECURE_WORDS_PER_LEAF:
        raise SecureParamsError(f"secure mode needs words_per_leaf in {SECURE_WORDS_PER_LEAF}, got {words_per_leaf!r}")
    return words_per_leaf


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
