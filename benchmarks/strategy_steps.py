"""Where one hedged strategy's time goes (STRATEGY S8): its steps timed one by one, in order.

    python benchmarks/strategy_steps.py FOLDER [SPEC] [--repeat N]

``FOLDER`` is a backtest results folder with its cohort cube; ``SPEC`` a strategy with class risk
``none`` (default ``npnl:mac.180.30+srp.365:grank:ivol:none:gah``). The steps are those
:func:`~straddles.strategies.batch.batch_held` and :func:`~straddles.strategies.sweep.run_batch`
run for it (the risk combine, the held weights, the hedge's cube passes and β, the sizing, the
final books, the statistics), called the same way, once the strategy's signals exist. Each step is
timed inside a full run, so that it sees the caches the earlier steps left; prints the best and
the median of ``--repeat`` runs per step. BENCHMARKS.md quotes it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from straddles.strategies import nb
from straddles.strategies.api import daily_pnl
from straddles.strategies.batch import GLOBAL_STEP, GROUP_STEP
from straddles.strategies.context import StrategyContext
from straddles.strategies.hedge import beta_of_groups, beta_of_total
from straddles.strategies.risk import asset_risk
from straddles.strategies.spec import StrategySpec
from straddles.strategies.sweep import headline, run_batch
from straddles.strategies.transforms import combine, signal_weights


def steps(ctx: StrategyContext, spec: StrategySpec, asset_group: np.ndarray):
    """One run of the strategy's steps (``asset_group``: each cohort's group); yields each step's
    name when it is done."""
    use_group, use_total = spec.hedge in GROUP_STEP, spec.hedge in GLOBAL_STEP
    W = signal_weights(ctx, spec.input, spec.signals, spec.rank)
    W = W if spec.arp == "none" else combine(W, asset_risk(ctx, spec.arp))
    yield "risk combine"
    held = ctx.held(W, "entry")
    yield "held weights"
    none, lock = np.zeros((1, 1)), ctx.lock("entry")
    group_beta = total_beta = none
    if use_group:
        books = ctx.many_books(held[None], "group")[0]
        yield "cube pass: group books"
        group_beta = beta_of_groups(books)
        yield "group beta"
    if use_total:
        vector = nb.scaled_held(held, group_beta, asset_group, lock - ctx.start) if use_group else held
        yield "scaled held weights"
        books = ctx.many_books(vector[None], "total")[0]
        yield "cube pass: total books"
        total_beta = beta_of_total(books)[:, None]
        yield "global beta"
    order = ctx.cached("lock order", ctx.cohorts.lock_order)
    first = ctx.cached(("lock groups", "entry"), lambda: nb.lock_groups(lock, order))
    sized = nb.sized_held(W, ctx.start, lock, ctx.cohorts.asset, order, first, group_beta, ctx.group, use_group,
                          total_beta, use_total, np.empty(len(ctx.cohorts)))
    yield "sizing"
    books = ctx.many_books(sized[None], "total")[0]
    yield "cube pass: final books"
    headline(ctx.dates, daily_pnl({key: value * ctx.default_leverage for key, value in books.items()}))
    yield "statistics"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("spec", nargs="?", default="npnl:mac.180.30+srp.365:grank:ivol:none:gah")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    spec = StrategySpec.parse(args.spec)
    if spec.crp != "none":
        parser.error("the steps are timed for class risk 'none'")
    ctx = StrategyContext(args.folder)
    run_batch(ctx, [spec])  # its signals now exist
    asset_group = ctx.scope("group")[0]
    times: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        start = last = time.perf_counter()
        for name in steps(ctx, spec, asset_group):
            now = time.perf_counter()
            times.setdefault(name, []).append(now - last)
            last = now
        times.setdefault("all steps", []).append(last - start)
    for name, runs in times.items():
        print(f"{name:24s} best {min(runs) * 1e3:6.2f} ms, median {np.median(runs) * 1e3:6.2f} ms")


if __name__ == "__main__":
    main()
