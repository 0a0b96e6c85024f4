"""Shamir secret sharing over F_r (docs/protocol.md §10.6)."""

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain.secagg.constants import GROUP_ORDER
from fedchain.secagg.errors import RoundFailedError, SecAggError
from fedchain.secagg.shamir import combine, random_coefficients, share_point, split

elements = st.integers(0, GROUP_ORDER - 1)


@settings(max_examples=30, deadline=None)
@given(elements, st.integers(2, 6), st.data())
def test_every_t_subset_gives_the_secret_back(secret: int, threshold: int, data: st.DataObject) -> None:
    holders = data.draw(st.lists(st.integers(0, 255), min_size=threshold, max_size=threshold + 3, unique=True))
    coefficients = data.draw(st.lists(elements, min_size=threshold - 1, max_size=threshold - 1))
    shares = split(secret, coefficients, holders)
    for subset in combinations(holders, threshold):
        assert combine({h: shares[h] for h in subset}, threshold) == secret


def test_shares_are_the_polynomial_at_index_plus_one() -> None:
    shares = split(5, [3, 2], [0, 1, 9])
    assert shares == {0: 5 + 3 + 2, 1: 5 + 6 + 8, 9: (5 + 30 + 200) % GROUP_ORDER}
    assert share_point(0) == 1


def test_t_minus_1_shares_say_nothing_about_the_secret() -> None:
    """For any t - 1 shares and any candidate secret there is exactly one polynomial through them: the
    shares of two different secrets can be identical."""
    coefficients = random_coefficients(3)
    shares = split(11, coefficients, [0, 1, 2])
    # a degree-2 polynomial g with g(0) = 12 through the first two points exists; find its coefficients
    x1, x2 = share_point(0), share_point(1)
    y1, y2 = (shares[0] - 12) % GROUP_ORDER, (shares[1] - 12) % GROUP_ORDER
    # solve c1 * x + c2 * x^2 = y at x1, x2
    det = (x1 * x2 * x2 - x2 * x1 * x1) % GROUP_ORDER
    c1 = (y1 * x2 * x2 - y2 * x1 * x1) * pow(det, -1, GROUP_ORDER) % GROUP_ORDER
    c2 = (x1 * y2 - x2 * y1) * pow(det, -1, GROUP_ORDER) % GROUP_ORDER
    other = split(12, [c1, c2], [0, 1, 2])
    assert (other[0], other[1]) == (shares[0], shares[1])
    assert other[2] != shares[2]
    assert combine({0: shares[0], 1: shares[1], 2: shares[2]}, 3) == 11


def test_random_coefficients_are_field_elements_and_fresh() -> None:
    first, second = random_coefficients(5), random_coefficients(5)
    assert len(first) == 4
    assert first != second
    assert all(0 <= c < GROUP_ORDER for c in first)


def test_too_few_shares_fail_the_round() -> None:
    with pytest.raises(RoundFailedError, match="2 shares cannot reconstruct a secret of threshold 3"):
        combine({0: 1, 1: 2}, 3)


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(SecAggError, match="secret"):
        split(GROUP_ORDER, [1], [0, 1])
    with pytest.raises(SecAggError, match="coefficient 1"):
        split(1, [-1], [0, 1])
    with pytest.raises(SecAggError, match="distinct"):
        split(1, [1], [0, 0])
    with pytest.raises(SecAggError, match="cannot hold"):
        split(1, [1, 2], [0, 1])
    with pytest.raises(SecAggError, match="share of holder"):
        combine({0: GROUP_ORDER, 1: 0}, 2)
    with pytest.raises(SecAggError, match="holder index"):
        share_point(-1)
