"""The inputs a signal reads (STRATEGY S2): ``pnl``, ``npnl``, ``rnpnl``, ``wpnl``."""

from __future__ import annotations

import numpy as np

from . import nb

#: wpnl's winsorisation: the window (days d−364 … d), quantiles and the fewest values that clip
WINSOR_WINDOW, WINSOR_LOW, WINSOR_HIGH, WINSOR_MIN_COUNT = 365, 0.01, 0.99, 20


def finite(x: np.ndarray) -> np.ndarray:
    """x with every non-finite value (±inf, NaN) as NaN: "no value" (S general rules)."""
    x = np.array(x, dtype=np.float64)
    x[~np.isfinite(x)] = np.nan
    return x


def npnl(P: np.ndarray, V: np.ndarray) -> np.ndarray:
    """P / V: P&L per vol point."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return finite(P / V)


def demeaned(x: np.ndarray) -> np.ndarray:
    """x minus its cross-sectional mean over the assets with a value that day."""
    count = np.sum(~np.isnan(x), axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(x, axis=1, keepdims=True) / count
    return x - mean


def winsorized(x: np.ndarray) -> np.ndarray:
    """x clipped per asset to its own rolling 1 % / 99 % quantiles (O(log w) a day)."""
    return nb.winsorize(np.ascontiguousarray(x), WINSOR_WINDOW, WINSOR_LOW, WINSOR_HIGH, WINSOR_MIN_COUNT)


def compute_input(ctx, name: str) -> np.ndarray:
    """The input matrix ``name`` of the context's backtest (cached)."""
    def build():
        if name == "pnl":
            return ctx.P
        base = npnl(ctx.P, ctx.V)
        if name == "npnl":
            return base
        if name == "rnpnl":
            return demeaned(base)
        return winsorized(compute_input(ctx, "npnl"))
    return ctx.cached(("input", name), build)
