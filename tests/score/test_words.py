"""Score words and the lower median (docs/protocol.md section 12.4)."""

import pytest

from fedchain.score.constants import MAX_SEATS, NO_SCORE, SCORE_ONE
from fedchain.score.errors import ScoreError
from fedchain.score.words import check_score, lower_median, pack_scores, unpack_scores, word_median


def test_lane_i_holds_score_plus_one_in_bits_16i() -> None:
    assert pack_scores({0: 0}) == 1
    assert pack_scores({1: 5}) == 6 << 16
    assert pack_scores({15: SCORE_ONE}) == (SCORE_ONE + 1) << 240
    assert pack_scores({0: 7, 2: 9}) == 8 | 10 << 32


def test_an_abstention_leaves_its_lane_empty() -> None:
    assert pack_scores({3: NO_SCORE, 4: 0}) == 1 << 64
    assert unpack_scores(pack_scores({3: NO_SCORE, 4: 0})) == {4: 0}


def test_unpacking_reads_back_what_was_packed() -> None:
    scores = {lane: lane * 600 for lane in range(MAX_SEATS)}
    assert unpack_scores(pack_scores(scores)) == scores
    assert unpack_scores(0) == {}


def test_the_median_is_the_lower_median_of_the_present_scores() -> None:
    assert lower_median([]) is None
    assert lower_median([7]) == 7
    assert lower_median([9000, 100]) == 100  # index (2 - 1) // 2 = 0
    assert lower_median([5, 1, 3]) == 3
    assert lower_median([4, 1, 3, 2]) == 2  # index (4 - 1) // 2 = 1
    assert word_median(0) == (0, 0)
    assert word_median(pack_scores({0: 9000, 5: 100, 9: NO_SCORE})) == (2, 100)
    assert word_median(pack_scores({1: 0, 2: SCORE_ONE, 3: 4000})) == (3, 4000)


@pytest.mark.parametrize("score", [-1, SCORE_ONE + 1, NO_SCORE - 1, NO_SCORE + 1, True, 1.0])
def test_a_score_outside_the_range_is_refused(score: object) -> None:
    with pytest.raises(ScoreError, match="score 2 must be an integer in \\[0, 10000\\] or 65535"):
        check_score(score, 2)  # type: ignore[arg-type]


def test_bad_lanes_and_words_are_refused() -> None:
    with pytest.raises(ScoreError, match="a lane is an integer in \\[0, 16\\), got 16"):
        pack_scores({MAX_SEATS: 1})
    with pytest.raises(ScoreError, match="a score word is an integer in \\[0, 2\\^256\\)"):
        unpack_scores(1 << 256)
    with pytest.raises(ScoreError, match=r"lane 1 of score word .* holds 10002, above SCORE_ONE \+ 1"):
        unpack_scores((SCORE_ONE + 2) << 16)
