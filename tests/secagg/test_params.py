"""Secure-mode task parameters and the ring bound (docs/protocol.md §10.1)."""

import pytest

from fedchain.secagg.errors import SecureParamsError
from fedchain.secagg.params import SecureParams, check_ring_bound, check_secure_leaf_width


def test_valid_parameters() -> None:
    params = SecureParams(16, 9)
    assert (params.neighbours, params.threshold) == (16, 9)
    SecureParams(2, 2)
    SecureParams(254, 254)


@pytest.mark.parametrize("neighbours", [0, 1, 3, 256, True, 4.0])
def test_neighbours_must_be_even_and_in_range(neighbours: object) -> None:
    with pytest.raises(SecureParamsError, match="neighbours"):
        SecureParams(neighbours, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("threshold", [0, 1, 9, True])
def test_threshold_must_be_in_2_to_k(threshold: object) -> None:
    with pytest.raises(SecureParamsError, match="threshold"):
        SecureParams(8, threshold)  # type: ignore[arg-type]


def test_ring_bound() -> None:
    assert check_ring_bound(2**31 - 1, 2**20, 256) == (2**31 - 1) * 2**20 * 256
    assert check_ring_bound(2**43 - 1, 2**12, 256) < 2**63
    with pytest.raises(SecureParamsError, match="could wrap"):
        check_ring_bound(2**43, 2**12, 256)
    with pytest.raises(SecureParamsError, match="cohort_cap"):
        check_ring_bound(1, 1, 257)
    with pytest.raises(SecureParamsError, match="clip"):
        check_ring_bound(0, 1, 1)


def test_leaf_widths() -> None:
    assert [check_secure_leaf_width(w) for w in (1, 2, 4)] == [1, 2, 4]
    for width in (0, 3, 8, True):
        with pytest.raises(SecureParamsError, match="words_per_leaf"):
            check_secure_leaf_width(width)
