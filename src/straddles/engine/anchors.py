"""Anchor days of schedule rules, vectorized over months, and the expiry-overrides CSV (SPEC 6.1, 7).

An anchor is the rule day of a month: the n-th Friday/Thursday/Wednesday (F/R/W), the n-th
Monday-Friday day (BD), or the date listed for the asset and month in the overrides CSV
(OVERRIDE). The same rule gives the entry anchor (in the entry month) and the expiry anchor (in the
expiry month). A month without such a day has no anchor, encoded as :data:`NO_DAY`.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .dates import day_number, month_end, month_start, weekday
from ..errors import OverridesError

#: int32 sentinel for "no such day"; becomes an Arrow null in every output
NO_DAY = np.int32(np.iinfo(np.int32).min)


def nth_weekday(months: np.ndarray, day_of_week: int, n: int) -> np.ndarray:
    """The ``n``-th ``day_of_week`` (Monday = 0) of each month index, or NO_DAY (SPEC-E7)."""
    start = month_start(np.asarray(months))
    first = start + (day_of_week - weekday(start)) % 7
    day = first + 7 * (n - 1)
    return np.where(day <= month_end(months), day, NO_DAY).astype(np.int32)


def nth_business_day(months: np.ndarray, n: int) -> np.ndarray:
    """The ``n``-th Monday-Friday day of each month, counted from the 1st, no holidays (SPEC-E7)."""
    start = month_start(np.asarray(months))
    dow = weekday(start)
    monday_or_start = np.where(dow >= 5, start + (7 - dow), start)  # first weekday of the month
    dow = np.where(dow >= 5, 0, dow)
    k = n - 1
    steps = dow + k % 5  # weekday reached after k % 5 extra weekdays, before wrapping a weekend
    day = monday_or_start + (k // 5) * 7 + k % 5 + np.where(steps >= 5, 2, 0)
    return np.where(day <= month_end(months), day, NO_DAY).astype(np.int32)


def nth_session(months: np.ndarray, n: int, sessions: np.ndarray) -> np.ndarray:
    """The ``n``-th of the sorted business days ``sessions`` in each month, or NO_DAY: BD under a
    holiday calendar (SPEC 6.5, SPEC-E24)."""
    start, end = month_start(np.asarray(months)), month_end(np.asarray(months))
    position = np.searchsorted(sessions, start) + (n - 1)
    day = sessions[np.minimum(position, len(sessions) - 1)] if len(sessions) else np.full(len(start), NO_DAY)
    return np.where((position < len(sessions)) & (day <= end), day, NO_DAY).astype(np.int32)


@dataclass(frozen=True)
class Overrides:
    """Expiry dates per (Underlying, month) from an overrides CSV (SPEC 7).

    When a key appears more than once the last row in file order wins.
    """

    path: Path | None
    by_asset: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def days(self, underlying: str, months: np.ndarray) -> np.ndarray:
        """Override day of ``underlying`` for each month index, NO_DAY where there is no row."""
        months = np.asarray(months)
        rows = self.by_asset.get(underlying)
        if rows is None:
            return np.full(months.shape, NO_DAY, dtype=np.int32)
        keys, days = rows
        position = np.clip(np.searchsorted(keys, months), 0, len(keys) - 1)
        return np.where(keys[position] == months, days[position], NO_DAY).astype(np.int32)

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self.by_asset.values())


def load_overrides(path: str | Path) -> Overrides:
    """Read an overrides CSV with header ``ticker,expiry`` (SPEC 7); errors name file and line."""
    path = Path(path)
    latest: dict[tuple[str, int], int] = {}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OverridesError(f"{path}: cannot read overrides file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise OverridesError(f"{path}, line {line}: not UTF-8 text (byte {data[exc.start:exc.start + 1]!r})") from None
    try:
        with io.StringIO(text, newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            if header[:2] != ["ticker", "expiry"]:
                raise OverridesError(f"{path}: header must start with 'ticker,expiry', got {','.join(header)!r}")
            for line, row in enumerate(reader, start=2):
                if not row or not any(cell.strip() for cell in row):
                    continue
                if len(row) < 2 or not row[0]:
                    raise OverridesError(f"{path}, line {line}: expected 'ticker,expiry', got {','.join(row)!r}")
                try:
                    date = _dt.date.fromisoformat(row[1].strip())
                except ValueError:
                    raise OverridesError(f"{path}, line {line}: expiry {row[1]!r} is not a YYYY-MM-DD date") from None
                latest[(row[0], date.year * 12 + date.month - 1)] = day_number(date)
    except csv.Error as exc:
        raise OverridesError(f"{path}: malformed CSV: {exc}") from None
    grouped: dict[str, list[tuple[int, int]]] = {}
    for (ticker, month), day in latest.items():
        grouped.setdefault(ticker, []).append((month, day))
    by_asset = {}
    for ticker, pairs in grouped.items():
        pairs.sort()
        by_asset[ticker] = (np.array([m for m, _ in pairs], dtype=np.int64),
                            np.array([d for _, d in pairs], dtype=np.int32))
    return Overrides(path=path, by_asset=by_asset)


def default_overrides_paths(amt_path: Path, backtest_section: dict) -> list[Path]:
    """Where to look for overrides beside an AMT: ``backtest.expiry_overrides``, then ``overrides.csv``."""
    candidates = []
    named = backtest_section.get("expiry_overrides")
    if isinstance(named, str) and named:
        candidates.append(amt_path.parent / named)
    candidates.append(amt_path.parent / "overrides.csv")
    return candidates
