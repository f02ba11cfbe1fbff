"""Calendar arithmetic on Arrow ``date32`` day numbers and month indices, vectorized with NumPy.

Two integer encodings are used everywhere (SPEC section 1.2):

* a **day** is an ``int32`` count of days since 1970-01-01 (2024-01-01 is 19723);
* a **month** is the index ``12*year + (month-1)`` so that month arithmetic is integer arithmetic
  and years wrap by themselves.

Weekdays are numbered Monday = 0 ... Sunday = 6, as in :mod:`datetime`.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

EPOCH = _dt.date(1970, 1, 1)
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
#: Monday-Friday days in an average year (365.25 * 5 / 7), the weekday series' natural frequency
WEEKDAYS_PER_YEAR = 261
_EPOCH_MONTH = 1970 * 12


def month_index(year, month):
    """``12*year + (month-1)``; works on ints and NumPy arrays alike."""
    return year * 12 + month - 1


def month_year(m):
    """Calendar year of month index ``m``."""
    return m // 12


def month_number(m):
    """Calendar month (1..12) of month index ``m``."""
    return m % 12 + 1


def month_label(m: int) -> str:
    """``YYYY-MM`` for a month index."""
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def parse_month(text: str) -> int:
    """Month index of a ``YYYY-MM`` string; raises ValueError for anything else."""
    if len(text) != 7 or text[4] != "-" or not (text[:4].isdigit() and text[5:].isdigit()):
        raise ValueError(f"not a YYYY-MM month: {text!r}")
    month = int(text[5:])
    if not 1 <= month <= 12:
        raise ValueError(f"not a YYYY-MM month: {text!r}")
    return int(text[:4]) * 12 + month - 1


def month_start(m):
    """Day number of the 1st of month index ``m`` (scalar or array)."""
    arr = (np.asarray(m, dtype=np.int64) - _EPOCH_MONTH).astype("datetime64[M]").astype("datetime64[D]")
    days = arr.astype(np.int64).astype(np.int32)
    return int(days) if np.ndim(days) == 0 else days


def month_end(m):
    """Day number of the last day of month index ``m`` (scalar or array)."""
    end = np.asarray(month_start(np.asarray(m) + 1)) - 1
    return int(end) if np.ndim(end) == 0 else end.astype(np.int32)


def weekday(day):
    """Weekday (Monday = 0) of a day number; 1970-01-01 was a Thursday."""
    return (np.asarray(day) + THURSDAY) % 7 if np.ndim(day) else (int(day) + THURSDAY) % 7


def day_number(date: _dt.date) -> int:
    """Day number of a :class:`datetime.date`."""
    return (date - EPOCH).days


def day_to_date(day: int) -> _dt.date:
    """:class:`datetime.date` of a day number."""
    return EPOCH + _dt.timedelta(days=int(day))


def day_label(day: int) -> str:
    """ISO ``YYYY-MM-DD`` of a day number."""
    return day_to_date(day).isoformat()


def weekday_index(days: np.ndarray) -> np.ndarray:
    """Index of the weekday that carries each calendar day (int day numbers since 1970-01-01):
    Saturday and Sunday go to the following Monday. Consecutive weekdays have consecutive indexes."""
    shifted = np.asarray(days, dtype=np.int64) + THURSDAY
    weekday = shifted % 7
    week = shifted // 7 + (weekday >= 5)
    return week * 5 + np.where(weekday >= 5, 0, weekday)


def weekday_dates(index: np.ndarray) -> np.ndarray:
    """Day numbers (since 1970-01-01) of weekday indexes from :func:`weekday_index`."""
    index = np.asarray(index, dtype=np.int64)
    return index // 5 * 7 + index % 5 - THURSDAY
