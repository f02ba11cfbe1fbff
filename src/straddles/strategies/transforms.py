"""Cross-sectional transforms (STRATEGY S4): rank, grank, raw, sumabs, combining signals, lag."""

from __future__ import annotations

import numpy as np

from . import nb
from .signals import compute_signal
from .spec import Signal


def ranked(ctx, x: np.ndarray, mode: str) -> np.ndarray:
    """``rank`` (all assets) or ``grank`` (within the AMT group) in [−1, 1]; ``raw``: x itself."""
    if mode == "raw":
        return x
    members, offsets = ctx.rank_groups[mode]
    return nb.rank(np.ascontiguousarray(x), members, offsets)


def combine(w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """``(w1·w2) / Σ|w1·w2|`` per day (S5); w2 may be one row (per asset) for every day."""
    return nb.combine(np.ascontiguousarray(w1), np.ascontiguousarray(np.atleast_2d(w2)))


def lagged(x: np.ndarray, k: int) -> np.ndarray:
    """x shifted ``k`` days later (the first k days have no value)."""
    if k == 0:
        return x
    out = np.full(x.shape, np.nan)
    if k < len(x):
        out[k:] = x[:-k]
    return out


def signal_weights(ctx, input_name: str, signals: tuple[str, ...], rank_mode: str, lag: int = 0) -> np.ndarray:
    """S4: ``sumabs(rank_or_raw(signal))`` for one signal; ``sumabs(Σ s_i)`` (NaN as 0) for several."""
    def one(signal: str) -> np.ndarray:
        key = ("weights", input_name, signal, rank_mode)
        return ctx.cached(key, lambda: nb.sumabs(ranked(ctx, compute_signal(ctx, input_name, Signal.parse(signal)),
                                                        rank_mode)))
    def several() -> np.ndarray:
        return nb.sumabs(sum(np.nan_to_num(one(signal), nan=0.0) for signal in signals))

    weights = one(signals[0]) if len(signals) == 1 else ctx.cached(("weights", input_name, tuple(signals), rank_mode),
                                                                    several)
    return lagged(weights, lag)
