"""Score words and the median (docs/protocol.md section 12.4).

Each (round, participant) keeps its committee's scores in one 256-bit word: the validator in lane i stores its
score s as s + 1 in bits [16 i, 16 i + 16), 0 meaning no score (not revealed, or an abstention). The median of an
update is the lower median of the scores present: sorted ascending, the one at index (m - 1) // 2.
"""

from collections.abc import Iterable, Mapping

from fedchain.score.constants import LANE_BITS, MAX_SEATS, NO_SCORE, SCORE_ONE
from fedchain.score.errors import ScoreError

_LANE_MASK = (1 << LANE_BITS) - 1
_WORD_LIMIT = 1 << (LANE_BITS * MAX_SEATS)


def check_score(score: int, position: int = 0) -> int:
    """``score`` if a validator may reveal it: 0..SCORE_ONE, or NO_SCORE (an abstention)."""
    if isinstance(score, bool) or not isinstance(score, int) or not (0 <= score <= SCORE_ONE or score == NO_SCORE):
        raise ScoreError(f"score {position} must be an integer in [0, {SCORE_ONE}] or {NO_SCORE} (no score), "
                         f"got {score!r}")
    return score


def pack_scores(scores: Mapping[int, int]) -> int:
    """The score word holding ``scores`` by lane (an abstention, NO_SCORE, leaves its lane empty)."""
    word = 0
    for lane, score in scores.items():
        if isinstance(lane, bool) or not isinstance(lane, int) or not 0 <= lane < MAX_SEATS:
            raise ScoreError(f"a lane is an integer in [0, {MAX_SEATS}), got {lane!r}")
        if check_score(score, lane) != NO_SCORE:
            word |= (score + 1) << (LANE_BITS * lane)
    return word


def unpack_scores(word: int) -> dict[int, int]:
    """The scores present in a score word, by lane."""
    if isinstance(word, bool) or not isinstance(word, int) or not 0 <= word < _WORD_LIMIT:
        raise ScoreError(f"a score word is an integer in [0, 2^256), got {word!r}")
    scores: dict[int, int] = {}
    for lane in range(MAX_SEATS):
        stored = (word >> (LANE_BITS * lane)) & _LANE_MASK
        if stored:
            if stored > SCORE_ONE + 1:
                raise ScoreError(f"lane {lane} of score word {word:#x} holds {stored}, above SCORE_ONE + 1")
            scores[lane] = stored - 1
    return scores


def lower_median(scores: Iterable[int]) -> int | None:
    """The lower median of ``scores`` (index (m - 1) // 2 of the m sorted ones); None for none (unscored)."""
    ordered = sorted(scores)
    return ordered[(len(ordered) - 1) // 2] if ordered else None


def word_median(word: int) -> tuple[int, int]:
    """How many validators scored the update of ``word``, and their median (0 when none did): the contract's
    ``medianScore``."""
    present = unpack_scores(word).values()
    median = lower_median(present)
    return len(present), 0 if median is None else median
