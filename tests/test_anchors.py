"""Anchor days (SPEC 6.1), calendar-day addition and overrides (SPEC 7): SPEC-E6, E7, E8, E11."""

import datetime as dt

import numpy as np
import pytest

from straddles.engine.anchors import NO_DAY, load_overrides, nth_business_day, nth_weekday
from straddles.engine.dates import (FRIDAY, THURSDAY, WEDNESDAY, day_label, day_number, month_end, month_index,
                             month_start, weekday)
from straddles.errors import OverridesError


def anchor(fn, *args):
    day = fn(np.array([month_index(args[-2], args[-1])]), *args[:-2])[0]
    return None if day == NO_DAY else day_label(day)


@pytest.mark.parametrize("weekday_, n, year, month, expected", [
    (FRIDAY, 3, 2024, 6, "2024-06-21"), (FRIDAY, 5, 2024, 6, None), (FRIDAY, 4, 2024, 8, "2024-08-23"),
    (FRIDAY, 5, 2024, 8, "2024-08-30"), (THURSDAY, 2, 2024, 5, "2024-05-09"), (WEDNESDAY, 1, 2024, 1, "2024-01-03"),
    (WEDNESDAY, 5, 2024, 6, None),
])
def test_nth_weekday_spec_e7(weekday_, n, year, month, expected):
    assert anchor(nth_weekday, weekday_, n, year, month) == expected


@pytest.mark.parametrize("n, year, month, expected", [
    (1, 2024, 6, "2024-06-03"), (3, 2024, 6, "2024-06-05"), (10, 2024, 6, "2024-06-14"), (1, 2024, 1, "2024-01-01"),
    (5, 2010, 1, "2010-01-07"), (5, 2009, 12, "2009-12-07"), (23, 2024, 6, None), (20, 2024, 6, "2024-06-28"),
])
def test_nth_business_day_spec_e7_e24(n, year, month, expected):
    assert anchor(nth_business_day, n, year, month) == expected


def test_business_days_match_a_naive_count():
    months = np.arange(month_index(1999, 1), month_index(2031, 1))
    for n in range(1, 24):
        got = nth_business_day(months, n)
        for m, day in zip(months, got):
            first = dt.date(int(m // 12), int(m % 12 + 1), 1)
            weekdays = [first + dt.timedelta(i) for i in range(31)
                        if (first + dt.timedelta(i)).month == first.month and (first + dt.timedelta(i)).weekday() < 5]
            expected = day_number(weekdays[n - 1]) if n <= len(weekdays) else NO_DAY
            assert day == expected


def test_weekdays_match_a_naive_count():
    months = np.arange(month_index(2000, 1), month_index(2027, 1))
    for dow in range(7):
        for n in range(1, 6):
            for m, day in zip(months, nth_weekday(months, dow, n)):
                first = dt.date(int(m // 12), int(m % 12 + 1), 1)
                days = [first + dt.timedelta(i) for i in range(31)
                        if (first + dt.timedelta(i)).month == first.month and (first + dt.timedelta(i)).weekday() == dow]
                assert day == (day_number(days[n - 1]) if n <= len(days) else NO_DAY)


@pytest.mark.parametrize("start, add, expected", [
    ("2024-01-19", 0, "2024-01-19"), ("2024-01-19", 10, "2024-01-29"), ("2024-01-25", 10, "2024-02-04"),
    ("2024-12-25", 10, "2025-01-04"),
])
def test_calendar_day_addition_spec_e8(start, add, expected):
    assert day_label(day_number(dt.date.fromisoformat(start)) + add) == expected


def test_day_counts_spec_e6():
    assert day_number(dt.date(2024, 1, 1)) == 19723
    span = lambda a, b: month_end(month_index(*b)) - month_start(month_index(*a)) + 1
    assert span((2024, 1), (2024, 3)) == 91
    assert span((2023, 12), (2024, 1)) == 62
    assert span((2024, 2), (2024, 3)) == 60
    assert span((2025, 1), (2025, 2)) == 59
    assert span((2024, 1), (2024, 12)) == 366
    assert span((2024, 2), (2024, 2)) == 29 and span((2023, 2), (2023, 2)) == 28
    assert weekday(day_number(dt.date(2024, 6, 21))) == FRIDAY


def test_real_overrides_spec_e11():
    from conftest import REAL_DATA
    path = REAL_DATA / "overrides.csv"
    if not path.is_file():
        pytest.skip("real overrides.csv not available")
    overrides = load_overrides(path)
    days = lambda asset, *months: [day_label(d) if d != NO_DAY else None
                                   for d in overrides.days(asset, np.array([month_index(y, m) for y, m in months]))]
    assert days("CL Comdty", (2024, 4), (2024, 5), (2024, 6)) == ["2024-04-17", "2024-05-16", "2024-06-14"]
    assert days("LX Comdty", (2025, 1)) == ["2025-01-02"]  # last row wins
    assert days("CL Comdty", (2005, 5)) == [None]
    assert days("LA Comdty TKRZ", (2024, 6)) == [None]  # exact Underlying only
    assert len(overrides) == 6049  # 6,051 rows; KC 2025-10 and LX 2025-01 appear twice


def test_override_lookup_spec_e7(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("ticker,expiry\nTEST Asset,2024-03-21\n")
    overrides = load_overrides(path)
    got = overrides.days("TEST Asset", np.array([month_index(2024, 3), month_index(2024, 4)]))
    assert day_label(got[0]) == "2024-03-21" and got[1] == NO_DAY
    assert overrides.days("OTHER", np.array([month_index(2024, 3)]))[0] == NO_DAY


@pytest.mark.parametrize("text, message", [
    ("asset,date\nA,2024-01-01\n", "header must start with 'ticker,expiry'"),
    ("ticker,expiry\nA,2024-13-01\n", "line 2: expiry '2024-13-01' is not a YYYY-MM-DD date"),
    ("ticker,expiry\nA,2024-01-01\nB\n", "line 3: expected 'ticker,expiry'"),
])
def test_bad_overrides_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(OverridesError, match=message) as info:
        load_overrides(path)
    assert str(path) in str(info.value)


def test_missing_overrides_file(tmp_path):
    with pytest.raises(OverridesError, match="cannot read"):
        load_overrides(tmp_path / "nope.csv")
