"""BN254 mask keys (docs/protocol.md §10.2), against an affine double-and-add written from the curve equation."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.optimized_bn128.optimized_curve import multiply, normalize

from fedchain.secagg.constants import FIELD_MODULUS, GROUP_ORDER
from fedchain.secagg.curve import MaskKeys, check_point, check_scalar, new_mask_keys, public_key, shared_point
from fedchain.secagg.errors import CurveError
from tests.secagg import reference

scalars = st.integers(1, GROUP_ORDER - 1)


def test_the_generator_has_order_r() -> None:
    assert reference.ec_mul((1, 2), GROUP_ORDER) is None
    assert public_key(1) == (1, 2)
    assert public_key(GROUP_ORDER - 1) == (1, FIELD_MODULUS - 2)


@settings(max_examples=10, deadline=None)
@given(scalars)
def test_public_key_matches_the_reference(secret: int) -> None:
    assert public_key(secret) == reference.ec_mul((1, 2), secret)


@settings(max_examples=5, deadline=None)
@given(scalars, scalars)
def test_both_ends_of_a_pair_compute_the_same_point(a: int, b: int) -> None:
    point = shared_point(a, public_key(b))
    assert point == shared_point(b, public_key(a))
    assert point == reference.ec_mul((1, 2), a * b % GROUP_ORDER)


@pytest.mark.parametrize(
    "secret", [1, 2, 3, 15, 16, 17, 31, 32, 33, 2**128, 2**253 + 1, GROUP_ORDER - 2, GROUP_ORDER - 1]
)
def test_edge_scalars_match_the_reference_and_py_ecc(secret: int) -> None:
    expected = reference.ec_mul((1, 2), secret)
    assert public_key(secret) == expected
    x, y = normalize(multiply((FQ(1), FQ(2), FQ(1)), secret))
    assert expected == (int(x), int(y))
    peer = public_key(7)
    assert shared_point(secret, peer) == reference.ec_mul(peer, secret)


def test_fresh_keys_are_distinct_and_consistent() -> None:
    keys = [new_mask_keys() for _ in range(4)]
    assert len({k.secret for k in keys}) == 4
    for k in keys:
        assert 0 < k.secret < GROUP_ORDER
        assert k.public == public_key(k.secret)
        assert str(k.secret) not in repr(k)


@pytest.mark.parametrize("secret", [0, GROUP_ORDER, -1, True, 1.0])
def test_scalars_outside_1_to_r_are_rejected(secret: object) -> None:
    with pytest.raises(CurveError, match=r"\[1, r\)"):
        check_scalar(secret, "mask key")  # type: ignore[arg-type]
    with pytest.raises(CurveError):
        MaskKeys(secret)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "point",
    [(0, 0), (1, 3), (FIELD_MODULUS + 1, 2), (1, 2 + FIELD_MODULUS), (-1, 2), (1,), [1, 2], (1, True)],
    ids=["infinity", "off curve", "x not reduced", "y not reduced", "negative", "short", "list", "bool"],
)
def test_points_off_the_curve_are_rejected(point: object) -> None:
    with pytest.raises(CurveError):
        check_point(point)  # type: ignore[arg-type]
    with pytest.raises(CurveError):
        shared_point(5, point)  # type: ignore[arg-type]


def test_points_on_the_curve_pass() -> None:
    assert check_point((1, FIELD_MODULUS - 2)) == (1, FIELD_MODULUS - 2)
