"""Optional exchange holiday calendars for BD anchors (SPEC 6.5, SPEC-E24)."""

from __future__ import annotations

import datetime as dt

import exchange_calendars as xc
import numpy as np
import pytest

from conftest import write_amt
from straddles.engine.anchors import nth_business_day, nth_session
from straddles.engine.calendars import Calendars, calendars_option, load_calendars
from straddles.engine.dates import day_number, day_to_date, month_index
from straddles.engine.straddle_table import build_straddles, expand
from straddles.errors import StraddlesError

AMT = """
expiry_schedules:
  bd: [N0_BD5_50, N0_F3_50]
amt:
  AUD:
    Underlying: AUDCHF Curncy
    Class: Currency
    Vol: {Source: BBG, Ticker: AUDCHFV1M CMPN Curncy, Near: PX_LAST, Far: PX_LAST}
    Hedge: {Source: nonfut, Ticker: AUDCHF Curncy, Field: PX_LAST}
    Options: bd
    WeightCap: 1
    Valuation: {Model: ES}
  SPX:
    Underlying: SPX Index
    Class: Equity
    Vol: {Source: BBG, Ticker: SPX Index, Near: V1, Far: V2}
    Hedge: {Source: nonfut, Ticker: SPX Index, Field: PX_LAST}
    Options: bd
    WeightCap: 1
    Valuation: {Model: ES}
"""


def anchors(table, asset, expiry_month, rule="|BD|5|"):
    row = next(r for r in table.to_pylist()
               if r["asset"] == asset and r["expiry_month"] == expiry_month and rule in r["straddle"])
    return row["entry_anchor"], row["expiry_anchor"]


def test_spec_e24_bd5_with_and_without_nyse(tmp_path):
    path = write_amt(tmp_path, AMT)
    plain = expand(path, 2010, 2010)
    nyse = expand(path, 2010, 2010, calendars=Calendars(((r"Curncy$", "XNYS"),)))
    # the 2010-01 expiry: entry month 2009-12 (BD5 = 12-07 under both), expiry month 2010-01
    assert anchors(plain, "AUDCHF Curncy", "2010-01") == (dt.date(2009, 12, 7), dt.date(2010, 1, 7))
    assert anchors(nyse, "AUDCHF Curncy", "2010-01") == (dt.date(2009, 12, 7), dt.date(2010, 1, 8))
    # the calendar applies only to the assets its regex finds, and never to F/R/W
    assert anchors(nyse, "SPX Index", "2010-01") == anchors(plain, "SPX Index", "2010-01")
    assert anchors(nyse, "AUDCHF Curncy", "2010-01", "|F|3|") == anchors(plain, "AUDCHF Curncy", "2010-01", "|F|3|")


def test_no_calendar_is_byte_identical(tmp_path):
    """SPEC-E24: with no calendar configured (None, or a mapping no asset matches) nothing changes."""
    path = write_amt(tmp_path, AMT)
    plain = expand(path, 2009, 2011)
    assert expand(path, 2009, 2011, calendars=None).equals(plain)
    assert expand(path, 2009, 2011, calendars=Calendars(((r"^NOTHING", "XNYS"),))).equals(plain)


def test_nth_session_matches_a_literal_count():
    """BDn under a calendar = the n-th Monday-Friday day that is not a holiday, counted literally
    with the calendar's own is_session, for every month of 2000-2026 and n = 1..23."""
    calendars = Calendars(((".", "XLON"),))
    months = np.arange(month_index(2000, 1), month_index(2026, 12) + 1)
    sessions = calendars.business_days("XLON", day_number(dt.date(2000, 1, 1)), day_number(dt.date(2026, 12, 31)))
    calendar = xc.get_calendar("XLON", start="2000-01-01", end="2026-12-31")
    open_days = {d.date() for d in calendar.sessions}
    for n in (1, 2, 5, 9, 13, 17, 21, 23):
        got = nth_session(months, n, sessions)
        for m, day in zip(months, got):
            first = dt.date(int(m // 12), int(m % 12) + 1, 1)
            days = [first + dt.timedelta(k) for k in range(31) if (first + dt.timedelta(k)).month == first.month]
            business = [x for x in days if x.weekday() < 5 and x in open_days]
            expected = business[n - 1] if n <= len(business) else None
            assert (None if day == np.iinfo(np.int32).min else day_to_date(int(day))) == expected, (m, n)


def test_without_holidays_nth_session_is_nth_business_day():
    months = np.arange(month_index(2020, 1), month_index(2024, 12) + 1)
    weekdays = np.array([d for d in range(day_number(dt.date(2020, 1, 1)), day_number(dt.date(2025, 1, 1)))
                         if day_to_date(d).weekday() < 5], dtype=np.int32)
    for n in (1, 5, 22, 23):
        assert np.array_equal(nth_session(months, n, weekdays), nth_business_day(months, n))


def test_calendar_files_and_errors(tmp_path):
    (tmp_path / "cal.yml").write_text("'Curncy$': XNYS\n'^CL ': CMES\n")
    calendars = load_calendars(tmp_path / "cal.yml")
    assert calendars.name_for("AUDCHF Curncy") == "XNYS" and calendars.name_for("CL Comdty") == "CMES"
    assert calendars.name_for("SPX Index") is None
    assert calendars_option({"Curncy$": "XNYS"}).rules == (("Curncy$", "XNYS"),)
    path = write_amt(tmp_path, AMT)
    with pytest.raises(StraddlesError, match="unknown exchange calendar 'NOPE'"):
        build_straddles(path, 2010, 2010, calendars=Calendars(((".", "NOPE"),), "cal.yml"))
    (tmp_path / "bad.yml").write_text("- XNYS\n")
    with pytest.raises(StraddlesError, match="bad.yml"):
        load_calendars(tmp_path / "bad.yml")
    (tmp_path / "bad2.yml").write_text("'(': XNYS\n")
    with pytest.raises(StraddlesError, match="not a valid regex"):
        load_calendars(tmp_path / "bad2.yml")
