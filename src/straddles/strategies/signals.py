"""Signals along time, per asset (STRATEGY S3): mac, srp, sign, clm, vol and AMT rows."""

from __future__ import annotations

import numpy as np

from ..errors import StrategyError
from . import nb
from .inputs import compute_input, finite
from .recursion import parse_signal_row, run_program
from .spec import Signal


def compute_signal(ctx, input_name: str, signal: Signal) -> np.ndarray:
    """The signal matrix of ``signal`` on the input ``input_name`` (cached per pair)."""
    return ctx.cached(("signal", input_name, str(signal)), lambda: _signal(ctx, compute_input(ctx, input_name), signal))


def _signal(ctx, x: np.ndarray, signal: Signal) -> np.ndarray:
    x = np.ascontiguousarray(x)
    if signal.kind == "mac":
        slow, fast = signal.windows
        c = nb.cumulative(x)
        return finite(nb.ema(c, fast) - nb.ema(c, slow))
    if signal.kind == "srp":
        (n,) = signal.windows
        with np.errstate(invalid="ignore", divide="ignore"):
            return finite(nb.ema(x, n) / nb.ema(np.abs(x), n))
    if signal.kind == "sign":
        return finite(nb.ema(np.sign(x), signal.windows[0]))
    if signal.kind == "clm":
        return nb.calmar(nb.cumulative(x))
    if signal.kind == "vol":
        started = np.maximum.accumulate(~np.isnan(x), axis=0)
        return np.where(started, -ctx.V, np.nan)
    return finite(_amt_row(ctx, x, signal.name))


def check_signals(ctx, signals) -> None:
    """Raise for a signal naming no row of the AMT's ``signal_table`` (before anything runs)."""
    for text in signals:
        signal = Signal.parse(text)
        if signal.kind == "amt" and signal.name not in ctx.signal_rows:
            known = ", ".join(sorted(ctx.signal_rows)) or "none"
            raise StrategyError(f"strategy: no AMT signal_table row named {signal.name!r} (rows: {known})")


def _amt_row(ctx, x: np.ndarray, name: str) -> np.ndarray:
    def program():
        row = ctx.signal_rows[name]
        where = f"{ctx.settings.get('amt') or 'AMT'}: signal_table"
        return parse_signal_row(str(row[0]), str(row[1]), str(row[2] if len(row) > 2 else ""), where=where)
    return run_program(ctx.cached(("program", name), program), x)
