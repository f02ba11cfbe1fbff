"""The explorer's strategy tab: one strategy spec run on the folder's cohort cube, and a sweep table.

:class:`Strategies` holds one :class:`~straddles.strategies.context.StrategyContext` per app,
built on first use from the already loaded backtest, so the signals a spec computes are cached for
every later spec that shares them (STRATEGY S7). Each run is :func:`straddles.strategy` itself
(same context, same code path), so the tab shows exactly the Python API's numbers. Pure
Arrow/NumPy, no web framework.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..engine.pipeline import Backtest
from ..errors import StraddlesError
from ..strategies.api import StrategyResult, strategy
from ..strategies.context import StrategyContext

#: the spec shown first when there is no sweep to take the best row from
DEFAULT_SPEC = "npnl:mac.180.30+srp.365:grank:ivol:none:gah"
#: the sweep file a results folder may hold (``straddles demo`` writes it there)
SWEEP_FILE = "sweep.parquet"
#: the legs of the cumulative chart: (P&L column of StrategyResult.pnl, legend name)
LEGS = (("pnl", "book"), ("pnl_long", "long"), ("pnl_short", "short"))
NO_CUBE = ("Strategies need a backtest run with the cohort cube: this folder has no cohorts.arrow "
           "(run `straddles backtest AMT ... --out DIR` again with this version).")


@dataclass(frozen=True)
class StrategyView:
    """One strategy run as the tab shows it: the headline numbers (``StrategyResult.summary()``:
    Sharpe ratios, L/S correlation, annual return, vol and max drawdown in bps, hit ratio) and the
    cumulative P&L of the book and its legs in bps of capital (``dates`` as day numbers)."""

    name: str
    summary: dict
    dates: np.ndarray
    cumulative_bps: dict[str, np.ndarray]

    @classmethod
    def of(cls, result: StrategyResult) -> "StrategyView":
        dates = result.pnl["date"].cast(pa.int32()).to_numpy()
        return cls(result.name, result.summary(), dates,
                   {column: np.cumsum(result.pnl[column].to_numpy()) * 1e4 for column, _ in LEGS})


class Strategies:
    """The strategy layer over a loaded backtest, plus an optional sweep table.

    ``unavailable`` is None when strategies can run, else the one-line reason (no cohort cube).
    """

    def __init__(self, backtest: Backtest, sweep: pa.Table | None = None):
        self.backtest = backtest
        self.sweep = sweep
        self.unavailable = NO_CUBE if getattr(backtest, "cohorts", None) is None else None
        self._context: StrategyContext | None = None
        self._lock = threading.Lock()  # the context's signal cache is not thread-safe; Flask serves threads

    @property
    def context(self) -> StrategyContext:
        """The shared context (grid, cube matrices, signal cache), built on first use."""
        with self._lock:
            if self._context is None:
                self._context = StrategyContext(self.backtest)
            return self._context

    def default_spec(self) -> str:
        """The sweep's best row by Sharpe, else :data:`DEFAULT_SPEC`."""
        if self.sweep is not None and self.sweep.num_rows:
            sharpe = self.sweep["sharpe"].to_numpy(zero_copy_only=False).astype(float) \
                if "sharpe" in self.sweep.column_names else np.zeros(self.sweep.num_rows)
            return str(self.sweep["name"][int(np.nanargmax(np.where(np.isnan(sharpe), -np.inf, sharpe)))])
        return DEFAULT_SPEC

    def run(self, spec: str, inception: str = "entry", amt_multipliers: bool = False, lag: int = 0,
            leverage: float | None = None) -> StrategyView:
        """``straddles.strategy(folder, spec, ...)`` on the shared context. Raises
        :class:`~straddles.StraddlesError` (one line) for a bad spec or option, or without a cube."""
        if self.unavailable:
            raise StraddlesError(self.unavailable)
        context = self.context
        with self._lock:
            result = strategy(None, (spec or "").strip(), leverage=leverage, inception=inception,
                              amt_multipliers=amt_multipliers, lag=lag, context=context)
        return StrategyView.of(result)


def read_sweep(path: str | Path) -> pa.Table:
    """A sweep Parquet file (``straddles sweep --out``): needs a ``name`` column; a one-line error otherwise."""
    path = Path(path)
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise StraddlesError(f"{path}: not a readable sweep Parquet file ({exc})") from None
    if "name" not in table.column_names:
        raise StraddlesError(f"{path}: a sweep file needs a 'name' column (the strategy spec), "
                             f"has {', '.join(table.column_names)}")
    return table


def sweep_for(folder: Path, sweep: str | Path | None) -> pa.Table | None:
    """The sweep to show: ``sweep`` when given, else ``folder/sweep.parquet`` when present, else None."""
    if sweep is not None:
        return read_sweep(sweep)
    default = Path(folder) / SWEEP_FILE
    return read_sweep(default) if default.is_file() else None
