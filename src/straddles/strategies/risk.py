"""Risk weighting (STRATEGY S5): asset risk ``arp``, class risk ``crp``, AMT group multipliers."""

from __future__ import annotations

import numpy as np

from . import nb
from .context import RISK_WINDOW
from .inputs import compute_input, finite
from .transforms import combine


def asset_risk(ctx, arp: str) -> np.ndarray:
    """The asset risk weights of ``arp`` (always on npnl), normalised by sumabs; cached."""
    def build():
        x = compute_input(ctx, "npnl")
        with np.errstate(invalid="ignore", divide="ignore"):
            if arp == "none":
                inverse = np.ones(ctx.shape)
            elif arp == "ivol":
                inverse = 1.0 / ctx.V
            elif arp == "abs":
                inverse = 1.0 / ctx.ema(np.abs(x), RISK_WINDOW)
            else:  # std
                inverse = 1.0 / np.sqrt(ctx.ema(x * x, RISK_WINDOW) - ctx.ema(x, RISK_WINDOW) ** 2)
        return nb.sumabs(finite(inverse))
    return ctx.cached(("arp", arp), build)


def class_risk(ctx, W: np.ndarray, inception: str) -> np.ndarray:
    """``crp=abs``: per group, 1/EMA_365(|group book of W|), sumabs over groups, per asset."""
    return class_risk_of_book(ctx, ctx.books(W, inception, scope="group")["all", "pnl"])


def class_risk_of_book(ctx, book: np.ndarray) -> np.ndarray:
    """:func:`class_risk` from the group book ``[days, groups]`` (a sweep batch computes them together)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        inverse = finite(1.0 / ctx.ema(np.abs(book), RISK_WINDOW))
    return np.ascontiguousarray(nb.sumabs(inverse)[:, ctx.group])


def risk_weighted(ctx, signal: np.ndarray, arp: str, crp: str, inception: str, amt_multipliers: bool) -> np.ndarray:
    """S5 in order: signal × asset risk, × class risk, × the AMT multipliers (each a combine)."""
    W = signal if arp == "none" else combine(signal, asset_risk(ctx, arp))
    if crp == "abs":
        W = combine(W, class_risk(ctx, W, inception))
    if amt_multipliers:
        W = combine(W, ctx.multipliers[None, :])
    return W
