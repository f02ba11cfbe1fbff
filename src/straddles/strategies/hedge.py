"""The long/short hedge (STRATEGY S6): long weights scaled by an EMA β of the long and short books."""

from __future__ import annotations

import numpy as np

from . import nb
from .context import RISK_WINDOW

#: β needs this many days on which both books have a value
MIN_BETA_DAYS = 20


def global_beta(ctx, W: np.ndarray, inception: str) -> np.ndarray:
    """β per day between the long and the short book of W (all straddles, through the lock)."""
    return beta_of_total(ctx.books(W, inception, scope="total"))


def group_beta(ctx, W: np.ndarray, inception: str) -> np.ndarray:
    """β per day and group from each group's own long and short books: [days, groups]."""
    return beta_of_groups(ctx.books(W, inception, scope="group"))


def beta_of_total(books: dict) -> np.ndarray:
    """:func:`global_beta` from the ``total`` books (a sweep batch computes them together)."""
    return nb.beta(books["long", "pnl"], books["short", "pnl"], RISK_WINDOW, MIN_BETA_DAYS)


def beta_of_groups(books: dict) -> np.ndarray:
    """:func:`group_beta` from the ``group`` books."""
    long_book, short_book = books["long", "pnl"], books["short", "pnl"]
    return np.column_stack([nb.beta(long_book[:, g], short_book[:, g], RISK_WINDOW, MIN_BETA_DAYS)
                            for g in range(long_book.shape[1])])


def hedged(ctx, W0: np.ndarray, mode: str, inception: str) -> np.ndarray:
    """``none``, ``h`` (longs × global β), ``hg`` (longs × their group's β) or ``gah`` (hg, then
    the global β of the hg weights); no normalisation between steps."""
    if mode == "none":
        return W0
    everyone = np.zeros(len(ctx.assets), np.int64)
    if mode == "h":
        return nb.scale_longs(W0, global_beta(ctx, W0, inception)[:, None], everyone)
    W1 = nb.scale_longs(W0, group_beta(ctx, W0, inception), ctx.group)
    if mode == "hg":
        return W1
    return nb.scale_longs(W1, global_beta(ctx, W1, inception)[:, None], everyone)
