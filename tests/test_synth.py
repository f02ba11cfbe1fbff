"""Synthetic prices (straddles.synth): determinism, coverage, units, calendars and gaps."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from straddles.engine.anchors import Overrides
from straddles.engine.dates import day_number, month_end, month_start, weekday
from straddles.engine.straddle_table import build_straddles
from straddles.engine.legs import HEDGE, LEG_NAMES, STANDARD_MONTH_CODES, VOL
from straddles.synth import SCHEMA, synthesize

YEARS = (2023, 2024)
FUTURES = re.compile(r"^.+([FGHJKMNQUVXZ])(\d{4}) (Comdty|Index)$")
BBG_VOL_FIELDS = {"1ST_MTH_IMPVOL_100.0%MNY_DF", "2ND_MTH_IMPVOL_100.0%MNY_DF", "30DAY_IMPVOL_100.0%MNY_DF",
                  "60DAY_IMPVOL_100.0%MNY_DF"}


def by_series(table: pa.Table) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """(ticker, field) -> (day numbers, values), in table order."""
    tickers, fields = table["ticker"].to_pylist(), table["field"].to_pylist()
    days = table["date"].cast(pa.int32()).to_numpy()
    values = table["value"].to_numpy()
    change = np.flatnonzero([i == 0 or tickers[i] != tickers[i - 1] or fields[i] != fields[i - 1]
                             for i in range(len(tickers))])
    bounds = list(change) + [len(tickers)]
    return {(tickers[a], fields[a]): (days[a:b], values[a:b]) for a, b in zip(bounds[:-1], bounds[1:])}


def day(text: str) -> int:
    return day_number(dt.date.fromisoformat(text))


@pytest.fixture(scope="module")
def table(example_amt):
    return synthesize(example_amt, *YEARS)


@pytest.fixture(scope="module")
def series(table):
    return by_series(table)


@pytest.fixture(scope="module")
def frame(example_amt):
    return build_straddles(example_amt, *YEARS, overrides=Overrides(path=None))


def legs_of(frame, slot: int) -> set[tuple[str, str]]:
    ids = frame.legs[slot]
    return {frame.catalog.pair(int(i)) for i in np.unique(ids[ids >= 0])}


def plain(table: pa.Table) -> pa.Table:
    """The table with plain string columns: Arrow sorts and joins those, not dictionaries, and
    tables whose dictionaries differ compare equal once decoded."""
    return table.cast(pa.schema([("ticker", pa.string()), ("field", pa.string()), ("date", pa.date32()),
                                 ("value", pa.float64())]))


def test_schema_sort_order_and_unique_rows(table, series):
    assert table.schema == SCHEMA
    keys = [("ticker", "ascending"), ("field", "ascending"), ("date", "ascending")]
    assert plain(table).sort_by(keys).equals(plain(table))
    assert len(series) == len(set(series))  # each series is one contiguous block
    for days, values in series.values():
        assert np.all(np.diff(days) > 0)
        assert np.all(np.isfinite(values))


def test_no_weekend_rows(table):
    days = table["date"].cast(pa.int32()).to_numpy()
    assert np.all(weekday(days) < 5)


def test_deterministic_for_a_seed(example_amt_path, table):
    assert synthesize(example_amt_path, *YEARS).equals(table)  # a path works as well as an Amt
    other = by_series(synthesize(example_amt_path, *YEARS, seed=1))
    days, values = by_series(table)[("SPY US Equity", "PX_LAST")]
    other_days, other_values = other[("SPY US Equity", "PX_LAST")]
    common, i, j = np.intersect1d(days, other_days, return_indices=True)
    assert len(common) > 400 and not np.allclose(values[i], other_values[j])


def test_asset_series_do_not_depend_on_other_assets(example_amt, table):
    alone = synthesize(example_amt, *YEARS, pattern="^CL Comdty$")
    pairs = set(zip(alone["ticker"].to_pylist(), alone["field"].to_pylist()))
    assert ("CL1 Comdty", "1ST_MTH_IMPVOL_100.0%MNY_DF") in pairs and ("CLF2024 Comdty", "PX_LAST") in pairs
    table = plain(table)
    key = pc.binary_join_element_wise(table["ticker"], table["field"], "|")
    subset = table.filter(pc.is_in(key, value_set=pa.array([f"{t}|{f}" for t, f in pairs])))
    assert subset.equals(plain(alone))


def test_values_do_not_depend_on_the_year_range(example_amt, series):
    """A later start only trims the table: common rows are identical."""
    for pair, (days, values) in by_series(synthesize(example_amt, 2024, 2024)).items():
        full_days, full_values = series[pair]
        position = np.searchsorted(full_days, days)
        assert np.array_equal(full_days[position], days) and np.array_equal(full_values[position], values)


def test_every_leg_has_data_on_most_business_days_of_its_span(frame, series):
    spans = zip(frame.span_start.tolist(), frame.span_end.tolist())
    checked = 0
    for row, (first, last) in enumerate(spans):
        ids = frame.legs[:, row]
        if ids[VOL] < 0:
            continue
        weekdays = np.arange(first, last + 1)
        weekdays = weekdays[weekday(weekdays) < 5]
        good = np.ones(len(weekdays), dtype=bool)
        for series_id in ids[ids >= 0].tolist():
            days, _ = series[frame.catalog.pair(series_id)]
            present = np.isin(weekdays, days)
            assert present.mean() >= 0.7, (frame.catalog.pair(series_id), row)
            good &= present
        assert good.mean() >= 0.5, row
        checked += 1
    assert checked > 1000


def test_futures_contracts_are_listed_only_around_their_contract_month(series):
    contracts = 0
    for (ticker, _), (days, _) in series.items():
        match = FUTURES.match(ticker)
        if match is None:
            continue
        contracts += 1
        month = int(match.group(2)) * 12 + STANDARD_MONTH_CODES.index(match.group(1))
        assert days[-1] <= month_end(month), ticker
        assert days[0] >= month_start(month - 16), ticker
    assert contracts > 50


def test_units_and_ranges(frame, series):
    vol_legs = legs_of(frame, VOL)
    for (ticker, field), (_, values) in series.items():
        nonzero = values[values != 0.0]
        if ticker.startswith("RATES."):
            assert 10 <= nonzero.min() and nonzero.max() <= 400, ticker  # normal vol, bp per annum
        elif ticker.startswith("CREDIT."):
            assert 1 <= nonzero.min() and nonzero.max() <= 200, ticker  # credit vol, percent
        elif (ticker, field) in vol_legs:
            assert field in BBG_VOL_FIELDS or ticker.endswith("V1M CMPN Curncy") or FUTURES.match(ticker)
            assert 2 <= nonzero.min() and nonzero.max() <= 200, (ticker, field)  # percent
        elif "_fsw" in ticker:
            assert -2 <= values.min() and values.max() <= 15, ticker  # percent
        elif "_pva" in ticker:
            assert values.min() > 0, ticker
        if (ticker, field) not in vol_legs:
            assert np.all(values != 0.0), ticker  # bad zero values only ever hit vols
    for ticker, low, high in (("USD_pva0m_10", 7.5, 10), ("USD_pva6m_10", 7.3, 10),
                              ("EUR_pva0m_2_2", 1.6, 2.1), ("EUR_pva6m_2_2", 1.55, 2.1)):
        values = series[(ticker, "")][1]
        assert low <= values.min() and values.max() <= high, ticker
    for pair in legs_of(frame, HEDGE):
        assert series[pair][1].min() > 0, pair  # ES needs S > 0
    spread = series[("USD_fsw6m_10", "")][1].mean() - series[("USD_fsw0m_10", "")][1].mean()
    assert abs(spread) < 0.3  # the 6m-forward swap is a slightly different forward


def test_implied_vol_sits_above_realized_vol_on_average(series):
    _, prices = series[("AAPL US Equity", "PX_LAST")]
    _, vols = series[("AAPL US Equity", "30DAY_IMPVOL_100.0%MNY_DF")]
    realized = np.diff(np.log(prices)).std() * np.sqrt(252)
    assert 0.9 < np.mean(vols[vols > 0]) / 100 / realized < 1.6


def test_holidays_by_region(series):
    spy = series[("SPY US Equity", "PX_LAST")][0]
    for holiday in ("2023-07-04", "2023-11-23", "2023-12-25", "2024-03-29", "2024-01-15"):
        assert day(holiday) not in spy, holiday
    nky = series[("NKY Index", "PX_LAST")][0]
    for holiday in ("2024-01-02", "2024-01-03", "2024-05-03"):
        assert day(holiday) not in nky, holiday
    eurusd = series[("EURUSD Curncy", "PX_LAST")][0]
    assert day("2024-01-01") not in eurusd and day("2023-12-25") not in eurusd
    us_only = [day(d) for d in ("2023-01-16", "2023-02-20", "2023-04-07", "2023-05-29", "2023-06-19", "2023-07-04",
                                "2023-09-04", "2023-11-23", "2024-01-15", "2024-02-19", "2024-03-29", "2024-05-27",
                                "2024-06-19", "2024-07-04", "2024-09-02", "2024-11-28")]
    assert np.isin(us_only, eurusd).mean() >= 0.75  # FX trades through local holidays


def test_random_gaps_and_legs_missing_alone(series):
    missing, total, multi_day = 0, 0, 0
    for (ticker, _), (days, _) in series.items():
        if not ticker.endswith("Curncy") or "_" in ticker:
            continue  # FX calendar: only Jan 1 and Dec 25 are holidays
        weekdays = np.arange(days[0], days[-1] + 1)
        weekdays = weekdays[weekday(weekdays) < 5]
        dates = [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in weekdays]
        business = weekdays[[(d.month, d.day) not in ((1, 1), (12, 25)) for d in dates]]
        absent = ~np.isin(business, days)
        missing += absent.sum()
        total += len(business)
        multi_day += np.sum(absent[1:] & absent[:-1])
    assert 0.003 < missing / total < 0.05
    assert multi_day > 0
    vol_days = series[("EURUSDV1M CMPN Curncy", "PX_LAST")][0]
    hedge_days = series[("EURUSD Curncy", "PX_LAST")][0]
    assert len(np.setdiff1d(vol_days, hedge_days)) > 0 and len(np.setdiff1d(hedge_days, vol_days)) > 0


def test_progress_reports_assets(example_amt):
    calls = []
    synthesize(example_amt, 2024, 2024, progress=lambda done, total: calls.append((done, total)))
    n_assets = len(example_amt.select())
    assert calls[-1] == (n_assets, n_assets)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_empty_selection_gives_an_empty_table(example_amt):
    empty = synthesize(example_amt, 2024, 2024, pattern="^no such asset$")
    assert empty.num_rows == 0 and empty.schema == SCHEMA


def test_real_amt_one_year_covers_every_leg(real_amt):
    table = plain(synthesize(real_amt, 2024, 2024))
    frame = build_straddles(real_amt, 2024, 2024, overrides=Overrides(path=None))
    needed = {pair for slot in range(len(LEG_NAMES)) for pair in legs_of(frame, slot)}
    key = pc.binary_join_element_wise(table["ticker"], table["field"], "|")
    assert set(pc.unique(key).to_pylist()) == {f"{t}|{f}" for t, f in needed}
    assert pc.count_distinct(pc.binary_join_element_wise(key, table["date"].cast(pa.string()), "|")).as_py() \
        == table.num_rows
    sofr = table.filter(pc.equal(table["ticker"], "sUSD_fsw0m_10"))["value"].to_numpy()
    libor = table.filter(pc.equal(table["ticker"], "USD_fsw0m_10"))["value"].to_numpy()
    assert 0 < libor.mean() - sofr.mean() < 0.4  # same curve minus a small basis
