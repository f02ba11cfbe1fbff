"""Everything a strategy reads, loaded once per backtest: the grid, the cube, P and V, groups,
the AMT settings, and a cache of the matrices strategies share (inputs, signals, risk).

A sweep builds one :class:`StrategyContext` and runs every strategy against it; the cache makes
each (input, signal, rank) signal computed once (S7).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..engine.pipeline import Backtest, as_backtest, load_backtest
from ..errors import StrategyError
from . import nb
from .cube import INCEPTIONS, Cohorts, base_matrices, many_books

#: EMA window of the risk estimates (S5) and of the hedge's moments (S6)
RISK_WINDOW = 365
#: what a book sums over: each asset, each AMT group, or everything
SCOPES = ("asset", "group", "total")


class StrategyContext:
    """The grid of S1.1 (every calendar day of the asset P&L range x the selected assets in AMT
    order) and what strategies on it share.

    ``P``, ``V`` (S2) and ``has`` (the asset has a pnl that day) are ``[days, assets]``; ``group``
    is each asset's group index into ``groups`` (sorted names).
    """

    def __init__(self, source: Backtest | str):
        backtest = load_backtest(source, days=False) if isinstance(source, (str, Path)) else as_backtest(source)
        cohorts = getattr(backtest, "cohorts", None)
        if cohorts is None:
            raise StrategyError("strategy: the backtest has no cohort cube (run it again with this version: "
                                "straddles backtest ... --out DIR writes cohorts.arrow)")
        self.backtest = backtest
        self.cohorts: Cohorts = cohorts
        self.assets: list[str] = backtest.assets["asset"].to_pylist()
        self.groups, self.group = np.unique(np.array(backtest.assets["group"].to_pylist(), dtype=object),
                                            return_inverse=True)
        self.groups = [str(g) for g in self.groups]
        self.group = self.group.astype(np.int64)
        day_range = cohorts.day_range()
        if day_range is None:
            raise StrategyError("strategy: the backtest has no straddle with a pnl")
        self.start, end = day_range
        self.n_days = end - self.start + 1
        self.dates = np.arange(self.start, end + 1, dtype=np.int32)
        self.P, self.V = base_matrices(cohorts, self.start, self.n_days, len(self.assets))
        self.has = ~np.isnan(self.P)
        #: each cohort's entry (its first day) as a grid row, what every cube pass reads
        self.entry_row = cohorts.entry.astype(np.int64) - self.start
        settings = cohorts.settings
        self.settings = settings
        multipliers = settings.get("group_risk_multipliers") or {}
        self.multipliers = np.array([multipliers.get(self.groups[g], 1.0) for g in self.group])
        self.default_leverage = settings.get("leverage") or 1.0
        self.default_capital = settings.get("aum") or 1.0
        self.signal_rows = {str(row[0]): row for row in settings.get("signal_table") or []}
        # group membership as CSR arrays for the compiled ranks: all assets in one group, or by AMT group
        order = np.argsort(self.group, kind="stable")
        self.rank_groups = {
            "rank": (np.arange(len(self.assets), dtype=np.int64), np.array([0, len(self.assets)], np.int64)),
            "grank": (order.astype(np.int64),
                      np.searchsorted(self.group[order], np.arange(len(self.groups) + 1)).astype(np.int64)),
        }
        self._cache: dict = {}
        # per scope: each cohort's bucket, the number of buckets, and where a bucket has a pnl
        self._scopes = {
            "asset": (cohorts.asset.astype(np.int64), len(self.assets), self.has),
            "group": (self.group[cohorts.asset], len(self.groups),
                      np.column_stack([self.has[:, self.group == g].any(axis=1) for g in range(len(self.groups))])),
            "total": (np.zeros(len(cohorts), np.int64), 1, self.has.any(axis=1)[:, None]),
        }

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_days, len(self.assets)

    def scope(self, scope: str) -> tuple[np.ndarray, int, np.ndarray]:
        """What a book over ``scope`` (:data:`SCOPES`) sums: each cohort's bucket, the number of
        buckets, and where each bucket has a pnl (``bool[days, buckets]``)."""
        return self._scopes[scope]

    def cached(self, key, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The value stored under ``key``, computed once."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def lock(self, inception: str) -> np.ndarray:
        if inception not in INCEPTIONS:
            raise StrategyError(f"strategy: inception must be one of {', '.join(INCEPTIONS)}, got {inception!r}")
        return self.cached(("lock", inception), lambda: self.cohorts.lock_days(inception))

    def values(self, columns: tuple[str, ...]) -> np.ndarray:
        """The cube columns stacked as ``float64[n_cols, n_cells]`` (cached; one column is a view
        of the cube, not a copy; read-only when the cube was read from a file)."""
        def stacked():
            if len(columns) == 1:
                return self.cohorts.columns[columns[0]][None, :]
            return np.stack([self.cohorts.columns[c] for c in columns])

        return self.cached(("values", tuple(columns)), stacked)

    def books(self, W: np.ndarray, inception: str, columns=("pnl",), scope: str = "asset",
              origin: int | None = None) -> dict:
        """Books of W through the lock (S1.4) per asset, group or in total: ``{(side, column):
        [days, buckets]}`` (``[days]`` for ``total``) with side ``long``, ``short`` and ``all``,
        NaN where no straddle of the bucket has a pnl. ``origin`` is W's first day (default: the
        grid's)."""
        return self.many_books(self.held(W, inception, origin)[None, :], scope, columns)[0]

    def held(self, W: np.ndarray, inception: str, origin: int | None = None) -> np.ndarray:
        """The weight each cohort holds under W through the lock (S1.3): ``float64[cohorts]``."""
        order = self.cached("lock order", self.cohorts.lock_order)
        return nb.cohort_weights(W, self.start if origin is None else origin, self.lock(inception),
                                 self.cohorts.asset, order)

    def many_books(self, held: np.ndarray, scope: str = "asset", columns=("pnl",)) -> list[dict]:
        """:meth:`books` of several weight matrices, one dict each, from one pass over the cube
        (a sweep's final books): ``held[m]`` is :meth:`held` of matrix ``m``, so a batch keeps one
        small vector per strategy instead of its matrix."""
        bucket, n_buckets, has = self._scopes[scope]
        long_, short = many_books(self.cohorts, held, self.start, self.n_days, self.values(tuple(columns)),
                                  bucket, n_buckets, self.entry_row)
        results = []
        for m in range(len(held)):
            out = {}
            for k, column in enumerate(columns):
                sides = {"long": long_[m, k].T, "short": short[m, k].T}
                sides["all"] = sides["long"] + sides["short"]
                for side, value in sides.items():
                    value = np.where(has, value, np.nan)
                    out[side, column] = value[:, 0] if scope == "total" else value
            results.append(out)
        return results

    def ema(self, x: np.ndarray, n: int = RISK_WINDOW) -> np.ndarray:
        return nb.ema(np.ascontiguousarray(x), n)
