"""``straddles.strategy``: from a backtest to a traded book (STRATEGY S1-S7).

:func:`strategy_weights` runs S2-S6 on a :class:`~straddles.strategies.context.StrategyContext`
and sizes the result (S1.6); :func:`strategy` wraps it, takes the positions through the inception
lock (each straddle holds its asset's weight of the day before its entry) and returns a
:class:`StrategyResult` in fractions of capital.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..engine.columns import date_array
from ..engine.outputs import write_table
from ..errors import StrategyError
from ..results.performance import Stats, pairwise_correlation, stats
from . import nb
from .context import StrategyContext
from .hedge import hedged
from .risk import risk_weighted
from .signals import check_signals
from .spec import StrategySpec
from .transforms import signal_weights

#: columns of :attr:`StrategyResult.pnl` besides ``date`` (extras follow when the cube has them)
PNL_COLUMNS = ("pnl", "pnl_long", "pnl_short", "opnl", "hpnl")


def strategy_weights(ctx: StrategyContext, spec: StrategySpec, inception: str = "entry",
                     amt_multipliers: bool = False, lag: int = 0) -> np.ndarray:
    """The sized weights W of ``spec``: ``[days, assets]``, each day Σ|W| = 1 or all 0 (S1.6)."""
    check_lag(lag)
    check_signals(ctx, spec.signals)
    W = signal_weights(ctx, spec.input, spec.signals, spec.rank, int(lag))
    W = risk_weighted(ctx, W, spec.arp, spec.crp, inception, amt_multipliers)
    W = hedged(ctx, W, spec.hedge, inception)
    return nb.normalize_gross(W)


def check_lag(lag) -> None:
    if not (isinstance(lag, (int, np.integer)) and lag >= 0):
        raise StrategyError(f"strategy: lag must be a non-negative integer, got {lag!r}")


def book_series(ctx: StrategyContext, W: np.ndarray, inception: str, leverage: float, origin: int | None = None,
                columns=("pnl",), scope: str = "total") -> dict:
    """:meth:`StrategyContext.books` of W times ``leverage``: fractions of capital."""
    return {key: value * leverage for key, value in ctx.books(W, inception, columns, scope, origin).items()}


def daily_pnl(books: dict) -> dict[str, np.ndarray]:
    """The daily series ``pnl, pnl_long, pnl_short, opnl, hpnl, …`` of books (0 without P&L)."""
    series = {"pnl": books["all", "pnl"], "pnl_long": books["long", "pnl"], "pnl_short": books["short", "pnl"]}
    for (side, column), value in books.items():
        if side == "all" and column != "pnl":
            series[column] = value
    return {name: np.nan_to_num(value, nan=0.0) for name, value in series.items()}


def pnl_table(dates: np.ndarray, series: dict[str, np.ndarray]) -> pa.Table:
    return pa.table({"date": date_array(dates), **{name: pa.array(values) for name, values in series.items()}})


def ls_correlation(result: Stats) -> float:
    """Correlation of the daily long and short book P&L (weekday series of the statistics)."""
    pair = np.column_stack([result.series["pnl_long"][:, -1], result.series["pnl_short"][:, -1]])
    return float(pairwise_correlation(pair)[0, 1])


@dataclass
class StrategyResult:
    """A strategy run: weights, P&L in fractions of capital (after leverage), statistics.

    * ``weights``: ``date, asset, weight``, the sized W of S1.6 on every grid cell;
    * ``pnl``: one row per grid day, ``date, pnl, pnl_long, pnl_short, opnl, hpnl`` (+ attribution
      and cost columns when the backtest has them), 0 on days without P&L;
    * ``asset_pnl`` / ``group_pnl``: the same per asset / AMT group, rows where it has P&L;
    * ``stats``: :func:`straddles.stats` of ``pnl`` (Sharpe, long/short Sharpe, drawdown, hit,
      VaR/CVaR, years), ``ls_correlation`` the long/short book correlation.

    ``capital`` converts fractions to currency (``pnl × capital``); reports show bps (× 10 000).
    """

    name: str
    spec: StrategySpec | None
    capital: float
    leverage: float
    inception: str
    weights: pa.Table
    pnl: pa.Table
    asset_pnl: pa.Table
    group_pnl: pa.Table
    stats: Stats
    ls_correlation: float

    def summary(self) -> dict:
        """The headline numbers: Sharpe ratios, L/S correlation, annual return, volatility and
        maximum drawdown in bps of capital, hit ratio."""
        row = {key: value[0] for key, value in self.stats.summary.slice(self.stats.summary.num_rows - 1)
               .to_pydict().items()}
        return summary_numbers(row, self.ls_correlation)

    def to_pandas(self) -> dict:
        """Wide pandas frames on a DatetimeIndex: ``weights`` and ``asset_pnl`` (days x assets),
        ``group_pnl`` (days x groups, pnl), ``pnl`` (days x the P&L columns)."""
        import pandas as pd

        def wide(table, column, key):
            frame = table.select(["date", key, column]).to_pandas()
            frame[key] = frame[key].astype(str)
            out = frame.pivot(index="date", columns=key, values=column)
            out.index = pd.DatetimeIndex(out.index)
            return out

        pnl = self.pnl.to_pandas().set_index("date")
        pnl.index = pd.DatetimeIndex(pnl.index)
        return {"weights": wide(self.weights, "weight", "asset"), "pnl": pnl,
                "asset_pnl": wide(self.asset_pnl, "pnl", "asset"), "group_pnl": wide(self.group_pnl, "pnl", "group")}

    def write(self, directory: str | Path) -> list[Path]:
        """Write ``weights``, ``pnl``, ``asset_pnl`` and ``group_pnl`` as Parquet into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        return [write_table(getattr(self, name), directory / f"{name}.parquet")
                for name in ("weights", "pnl", "asset_pnl", "group_pnl")]


def summary_numbers(row: dict, correlation: float) -> dict:
    """Sweep/summary numbers from a statistics summary row: bps of capital."""
    def bps(value):
        return None if value is None else value * 1e4

    return {"sharpe": row["sharpe"], "sharpe_long": row["sharpe_long"], "sharpe_short": row["sharpe_short"],
            "ls_correlation": None if np.isnan(correlation) else correlation,
            "ann_return_bps": bps(row["ann_return"]), "ann_vol_bps": bps(row["ann_volatility"]),
            "max_drawdown_bps": bps(row["max_drawdown"]), "hit_ratio": row["hit_ratio"]}


def strategy(source, spec=None, capital: float | None = None, leverage: float | None = None,
             inception: str = "entry", amt_multipliers: bool = False, lag: int = 0, weights=None,
             normalize: bool = False, context: StrategyContext | None = None) -> StrategyResult:
    """Run one strategy on a backtest (a :class:`~straddles.Backtest` with its cohort cube, or a
    results folder, with or without its day table).

    ``spec`` is a name (``"npnl:mac.180.30+srp.365:grank:ivol:none:gah"``, STRATEGY S7) or a
    :class:`StrategySpec`. Or give ``weights``, a table ``date, asset, weight`` (Arrow or pandas;
    missing cells are 0): S2-S6 are skipped and those weights go through the lock on their own
    dates, scaled by ``leverage``, normalised per day only with ``normalize=True``.

    ``capital`` and ``leverage`` default to the AMT's ``backtest.aum`` and ``backtest.leverage``
    (else 1). ``inception="month_start"`` locks each straddle on the day before its entry month.
    ``lag`` delays the signal weights by that many more days. ``context`` reuses a loaded
    :class:`StrategyContext` (and its cached signals) across calls.

    >>> result = straddles.strategy("results", "npnl:mac.180.30:rank:ivol:none:h")   # doctest: +SKIP
    >>> result.summary()["sharpe"], result.to_pandas()["pnl"].cumsum()               # doctest: +SKIP
    """
    ctx = context or StrategyContext(source)
    capital = ctx.default_capital if capital is None else float(capital)
    leverage = ctx.default_leverage if leverage is None else float(leverage)
    ctx.lock(inception)  # validates inception
    if (spec is None) == (weights is None):
        raise StrategyError("strategy: give either a strategy name or a weights table")
    if weights is None:
        spec = StrategySpec.parse(spec)
        W, origin, dates = strategy_weights(ctx, spec, inception, amt_multipliers, lag), ctx.start, ctx.dates
        name = str(spec)
    else:
        W, origin = own_weights(ctx, weights)
        if normalize:
            W = nb.normalize_gross(W)
        dates, name = np.arange(origin, origin + len(W), dtype=np.int32), "weights"
    columns = ctx.cohorts.value_columns
    by_scope = {scope: book_series(ctx, W, inception, leverage, origin, columns, scope)
                for scope in ("total", "asset", "group")}
    table = pnl_table(ctx.dates, daily_pnl(by_scope["total"]))
    result_stats = stats(table, "portfolio")
    return StrategyResult(
        name=name, spec=spec if weights is None else None, capital=capital, leverage=leverage, inception=inception,
        weights=_long_table(dates, ctx.assets, W, "asset", "weight"), pnl=table,
        asset_pnl=_cells(ctx, by_scope["asset"], ctx.assets, "asset"),
        group_pnl=_cells(ctx, by_scope["group"], ctx.groups, "group"),
        stats=result_stats, ls_correlation=ls_correlation(result_stats))


def own_weights(ctx: StrategyContext, weights) -> tuple[np.ndarray, int]:
    """A ``date, asset, weight`` table as a matrix on its own dates: (W, its first day)."""
    if not isinstance(weights, pa.Table):
        try:
            weights = pa.Table.from_pandas(weights, preserve_index=False)
        except Exception as exc:  # noqa: BLE001 - anything that is not a table
            raise StrategyError(f"strategy: weights must be an Arrow table or a pandas DataFrame ({exc})") from None
    missing = [name for name in ("date", "asset", "weight") if name not in weights.column_names]
    if missing:
        raise StrategyError(f"strategy: the weights table lacks the column(s) {', '.join(missing)}")
    try:
        days = weights["date"].cast(pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise StrategyError(f"strategy: weights 'date' must be dates, got {weights['date'].type}") from None
    names = weights["asset"].cast(pa.string()).to_pylist()
    position = {name: i for i, name in enumerate(ctx.assets)}
    unknown = sorted(set(names) - set(position))
    if unknown:
        raise StrategyError(f"strategy: weights name unknown asset(s) {', '.join(map(repr, unknown[:5]))}")
    values = weights["weight"].cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
    if not len(days):
        return np.zeros((1, len(ctx.assets))), ctx.start
    origin = int(days.min())
    W = np.zeros((int(days.max()) - origin + 1, len(ctx.assets)))
    W[days - origin, [position[n] for n in names]] = values
    return W, origin


def _long_table(dates: np.ndarray, names: list[str], matrix: np.ndarray, key: str, column: str) -> pa.Table:
    """Every cell of a [days, names] matrix as rows ``date, <key>, <column>``, day-major."""
    n_days, n = matrix.shape
    dictionary = pa.array(names, pa.string())
    return pa.table({
        "date": date_array(np.repeat(dates, n)),
        key: pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(n, dtype=np.int32), n_days)), dictionary),
        column: pa.array(np.ascontiguousarray(matrix).reshape(-1)),
    })


def _cells(ctx, books: dict, names: list[str], key: str) -> pa.Table:
    """Per-asset or per-group rows with P&L: ``date, <key>, pnl, pnl_long, pnl_short, opnl, …``."""
    matrices = {"pnl": books["all", "pnl"], "pnl_long": books["long", "pnl"], "pnl_short": books["short", "pnl"]}
    for (side, column), value in books.items():
        if side == "all" and column != "pnl":
            matrices[column] = value
    day, index = np.nonzero(~np.isnan(matrices["pnl"]))
    columns = {"date": date_array(ctx.dates[day]),
               key: pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32)), pa.array(names, pa.string()))}
    columns.update({name: pa.array(np.nan_to_num(value[day, index])) for name, value in matrices.items()})
    return pa.table(columns)
