"""The explorer's numbers: a results folder loaded once, and each view's data for a set of filters.

Pure Arrow/NumPy, no web framework, so every view is unit-testable and timeable without a browser.

**Filters** select assets (``Underlying`` regex searched as ``--pattern`` does, class, group,
schedule) and a date range. A filtered view is the backtest restricted to the selected assets'
rows of ``asset_pnl`` (and, with a date range, to the rows dated inside it); its P&L numbers come
from :func:`straddles.portfolio` and :func:`straddles.stats` on that restricted backtest, which is
exactly ``straddles.stats(folder, "class", weights={asset: 0 for every unselected asset})`` (the
same rows summed in the same order). Straddle counts (the summary strip, the status breakdown, the
drill-down list) take the selected assets' straddles whose expiry month lies in the date range.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..engine.dates import day_number, day_to_date, month_index, weekday_dates, weekday_index
from ..engine.legs import LEG_NAMES
from ..engine.pipeline import DAYS_FILE, Backtest, load_backtest
from ..engine.status import STATUS_MEANINGS, STATUS_NAMES
from ..errors import StraddlesError
from ..results.aggregation import portfolio
from ..results.explain import rules_of_row
from ..engine.totals import PNL_COLUMNS
from ..results.performance import SERIES, TOTAL, VALUED_STATUS, Stats, _contribution, daily_series, stats
from .days import DayTable

#: columns of asset_pnl / the day table beyond the engine's base ones: attribution and costs
#: (SPEC 17-18), shown when a folder has them
EXTRA_PNL_COLUMNS = ("gamma_pnl", "theta_pnl", "vega_pnl", "resid_pnl", "cost_option", "cost_hedge", "pnl_net")
#: filtered views kept in memory (a view of the full universe is a few MB)
N_CACHED_VIEWS = 32


@dataclass(frozen=True)
class Filters:
    """What the user selected. Empty tuples and None mean "no restriction"."""

    pattern: str = ""
    classes: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    schedules: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    entries: tuple[int, ...] = ()

    @classmethod
    def of(cls, pattern=None, classes=None, groups=None, schedules=None, start=None, end=None,
           entries=None) -> "Filters":
        """Filters from raw widget values (None, lists, ISO date strings)."""
        def day(value):
            return None if not value else dt.date.fromisoformat(str(value)[:10])
        return cls(pattern or "", tuple(sorted(classes or ())), tuple(sorted(groups or ())),
                   tuple(sorted(schedules or ())), day(start), day(end), tuple(sorted(int(e) for e in entries or ())))


class Results:
    """A results folder (``straddles backtest --out``), read once; :meth:`view` computes the
    numbers of a filtered view (cached per filter set)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        backtest = load_backtest(self.folder, days=False)  # a clear StraddlesError if not a results folder
        assets = backtest.assets
        self.asset_names: list[str] = assets["asset"].to_pylist()
        self.asset_class = np.array(assets["class"].to_pylist(), dtype=object)
        self.asset_group = np.array(assets["group"].to_pylist(), dtype=object)
        self.asset_schedule = np.array(assets["schedule"].to_pylist(), dtype=object)
        position = {name: i for i, name in enumerate(self.asset_names)}

        pnl_asset = _positions(backtest.asset_pnl["asset"], position)
        pnl_days = backtest.asset_pnl["date"].cast(pa.int32()).to_numpy()
        key = pnl_asset * (1 << 32) + pnl_days
        if len(key) and np.any(np.diff(key) <= 0):  # the engine writes (asset, date) order; others may not
            order = np.lexsort((pnl_days, pnl_asset))
            backtest.asset_pnl, pnl_asset = backtest.asset_pnl.take(order), pnl_asset[order]
        self._pnl_asset = pnl_asset
        self._pnl_bounds = np.searchsorted(pnl_asset, np.arange(len(self.asset_names) + 1))
        self._pnl_days = backtest.asset_pnl["date"].cast(pa.int32()).to_numpy()
        self.extra_columns = tuple(c for c in EXTRA_PNL_COLUMNS if c in backtest.asset_pnl.column_names)

        straddles = backtest.straddles
        self._straddle_asset = _positions(straddles["asset"], position)
        months = straddles["expiry_month"].cast(pa.string()).fill_null("0000-01")
        self._straddle_month = (pc.utf8_slice_codeunits(months, 0, 4).cast(pa.int32()).to_numpy() * 12
                                + pc.utf8_slice_codeunits(months, 5, 7).cast(pa.int32()).to_numpy() - 1)
        self._straddle_entry = straddles["schid"].to_numpy().astype(np.int64)
        status = straddles["status"].cast(pa.string()).fill_null("")
        self._straddle_status = np.array(pc.index_in(status, pa.array(STATUS_NAMES)).fill_null(-1).to_numpy())
        self.backtest = backtest
        self.days = (DayTable(self.folder / DAYS_FILE, straddles["straddle_id"].to_numpy(),
                              straddles["n_days"].to_numpy())
                     if (self.folder / DAYS_FILE).is_file() else None)
        self._views: OrderedDict[Filters, View] = OrderedDict()
        self._lock = threading.Lock()

    def prepare_in_background(self) -> threading.Thread | None:
        """Get the day table ready in a background thread (its memory-mapped copy, then the sums
        per schedule entry), so that drill-downs and entry filters answer at once; None without one."""
        if self.days is None:
            return None
        thread = threading.Thread(target=lambda: self._entry_pnl, name="day-table", daemon=True)
        thread.start()
        return thread

    # --- choices for the filter widgets --------------------------------------------------------

    def choices(self, name: str) -> list[str]:
        """Distinct values of ``class``, ``group`` or ``schedule`` among the assets, sorted."""
        column = {"class": self.asset_class, "group": self.asset_group, "schedule": self.asset_schedule}[name]
        return sorted(set(column.tolist()))

    def entries(self) -> list[int]:
        """The schedule entry numbers (``schid``) the straddles have, ascending."""
        return sorted(set(self._straddle_entry.tolist()))

    def date_span(self) -> tuple[dt.date, dt.date] | None:
        """First and last date with asset P&L (None without any)."""
        if not len(self._pnl_days):
            return None
        low, high = int(self._pnl_days.min()), int(self._pnl_days.max())
        return day_to_date(low), day_to_date(high)

    @cached_property
    def asset_series(self) -> "AssetSeries":
        """Every asset's weekday P&L series (of :func:`~straddles.results.performance.daily_series`),
        computed once: a filtered per-asset table takes columns and rows of it."""
        names, dates, series = daily_series(self.backtest.asset_pnl, "asset")
        names = names[:-1]  # the last column is the total of all assets
        column = {name: i for i, name in enumerate(names)}
        column_of = np.array([column.get(name, -1) for name in self.asset_names], dtype=np.int64)
        first = int(weekday_index(dates[:1].astype(np.int64))[0]) if len(dates) else 0
        present = np.zeros((len(dates), len(names)), dtype=bool)
        present[weekday_index(self._pnl_days) - first, column_of[self._pnl_asset]] = True
        return AssetSeries(names, first, {key: values[:, :-1] for key, values in series.items()}, present, column_of)

    # --- filtering -----------------------------------------------------------------------------

    def match(self, pattern: str) -> np.ndarray:
        """Positions of the assets whose name the regex ``pattern`` finds (all for an empty one)."""
        if not pattern:
            return np.arange(len(self.asset_names))
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise StraddlesError(f"asset filter: invalid regex {pattern!r} ({exc})") from None
        return np.array([i for i, name in enumerate(self.asset_names) if regex.search(name)], dtype=np.int64)

    def selected(self, filters: Filters) -> np.ndarray:
        """Positions (in the assets table's order) of the assets the filters select."""
        keep = np.zeros(len(self.asset_names), dtype=bool)
        keep[self.match(filters.pattern)] = True
        for values, column in ((filters.classes, self.asset_class), (filters.groups, self.asset_group),
                               (filters.schedules, self.asset_schedule)):
            if values:
                keep &= np.isin(column, list(values))
        return np.flatnonzero(keep)

    def weights(self, filters: Filters) -> dict[str, float]:
        """The filters' asset selection as :func:`straddles.portfolio` weights (0 drops an asset)."""
        chosen = set(self.selected(filters).tolist())
        return {name: 0.0 for i, name in enumerate(self.asset_names) if i not in chosen}

    def subset(self, filters: Filters, straddles: bool = True) -> Backtest:
        """The backtest restricted to the selected assets and the date range (P&L rows sliced, not
        copied). ``straddles=False`` leaves the straddle table empty: the P&L views do not read it
        and filtering its 231 k rows would cost more than the rest of a view."""
        chosen = self.selected(filters)
        table = self.backtest.straddles
        low, high = calendar_bounds(filters)
        return Backtest(straddles=table.filter(self.straddle_mask(filters, chosen)) if straddles else table.slice(0, 0),
                        days=None, assets=self.backtest.assets.take(chosen),
                        asset_pnl=(self._entry_rows(chosen, filters.entries, low, high) if filters.entries
                                   else self._pnl_rows(chosen, low, high)))

    def _pnl_rows(self, chosen: np.ndarray, low: int | None, high: int | None) -> pa.Table:
        """The asset_pnl rows of the assets ``chosen`` (positions, ascending) dated ``low..high``,
        in the table's order (zero-copy slices)."""
        pieces = []
        for asset in chosen:
            start, stop = int(self._pnl_bounds[asset]), int(self._pnl_bounds[asset + 1])
            first, last = _date_slice(self._pnl_days[start:stop], low, high)
            if last > first:
                pieces.append(self.backtest.asset_pnl.slice(start + first, last - first))
        return pa.concat_tables(pieces) if pieces else self.backtest.asset_pnl.slice(0, 0)

    @cached_property
    def _entry_pnl(self) -> dict[str, np.ndarray]:
        """The day table summed per (asset, schedule entry, day) as SPEC 13.3 sums per (asset, day):
        ``pnl x weight`` (and opnl, hpnl) over the straddles with a pnl that day, and their count.
        Computed once, on the first filter by schedule entry (seconds on the full universe)."""
        if self.days is None:
            raise StraddlesError(f"{self.folder}: filtering by schedule entry needs the day table (days.parquet)")
        days = self.days.table()
        order = np.argsort(self.backtest.straddles["straddle_id"].to_numpy(), kind="stable")
        row = order[np.searchsorted(self.backtest.straddles["straddle_id"].to_numpy()[order],
                                    days["straddle_id"].to_numpy())]
        pnl = days["pnl"].cast(pa.float64()).to_numpy(zero_copy_only=False)
        valued = ~np.isnan(pnl)
        row, date = row[valued], days["date"].cast(pa.int32()).to_numpy()[valued]
        weight = self.backtest.straddles["weight"].to_numpy()[row]
        n_entries = int(self._straddle_entry.max()) + 1
        cell = (self._straddle_asset[row] * n_entries + self._straddle_entry[row]).astype(np.int64)
        first = int(date.min()) if len(date) else 0
        n_days = int(date.max()) - first + 1 if len(date) else 1
        keys, inverse = np.unique(cell * n_days + (date - first), return_inverse=True)
        sums = {name: np.bincount(inverse, weights=days[name].cast(pa.float64()).to_numpy(zero_copy_only=False)
                                  [valued] * weight, minlength=len(keys)) for name in PNL_COLUMNS}
        return {"asset": keys // n_days // n_entries, "entry": keys // n_days % n_entries,
                "date": (keys % n_days + first).astype(np.int32), "count": np.bincount(inverse), **sums}

    def _entry_rows(self, chosen: np.ndarray, entries: tuple[int, ...], low: int | None, high: int | None) -> pa.Table:
        """An asset_pnl table (SPEC 13.3 columns) of the assets ``chosen`` counting only the
        straddles of schedule entries ``entries``, dated ``low..high``."""
        cells = self._entry_pnl
        asset_chosen = np.zeros(len(self.asset_names), dtype=bool)
        asset_chosen[chosen] = True
        entry_chosen = np.zeros(int(self._straddle_entry.max()) + 1, dtype=bool)
        entry_chosen[[e for e in entries if 0 <= e < len(entry_chosen)]] = True
        keep = asset_chosen[cells["asset"]] & entry_chosen[cells["entry"]]
        if low is not None:
            keep &= cells["date"] >= low
        if high is not None:
            keep &= cells["date"] <= high
        date = cells["date"][keep]
        first = int(date.min()) if len(date) else 0
        n_days = int(date.max()) - first + 1 if len(date) else 1
        cell = cells["asset"][keep] * n_days + (date - first)
        size = len(self.asset_names) * n_days
        count = np.bincount(cell, weights=cells["count"][keep], minlength=size)
        present = np.flatnonzero(count)  # (asset, day) order, as the engine writes asset_pnl
        names = pa.array(self.asset_names, pa.string())
        return pa.table({
            "asset": pa.DictionaryArray.from_arrays(pa.array((present // n_days).astype(np.int32)), names),
            "date": pa.array((present % n_days + first).astype(np.int32)).cast(pa.date32()),
            **{name: pa.array(np.bincount(cell, weights=cells[name][keep], minlength=size)[present])
               for name in PNL_COLUMNS},
            "n_straddles": pa.array(count[present].astype(np.int64)),
        })

    @cached_property
    def _class_pnl(self) -> tuple[pa.Table, dict[str, tuple[int, int]], np.ndarray]:
        """``portfolio(backtest, "class")`` of every asset (the class column as plain strings), each
        class's row range in it, and its dates as day numbers."""
        table = portfolio(self.backtest, "class")
        table = table.set_column(0, "class", table["class"].cast(pa.string()))
        names = table["class"].to_numpy(zero_copy_only=False)
        ranges = {}
        for name in dict.fromkeys(names.tolist()):
            rows = np.flatnonzero(names == name)
            ranges[name] = (int(rows[0]), int(rows[-1]) + 1)
        return table, ranges, table["date"].cast(pa.int32()).to_numpy()

    def class_portfolio(self, filters: Filters) -> pa.Table:
        """``straddles.portfolio(subset, "class")`` of the filters' subset, the same rows and values
        bit for bit (its ``class`` column plain strings), built from the cached portfolio of every
        asset: a (class, day) cell sums its assets' rows in table order whatever else is selected,
        so a class whose assets are all selected keeps its cached rows, and only partly selected
        classes are aggregated again."""
        chosen = self.selected(filters)
        low, high = calendar_bounds(filters)
        table, ranges, days = self._class_pnl
        pieces = []
        for name in sorted(set(self.asset_class[chosen].tolist())):
            picked = chosen[self.asset_class[chosen] == name]
            if len(picked) == int(np.sum(self.asset_class == name)):
                if name in ranges:
                    start, stop = ranges[name]
                    first, last = _date_slice(days[start:stop], low, high)
                    pieces.append(table.slice(start + first, last - first))
                continue
            part = portfolio(Backtest(straddles=self.backtest.straddles.slice(0, 0), days=None,
                                      asset_pnl=self._pnl_rows(picked, low, high),
                                      assets=self.backtest.assets.take(picked)), "class")
            pieces.append(part.set_column(0, "class", part["class"].cast(pa.string())))
        return pa.concat_tables(pieces) if pieces else table.slice(0, 0)

    def straddle_mask(self, filters: Filters, chosen: np.ndarray | None = None) -> np.ndarray:
        """Which straddles the filters keep: those of the selected assets expiring in the date range."""
        chosen = self.selected(filters) if chosen is None else chosen
        mask = np.isin(self._straddle_asset, chosen)
        if filters.entries:
            mask &= np.isin(self._straddle_entry, filters.entries)
        if filters.start:
            mask &= self._straddle_month >= month_index(filters.start.year, filters.start.month)
        if filters.end:
            mask &= self._straddle_month <= month_index(filters.end.year, filters.end.month)
        return mask

    def view(self, filters: Filters) -> "View":
        """The numbers of the filtered view (computed on first use, then cached)."""
        with self._lock:
            cached = self._views.get(filters)
            if cached is not None:
                self._views.move_to_end(filters)
                return cached
        view = View(self, filters, self.subset(filters, straddles=False))
        with self._lock:
            self._views[filters] = view
            while len(self._views) > N_CACHED_VIEWS:
                self._views.popitem(last=False)
        return view

    # --- drill-down ------------------------------------------------------------------------------

    def asset_straddles(self, asset: str, filters: Filters) -> pa.Table:
        """The straddles of ``asset`` kept by the filters' date range and schedule entries, in
        straddle_id order."""
        if asset not in self.asset_names:
            raise StraddlesError(f"{self.folder}: no asset {asset!r}")
        mask = self.straddle_mask(Filters(start=filters.start, end=filters.end, entries=filters.entries),
                                  np.array([self.asset_names.index(asset)]))
        columns = ["straddle_id", "straddle", "schid", "entry_month", "expiry_month", "entry_date", "expiry_date",
                   "status", "weight", "strike", "strike_vol", "n_days", "pnl_sum"]
        return self.backtest.straddles.filter(mask).select(columns)

    def explain(self, straddle_id: int) -> "StraddleDetail":
        """One straddle laid out: its row, legs, entry and expiry rules, and its day rows."""
        straddles = self.backtest.straddles
        rows = np.flatnonzero(straddles["straddle_id"].to_numpy() == straddle_id)
        if not len(rows):
            raise StraddlesError(f"{self.folder}: no straddle {straddle_id}")
        row = straddles.slice(int(rows[0]), 1).to_pylist()[0]
        legs = [(name, row[f"{name}_ticker"], row[f"{name}_field"]) for name in LEG_NAMES
                if row.get(f"{name}_ticker") is not None]
        entry_rule, expiry_rule = rules_of_row(row)
        days = None
        if self.days is not None:
            days = self.days.rows(straddle_id)
            leg_columns = [name for name, _, _ in legs]
            days = days.select([c for c in days.column_names if c not in LEG_NAMES or c in leg_columns])
        return StraddleDetail(row=row, legs=legs, entry_rule=entry_rule, expiry_rule=expiry_rule, days=days)


@dataclass
class AssetSeries:
    """Weekday P&L series per asset: ``series[name]`` is (weekdays x assets) for each of
    ``pnl, opnl, hpnl, ...`` with columns in ``names`` order (sorted), NaN outside an asset's
    active range; ``present`` marks the cells with at least one asset_pnl row; ``first`` is the
    weekday index of row 0; ``column_of`` maps an asset's position to its column (-1: no P&L)."""

    names: list[str]
    first: int
    series: dict[str, np.ndarray]
    present: np.ndarray
    column_of: np.ndarray

    def window(self, assets: np.ndarray, low: int | None, high: int | None,
               keys: tuple[str, ...] = SERIES) -> tuple[list[str], dict[str, np.ndarray]]:
        """The series of ``assets`` (positions) restricted to the calendar days ``low..high``, as
        :func:`~straddles.results.performance.daily_series` gives them for that restricted
        asset_pnl: (names + ``total``, {name: weekdays x (assets + total)}), each asset's active
        range trimmed to its first and last weekday with rows in the window."""
        n = len(self.present)
        top = 0 if low is None else max(0, int(weekday_index(low)) - self.first)
        bottom = n if high is None else min(n, int(weekday_index(high)) - self.first + 1)
        columns = np.sort(self.column_of[assets][self.column_of[assets] >= 0])
        present = self.present[top:bottom][:, columns]
        active = present.any(axis=0)
        columns, present = columns[active], present[:, active]
        if not len(columns):
            return [TOTAL], {key: np.zeros((0, 1)) for key in keys}
        start = present.argmax(axis=0)
        stop = len(present) - present[::-1].argmax(axis=0)
        first, last = int(start.min()), int(stop.max())
        # without a date range every active range is whole and already NaN outside: no masking
        whole = low is None and high is None
        rows = np.arange(first, last)[:, None]
        inside = None if whole else (rows >= start) & (rows < stop)
        window = {}
        for key in keys:
            part = np.empty((last - first, len(columns) + 1))
            values = self.series[key][top + first:top + last]
            part[:, :-1] = values[:, columns] if whole else np.where(inside, values[:, columns], np.nan)
            part[:, -1] = np.nansum(part[:, :-1], axis=1)
            window[key] = part
        return [self.names[c] for c in columns] + [TOTAL], window


@dataclass
class StraddleDetail:
    """What the drill-down shows for one straddle; ``days`` is None when the folder has no day table."""

    row: dict
    legs: list[tuple[str, str, str]]
    entry_rule: str
    expiry_rule: str
    days: pa.Table | None


@dataclass
class View:
    """The numbers of one filtered view; each part is computed on first use."""

    results: Results
    filters: Filters
    backtest: Backtest

    def compute(self) -> "View":
        """Compute every part now (the app warms its opening view this way)."""
        for part in ("summary", "cumulative", "monthly", "correlation", "assets"):
            getattr(self, part)
        return self

    @property
    def has_pnl(self) -> bool:
        return self.backtest.asset_pnl.num_rows > 0

    @cached_property
    def classes(self) -> Stats | None:
        """:func:`straddles.stats` by class of the selection (None without P&L)."""
        if not self.has_pnl:
            return None
        if self.filters.entries:
            return stats(portfolio(self.backtest, "class"))
        return stats(self.results.class_portfolio(self.filters))

    @cached_property
    def total(self) -> dict | None:
        """The total's summary row of :attr:`classes` (None without P&L)."""
        return self.classes.summary.slice(self.classes.summary.num_rows - 1).to_pylist()[0] if self.has_pnl else None

    @cached_property
    def status_counts(self) -> list[tuple[str, int, str]]:
        """(status, straddles, meaning) in SPEC priority order, statuses with no straddle left out."""
        codes = self.results._straddle_status[self.results.straddle_mask(self.filters)]
        counts = np.bincount(codes[codes >= 0], minlength=len(STATUS_NAMES))
        return [(name, int(n), STATUS_MEANINGS[name]) for name, n in zip(STATUS_NAMES, counts) if n]

    @cached_property
    def summary(self) -> dict:
        """The summary strip: straddles, valued share, total P&L, Sharpe, worst drawdown, assets."""
        n_straddles = sum(n for _, n, _ in self.status_counts)
        valued = sum(n for name, n, _ in self.status_counts if name == VALUED_STATUS)
        total = self.total or {}
        return {"assets": self.backtest.assets.num_rows, "straddles": n_straddles,
                "valued_share": valued / n_straddles if n_straddles else None,
                "pnl": total.get("pnl"), "sharpe": total.get("sharpe"), "max_drawdown": total.get("max_drawdown")}

    @cached_property
    def cumulative(self) -> dict:
        """Weekday dates, cumulative P&L per class and in total, and the total's running peak
        (cumulative minus drawdown: the area between the two is the drawdown)."""
        if not self.has_pnl:
            return {"dates": np.array([], "datetime64[D]"), "series": {}, "peak": np.array([])}
        s = self.classes
        cumulative = s.cumulative("pnl")
        return {"dates": s.dates, "series": dict(zip(s.buckets, cumulative.T)),
                "peak": cumulative[:, -1] - s.drawdowns()[:, -1]}

    @cached_property
    def monthly(self) -> dict:
        """Total P&L per calendar year x month (of the weekday carrying it): ``years``, and
        ``pnl`` a (years x 12) matrix, NaN for a month without P&L."""
        if not self.has_pnl:
            return {"years": [], "pnl": np.zeros((0, 12))}
        s = self.classes
        values = s.series["pnl"][:, -1]
        present = ~np.isnan(values)
        months = s.dates[present].astype("datetime64[M]").astype(np.int64)
        first = int(months.min())
        cell = months - first
        sums = np.bincount(cell, weights=values[present])
        seen = np.bincount(cell) > 0
        first_year, last_year = 1970 + first // 12, 1970 + int(months.max()) // 12
        grid = np.full(((last_year - first_year + 1) * 12,), np.nan)
        offset = first % 12
        grid[offset:offset + len(sums)] = np.where(seen, sums, np.nan)
        return {"years": list(range(first_year, last_year + 1)), "pnl": grid.reshape(-1, 12)}

    @cached_property
    def correlation(self) -> dict:
        """Class correlation matrix in hierarchical-clustering order (``names``, ``matrix``)."""
        if not self.has_pnl:
            return {"names": [], "matrix": np.zeros((0, 0))}
        names, matrix = self.classes.buckets[:-1], self.classes.correlation_matrix
        order = cluster_order(matrix)
        return {"names": [names[i] for i in order], "matrix": matrix[np.ix_(order, order)]}

    @cached_property
    def assets(self) -> pa.Table:
        """One row per selected asset with P&L: class, group, P&L, option/hedge P&L, shares of the
        selection's P&L and variance (as :attr:`Stats.contribution`), Sharpe, worst drawdown,
        straddles and valued straddles, and attribution/cost sums when the folder has them;
        largest P&L first."""
        pnl = self.backtest.asset_pnl
        if not self.has_pnl:
            return pa.table({"asset": pa.array([], pa.string())})
        if self.filters.entries:  # P&L rows of their own: no precomputed series to slice
            buckets, _, series = daily_series(pnl, "asset")
        else:
            buckets, series = self.results.asset_series.window(self.results.selected(self.filters),
                                                               *calendar_bounds(self.filters), keys=PNL_COLUMNS)
        table = _contribution(buckets, series)
        column_of = {name: i for i, name in enumerate(buckets)}
        names = table["bucket"].to_pylist()
        columns = [column_of[name] for name in names]
        index = {name: i for i, name in enumerate(self.results.asset_names)}
        position = [index[name] for name in names]
        sharpe, drawdown = column_sharpe(series["pnl"][:, columns]), column_max_drawdown(series["pnl"][:, columns])
        mask = self.results.straddle_mask(self.filters)
        straddle_asset = self.results._straddle_asset[mask]
        valued = self.results._straddle_status[mask] == STATUS_NAMES.index(VALUED_STATUS)
        n_assets = len(self.results.asset_names)
        count, n_valued = np.bincount(straddle_asset, minlength=n_assets), np.bincount(
            straddle_asset[valued], minlength=n_assets)
        columns = {
            "asset": table["bucket"],
            "class": pa.array(self.results.asset_class[position].tolist(), pa.string()),
            "group": pa.array(self.results.asset_group[position].tolist(), pa.string()),
            **{name: table[name] for name in ("pnl", "opnl", "hpnl", "share_of_pnl", "share_of_risk")},
            "sharpe": pa.array(sharpe, pa.float64(), from_pandas=True),
            "max_drawdown": pa.array(drawdown, pa.float64()),
            "straddles": pa.array(count[position], pa.int64()),
            "valued": pa.array(n_valued[position], pa.int64()),
        }
        if self.results.extra_columns:
            asset_index = _positions(pnl["asset"], {name: i for i, name in enumerate(self.results.asset_names)})
            for name in self.results.extra_columns:
                sums = np.bincount(asset_index, weights=pnl[name].cast(pa.float64()).fill_null(0.0).to_numpy(),
                                   minlength=n_assets)
                columns[name] = pa.array(sums[position], pa.float64())
        return pa.table(columns)


def _date_slice(days: np.ndarray, low: int | None, high: int | None) -> tuple[int, int]:
    """The positions ``first, last`` of the sorted ``days`` that lie in ``low..high`` (None: open)."""
    return (int(np.searchsorted(days, low)) if low is not None else 0,
            int(np.searchsorted(days, high, side="right")) if high is not None else len(days))


def column_sharpe(matrix: np.ndarray, periods_per_year: float = 252) -> np.ndarray:
    """:func:`~straddles.results.performance.sharpe_ratio` of each column's non-NaN values, at
    once (NaN where a column has under 2 values or no volatility)."""
    count = np.sum(~np.isnan(matrix), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(matrix, axis=0) / count
        std = np.sqrt(np.nansum((matrix - mean) ** 2, axis=0) / (count - 1))
        result = mean * periods_per_year / (std * np.sqrt(periods_per_year))
    result[(count < 2) | ~(std > 0)] = np.nan
    return result


def column_max_drawdown(matrix: np.ndarray) -> np.ndarray:
    """:func:`~straddles.results.performance.max_drawdown` value of each column's non-NaN values
    (NaN only outside an active range, so counting NaN as 0 leaves every running sum unchanged)."""
    cumulative = np.cumsum(np.nan_to_num(matrix), axis=0)
    drawdowns = cumulative - np.maximum.accumulate(np.maximum(cumulative, 0.0), axis=0)
    return np.minimum(drawdowns.min(axis=0, initial=0.0), 0.0)


def calendar_bounds(filters: Filters) -> tuple[int | None, int | None]:
    """The first and last calendar day (day numbers) of the filters' date range, widened or
    narrowed to whole weekday cells of the statistics: a Monday carries the weekend before it
    (see :mod:`straddles.results.performance`), so a range keeps a weekend exactly when it keeps
    the Monday after it. None where the range is open."""
    low = high = None
    if filters.start:
        low = int(weekday_dates(weekday_index(day_number(filters.start)) - 1)) + 1
    if filters.end:
        end = day_number(filters.end)
        carrier = int(weekday_index(end))
        high = int(weekday_dates(carrier if weekday_dates(carrier) <= end else carrier - 1))
    return low, high


def cluster_order(matrix: np.ndarray) -> list[int]:
    """Positions of a correlation matrix's rows in hierarchical-clustering order (average linkage on
    the distance ``1 - correlation``, undefined correlations counted as 0, leaves optimally
    ordered), so that correlated classes sit next to each other."""
    n = len(matrix)
    if n < 3:
        return list(range(n))
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    distance = 1.0 - np.nan_to_num(matrix, nan=0.0)
    np.fill_diagonal(distance, 0.0)
    distance = np.clip((distance + distance.T) / 2, 0.0, 2.0)
    return leaves_list(linkage(squareform(distance, checks=False), method="average", optimal_ordering=True)).tolist()


def _positions(column: pa.ChunkedArray, position: dict[str, int]) -> np.ndarray:
    """The position (in ``position``) of each value of a string or dictionary column."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    lookup = np.array([position.get(name, -1) for name in column.dictionary.cast(pa.string()).to_pylist()],
                      dtype=np.int64)
    indices = column.indices.to_numpy(zero_copy_only=False)
    return lookup[indices] if len(lookup) else np.zeros(len(indices), np.int64)
