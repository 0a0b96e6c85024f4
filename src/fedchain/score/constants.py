"""Contribution-score constants the contract shares (docs/protocol.md section 12; IScoring's SCORE_ONE, NO_SCORE,
MAX_SEATS)."""

from typing import Final

SCORE_ONE: Final = 10_000
"""The score of an update as good as the best, in basis points."""
NO_SCORE: Final = 65_535
"""The score a validator reveals to abstain from scoring an update (it could not read it, say)."""
MAX_SEATS: Final = 16
"""Most seats in a task's committee: the 16-bit lanes of one 256-bit score word."""
LANE_BITS: Final = 16
"""Width of a validator's lane in a score word (lane i is bits [16 i, 16 i + 16))."""
