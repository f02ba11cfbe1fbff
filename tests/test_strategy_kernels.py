"""The strategy layer's compiled kernels against their plain-Python references (STRATEGY S2-S6),
with the appendix's expected values (SPEC-S2, S4, S5)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hs
from hypothesis.extra.numpy import arrays

from straddles.strategies import nb
from straddles.strategies import reference as ref
from straddles.strategies.transforms import lagged

ALL = (np.arange(5, dtype=np.int64), np.array([0, 5], np.int64))
values = hs.one_of(hs.just(np.nan), hs.just(np.inf), hs.floats(-5, 5), hs.sampled_from([0.0, 1.0, -1.0, 2.0]))


def matrices(max_days=40, max_assets=5):
    return hs.tuples(hs.integers(1, max_days), hs.integers(1, max_assets)).flatmap(
        lambda shape: arrays(np.float64, shape, elements=values))


def assert_same(got, expected):
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def _all_members(n):
    return np.arange(n, dtype=np.int64), np.array([0, n], np.int64)


def test_rank_spec_s2():
    x = np.array([[3.0, np.nan, 1.0, 3.0, 2.0]])
    expected = [0.6666666666666667, np.nan, -1.0, 0.6666666666666667, -0.33333333333333337]
    np.testing.assert_array_equal(nb.rank(x, *ALL)[0], expected)


@given(matrices(), hs.integers(1, 3))
def test_rank_and_grank_match_reference(x, n_groups):
    x = np.where(np.isfinite(x), x, np.nan)
    groups = np.arange(x.shape[1]) % n_groups
    order = np.argsort(groups, kind="stable").astype(np.int64)
    offsets = np.searchsorted(groups[order], np.arange(n_groups + 1)).astype(np.int64)
    assert_same(nb.rank(x, *_all_members(x.shape[1])), ref.rank(x))
    assert_same(nb.rank(x, order, offsets), ref.rank(x, groups))


def test_ema_spec_s4():
    np.testing.assert_array_equal(nb.ema(np.array([[np.nan], [2.0], [np.nan], [6.0]]), 4)[:, 0], [np.nan, 2, 2, 3])


@given(matrices(), hs.integers(1, 30))
def test_ema_matches_reference(x, n):
    assert_same(nb.ema(x, n), ref.ema(x, n))


def test_clm_spec_s5():
    c = nb.cumulative(np.array([[1.0], [-2.0], [1.0], [3.0]]))
    np.testing.assert_array_equal(c[:, 0], [1, -1, 0, 3])
    np.testing.assert_array_equal(nb.calmar(c)[:, 0], [np.nan, -0.5, 0.0, 1.5])


@given(matrices())
def test_cumulative_and_calmar_match_reference(x):
    c = nb.cumulative(x)
    assert_same(c, ref.cumulative(x))
    assert_same(nb.calmar(c), ref.calmar(c))


@given(matrices(), hs.integers(1, 3))
def test_sumabs_matches_reference(x, _):
    assert_same(nb.sumabs(x), ref.sumabs(x))
    out = nb.sumabs(x)
    for row in out:
        if not np.isnan(row).all():
            assert abs(np.nansum(np.abs(row)) - 1.0) < 1e-12


@given(matrices(), hs.integers(0, 2**32 - 1), hs.booleans())
def test_combine_is_sumabs_of_the_product(x, seed, one_row):
    """SPEC-S5: combining two weight matrices is ``(w1·w2) / Σ|w1·w2|`` per day: the reference
    sumabs of the product, and bit for bit the compiled sumabs of it; w2 may be one row."""
    rng = np.random.default_rng(seed)
    y = rng.choice([np.nan, np.inf, 0.0, -1.0, 0.5, 2.0], size=(1 if one_row else x.shape[0], x.shape[1]))
    with np.errstate(invalid="ignore"):  # inf · 0: NaN, as in the kernel
        product = x * np.broadcast_to(y, x.shape)
    assert_same(nb.combine(x, y), ref.sumabs(product))
    np.testing.assert_array_equal(nb.combine(x, y), nb.sumabs(product))


@given(matrices(), hs.integers(0, 45))
def test_lag_shifts_rows(x, k):
    out = lagged(x, k)
    assert out.shape == x.shape
    assert np.isnan(out[:k]).all()
    np.testing.assert_array_equal(out[k:], x[:len(x) - k] if k < len(x) else out[k:])


@settings(max_examples=60)
@given(hs.integers(0, 2**32 - 1), hs.integers(1, 60), hs.integers(1, 8), hs.floats(0, 0.6))
def test_winsorize_matches_a_sort_per_day(seed, window, min_count, gaps):
    """S2 wpnl: the Fenwick order statistics equal a sort per day (ties and gaps included)."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_t(3, size=(150, 3)), 1)  # many ties
    x[rng.random(x.shape) < gaps] = np.nan
    for lo, hi in ((0.01, 0.99), (0.1, 0.8), (0.0, 1.0)):
        assert_same(nb.winsorize(x, window, lo, hi, min_count), ref.winsorize(x, window, lo, hi, min_count))


def test_winsorize_clips_the_tails():
    x = np.arange(100.0)[:, None]
    x[50, 0] = 1e6
    out = nb.winsorize(x, 365, 0.01, 0.99, 20)
    assert out[50, 0] == 49.0  # 51 values 0..49 and 1e6: the 99 % quantile is sorted[floor(0.99 * 50)] = 49
    np.testing.assert_array_equal(out[:19, 0], x[:19, 0])  # fewer than 20 values: passed through


@settings(max_examples=60)
@given(hs.integers(0, 2**32 - 1), hs.floats(0, 0.5), hs.integers(1, 40))
def test_beta_matches_reference(seed, gaps, min_days):
    rng = np.random.default_rng(seed)
    long_book = rng.normal(size=200)
    short_book = -0.5 * long_book + rng.normal(size=200)
    long_book[rng.random(200) < gaps] = np.nan
    short_book[rng.random(200) < gaps] = np.nan
    got = nb.beta(long_book, short_book, 365, min_days)
    assert_same(got, ref.beta(long_book, short_book, 365, min_days))
    assert (got >= 0).all()


def test_beta_is_one_until_twenty_days_then_hedges():
    rng = np.random.default_rng(1)
    long_book = rng.normal(size=300)
    short_book = -0.5 * long_book + 0.01 * rng.normal(size=300)
    beta = nb.beta(long_book, short_book, 365, 20)
    assert (beta[:19] == 1.0).all()
    assert abs(beta[-1] - 0.5) < 0.05  # -cov(L, S)/var(L) of S = -0.5 L


def test_normalize_gross_sums_abs_to_one_or_holds_nothing():
    x = np.array([[1.0, -3.0, np.nan], [0.0, 0.0, np.nan], [np.nan, np.nan, np.nan]])
    out = nb.normalize_gross(x)
    np.testing.assert_array_equal(out, [[0.25, -0.75, 0.0], [0, 0, 0], [0, 0, 0]])


# --- the sweep's fused steps (STRATEGY S6, S1.6, S8) -----------------------------------------------

def _cohorts(rng, n_days, n_assets, n_cohorts, origin):
    """Random cohorts: an asset each and a lock day around W's rows (some outside them)."""
    asset = rng.integers(0, n_assets, n_cohorts).astype(np.int32)
    lock = rng.integers(origin - 3, origin + n_days + 3, n_cohorts).astype(np.int64)
    return asset, lock, np.lexsort((asset, lock)).astype(np.int64)


@settings(max_examples=80)
@given(matrices(), hs.integers(0, 2**32 - 1), hs.integers(1, 3), hs.booleans(), hs.booleans())
def test_sized_held_is_hedge_then_normalize_then_the_lock(W, seed, n_groups, use_group, use_total):
    """SPEC-S6, S1.6: the fused step equals scale_longs (group, then global), normalize_gross and
    cohort_weights on the matrices, bit for bit, with NaN, inf, zeros and negative weights."""
    rng = np.random.default_rng(seed)
    n_days, n_assets = W.shape
    group = rng.integers(0, n_groups, n_assets).astype(np.int64)
    group_factor = rng.choice([0.0, 0.5, 1.0, 1.7], size=(n_days, n_groups))
    total_factor = rng.choice([0.0, 0.3, 1.0, 2.5], size=(n_days, 1))
    asset, lock, order = _cohorts(rng, n_days, n_assets, 30, 100)
    expected = W
    if use_group:
        expected = nb.scale_longs(expected, group_factor, group)
    if use_total:
        expected = nb.scale_longs(expected, total_factor, np.zeros(n_assets, np.int64))
    expected = nb.cohort_weights(nb.normalize_gross(expected), 100, lock, asset, order)
    got = nb.sized_held(W, 100, lock, asset, order, nb.lock_groups(lock, order), group_factor, group, use_group, total_factor, use_total,
                        np.full(len(lock), np.nan))
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=80)
@given(matrices(), hs.integers(0, 2**32 - 1), hs.integers(1, 3))
def test_scaled_held_is_scale_longs_at_the_lock(W, seed, n_groups):
    """SPEC-S6: a hedge step on the held vector equals the step on the matrix, then the lock."""
    rng = np.random.default_rng(seed)
    n_days, n_assets = W.shape
    group = rng.integers(0, n_groups, n_assets).astype(np.int64)
    factor = rng.choice([0.0, 0.5, 1.0, 1.7, np.inf], size=(n_days, n_groups))
    asset, lock, order = _cohorts(rng, n_days, n_assets, 30, 100)
    expected = nb.cohort_weights(nb.scale_longs(W, factor, group), 100, lock, asset, order)
    held = nb.cohort_weights(W, 100, lock, asset, order)
    np.testing.assert_array_equal(nb.scaled_held(held, factor, group[asset], lock - 100), expected)


@settings(max_examples=60)
@given(hs.integers(0, 2**32 - 1), hs.integers(1, 9), hs.integers(1, 3), hs.integers(1, 4))
def test_cohort_books_several_vectors_equal_one_at_a_time(seed, n_vectors, n_buckets, n_blocks):
    """SPEC-S7/S8: the vectorized cube pass of several weight vectors gives, for each vector, the
    books of a plain one-vector-at-a-time loop in cohort order, bit for bit: cells with NaN and
    inf, weights positive, negative, zero and NaN, cohorts partly or wholly outside the grid."""
    rng = np.random.default_rng(seed)
    n_cohorts, n_days, n_cols = int(rng.integers(1, 25)), int(rng.integers(1, 40)), int(rng.integers(1, 3))
    length = rng.integers(1, 15, n_cohorts).astype(np.int64)
    offset = np.concatenate([[0], np.cumsum(length)[:-1]]).astype(np.int64)
    start = rng.integers(-10, n_days + 3, n_cohorts).astype(np.int64)
    bucket = rng.integers(0, n_buckets, n_cohorts).astype(np.int64)
    values = rng.normal(size=(n_cols, int(length.sum()))) * rng.choice([1e-3, 1.0, 1e6], size=(n_cols, 1))
    values[rng.random(values.shape) < 0.1] = np.nan
    values[rng.random(values.shape) < 0.05] = np.inf
    values[rng.random(values.shape) < 0.05] = -np.inf
    held = rng.choice([0.0, np.nan, 1.0, -1.0, 0.3], size=(n_vectors, n_cohorts)) * rng.lognormal(size=(n_vectors, n_cohorts))
    long_, short = (np.zeros((n_vectors, n_cols, n_buckets, n_days)) for _ in range(2))
    nb.cohort_books(values, bucket, start, length, offset, np.ascontiguousarray(held.T), long_, short, n_blocks)
    expected_long, expected_short = ref.cohort_books(values, bucket, start, length, offset, held, n_buckets, n_days)
    np.testing.assert_array_equal(long_, expected_long)
    np.testing.assert_array_equal(short, expected_short)
    np.testing.assert_array_equal(np.signbit(long_), np.signbit(expected_long))  # no -0 where the loop has +0
