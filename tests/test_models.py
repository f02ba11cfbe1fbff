"""Model formulas against SPEC-E15 (N), SPEC-E16/E17 (ES) and SPEC-E18 (NS)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from straddles.engine.models import es_greeks, es_value, norm_cdf, ns_greeks, ns_value


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.0, 0.5),
        (1.0, 0.8413447460685429),
        (-1.0, 0.15865525393145707),
        (3.0, 0.9986501019683699),
        (-3.0, 0.0013498980316301),
    ],
)
def test_norm_cdf_spec_e15(x, expected):
    assert norm_cdf(x) == pytest.approx(expected, abs=1e-15)


@given(st.floats(-30, 30))
def test_norm_cdf_symmetry_spec_e15(x):
    assert norm_cdf(x) + norm_cdf(-x) == pytest.approx(1.0, abs=1e-15)


@given(st.floats(-8, 8))
def test_norm_cdf_is_exact_erf(x):
    """SPEC 11.1: N is the exact erf-based CDF, not a polynomial approximation."""
    assert norm_cdf(x) == pytest.approx(0.5 * (1 + math.erf(x / math.sqrt(2))), abs=2e-16)


ES_TABLE = [  # SPEC-E16: S, X, v, t, mv, delta
    (100, 100, 20, 31, 0.0464989343375123, 0.0232494671687562),
    (100, 100, 25, 90, 0.0989865285093657, 0.0494932642546828),
    (110, 100, 20, 31, 0.1026130969639729, 0.9039591062439014),
    (90, 100, 20, 31, 0.1015481044112897, -0.9246787818668288),
    (120, 100, 20, 31, 0.2000308094438334, 0.9984070383095758),
    (80, 100, 20, 31, 0.2000015719022756, -0.9998548829966212),
    (100, 100, 20, 14, 0.0312507093965295, 0.0156253546982648),
    (100, 100, 10, 31, 0.0232519353904238, 0.0116259676952120),
    (100, 100, 30, 31, 0.0697360635417660, 0.0348680317708829),
    (100, 100, 20, 1, 0.0083525991920523, 0.0041762995960262),
    (110, 100, 20, 0, 0.1, 1.0),
    (90, 100, 20, 0, 0.1, -1.0),
    (100, 100, 20, 0, 0.0, 1.0),
]


@pytest.mark.parametrize("S, X, v, t, mv, delta", ES_TABLE)
def test_es_table_spec_e16(S, X, v, t, mv, delta):
    got_mv, got_delta = es_value(S, X, v, t)
    assert got_mv == pytest.approx(mv, abs=1e-12)
    assert got_delta == pytest.approx(delta, abs=1e-12)


@pytest.mark.parametrize(
    "S, X, v, t",
    [(100, 100, 20, -1), (100, 100, 0, 31), (100, 100, -20, 31), (0, 100, 20, 31), (100, 0, 20, 31),
     (math.nan, 100, 20, 31), (100, 100, math.nan, 31), (100, 100, math.inf, 31)],
)
def test_es_rejects_spec_e17(S, X, v, t):
    mv, delta = es_value(S, X, v, t)
    assert math.isnan(mv) and math.isnan(delta)


positive = st.floats(1.0, 1000.0)
vols = st.floats(1.0, 150.0)
days = st.integers(1, 400)


@given(positive, vols, days, st.floats(0.01, 0.5))
def test_es_mv_rises_with_distance_from_strike_spec_e17(X, v, t, move):
    """mv grows as S moves away from its minimum; under Black-76 that minimum sits at
    X*exp(-tv^2/2) (where d1 = 0), just below the strike."""
    tv = v / 100 * math.sqrt(t / 365)
    bottom = X * math.exp(-tv * tv / 2)
    low, _ = es_value(bottom, X, v, t)
    assert es_value(X, X, v, t)[0] >= low
    assert es_value(X * (1 + move), X, v, t)[0] > es_value(X, X, v, t)[0]
    assert es_value(bottom * (1 - move), X, v, t)[0] > low


@given(positive, positive, vols, days)
def test_es_mv_rises_with_vol_and_time_spec_e17(S, X, v, t):
    mv, _ = es_value(S, X, v, t)
    rounding = 1e-15 * max(1.0, mv)  # equal up to rounding deep in the wings (mv is about S/X there)
    assert es_value(S, X, v * 1.5, t)[0] >= mv - rounding
    assert es_value(S, X, v, t + 10)[0] >= mv - rounding
    assert mv >= abs(S - X) / X - 1e-12  # never below intrinsic


def test_es_delta_signs_spec_e17():
    assert abs(es_value(100, 100, 20, 31)[1]) < 0.1
    assert es_value(120, 100, 20, 31)[1] > 0
    assert es_value(80, 100, 20, 31)[1] < 0


NS_TABLE = [  # SPEC-E18: S%, X%, vol bp, A, t, mv, delta
    (4.00, 4.00, 100, 8.5, 31, 0.0197648445004282, 0.0),
    (4.10, 4.00, 100, 8.5, 31, 0.0209171362439232, 2.28227919947114),
    (3.90, 4.00, 100, 8.5, 31, 0.0209171362439232, -2.28227919947114),
    (4.00, 4.00, 100, 8.5, 1, 0.00354987086601165, 0.0),
    (4.00, 4.00, 60, 4.6, 90, 0.0109351303932553, 0.0),
    (-0.25, -0.30, 40, 9.8, 14, 0.00733250708665674, 4.67156768475234),
    (4.10, 4.00, 100, 8.5, 0, 0.0085, 8.5),
    (4.00, 4.00, 100, 8.5, 0, 0.0, 8.5),
    (3.90, 4.00, 100, 8.5, 0, 0.0085, -8.5),
]


@pytest.mark.parametrize("S, X, vol, A, t, mv, delta", NS_TABLE)
def test_ns_table_spec_e18(S, X, vol, A, t, mv, delta):
    got_mv, got_delta = ns_value(S, X, vol, A, t)
    assert got_mv == pytest.approx(mv, abs=1e-12)
    assert got_delta == pytest.approx(delta, abs=1e-12)


@pytest.mark.parametrize("S, X, vol, A, t", [(4, 4, 0, 8.5, 31), (4, 4, 100, 0, 31), (4, 4, 100, 8.5, -1),
                                             (math.nan, 4, 100, 8.5, 31)])
def test_ns_rejects_spec_e18(S, X, vol, A, t):
    mv, delta = ns_value(S, X, vol, A, t)
    assert math.isnan(mv) and math.isnan(delta)


def test_ns_hpnl_example_spec_e18():
    delta_star = 2.28227919947114
    hpnl = -delta_star * (4.05 - 4.10) / 100
    assert hpnl == pytest.approx(0.00114113959973557, abs=1e-15)


@given(st.floats(-2, 8), st.floats(-2, 8), st.floats(5, 300), st.floats(0.5, 30), days)
def test_ns_mv_is_symmetric_and_above_intrinsic(S, X, vol, A, t):
    mv, delta = ns_value(S, X, vol, A, t)
    mirror, mirror_delta = ns_value(2 * X - S, X, vol, A, t)
    assert mv == pytest.approx(mirror, rel=1e-9, abs=1e-15)
    assert delta == pytest.approx(-mirror_delta, rel=1e-9, abs=1e-12)
    assert mv >= A * abs(S - X) / 100 - 1e-12


# SPEC 17: the Greeks are the model's derivatives in the units the SPEC gives (checked by central
# finite differences on seeded random inputs), 0 at t = 0 and NaN exactly where the model rejects.

def _greek_cases(seed: int, n: int = 200):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield (float(rng.uniform(60, 140)), float(rng.uniform(80, 120)), float(rng.uniform(5, 80)),
               float(rng.uniform(2, 120)))


def test_es_greeks_are_derivatives():
    for S, X, v, t in _greek_cases(1):
        gamma, vega, theta = es_greeks(S, X, v, t)
        h = 1e-4 * S
        mv = lambda s=S, x=X, vol=v, days=t: es_value(s, x, vol, days)[0]  # noqa: E731
        assert gamma == pytest.approx((mv(s=S + h) - 2 * mv() + mv(s=S - h)) / h**2, rel=1e-4, abs=1e-9)
        assert vega == pytest.approx((mv(vol=v + 1e-4) - mv(vol=v - 1e-4)) / 2e-4, rel=1e-5, abs=1e-9)
        assert theta == pytest.approx(-(mv(days=t + 1e-4) - mv(days=t - 1e-4)) / 2e-4, rel=1e-5, abs=1e-9)
        assert theta <= 0 and gamma > 0 and vega > 0


def test_ns_greeks_are_derivatives():
    for S, X, vol, t in _greek_cases(2):
        S, X, A = S / 25.0, X / 25.0, 8.5  # rates in percent around 4
        gamma, vega, theta = ns_greeks(S, X, vol, A, t)
        mv = lambda s=S, nv=vol, days=t: ns_value(s, X, nv, A, days)[0]  # noqa: E731
        h = 1e-2 * vol / 100 * math.sqrt(t / 365)  # a hundredth of the normal vol over t, in percent
        assert gamma == pytest.approx((mv(s=S + h) - 2 * mv() + mv(s=S - h)) / h**2, rel=1e-3, abs=1e-8)
        assert vega == pytest.approx((mv(nv=vol + 1e-4) - mv(nv=vol - 1e-4)) / 2e-4, rel=1e-5, abs=1e-9)
        assert theta == pytest.approx(-(mv(days=t + 1e-4) - mv(days=t - 1e-4)) / 2e-4, rel=1e-5, abs=1e-9)


def test_greeks_at_expiry_and_on_rejected_inputs():
    assert es_greeks(110.0, 100.0, 20.0, 0.0) == (0.0, 0.0, 0.0)
    assert ns_greeks(4.1, 4.0, 100.0, 8.5, 0.0) == (0.0, 0.0, 0.0)
    for args in ((0.0, 100.0, 20.0, 5.0), (100.0, 100.0, 0.0, 5.0), (100.0, 100.0, 20.0, -1.0),
                 (math.nan, 100.0, 20.0, 5.0)):
        assert all(math.isnan(x) for x in es_greeks(*args)) and math.isnan(es_value(*args)[0])
    assert all(math.isnan(x) for x in ns_greeks(4.0, 4.0, 100.0, 0.0, 5.0))
