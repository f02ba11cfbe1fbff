"""Several strategies' held weights at once, step by step (the sweep's fast path, STRATEGY S8).

:func:`~straddles.strategies.api.strategy_weights` runs one strategy through S2-S6 and sizes a full
weight matrix; a sweep only needs the weight each cohort holds (its final book comes from
:meth:`~straddles.strategies.context.StrategyContext.many_books`). :func:`batch_held` gives, for a
list of specs, exactly ``ctx.held(strategy_weights(ctx, spec, ...), inception)`` of each, bit for
bit, with less work:

* what several specs share is built once per batch: the risk-weighted matrix of an (input,
  signals, rank, arp), its class-risk combine, the hedge's group β of a pre-hedge matrix;
* the books a step needs (class risk, the hedge's group step, its global step) are computed for
  every spec of the batch in one pass over the cube per step, not one pass per spec and step;
* the hedge's scaled matrices and the sized matrix are never formed: the hedge scales the held
  vectors (:func:`~straddles.strategies.nb.scaled_held`), and the last step reads the pre-hedge
  matrix's lock-day rows once (:func:`~straddles.strategies.nb.sized_held`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import nb
from .api import check_lag
from .context import StrategyContext
from .hedge import beta_of_groups, beta_of_total
from .risk import asset_risk, class_risk_of_book
from .signals import check_signals
from .spec import StrategySpec
from .transforms import combine, signal_weights

#: hedges with a group step, and hedges with a global step (S6)
GROUP_STEP, GLOBAL_STEP = ("hg", "gah"), ("h", "gah")


def batch_held(ctx: StrategyContext, specs: Sequence[StrategySpec], inception: str = "entry",
               amt_multipliers: bool = False, lag: int = 0) -> np.ndarray:
    """``float64[len(specs), cohorts]``: row ``i`` is ``ctx.held(strategy_weights(ctx, specs[i],
    inception, amt_multipliers, lag), inception)``, the same numbers bit for bit."""
    check_lag(lag)
    for spec in specs:
        check_signals(ctx, spec.signals)
    lock = ctx.lock(inception)
    lock_row = ctx.cached(("lock row", inception), lambda: lock - ctx.start)  # a cohort's lock day as a grid row
    held_of = {}

    def held(W):  # the matrices live until the end: their ids are unique meanwhile
        if id(W) not in held_of:
            held_of[id(W)] = ctx.held(W, inception)
        return held_of[id(W)]

    # S4-S5 up to class risk, once per (input, signals, rank, arp)
    risked = {}
    for spec in specs:
        key = (spec.input, spec.signals, spec.rank, spec.arp)
        if key not in risked:
            W = signal_weights(ctx, spec.input, spec.signals, spec.rank, lag)
            risked[key] = W if spec.arp == "none" else combine(W, asset_risk(ctx, spec.arp))
    # class risk: every such matrix's group book in one pass
    classed = _by_step(ctx, {key: held(risked[key]) for key in
                             dict.fromkeys((s.input, s.signals, s.rank, s.arp) for s in specs if s.crp == "abs")},
                       "group")
    prehedge = {}
    for spec in specs:
        key = (spec.input, spec.signals, spec.rank, spec.arp, spec.crp)
        if key not in prehedge:
            W = risked[key[:-1]]
            if spec.crp == "abs":
                W = combine(W, class_risk_of_book(ctx, classed[key[:-1]]["all", "pnl"]))
            prehedge[key] = combine(W, ctx.multipliers[None, :]) if amt_multipliers else W
    # the hedge's group step: every pre-hedge matrix that needs it, one pass
    keys = {spec: (spec.input, spec.signals, spec.rank, spec.arp, spec.crp) for spec in specs}
    grouped = _by_step(ctx, {keys[s]: held(prehedge[keys[s]]) for s in specs if s.hedge in GROUP_STEP},
                       "group")
    group_beta = {key: beta_of_groups(books) for key, books in grouped.items()}
    # the global step, on the pre-hedge weights (h) or on the group step's (gah), one pass
    asset_group = ctx.scope("group")[0]
    step = {}
    for spec in specs:
        if spec.hedge in GLOBAL_STEP and (keys[spec], spec.hedge) not in step:
            vector = held(prehedge[keys[spec]])
            if spec.hedge == "gah":
                vector = nb.scaled_held(vector, group_beta[keys[spec]], asset_group, lock_row)
            step[keys[spec], spec.hedge] = vector
    global_beta = {key: beta_of_total(books)[:, None] for key, books in _by_step(ctx, step, "total").items()}
    # size each spec's hedged weights and read them at the lock days
    none = np.zeros((1, 1))
    out = np.empty((len(specs), len(ctx.cohorts)))
    order = ctx.cached("lock order", ctx.cohorts.lock_order)
    first = ctx.cached(("lock groups", inception), lambda: nb.lock_groups(lock, order))
    for i, spec in enumerate(specs):
        key = keys[spec]
        nb.sized_held(prehedge[key], ctx.start, lock, ctx.cohorts.asset, order, first, group_beta.get(key, none),
                      ctx.group, spec.hedge in GROUP_STEP, global_beta.get((key, spec.hedge), none),
                      spec.hedge in GLOBAL_STEP, out[i])
    return out


def _by_step(ctx: StrategyContext, vectors: dict, scope: str) -> dict:
    """The ``pnl`` books of each held vector in ``vectors`` over ``scope``, from one cube pass."""
    if not vectors:
        return {}
    return dict(zip(vectors, ctx.many_books(np.stack(list(vectors.values())), scope)))
