"""Performance statistics: a hand-built backtest with known P&L, and property tests against NumPy."""

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from straddles.results.aggregation import portfolio
from straddles.errors import StraddlesError
from straddles.engine.pipeline import Backtest
from straddles.engine.dates import weekday_dates, weekday_index
from straddles.results.performance import (
    TOTAL, annualized_return, annualized_volatility, conditional_value_at_risk, drawdown, hit_ratio, json_ready,
    longest_drawdown, max_drawdown, pairwise_correlation, sharpe_ratio, skewness, stats, value_at_risk, vol_regimes,
)

D = dt.date
#: the hand series on its weekdays (Thu 2023-12-28 ... Mon 2024-01-08)
WEEKDAYS = [D(2023, 12, 28), D(2023, 12, 29), D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 3), D(2024, 1, 4),
            D(2024, 1, 5), D(2024, 1, 8)]
X = np.array([1.0, -2.0, 3.0, -1.0, -1.0, 2.0, 0.0, 1.0])
Y = np.array([0.0, 1.0, -1.0, 2.0, 0.0, 1.0, 1.0, -2.0])
#: X as calendar-day rows: 0.75 of Monday 2024-01-01 is booked on Sat/Sun 12-30/31, and Friday
#: 2024-01-05 has no row (a weekday without P&L inside the active range counts as 0)
X_ROWS = [(D(2023, 12, 28), 1.0), (D(2023, 12, 29), -2.0), (D(2023, 12, 30), 0.5), (D(2023, 12, 31), 0.25),
          (D(2024, 1, 1), 2.25), (D(2024, 1, 2), -1.0), (D(2024, 1, 3), -1.0), (D(2024, 1, 4), 2.0),
          (D(2024, 1, 8), 1.0)]
Y_ROWS = [(day, value) for day, value in zip(WEEKDAYS, Y)]


def hand_backtest(x_rows=X_ROWS, y_rows=Y_ROWS) -> Backtest:
    """Asset XA (class X) with P&L x_rows, YA (class Y) with y_rows; opnl = 2 pnl, hpnl = -pnl."""
    names = ["XA"] * len(x_rows) + ["YA"] * len(y_rows)
    dates = [day for day, _ in x_rows + y_rows]
    pnl = np.array([value for _, value in x_rows + y_rows], dtype=np.float64)
    asset_pnl = pa.table({"asset": pa.array(names, pa.string()).dictionary_encode(), "date": pa.array(dates, pa.date32()),
                          "pnl": pnl, "opnl": 2 * pnl, "hpnl": -pnl, "n_straddles": pa.array([1] * len(names), pa.int32())})
    assets = pa.table({"asset": ["XA", "YA"], "class": ["X", "Y"], "group": ["g", "g"], "subgroup": ["", ""],
                       "liquidity": [1.0, 1.0], "weight_cap": [0.5, 0.25], "model": ["ES", "ES"], "schedule": ["s", "s"]})
    return Backtest(straddles=pa.table({"status": pa.array([], pa.string())}), days=None, asset_pnl=asset_pnl,
                    assets=assets)


@pytest.fixture(scope="module")
def hand():
    return stats(hand_backtest(), "class")


def row(result, bucket):
    return next(r for r in result.summary.to_pylist() if r["bucket"] == bucket)


# --- the hand-built backtest, every statistic against hand-computed values ---------------------------

def test_weekend_folding_and_zero_fill(hand):
    assert hand.buckets == ["X", "Y", TOTAL]
    assert [d.item() for d in hand.dates] == WEEKDAYS
    np.testing.assert_array_equal(hand.series["pnl"][:, 0], X)
    np.testing.assert_array_equal(hand.series["pnl"][:, 1], Y)
    np.testing.assert_array_equal(hand.series["pnl"][:, 2], X + Y)
    np.testing.assert_array_equal(hand.series["opnl"][:, 0], 2 * X)


def test_return_volatility_sharpe(hand):
    x = row(hand, "X")
    # mean 3/8; squared deviations sum to 19.875
    assert x["pnl"] == 3.0 and x["opnl"] == 6.0 and x["hpnl"] == -3.0
    assert x["n_days"] == 8 and x["start"] == D(2023, 12, 28) and x["end"] == D(2024, 1, 8)
    assert x["ann_return"] == pytest.approx(0.375 * 252, rel=1e-14)
    assert x["ann_volatility"] == pytest.approx(math.sqrt(19.875 / 7 * 252), rel=1e-14)
    assert x["sharpe"] == pytest.approx(0.375 * 252 / math.sqrt(19.875 / 7 * 252), rel=1e-14)
    assert x["sharpe_long"] == x["sharpe"] and x["sharpe_short"] is None


def test_drawdowns(hand):
    x = row(hand, "X")
    # cumulative 1, -1, 2, 1, 0, 2, 2, 3: drawdown 0, -2, 0, -1, -2, 0, 0, 0
    np.testing.assert_array_equal(hand.drawdowns()[:, 0], [0, -2, 0, -1, -2, 0, 0, 0])
    assert x["max_drawdown"] == -2.0
    assert (x["max_drawdown_peak"], x["max_drawdown_trough"], x["max_drawdown_recovery"]) == (
        D(2023, 12, 28), D(2023, 12, 29), D(2024, 1, 1))
    assert x["recovery_days"] == 1
    # episodes: peak 12-28 -> back 01-01 (2 weekdays); peak 01-01 -> back 01-04 (3 weekdays)
    assert x["longest_drawdown_days"] == 3
    assert (x["longest_drawdown_start"], x["longest_drawdown_end"], x["longest_drawdown_recovered"]) == (
        D(2024, 1, 1), D(2024, 1, 4), True)


def test_a_peak_at_the_starting_level_is_the_weekday_before_the_first_day():
    # Monday 2024-01-01 loses 1, then -1, +3: the peak is the starting 0, before the first day, so it
    # is dated Friday 2023-12-29 (the weekday before), not the losing Monday itself
    result = stats(hand_backtest(x_rows=[(D(2024, 1, 1), -1.0), (D(2024, 1, 2), -1.0), (D(2024, 1, 3), 3.0)],
                                 y_rows=[]), "class")
    x = row(result, "X")
    assert max_drawdown(np.array([-1.0, -1.0, 3.0])).peak == -1
    assert x["start"] == D(2024, 1, 1) and x["n_days"] == 3
    assert (x["max_drawdown"], x["max_drawdown_peak"], x["max_drawdown_trough"], x["max_drawdown_recovery"]) == (
        -2.0, D(2023, 12, 29), D(2024, 1, 2), D(2024, 1, 3))
    assert x["max_drawdown_peak"] < x["max_drawdown_trough"]
    # the episode runs from the peak (Friday) to the recovery (Wednesday): 3 weekdays
    assert (x["longest_drawdown_days"], x["longest_drawdown_start"], x["longest_drawdown_end"]) == (
        3, D(2023, 12, 29), D(2024, 1, 3))
    # a first-day loss in mid-week: the weekday before Wednesday 2024-01-03 is the Tuesday
    midweek = row(stats(hand_backtest(x_rows=[(D(2024, 1, 3), -1.0)], y_rows=[]), "class"), "X")
    assert (midweek["max_drawdown_peak"], midweek["max_drawdown_trough"]) == (D(2024, 1, 2), D(2024, 1, 3))
    assert midweek["longest_drawdown_start"] == D(2024, 1, 2) and midweek["longest_drawdown_end"] is None


def test_hit_ratio_tails_and_skew(hand):
    x = row(hand, "X")
    assert x["hit_ratio"] == 4 / 7  # 4 up days among 7 non-zero days
    # sorted -2, -1, -1, 0, 1, 1, 2, 3: the 5 % quantile lies 0.35 of the way from -2 to -1
    assert x["var_95"] == pytest.approx(-1.65, abs=1e-14)
    assert x["cvar_95"] == -2.0
    assert x["var_99"] == pytest.approx(-1.93, abs=1e-14)
    assert x["cvar_99"] == -2.0
    # third central moment 4.21875 / 8, second 19.875 / 8
    assert x["skew"] == pytest.approx((4.21875 / 8) / (19.875 / 8) ** 1.5, rel=1e-14)


def test_total_bucket(hand):
    total = row(hand, TOTAL)
    z = X + Y  # 1, -1, 2, 1, -1, 3, 1, -1: cumulative 1, 0, 2, 3, 2, 5, 6, 5
    assert total["pnl"] == 5.0
    assert total["max_drawdown"] == -1.0  # three times; the first counts
    assert (total["max_drawdown_peak"], total["max_drawdown_trough"], total["max_drawdown_recovery"]) == (
        D(2023, 12, 28), D(2023, 12, 29), D(2024, 1, 1))
    # episodes: 12-28 -> 01-01 (2 weekdays), 01-02 -> 01-04 (2), 01-05 -> still open on 01-08 (1)
    assert total["longest_drawdown_days"] == 2
    assert (total["longest_drawdown_start"], total["longest_drawdown_end"]) == (D(2023, 12, 28), D(2024, 1, 1))
    assert total["longest_drawdown_recovered"] is True
    ends_open = stats(hand_backtest(y_rows=[(day, -value) for day, value in Y_ROWS]), "class")
    assert row(ends_open, TOTAL)["max_drawdown_recovery"] is None  # X - Y ends 3 below its peak
    assert row(ends_open, TOTAL)["recovery_days"] is None
    assert total["hit_ratio"] == 5 / 8
    assert total["ann_volatility"] == pytest.approx(np.std(z, ddof=1) * math.sqrt(252), rel=1e-14)


def test_annual_table(hand):
    annual = {(r["bucket"], r["year"]): r for r in hand.annual.to_pylist()}
    assert sorted(annual) == [("X", 2023), ("X", 2024), ("Y", 2023), ("Y", 2024), (TOTAL, 2023), (TOTAL, 2024)]
    assert annual["X", 2023]["pnl"] == -1.0 and annual["X", 2023]["n_days"] == 2
    assert annual["X", 2024]["pnl"] == 4.0 and annual["X", 2024]["n_days"] == 6  # includes the weekend 12-30/31
    assert annual["X", 2024]["opnl"] == 8.0 and annual["X", 2024]["hpnl"] == -4.0
    assert annual["X", 2024]["max_drawdown"] == -2.0  # 3, -1, -1 within 2024
    assert annual["X", 2024]["hit_ratio"] == 3 / 5
    assert annual["X", 2023]["max_drawdown"] == -2.0  # 1 then -2: from peak 1 to -1
    assert annual["X", 2024]["sharpe"] == pytest.approx(sharpe_ratio(np.array([3.0, -1, -1, 2, 0, 1])), rel=1e-14)


def test_contribution_and_correlation(hand):
    contribution = {r["bucket"]: r for r in hand.contribution.to_pylist()}
    assert hand.contribution["bucket"].to_pylist() == ["X", "Y"]  # largest P&L first
    assert contribution["X"]["share_of_pnl"] == 3 / 5 and contribution["Y"]["share_of_pnl"] == 2 / 5
    z = X + Y
    assert contribution["X"]["share_of_risk"] == pytest.approx(np.cov(X, z)[0, 1] / np.var(z, ddof=1), rel=1e-12)
    assert contribution["X"]["share_of_risk"] + contribution["Y"]["share_of_risk"] == pytest.approx(1.0, abs=1e-12)
    correlation = hand.correlation.to_pylist()
    assert correlation[0]["bucket"] == "X" and correlation[0]["X"] == pytest.approx(1.0)
    assert correlation[0]["Y"] == pytest.approx(np.corrcoef(X, Y)[0, 1], rel=1e-12)
    assert correlation[1]["X"] == correlation[0]["Y"]
    # the matrix behind the table, in bucket order
    np.testing.assert_array_equal(hand.correlation_matrix,
                                  [[r[name] for name in ("X", "Y")] for r in correlation])


def test_long_and_short_legs():
    result = stats(hand_backtest(), "portfolio", weights={"YA": -1.0})
    total = row(result, TOTAL)
    assert result.buckets == [TOTAL]
    assert total["pnl"] == 1.0
    assert total["sharpe_long"] == pytest.approx(sharpe_ratio(X), rel=1e-14)
    assert total["sharpe_short"] == pytest.approx(sharpe_ratio(-Y), rel=1e-14)
    assert total["sharpe"] == pytest.approx(sharpe_ratio(X - Y), rel=1e-14)


def test_periods_per_year_and_sizing():
    result = stats(hand_backtest(), "class", periods_per_year=261, scale_by_weight_cap=True)
    x = row(result, "X")
    assert x["pnl"] == 1.5  # WeightCap 0.5
    assert x["ann_return"] == pytest.approx(0.5 * 0.375 * 261, rel=1e-14)
    assert x["sharpe"] == pytest.approx(sharpe_ratio(X, 261), rel=1e-14)
    with pytest.raises(StraddlesError, match="periods_per_year"):
        stats(hand_backtest(), periods_per_year=0)


def test_from_a_portfolio_table_and_json(hand):
    from_table = stats(portfolio(hand_backtest(), "class"))
    assert from_table.summary.equals(hand.summary) and from_table.by == "class"
    with pytest.raises(StraddlesError, match="weights"):
        stats(portfolio(hand_backtest(), "class"), weights={"XA": 2.0})
    data = json.loads(json.dumps(hand.to_dict(), allow_nan=False))
    assert data["summary"][0]["max_drawdown_peak"] == "2023-12-28"
    assert data["summary"][1]["sharpe_short"] is None


def test_a_portfolio_table_needs_its_columns():
    table = portfolio(hand_backtest(), "class")
    with pytest.raises(StraddlesError, match="lacks the column\\(s\\) 'opnl'"):
        stats(table.drop_columns(["opnl"]))
    with pytest.raises(StraddlesError, match="'date', 'hpnl'"):
        stats(table.drop_columns(["hpnl", "date"]))
    with pytest.raises(StraddlesError, match="'pnl_short'"):  # one side of the split without the other
        stats(table.drop_columns(["pnl_short"]))


def test_a_portfolio_table_without_the_long_short_split_is_all_long(hand):
    result = stats(portfolio(hand_backtest(), "class").drop_columns(["pnl_long", "pnl_short"]))
    np.testing.assert_array_equal(result.series["pnl_long"], hand.series["pnl"])
    np.testing.assert_array_equal(np.nan_to_num(result.series["pnl_short"]), 0.0)
    assert result.summary.equals(hand.summary)
    x = row(result, "X")
    assert x["sharpe_long"] == x["sharpe"] and x["sharpe_short"] is None


def test_by_comes_from_the_portfolio_table(hand):
    table = portfolio(hand_backtest(), "class")
    # read from the column, not from its position
    moved = stats(table.select(["date", "pnl", "class", "opnl", "hpnl", "pnl_long", "pnl_short"]))
    assert moved.by == "class" and moved.summary.equals(hand.summary)
    assert stats(table, "class").summary.equals(hand.summary)
    with pytest.raises(StraddlesError, match="by='group' but the table has no 'group' column .*'class'"):
        stats(table, "group")
    with pytest.raises(StraddlesError, match="by='portfolio' but the table has the bucket column 'class'"):
        stats(table, "portfolio")
    whole = portfolio(hand_backtest(), "portfolio")
    assert stats(whole).by == "portfolio" and stats(whole).buckets == [TOTAL]
    with pytest.raises(StraddlesError, match="by='class' but the table has no 'class' column"):
        stats(whole, "class")
    with pytest.raises(StraddlesError, match="by must be one of"):
        stats(table, "sector")
    both = table.append_column("group", pa.array(["g"] * table.num_rows))
    with pytest.raises(StraddlesError, match="several bucket columns"):
        stats(both)
    assert stats(both, "class").summary.equals(hand.summary)


def test_json_ready():
    value = {"a": [1.5, math.nan, np.float64(math.inf), np.int32(3)], 2: (D(2024, 1, 2), None, "x"),
             "m": np.array([0.5, np.nan])}
    assert json_ready(value) == {"a": [1.5, None, None, 3], "2": ["2024-01-02", None, "x"], "m": [0.5, None]}


def test_empty_backtest():
    empty = hand_backtest(x_rows=[], y_rows=[])
    result = stats(empty, "class")
    assert result.buckets == [TOTAL] and len(result.dates) == 0
    total = row(result, TOTAL)
    assert total["pnl"] == 0.0 and total["sharpe"] is None and total["max_drawdown"] == 0.0
    assert result.correlation.num_rows == 0 and result.contribution.num_rows == 0
    json.dumps(result.to_dict(), allow_nan=False)


def test_flat_series_has_no_drawdown():
    result = max_drawdown(np.array([1.0, 0.0, 2.0]))
    assert (result.value, result.peak, result.trough, result.recovery) == (0.0, None, None, None)
    assert longest_drawdown(np.array([1.0, 0.0, 2.0])) is None
    assert math.isnan(sharpe_ratio(np.zeros(5))) and math.isnan(hit_ratio(np.zeros(3)))


# --- vol regimes ---------------------------------------------------------------------------------------

def test_vol_regimes():
    vols = [5.0, 1.0, 3.0, 2.0, 4.0, 10.0, 9.0, 8.0, 7.0, 6.0]  # asset A: quintiles of 2 straddles
    pnls = [0.05, 0.01, 0.03, 0.02, 0.04, -0.10, -0.09, -0.08, -0.07, -0.06]
    straddles_table = pa.table({
        "asset": ["A"] * 10 + ["B"] * 3 + ["A"],
        "class": ["K"] * 14,
        "status": ["valued"] * 13 + ["no_entry"],
        "strike_vol": vols + [1.0, 2.0, 3.0, 99.0],
        "pnl_sum": pnls + [1.0, 1.0, 1.0, None],
        "weight": [0.5] * 14,
    })
    backtest = Backtest(straddles=straddles_table, days=None, asset_pnl=None, assets=None)
    result = vol_regimes(backtest, 5).to_pylist()
    assert [r["regime"] for r in result] == [1, 2, 3, 4, 5]  # B (3 straddles) is left out
    assert [r["n_straddles"] for r in result] == [2] * 5
    assert [r["mean_strike_vol"] for r in result] == pytest.approx([1.5, 3.5, 5.5, 7.5, 9.5])
    # by vol: 0.01 0.02 | 0.03 0.04 | 0.05 -0.06 | -0.07 -0.08 | -0.09 -0.10
    assert [r["mean_pnl"] for r in result] == pytest.approx([0.015, 0.035, -0.005, -0.075, -0.095], abs=1e-15)
    assert [r["hit_ratio"] for r in result] == [1.0, 1.0, 0.5, 0.0, 0.0]
    assert [r["pnl"] for r in result] == pytest.approx([0.015, 0.035, -0.005, -0.075, -0.095], abs=1e-15)


def test_vol_regimes_hit_ratio_leaves_flat_straddles_out():
    # as hit_ratio(): a straddle with pnl_sum 0 is neither a hit nor a miss
    straddles_table = pa.table({
        "asset": ["A"] * 4 + ["C"] * 2, "class": ["K"] * 4 + ["J"] * 2, "status": ["valued"] * 6,
        "strike_vol": [1.0, 2.0, 3.0, 4.0, 1.0, 2.0], "pnl_sum": [0.0, 1.0, 0.0, 0.0, -1.0, 2.0],
        "weight": [1.0] * 6,
    })
    backtest = Backtest(straddles=straddles_table, days=None, asset_pnl=None, assets=None)
    result = vol_regimes(backtest, 2).to_pylist()
    assert [(r["class"], r["regime"]) for r in result] == [("J", 1), ("J", 2), ("K", 1), ("K", 2)]
    assert [r["n_straddles"] for r in result] == [1, 1, 2, 2]
    assert [r["hit_ratio"] for r in result] == [0.0, 1.0, 1.0, None]  # K/2: two flat straddles, no hit ratio
    assert result[2]["hit_ratio"] == hit_ratio(np.array([0.0, 1.0]))


# --- property tests against direct NumPy computations ----------------------------------------------------

series = arrays(np.float64, st.integers(2, 120),
                elements=st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False).map(lambda v: round(v, 3)))


@settings(max_examples=150, deadline=None)
@given(series, st.sampled_from([252, 261, 365]))
def test_annualized_moments(x, periods):
    assert annualized_return(x, periods) == pytest.approx(x.mean() * periods, rel=1e-12, abs=1e-9)
    assert annualized_volatility(x, periods) == pytest.approx(x.std(ddof=1) * np.sqrt(periods), rel=1e-12, abs=1e-9)
    if x.std(ddof=1) > 1e-9:
        assert sharpe_ratio(x, periods) == pytest.approx(x.mean() / x.std(ddof=1) * np.sqrt(periods), rel=1e-9,
                                                         abs=1e-9)


def loop_drawdowns(x):
    """Reference drawdown bookkeeping, one day at a time."""
    level, peak_level, peak_at = 0.0, 0.0, -1
    series, episodes, open_since = [], [], None
    for i, value in enumerate(x):
        level += value
        if level >= peak_level:
            if open_since is not None:
                episodes.append((open_since, i, True))
                open_since = None
            peak_level, peak_at = level, i
        elif open_since is None:
            open_since = peak_at
        series.append(level - peak_level)
    if open_since is not None:
        episodes.append((open_since, len(x) - 1, False))
    return np.array(series), episodes


@settings(max_examples=200, deadline=None)
@given(series)
def test_drawdowns_against_a_loop(x):
    expected, episodes = loop_drawdowns(x)
    np.testing.assert_allclose(drawdown(x), expected, atol=1e-9)
    deepest = max_drawdown(x)
    assert deepest.value == pytest.approx(min(expected.min(), 0.0), abs=1e-9)
    if episodes:
        longest = max(episodes, key=lambda e: e[1] - e[0])
        found = longest_drawdown(x)
        assert (found.periods, found.start, found.end, found.recovered) == (longest[1] - longest[0], *longest)
        trough = int(np.argmin(drawdown(x)))
        containing = next(e for e in episodes if e[0] < trough <= e[1])
        assert deepest.peak == containing[0]
        assert deepest.recovery == (containing[1] if containing[2] else None)
    else:
        assert longest_drawdown(x) is None


@settings(max_examples=200, deadline=None)
@given(series, st.sampled_from([0.9, 0.95, 0.99]))
def test_tails_and_hit_ratio(x, level):
    quantile = np.quantile(x, 1 - level)
    assert value_at_risk(x, level) == quantile
    assert conditional_value_at_risk(x, level) == pytest.approx(x[x <= quantile].mean(), rel=1e-12)
    assert conditional_value_at_risk(x, level) <= value_at_risk(x, level) + 1e-12
    nonzero = [v for v in x if v != 0]
    assert hit_ratio(x) == (sum(v > 0 for v in nonzero) / len(nonzero) if nonzero else pytest.approx(np.nan,
                                                                                                   nan_ok=True))


@settings(max_examples=150, deadline=None)
@given(arrays(np.float64, st.integers(3, 120), elements=st.floats(-100, 100, allow_nan=False)))
def test_skew_against_pandas(x):
    n = len(x)
    if np.std(x) < 1e-3 * max(1.0, np.abs(x).max()):
        return
    adjusted = pd.Series(x).skew()  # G1 = g1 * sqrt(n (n - 1)) / (n - 2)
    assert skewness(x) * math.sqrt(n * (n - 1)) / (n - 2) == pytest.approx(adjusted, rel=1e-7, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 6), st.integers(2, 60), st.integers(0, 2**32 - 1))
def test_pairwise_correlation_against_corrcoef(n_columns, n_rows, seed):
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(n_rows, n_columns))
    matrix[rng.random(matrix.shape) < 0.3] = np.nan
    result = pairwise_correlation(matrix)
    for i in range(n_columns):
        for j in range(n_columns):
            both = ~np.isnan(matrix[:, i]) & ~np.isnan(matrix[:, j])
            a, b = matrix[both, i], matrix[both, j]
            if both.sum() < 2 or a.std() == 0 or b.std() == 0:
                assert np.isnan(result[i, j])
            else:
                assert result[i, j] == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(19000, 19800), min_size=1, max_size=200))
def test_weekday_calendar(days):
    days = np.array(days)
    index = weekday_index(days)
    carried = weekday_dates(index)
    for day, carry in zip(days, carried):
        date = dt.date(1970, 1, 1) + dt.timedelta(days=int(day))
        expected = date + dt.timedelta(days={5: 2, 6: 1}.get(date.weekday(), 0))
        assert dt.date(1970, 1, 1) + dt.timedelta(days=int(carry)) == expected
    weekdays = np.arange(index.min(), index.max() + 1)
    assert np.all(np.diff(weekday_dates(weekdays)) >= 1)
    assert all((dt.date(1970, 1, 1) + dt.timedelta(days=int(d))).weekday() < 5 for d in weekday_dates(weekdays))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1500), st.floats(-1, 1, allow_nan=False).map(lambda v: round(v, 4))),
                min_size=1, max_size=80, unique_by=lambda item: item[0]))
def test_annual_sums_against_pandas(rows):
    day0 = dt.date(2021, 3, 1)
    rows = [(day0 + dt.timedelta(days=offset), value) for offset, value in rows]
    backtest = hand_backtest(x_rows=rows, y_rows=[])
    annual = {r["year"]: r["pnl"] for r in stats(backtest, "class").annual.to_pylist() if r["bucket"] == "X"}
    frame = pd.DataFrame({"date": [d for d, _ in rows], "pnl": [v for _, v in rows]})
    carried = frame["date"].map(lambda d: d + dt.timedelta(days={5: 2, 6: 1}.get(d.weekday(), 0)))
    expected = frame.groupby(carried.map(lambda d: d.year))["pnl"].sum()
    # every year of the active range has a row, years without P&L rows sum to 0
    assert sorted(annual) == list(range(expected.index.min(), expected.index.max() + 1))
    for year, total in annual.items():
        assert total == pytest.approx(expected.get(year, 0.0), abs=1e-9)
