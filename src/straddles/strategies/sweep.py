"""``straddles.sweep``: many strategies against one loaded backtest (STRATEGY S7).

:func:`sweep` loads a :class:`~straddles.strategies.context.StrategyContext` once, then runs the
grid's strategies in batches with :func:`run_batch`, which shares the context's cache: each
(input, signal, rank) signal is computed once for the whole sweep. ``run_batch`` is the unit a
distributed runner ships to a worker (context built once per worker, a list of names per task).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from ..results.performance import (annualized_return, annualized_volatility, daily_series, hit_ratio,
                                   max_drawdown, pairwise_correlation, sharpe_ratio)
from .api import daily_pnl, pnl_table
from .batch import batch_held
from ..errors import StrategyError
from .context import StrategyContext
from .cube import INCEPTIONS
from .spec import StrategySpec, grid_specs

#: the result table's schema, one row per strategy
SCHEMA = pa.schema([("name", pa.string()), ("sharpe", pa.float64()), ("sharpe_long", pa.float64()),
                    ("sharpe_short", pa.float64()), ("ls_correlation", pa.float64()),
                    ("ann_return_bps", pa.float64()), ("ann_vol_bps", pa.float64()),
                    ("max_drawdown_bps", pa.float64()), ("hit_ratio", pa.float64()), ("ms", pa.float64())])
#: strategies per batch of :func:`sweep` (progress is reported per batch): a batch shares one cube pass
#: per step; 32 measured faster than 16 and 48 on the real AMT
BATCH = 32


def headline(dates: np.ndarray, pnl: dict[str, np.ndarray], periods_per_year: float = 252) -> dict:
    """The sweep's numbers of daily ``pnl``, ``pnl_long``, ``pnl_short`` series (fractions of
    capital), with the statistics module's own weekday series and functions, in bps of capital."""
    zeros = np.zeros(len(dates))  # the option/hedge split: not used by these numbers
    table = pnl_table(dates, {"pnl": pnl["pnl"], "pnl_long": pnl["pnl_long"], "pnl_short": pnl["pnl_short"],
                              "opnl": zeros, "hpnl": zeros})
    _, _, series = daily_series(table, "portfolio")
    x, long_, short = (series[name][:, -1] for name in ("pnl", "pnl_long", "pnl_short"))
    active = ~np.isnan(x)
    x, long_, short = x[active], long_[active], short[active]
    correlation = pairwise_correlation(np.column_stack([long_, short]))[0, 1] if len(x) else np.nan
    return {"sharpe": sharpe_ratio(x, periods_per_year), "sharpe_long": sharpe_ratio(long_, periods_per_year),
            "sharpe_short": sharpe_ratio(short, periods_per_year), "ls_correlation": correlation,
            "ann_return_bps": annualized_return(x, periods_per_year) * 1e4,
            "ann_vol_bps": annualized_volatility(x, periods_per_year) * 1e4,
            "max_drawdown_bps": max_drawdown(x).value * 1e4, "hit_ratio": hit_ratio(x)}


def run_batch(context: StrategyContext, names: Sequence[str | StrategySpec], inception: str = "entry",
              amt_multipliers: bool = False, lag: int = 0, leverage: float | None = None) -> pa.Table:
    """Run ``names`` against a loaded context; one row per name, in order (see :data:`SCHEMA`).

    The batch's held weights come from :func:`~straddles.strategies.batch.batch_held` (one cube
    pass per hedge or class-risk step for the whole batch) and their final books from one shared
    pass (the same numbers as one strategy at a time). ``ms`` is an equal share of that work plus
    the strategy's own statistics.
    """
    leverage = context.default_leverage if leverage is None else float(leverage)
    rows = {field.name: [] for field in SCHEMA}
    start = time.perf_counter()
    specs = [StrategySpec.parse(name) for name in names]
    held = batch_held(context, specs, inception, amt_multipliers, lag)
    all_books = context.many_books(held, scope="total") if specs else []
    shared = (time.perf_counter() - start) / max(len(specs), 1)
    for spec, books in zip(specs, all_books):
        start = time.perf_counter()
        numbers = headline(context.dates, daily_pnl({key: value * leverage for key, value in books.items()}))
        numbers["name"] = str(spec)
        numbers["ms"] = (shared + time.perf_counter() - start) * 1e3
        for key, value in numbers.items():
            rows[key].append(value)
    return pa.table({field.name: pa.array(rows[field.name], field.type, from_pandas=True) for field in SCHEMA},
                    schema=SCHEMA)


def sweep(source, grid: Iterable[str] | Mapping, inception: str = "entry", amt_multipliers: bool = False,
          lag: int = 0, leverage: float | None = None, progress: Callable[[int, int], None] | None = None,
          context: StrategyContext | None = None, scheduler=None) -> pa.Table:
    """Run every strategy of ``grid`` (a list of names or a mapping of field -> values, S7) on a
    backtest or results folder; rows sorted by Sharpe, descending (undefined last).

    ``progress(done, total)`` is called after each batch. ``scheduler`` runs the batches on Dask
    (``"local:N"``, an address or a ``dask.distributed.Client``; ``source`` must then be a results
    folder): the same table but for the ``ms`` column (:mod:`straddles.scale.sweep`).

    >>> table = straddles.sweep("results", {"signals": ["mac.180.30", "srp.365"],
    ...                                     "hedge": ["none", "h"]})          # doctest: +SKIP
    """
    specs = grid_specs(grid)
    if scheduler is not None:  # the executor seam; scale/ is imported only here
        from ..scale.executor import dask_client
        from ..scale.sweep import distributed_sweep

        if context is not None:
            raise StrategyError("sweep: context= is for an in-process sweep; a scheduler's workers load their own")
        if inception not in INCEPTIONS:
            raise StrategyError(f"strategy: inception must be one of {', '.join(INCEPTIONS)}, got {inception!r}")
        with dask_client(scheduler) as client:
            return distributed_sweep(client, source, [str(spec) for spec in specs], inception, amt_multipliers, lag,
                                     leverage, progress)
    ctx = context or StrategyContext(source)
    ctx.lock(inception)
    parts = []
    for first in range(0, len(specs), BATCH):
        parts.append(run_batch(ctx, specs[first:first + BATCH], inception, amt_multipliers, lag, leverage))
        if progress is not None:
            progress(min(first + BATCH, len(specs)), len(specs))
    table = pa.concat_tables(parts) if parts else SCHEMA.empty_table()
    return sort_by_sharpe(table)


def load_grid(path) -> list | dict:
    """A sweep grid from YAML (the mapping or list of S7); a bad file is a one-line error."""
    import yaml

    try:
        grid = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise StrategyError(f"{path}: cannot read the grid: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise StrategyError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(grid, (list, dict)):
        raise StrategyError(f"{path}: a grid is a list of strategy names or a mapping of field -> list")
    try:
        grid_specs(grid)
    except StrategyError as exc:
        raise StrategyError(f"{path}: {exc}") from None
    return grid


def sort_by_sharpe(table: pa.Table) -> pa.Table:
    """Rows by Sharpe descending, strategies without a Sharpe last (then by name)."""
    sharpe = table["sharpe"].to_numpy(zero_copy_only=False).astype(np.float64)  # nulls -> NaN
    names = np.array(table["name"].to_pylist(), dtype=object)
    return table.take(np.lexsort((names, np.where(np.isnan(sharpe), np.inf, -sharpe))))
