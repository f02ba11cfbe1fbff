"""The synthetic market looks like one (issue 9): calibration statistics on the real AMT, seed 0.

Targets (README, "Synthetic data"): per equity index, implied vol minus the next month's realized
vol between 1 and 5 vol points on average; the long-straddle book (one unit of every straddle,
2001-2026) has a Sharpe ratio between -3 and -0.5; at least 20 % of (asset, year) pairs make money;
the crisis years make money for the book. Statistics, not timings; one synthesis and one backtest
without the day table for the whole module.
"""

import numpy as np
import pyarrow.compute as pc
import pytest

import straddles
from straddles.calibration import CRISIS_YEARS, pnl_profile, vol_premium
from straddles.engine.anchors import Overrides
from straddles.engine.prices import PriceStore

pytestmark = pytest.mark.slow
START, END = 2001, 2026


@pytest.fixture(scope="module")
def market(real_amt):
    store = PriceStore.from_arrow(straddles.synthesize(real_amt, START, END, seed=0))
    frame = straddles.build_straddles(real_amt, START, END, overrides=Overrides(path=None))
    return frame, store, straddles.backtest(real_amt, store, START, END, days=False)


@pytest.fixture(scope="module")
def premium(market):
    frame, store, _ = market
    return vol_premium(frame, store)


@pytest.fixture(scope="module")
def profile(market):
    return pnl_profile(market[2])


def test_equity_index_vol_premium_is_1_to_5_vol_points(premium):
    equity = premium.filter(pc.equal(premium["class"], "Equity")).to_pylist()
    assert len(equity) >= 10
    for row in equity:
        assert 1.0 <= row["premium"] <= 5.0, row
        assert row["positive"] > 0.55, row  # implied above next-month realized on most days
        assert 10.0 < row["implied"] < 35.0, row


def test_premium_is_positive_but_smaller_elsewhere(premium):
    by_class = {}
    for row in premium.to_pylist():
        by_class.setdefault(row["class"], []).append(row["premium"])
    assert {"Currency", "SingleStock", "Equity"} <= set(by_class)
    for name, values in by_class.items():
        assert np.mean(values) > 0, name
    assert np.mean(by_class["Currency"]) < np.mean(by_class["Equity"])  # FX vols are lower, and so is the premium


def test_long_straddle_book_sharpe(profile):
    assert -3.0 <= profile.sharpe <= -0.5


def test_a_fifth_of_asset_years_make_money(profile):
    assert profile.n_asset_years > 4000
    assert profile.positive_asset_years >= 0.20


def test_crisis_years_make_money(profile):
    for year in CRISIS_YEARS:
        assert profile.annual[year] > 0, (year, profile.annual[year])
    calm = [pnl for year, pnl in profile.annual.items() if START <= year <= END and year not in CRISIS_YEARS
            and year - 1 not in CRISIS_YEARS]
    assert np.median(calm) < 0  # the premium is lost in calm years


def test_every_class_loses_in_calm_years_and_gains_in_2008_or_2020(market):
    by_class = straddles.stats(market[2], "class").annual.to_pylist()
    pnl = {(row["bucket"], row["year"]): row["pnl"] for row in by_class}
    classes = {row["bucket"] for row in by_class} - {"total"}
    for name in classes:
        assert pnl[(name, 2017)] < 0 or pnl[(name, 2019)] < 0, name
        assert max(pnl.get((name, 2008), 0), pnl.get((name, 2020), 0)) > 0, name


def test_cross_asset_correlation_rises_in_crises(market):
    """Daily hedge returns of the equity indices co-move more in a crisis than in calm years."""
    frame, store, _ = market
    equity = [a for a in frame.assets if a.asset_class == "Equity" and a.hedge_source == "nonfut"]
    series = [store.series(str(a.hedge["Ticker"]), str(a.hedge["Field"])) for a in equity]

    def mean_correlation(first: str, last: str) -> float:
        lo, hi = (np.datetime64(first).astype(int), np.datetime64(last).astype(int))
        days = np.arange(lo, hi + 1)
        returns = []
        for dates, values in series:
            position = np.searchsorted(dates, days)
            inside = (position < len(dates)) & (dates[np.minimum(position, len(dates) - 1)] == days)
            path = np.where(inside, values[np.minimum(position, len(dates) - 1)], np.nan)
            returns.append(np.diff(np.log(path)))
        matrix = np.array(returns)
        keep = ~np.isnan(matrix).any(axis=0)
        correlation = np.corrcoef(matrix[:, keep])
        return float(correlation[np.triu_indices(len(matrix), 1)].mean())

    assert mean_correlation("2008-09-15", "2008-12-31") > mean_correlation("2017-01-01", "2017-12-31") + 0.15


def test_implied_vol_lags_a_realized_jump(market):
    """Across the equity indices, 2020's crisis: realized vol outruns the implied vol paid before it,
    and implied vol rises after realized vol, with a lag."""
    frame, store, _ = market
    realized, implied_before, implied_early, implied_later = [], [], [], []
    for asset in frame.assets:
        if asset.asset_class != "Equity" or asset.hedge_source != "nonfut" or asset.vol_source != "BBG":
            continue
        dates, prices = store.series(str(asset.hedge["Ticker"]), str(asset.hedge["Field"]))
        vol_dates, vols = store.series(str(asset.vol["Ticker"]), str(asset.vol["Near"]))

        def window(days, values, first, last):
            lo, hi = np.searchsorted(days, [np.datetime64(first).astype(int), np.datetime64(last).astype(int)])
            return values[lo:hi]

        realized.append(np.diff(np.log(window(dates, prices, "2020-02-24", "2020-04-01"))).std() * np.sqrt(252) * 100)
        implied_before.append(window(vol_dates, vols, "2020-02-10", "2020-02-22").mean())
        implied_early.append(window(vol_dates, vols, "2020-02-24", "2020-02-28").mean())
        implied_later.append(window(vol_dates, vols, "2020-03-09", "2020-03-20").mean())
    assert len(realized) >= 10
    assert np.mean(realized) > 1.5 * np.mean(implied_before)  # a straddle bought before the crisis gains
    assert np.mean(implied_later) > 1.3 * np.mean(implied_early) > np.mean(implied_before)  # implied follows
