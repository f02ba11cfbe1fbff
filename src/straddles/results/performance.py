"""Performance statistics of daily P&L series: return, risk, drawdowns, tails, years, buckets.

**Calendar.** The engine produces P&L on every calendar day: weekends carry theta with rolled
prices (SPEC 12.5). The statistics fold Saturday's and Sunday's P&L into the following Monday, so
Monday holds the P&L realized between Friday's and Monday's closes, and then work on the series of
weekdays (about 261 a year; the engine has no holiday calendar, so holidays are ordinary days).
Within a bucket's active range (its first to its last day with P&L) a weekday without P&L counts as
0; outside it the bucket has no observation.

**Annualization.** ``periods_per_year`` (default 252) scales the daily mean (``x 252``) and volatility
(``x sqrt(252)``), the usual trading-day convention. The weekday series has about 261 days a year
(no holidays are removed), so with 252 the annualized return is 3.4 % and the volatility and
Sharpe ratio 1.7 % below their calendar-exact values; pass ``periods_per_year=261`` for those. The
per-year table is unaffected: it holds actual sums.

**Units and signs.** P&L is additive (fractions of notional summed over straddles, SPEC 1.2), so
the statistics are arithmetic: the cumulative P&L is a running sum and drawdowns are differences,
not ratios. Losses are negative: ``max_drawdown``, ``var_95`` and ``cvar_95`` are normally <= 0.

Definitions, for a daily series ``x`` of n observations with cumulative sum ``C`` (starting at 0
before the first day):

* ``ann_return = mean(x) * A``; ``ann_volatility = std(x, ddof=1) * sqrt(A)``;
  ``sharpe = ann_return / ann_volatility`` (zero risk-free rate: the P&L is already excess).
* drawdown ``D_t = C_t - max(0, C_0..C_t) <= 0``; ``max_drawdown = min D``. Its peak is the last
  day at the running maximum before the trough, its recovery the first later day back at that level
  (null if never); ``recovery_days`` counts weekdays from the trough to the recovery. A drawdown
  episode lasts from its peak to its recovery, or to the last day if it has not recovered;
  ``longest_drawdown_days`` is the longest episode in weekdays. When the peak is the starting level
  (the series falls on its first day, or never gets above 0 before the trough) it lies before the
  first day, and its date (``max_drawdown_peak``, ``longest_drawdown_start``) is the weekday before
  the first day of the series, so a peak always comes before its trough.
* ``hit_ratio`` = days with P&L > 0 / days with P&L != 0 (flat days are neither hits nor misses).
* ``var_95`` = the 5 % quantile of daily P&L (``numpy.quantile``, linear interpolation);
  ``cvar_95`` = the mean of the days at or below it (expected shortfall). Same at 99 %.
* ``skew`` = the Fisher-Pearson coefficient ``m3 / m2**1.5`` with population moments.
* long and short Sharpe ratios: those of the ``pnl_long`` and ``pnl_short`` series of
  :func:`straddles.portfolio` (assets with positive and negative multipliers).

>>> import numpy as np
>>> from straddles.results.performance import hit_ratio, max_drawdown
>>> hit_ratio(np.array([1.0, -2.0, 0.0, 3.0]))
0.6666666666666666
>>> max_drawdown(np.array([1.0, -3.0, 1.0, 2.0])).value
-3.0
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .aggregation import BUCKET_KEYS, portfolio
from ..engine.dates import weekday_dates, weekday_index
from ..errors import StraddlesError
from ..engine.pipeline import as_backtest  # pipeline does not import this module: no cycle
from ..engine.status import CODE_NAMES, VALUED

#: name of the bucket that sums all others
TOTAL = "total"
#: tail levels of VaR / CVaR
TAIL_LEVELS = (0.95, 0.99)
#: daily series carried per bucket (columns of a portfolio table)
SERIES = ("pnl", "opnl", "hpnl", "pnl_long", "pnl_short")
#: the columns a portfolio table must have (besides its bucket column); the long/short split may be
#: absent, and then counts as all long (``pnl_long = pnl``, ``pnl_short = 0``)
REQUIRED_COLUMNS = ("date", "pnl", "opnl", "hpnl")
LONG_SHORT = ("pnl_long", "pnl_short")
#: the status of a straddle that was valued (SPEC 13.1)
VALUED_STATUS = CODE_NAMES[VALUED - 1]
#: default number of implied-vol regimes of :func:`vol_regimes` (quintiles)
N_REGIMES = 5


# --- single-series statistics ---------------------------------------------------------------------

def annualized_return(x: np.ndarray, periods_per_year: float = 252) -> float:
    """Mean daily P&L times ``periods_per_year`` (NaN for an empty series)."""
    return float(np.mean(x)) * periods_per_year if len(x) else math.nan


def annualized_volatility(x: np.ndarray, periods_per_year: float = 252) -> float:
    """Sample standard deviation (ddof=1) times ``sqrt(periods_per_year)``; NaN below 2 days."""
    return float(np.std(x, ddof=1)) * math.sqrt(periods_per_year) if len(x) > 1 else math.nan


def sharpe_ratio(x: np.ndarray, periods_per_year: float = 252) -> float:
    """Annualized return over annualized volatility; NaN when the volatility is 0 or undefined."""
    volatility = annualized_volatility(x, periods_per_year)
    return annualized_return(x, periods_per_year) / volatility if volatility > 0 else math.nan


def drawdown(x: np.ndarray) -> np.ndarray:
    """Daily drawdown ``C_t - max(0, C_0..C_t)`` (<= 0) of the cumulative P&L ``C``."""
    cumulative = np.cumsum(x)
    return cumulative - np.maximum.accumulate(np.maximum(cumulative, 0.0)) if len(x) else cumulative


@dataclass(frozen=True)
class Drawdown:
    """The deepest drawdown of a series, as positions in the series.

    ``peak`` is -1 when the peak is the starting level (before the first day); ``recovery`` is None
    when the series never gets back to the peak level; all three are None without a drawdown.
    """

    value: float
    peak: int | None
    trough: int | None
    recovery: int | None

    @property
    def recovery_periods(self) -> int | None:
        """Periods from the trough back to the peak level (None if never)."""
        return None if self.recovery is None else self.recovery - self.trough


def max_drawdown(x: np.ndarray) -> Drawdown:
    """The deepest drawdown of ``x`` with its peak, trough and recovery positions (the first of
    equally deep troughs); value 0 and no positions when the series never falls below its peak."""
    series = drawdown(x)
    if not len(series) or series.min() >= 0:
        return Drawdown(0.0, None, None, None)
    trough = int(np.argmin(series))
    at_peak = np.flatnonzero(series == 0)
    before, after = at_peak[at_peak < trough], at_peak[at_peak > trough]
    return Drawdown(float(series[trough]), int(before[-1]) if len(before) else -1, trough,
                    int(after[0]) if len(after) else None)


@dataclass(frozen=True)
class DrawdownEpisode:
    """A spell below the running peak: from ``start`` (the peak, -1 for the starting level) to
    ``end`` (the recovery, or the last position when ``recovered`` is False)."""

    start: int
    end: int
    recovered: bool

    @property
    def periods(self) -> int:
        return self.end - self.start


def longest_drawdown(x: np.ndarray) -> DrawdownEpisode | None:
    """The longest drawdown episode of ``x`` (the first of equal ones), None if there is none."""
    below = drawdown(x) < 0
    if not below.any():
        return None
    edges = np.diff(np.concatenate([[0], below.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # stop = first day back
    recovered = stops < len(x)
    ends = np.where(recovered, stops, len(x) - 1)
    longest = int(np.argmax(ends - (starts - 1)))
    return DrawdownEpisode(int(starts[longest]) - 1, int(ends[longest]), bool(recovered[longest]))


def hit_ratio(x: np.ndarray) -> float:
    """Share of days with positive P&L among days with non-zero P&L (NaN if none)."""
    moving = int(np.count_nonzero(x))
    return int(np.count_nonzero(x > 0)) / moving if moving else math.nan


def value_at_risk(x: np.ndarray, level: float = 0.95) -> float:
    """The ``1 - level`` quantile of daily P&L (a loss is negative); NaN for an empty series."""
    return float(np.quantile(x, 1.0 - level)) if len(x) else math.nan


def conditional_value_at_risk(x: np.ndarray, level: float = 0.95) -> float:
    """Expected shortfall: the mean of the days at or below :func:`value_at_risk`."""
    if not len(x):
        return math.nan
    return float(np.mean(x[x <= value_at_risk(x, level)]))


def skewness(x: np.ndarray) -> float:
    """Fisher-Pearson skewness ``m3 / m2**1.5`` (population moments); NaN for a flat series."""
    if len(x) < 2:
        return math.nan
    deviation = x - np.mean(x)
    m2 = float(np.mean(deviation**2))
    return float(np.mean(deviation**3)) / m2**1.5 if m2 > 0 else math.nan


def pairwise_correlation(matrix: np.ndarray) -> np.ndarray:
    """Pearson correlation between the columns of ``matrix``, each pair over the rows where both
    are present (not NaN). NaN where a pair has fewer than 2 common rows or a flat column."""
    present = ~np.isnan(matrix)
    values = np.where(present, matrix, 0.0)
    weights = present.astype(np.float64)
    count = weights.T @ weights
    sums = values.T @ weights                 # [i, j]: sum of column i over rows where j is present
    squares = (values**2).T @ weights
    products = values.T @ values
    with np.errstate(invalid="ignore", divide="ignore"):
        covariance = count * products - sums * sums.T
        variance = count * squares - sums**2
        result = covariance / np.sqrt(variance * variance.T)
    result[(count < 2) | ~(variance > 0) | ~(variance.T > 0)] = np.nan
    return np.clip(result, -1.0, 1.0)


# --- statistics of a portfolio ------------------------------------------------------------------

@dataclass
class Stats:
    """Statistics of the buckets of a portfolio table and of their total (the last bucket).

    ``dates`` are the weekdays of the series (``datetime64[D]``); ``series[name]`` is a
    (days x buckets) float matrix for each of ``pnl, opnl, hpnl, pnl_long, pnl_short``, NaN outside
    a bucket's active range. The tables hold the numbers (P&L in fractions of notional):

    * ``summary``: one row per bucket, the statistics named in the module docstring;
    * ``annual``: one row per bucket and calendar year (of the weekday carrying the P&L);
    * ``contribution``: per bucket, its P&L, its share of the total P&L and its share of the total's
      variance (``cov(bucket, total) / var(total)``; the shares add up to 1), largest P&L first;
    * ``correlation``: correlation of daily P&L between buckets (total excluded), each pair over
      the days on which both are active; ``correlation_matrix`` holds the same numbers as a
      (buckets x buckets) float matrix in ``buckets`` order, NaN where undefined.

    The tables hold null, never NaN, where a statistic is undefined. A drawdown peak at the starting
    level is dated the weekday before the bucket's first day (see the module docstring). All but
    ``summary`` are computed on first use (a one-line summary, as the CLI prints after a backtest,
    needs no more).
    """

    by: str
    periods_per_year: float
    buckets: list[str]
    dates: np.ndarray
    series: dict[str, np.ndarray]
    summary: pa.Table

    @cached_property
    def annual(self) -> pa.Table:
        rows = []
        for column, bucket in enumerate(self.buckets):
            dates, series = _active(self.dates, self.series, column)
            rows += _annual_rows(bucket, dates, series, self.periods_per_year)
        return _table(rows, _ANNUAL_SCHEMA)

    @cached_property
    def contribution(self) -> pa.Table:
        return _contribution(self.buckets, self.series)

    @cached_property
    def correlation_matrix(self) -> np.ndarray:
        return pairwise_correlation(self.series["pnl"][:, :-1])

    @cached_property
    def correlation(self) -> pa.Table:
        return _correlation_table(self.buckets[:-1], self.correlation_matrix)

    def cumulative(self, name: str = "pnl") -> np.ndarray:
        """Cumulative sums of ``series[name]`` per bucket (NaN outside the active range)."""
        values = self.series[name]
        return np.where(np.isnan(values), np.nan, np.cumsum(np.nan_to_num(values), axis=0))

    def drawdowns(self) -> np.ndarray:
        """Drawdown series of each bucket (NaN outside its active range)."""
        values = self.series["pnl"]
        result = np.full(values.shape, np.nan)
        for column in range(values.shape[1]):
            active = ~np.isnan(values[:, column])
            result[active, column] = drawdown(values[active, column])
        return result

    def to_pandas(self, name: str = "pnl"):
        """``series[name]`` as a wide pandas DataFrame: a DatetimeIndex of the weekdays, one column
        per bucket and ``total`` last, NaN outside a bucket's active range. Needs pandas
        (``pip install 'straddles[pandas]'``)."""
        from ..engine.frames import pandas

        pd = pandas()
        return pd.DataFrame(self.series[name], columns=pd.Index(self.buckets, name=self.by),
                            index=pd.DatetimeIndex(self.dates.astype("datetime64[ns]"), name="date"))

    def to_dict(self) -> dict:
        """The tables as JSON-ready Python values: plain floats, ISO dates, None for missing."""
        return json_ready({
            "by": self.by,
            "periods_per_year": self.periods_per_year,
            "units": "fractions of notional (SPEC 1.2); losses negative",
            "summary": self.summary.to_pylist(),
            "annual": self.annual.to_pylist(),
            "contribution": self.contribution.to_pylist(),
            "correlation": self.correlation.to_pylist(),
        })


def stats(source, by: str | None = None, *, weights=None, scale_by_weight_cap: bool = False,
          periods_per_year: float = 252) -> Stats:
    """Statistics of daily P&L per bucket and in total (see the module docstring for definitions).

    ``source`` is a :class:`~straddles.Backtest` (or a backtest folder), aggregated with
    :func:`straddles.portfolio` by ``by`` (default ``"class"``) with ``weights`` and
    ``scale_by_weight_cap``, or a table :func:`straddles.portfolio` returned. A table must have the
    columns ``date, pnl, opnl, hpnl`` and its bucket column; ``pnl_long`` and ``pnl_short`` may both
    be absent (the P&L then counts as all long: ``pnl_long = pnl``, ``pnl_short = 0``). Its bucket
    column (one of ``class, group, subgroup, asset``; none for ``"portfolio"``) gives ``by``, so an
    explicit ``by`` must name it, and sizing must not be given. A missing column or a conflicting
    ``by`` raises :class:`~straddles.StraddlesError`.

    >>> import straddles                                                          # doctest: +SKIP
    >>> result = straddles.stats(straddles.load_backtest("straddles-demo"))       # doctest: +SKIP
    >>> result.summary.select(["bucket", "sharpe", "max_drawdown"])               # doctest: +SKIP
    """
    if periods_per_year <= 0:
        raise StraddlesError(f"stats: periods_per_year must be positive, got {periods_per_year}")
    if isinstance(source, pa.Table):
        if weights is not None or scale_by_weight_cap:
            raise StraddlesError("stats: weights apply to a backtest, not to a portfolio table")
        table = source
        by = _table_bucket(table, by)
    else:
        by = "class" if by is None else by
        table = portfolio(source, by, weights, scale_by_weight_cap)
    buckets, dates, series = daily_series(table, by)
    rows = [_summary_row(bucket, *_active(dates, series, column), periods_per_year)
            for column, bucket in enumerate(buckets)]
    return Stats(by=by, periods_per_year=periods_per_year, buckets=buckets, dates=dates, series=series,
                 summary=_table(rows, _SUMMARY_SCHEMA))


def _active(dates: np.ndarray, series: dict[str, np.ndarray], column: int) -> tuple[np.ndarray, dict]:
    """The dates and the series of bucket ``column`` over its active days (pnl not NaN)."""
    active = ~np.isnan(series["pnl"][:, column])
    return dates[active], {name: values[active, column] for name, values in series.items()}


def _table_bucket(table: pa.Table, by: str | None) -> str:
    """The ``by`` of a portfolio table: its bucket column, ``"portfolio"`` without one. An
    explicit ``by`` must agree with the table."""
    present = [name for name in BUCKET_KEYS if name in table.column_names]
    if by is None:
        if len(present) > 1:
            raise StraddlesError(f"stats: the table has several bucket columns ({', '.join(present)}): give 'by'")
        return present[0] if present else "portfolio"
    if by == "portfolio" and present:
        raise StraddlesError(f"stats: by='portfolio' but the table has the bucket column {present[0]!r}")
    if by != "portfolio" and by not in BUCKET_KEYS:
        raise StraddlesError(f"stats: by must be one of {', '.join(BUCKET_KEYS + ('portfolio',))}, got {by!r}")
    if by != "portfolio" and by not in present:
        found = f"its bucket column is {present[0]!r}" if len(present) == 1 else (
            f"its bucket columns are {', '.join(present)}" if present else "it has no bucket column")
        raise StraddlesError(f"stats: by={by!r} but the table has no {by!r} column ({found})")
    return by


def daily_series(table: pa.Table, by: str) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """Dense weekday series of a portfolio table: (bucket names + ``total``, weekday dates,
    {column: days x buckets matrix}), NaN outside each bucket's active range. For a table
    aggregated ``by="portfolio"`` the only bucket is the total.

    The table needs ``date, pnl, opnl, hpnl`` and, unless ``by`` is ``"portfolio"``, the column
    ``by``; without ``pnl_long`` and ``pnl_short`` the P&L counts as all long. A missing column
    raises :class:`~straddles.StraddlesError` naming it."""
    columns = _series_columns(table, by)
    index = weekday_index(table["date"].cast(pa.int32()).to_numpy())
    if by != "portfolio":
        names, bucket = _categories(table[by])
    else:
        names, bucket = [], np.zeros(table.num_rows, np.int64)
    n_columns = max(len(names), 1)
    first = int(index.min()) if len(index) else 0
    n_days = int(index.max()) - first + 1 if len(index) else 0
    day = index - first
    span_start, span_end = np.full(n_columns, n_days), np.full(n_columns, -1)
    np.minimum.at(span_start, bucket, day)
    np.maximum.at(span_end, bucket, day)
    inactive = (np.arange(n_days)[:, None] < span_start) | (np.arange(n_days)[:, None] > span_end)
    series = {}
    for name in SERIES:
        values = columns[name]
        dense = np.bincount(bucket * n_days + day, weights=values, minlength=n_columns * n_days)
        dense = np.where(inactive, np.nan, dense.reshape(n_columns, n_days).T)
        series[name] = np.hstack([dense, np.nansum(dense, axis=1, keepdims=True)]) if names else dense
    dates = weekday_dates(np.arange(first, first + n_days)).astype("datetime64[D]")
    return names + [TOTAL], dates, series


def _series_columns(table: pa.Table, by: str) -> dict[str, np.ndarray]:
    """The :data:`SERIES` columns of a portfolio table as float arrays (null counts as 0), after
    checking that the table has what :func:`daily_series` needs."""
    needed = REQUIRED_COLUMNS + (() if by == "portfolio" else (by,))
    split = [name for name in LONG_SHORT if name in table.column_names]
    missing = [name for name in needed if name not in table.column_names]
    if len(split) == 1:  # one side without the other: not derivable without guessing
        missing += [name for name in LONG_SHORT if name not in split]
    if missing:
        raise StraddlesError(f"stats: the portfolio table lacks the column(s) {', '.join(map(repr, missing))}"
                             f" (it has {', '.join(table.column_names) or 'none'})")
    columns = {name: table[name].cast(pa.float64()).fill_null(0.0).to_numpy()
               for name in SERIES if name in table.column_names}
    if not split:
        columns["pnl_long"], columns["pnl_short"] = columns["pnl"], np.zeros(table.num_rows)
    return columns


def _categories(column: pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    """(sorted distinct strings, index of each value among them), via a dictionary encoding so
    that no Python object is made per row."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    used, index = np.unique(column.indices.to_numpy(zero_copy_only=False), return_inverse=True)
    names = np.array(column.dictionary.cast(pa.string()).to_pylist(), dtype=object)[used]
    order = np.argsort(names)
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return [str(name) for name in names[order]], rank[index]


def vol_regimes(source, n_regimes: int = N_REGIMES) -> pa.Table:
    """How straddle P&L depends on the implied-vol level at entry, per asset class.

    Each valued straddle is put into a regime by the quantile of its ``strike_vol`` (the implied
    vol on the entry day) among the valued straddles of the same asset (regime 1 = the asset's
    lowest vols, ``n_regimes`` = its highest). Ranking within the asset makes vols of different
    units and levels comparable; it uses the whole sample, so it describes, it does not predict.
    Assets with fewer than ``n_regimes`` valued straddles are left out.

    Returns ``class, regime, n_straddles, mean_strike_vol, mean_pnl, hit_ratio, pnl`` with
    ``mean_pnl`` the mean unweighted ``pnl_sum`` per straddle, ``hit_ratio`` that of
    :func:`hit_ratio` over the straddles' ``pnl_sum`` (straddles with ``pnl_sum > 0`` among those
    with ``pnl_sum != 0``; null when all are 0) and ``pnl`` the weighted sum ``pnl_sum x weight``.
    """
    straddles = as_backtest(source).straddles
    valued = pc.and_(pc.equal(straddles["status"].cast(pa.string()), VALUED_STATUS),
                     pc.and_(straddles["strike_vol"].is_valid(), straddles["pnl_sum"].is_valid()))
    table = straddles.filter(valued).select(["asset", "class", "strike_vol", "pnl_sum", "weight"])
    asset = _categories(table["asset"])[1]
    vol, pnl = table["strike_vol"].to_numpy(), table["pnl_sum"].to_numpy()
    weighted = pnl * table["weight"].to_numpy()
    order = np.lexsort((vol, asset))
    count = np.bincount(asset)
    first_of_asset = np.concatenate([[0], np.cumsum(count)[:-1]])
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order)) - first_of_asset[asset[order]]
    regime = rank * n_regimes // np.maximum(count[asset], 1) + 1
    keep = count[asset] >= n_regimes
    class_names, class_of_row = _categories(table["class"])
    class_names, class_index = np.array(class_names, dtype=object), class_of_row[keep]
    # one cell per (class, regime): cells in class-name then regime order, as the result is sorted
    cell = class_index * n_regimes + (regime[keep] - 1)
    cells, cell_index, n_straddles = np.unique(cell, return_inverse=True, return_counts=True)
    vol, pnl, weighted = vol[keep], pnl[keep], weighted[keep]
    by_cell = np.argsort(cell_index, kind="stable")
    hits = [hit_ratio(part) for part in np.split(pnl[by_cell], np.cumsum(n_straddles)[:-1])] if len(cells) else []

    def cell_sum(values):
        return np.bincount(cell_index, weights=values, minlength=len(cells))

    return pa.table({
        "class": pa.array(class_names[cells // n_regimes].tolist() if len(cells) else [], pa.string()),
        "regime": pa.array(cells % n_regimes + 1, pa.int32()),
        "n_straddles": pa.array(n_straddles, pa.int64()),
        "mean_strike_vol": pa.array(cell_sum(vol) / n_straddles, pa.float64()),
        "mean_pnl": pa.array(cell_sum(pnl) / n_straddles, pa.float64()),
        "hit_ratio": pa.array(np.array(hits, dtype=np.float64), pa.float64(), from_pandas=True),
        "pnl": pa.array(cell_sum(weighted), pa.float64()),
    })


# --- table builders -----------------------------------------------------------------------------

_SUMMARY_SCHEMA = pa.schema([
    ("bucket", pa.string()), ("start", pa.date32()), ("end", pa.date32()), ("n_days", pa.int64()),
    ("pnl", pa.float64()), ("opnl", pa.float64()), ("hpnl", pa.float64()),
    ("ann_return", pa.float64()), ("ann_volatility", pa.float64()), ("sharpe", pa.float64()),
    ("sharpe_long", pa.float64()), ("sharpe_short", pa.float64()),
    ("max_drawdown", pa.float64()), ("max_drawdown_peak", pa.date32()), ("max_drawdown_trough", pa.date32()),
    ("max_drawdown_recovery", pa.date32()), ("recovery_days", pa.int64()),
    ("longest_drawdown_days", pa.int64()), ("longest_drawdown_start", pa.date32()),
    ("longest_drawdown_end", pa.date32()), ("longest_drawdown_recovered", pa.bool_()),
    ("hit_ratio", pa.float64()), ("var_95", pa.float64()), ("cvar_95", pa.float64()),
    ("var_99", pa.float64()), ("cvar_99", pa.float64()), ("skew", pa.float64()),
])
_ANNUAL_SCHEMA = pa.schema([
    ("bucket", pa.string()), ("year", pa.int32()), ("n_days", pa.int64()), ("pnl", pa.float64()),
    ("opnl", pa.float64()), ("hpnl", pa.float64()), ("ann_volatility", pa.float64()), ("sharpe", pa.float64()),
    ("max_drawdown", pa.float64()), ("hit_ratio", pa.float64()),
])


def _summary_row(bucket: str, dates: np.ndarray, series: dict[str, np.ndarray], periods: float) -> dict:
    x = series["pnl"]
    deepest, longest = max_drawdown(x), longest_drawdown(x)

    def date_at(position):
        return _date_at(dates, position)

    row = {
        "bucket": bucket, "start": date_at(0), "end": date_at(len(dates) - 1), "n_days": len(x),
        "pnl": float(x.sum()), "opnl": float(series["opnl"].sum()), "hpnl": float(series["hpnl"].sum()),
        "ann_return": annualized_return(x, periods), "ann_volatility": annualized_volatility(x, periods),
        "sharpe": sharpe_ratio(x, periods),
        "sharpe_long": sharpe_ratio(series["pnl_long"], periods),
        "sharpe_short": sharpe_ratio(series["pnl_short"], periods),
        "max_drawdown": deepest.value, "max_drawdown_peak": date_at(deepest.peak),
        "max_drawdown_trough": date_at(deepest.trough), "max_drawdown_recovery": date_at(deepest.recovery),
        "recovery_days": deepest.recovery_periods,
        "longest_drawdown_days": longest.periods if longest else 0,
        "longest_drawdown_start": date_at(longest.start) if longest else None,
        "longest_drawdown_end": date_at(longest.end) if longest and longest.recovered else None,
        "longest_drawdown_recovered": longest.recovered if longest else None,
        "hit_ratio": hit_ratio(x), "skew": skewness(x),
    }
    for level in TAIL_LEVELS:
        suffix = f"{round(level * 100)}"
        row[f"var_{suffix}"] = value_at_risk(x, level)
        row[f"cvar_{suffix}"] = conditional_value_at_risk(x, level)
    return row


def _date_at(dates: np.ndarray, position: int | None) -> dt.date | None:
    """The date of a position in a bucket's series of consecutive weekdays ``dates``. Position -1,
    a drawdown peak at the starting level (before the first day), is the weekday before
    ``dates[0]``: the last weekday on which the cumulative P&L was still at its starting 0."""
    if position is None or not len(dates):
        return None
    if position >= 0:
        return dates[position].item()
    first = weekday_index(dates[:1].astype(np.int64))
    return np.datetime64(int(weekday_dates(first + position)[0]), "D").item()


def _annual_rows(bucket: str, dates: np.ndarray, series: dict[str, np.ndarray], periods: float) -> list[dict]:
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    rows = []
    for year in np.unique(years):
        mask = years == year
        x = series["pnl"][mask]
        rows.append({
            "bucket": bucket, "year": int(year), "n_days": int(mask.sum()), "pnl": float(x.sum()),
            "opnl": float(series["opnl"][mask].sum()), "hpnl": float(series["hpnl"][mask].sum()),
            "ann_volatility": annualized_volatility(x, periods), "sharpe": sharpe_ratio(x, periods),
            "max_drawdown": max_drawdown(x).value, "hit_ratio": hit_ratio(x),
        })
    return rows


def _table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """A table of ``rows`` (dicts keyed by the schema's names), NaN stored as null."""
    return pa.table({field.name: pa.array([row[field.name] for row in rows], field.type, from_pandas=True)
                     for field in schema}, schema=schema)


def _contribution(buckets: list[str], series: dict[str, np.ndarray]) -> pa.Table:
    pnl = np.nan_to_num(series["pnl"])
    parts, total = pnl[:, :-1], pnl[:, -1]
    centered = total - total.mean() if len(total) else total
    variance = float(centered @ centered)
    risk = (parts - parts.mean(axis=0)).T @ centered / variance if variance > 0 else np.full(parts.shape[1], np.nan)
    sums = {name: np.nansum(series[name][:, :-1], axis=0) for name in ("pnl", "opnl", "hpnl")}
    total_pnl = float(total.sum())
    table = pa.table({
        "bucket": pa.array(buckets[:-1], pa.string()),
        "pnl": pa.array(sums["pnl"], pa.float64()),
        "opnl": pa.array(sums["opnl"], pa.float64()),
        "hpnl": pa.array(sums["hpnl"], pa.float64()),
        "share_of_pnl": pa.array(sums["pnl"] / total_pnl if total_pnl else np.full(len(parts.T), np.nan),
                                 pa.float64(), from_pandas=True),
        "share_of_risk": pa.array(risk, pa.float64(), from_pandas=True),
    })
    return table.take(np.argsort(-sums["pnl"], kind="stable"))


def _correlation_table(buckets: list[str], correlation: np.ndarray) -> pa.Table:
    columns = {"bucket": pa.array(buckets, pa.string())}
    for column, name in enumerate(buckets):
        columns[name] = pa.array(correlation[:, column], pa.float64(), from_pandas=True)
    return pa.table(columns)


def json_ready(value):
    """``value`` as plain JSON-ready Python, recursively through dicts, lists and tuples: NaN and
    infinities become None, dates ISO strings, NumPy scalars and arrays Python numbers and lists.
    The one conversion to JSON of the statistics (:meth:`Stats.to_dict`, the report's summary)."""
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_ready(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
