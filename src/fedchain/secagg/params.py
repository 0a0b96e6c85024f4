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
    MAX_DEFAULT_NEIGHBOURS,
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


def neighbour_count(neighbours: int, members: int) -> int:
    """How many neighbours each of ``members`` advertised members has in a round's graph (docs/protocol.md
    section 10.5): ``neighbours`` k, or every other member when the graph is complete (n - 1 <= k)."""
    return min(neighbours, members - 1)


def default_secure_params(members: int, *, neighbours: int | None = None,
                          threshold: int | None = None) -> tuple[int, int]:
    """A secure task's neighbours k and threshold t for rounds of ``members`` members, each as given or else
    derived from the number of members (the simulator's hospitals, a deployed task's cohort cap).

    k defaults to n - 1 rounded up to even, at most 8: a small federation gets the complete graph, a larger
    one a ring of 8 neighbours (SecAgg+ suggests about 2 log2 n; 8 covers tens of members). t defaults to
    k/2 + 1 (a majority of a member's neighbours must collude to learn anything), lowered where needed so
    that a round survives one dropped member: a survivor next to it keeps min(k, n - 1) - 1 surviving
    neighbours and needs t of them (docs/protocol.md section 10.7); never below 2. With 5 members: k = 4
    (complete), t = 3; with 4: k = 4, t = 2. With 3 members no dropout can be survived (the two survivors
    would learn each other's update from their sum), and t stays 2. (Rounding k down instead, as "the
    largest even number <= n - 1" would, leaves 4 members on a ring of 2 neighbours that no dropout can
    survive.)
    """
    if neighbours is None:
        neighbours = min(MAX_DEFAULT_NEIGHBOURS, max(MIN_NEIGHBOURS, members - 1 + (members - 1) % 2))
    if threshold is None:
        threshold = max(MIN_THRESHOLD, min(neighbours // 2 + 1, neighbour_count(neighbours, members) - 1))
    return neighbours, threshold


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
