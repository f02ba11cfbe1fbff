"""Time the strategy layer on a backtest folder (STRATEGY S8), beside the direct day-row sum.

    python benchmarks/strategy.py AMT PRICES START END FOLDER [--repeat N]

1. ``backtest --no-days`` in-process with and without the cohort cube (the cube's stage time and
   the extra kernel pass), best of ``--repeat``;
2. loading the folder's cube and building the strategy context (P, V, groups);
3. one weight matrix through the lock: the cube's books against the direct day-row sum over
   ``FOLDER/days.parquet`` read one row group at a time (the reference, S1.5), and their largest
   difference;
4. per-strategy time once its signals exist (``run_batch`` of that one strategy, best of at least
   5, wall and CPU), and the bundled grid's sweep end to end;
5. or with ``--batch N``, instead of 3-4: N random grid strategies, one cube pass each for their final books against
   :func:`run_batch` (one shared pass), alternating, best of ``--repeat``, and whether the
   Sharpe ratios are identical.

Prints one line per measurement; BENCHMARKS.md quotes them.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

import straddles
from straddles.strategies import reference as ref
from straddles.strategies.api import book_series, daily_pnl, strategy_weights
from straddles.strategies.context import StrategyContext
from straddles.strategies.spec import StrategySpec
from straddles.strategies.spec import grid_specs
from straddles.strategies.sweep import headline, load_grid, run_batch, sweep


def best(function, repeat: int):
    """(best wall seconds, the result of that run)."""
    best_seconds, best_result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        seconds = time.perf_counter() - start
        if seconds < best_seconds:
            best_seconds, best_result = seconds, result
    return best_seconds, best_result


def compare_batch(ctx: StrategyContext, size: int, repeat: int) -> None:
    """``size`` random grid strategies: a cube pass per strategy vs run_batch's shared pass."""
    specs = grid_specs(load_grid(straddles.example_grid_path()))
    batch = [specs[i] for i in np.random.default_rng(0).choice(len(specs), min(size, len(specs)), replace=False)]
    run_batch(ctx, batch)  # signals cached: both sides then time the same work

    def one_pass_each():
        return [headline(ctx.dates, daily_pnl(book_series(ctx, strategy_weights(ctx, spec), "entry",
                                                          ctx.default_leverage)))["sharpe"] for spec in batch]

    def shared_pass():
        return run_batch(ctx, batch)["sharpe"].to_pylist()

    times, sharpe = {}, {}
    for _ in range(repeat):  # alternate, so that both see the same load
        for name, function in (("one pass each", one_pass_each), ("shared pass", shared_pass)):
            wall, cpu = time.perf_counter(), time.process_time()
            sharpe[name] = np.array(function(), float)
            times.setdefault(name, []).append((time.perf_counter() - wall, time.process_time() - cpu))
    for name, runs in times.items():
        print(f"{len(batch)} grid strategies, final books {name}: best {min(r[0] for r in runs):.2f} s wall, "
              f"{min(r[1] for r in runs):.2f} s CPU")
    print(f"identical Sharpe ratios: {np.array_equal(*sharpe.values(), equal_nan=True)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("amt"), parser.add_argument("prices")
    parser.add_argument("start", type=int), parser.add_argument("end", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-backtest", action="store_true", help="only the strategy measurements")
    parser.add_argument("--batch", type=int, default=0, help="only compare per-strategy and shared final-book passes (5)")
    args = parser.parse_args()

    for cohorts in () if args.skip_backtest else (False, True):
        seconds, result = best(lambda: straddles.backtest(args.amt, args.prices, args.start, args.end, days=False,
                                                          cohorts=cohorts), args.repeat)
        stages = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
        print(f"backtest --no-days, cohorts={cohorts}: {seconds:.2f} s ({stages})")
    seconds, backtest = best(lambda: straddles.load_backtest(args.folder, days=False), args.repeat)
    print(f"load folder (with cohorts.arrow): {seconds:.2f} s")
    cube = backtest.cohorts
    print(f"cube: {len(cube):,} cohorts, {cube.n_cells:,} cells, "
          f"{int(cube.day_offset[-1]):,} asset-days, {cube.nbytes / 1e6:,.0f} MB")

    seconds, ctx = best(lambda: StrategyContext(backtest), args.repeat)
    print(f"strategy context (P, V, groups): {seconds:.2f} s; grid {ctx.shape}")
    if args.batch:
        return compare_batch(ctx, args.batch, args.repeat)

    spec = StrategySpec.parse("npnl:mac.180.30+srp.365:grank:ivol:none:gah")
    W = strategy_weights(ctx, spec)
    cube_seconds, books = best(lambda: ctx.books(W, "entry"), args.repeat)
    days = args.folder / "days.parquet"
    if days.exists():
        full = straddles.load_backtest(args.folder, days=False)
        direct_seconds, direct = best(lambda: ref.direct_books_streamed(full.straddles, days, ctx.assets, W, ctx.start,
                                                                       ctx.start, ctx.n_days), 1)
        diff = np.nanmax(np.abs(books["all", "pnl"] - direct))
        same_nan = bool((np.isnan(books["all", "pnl"]) == np.isnan(direct)).all())
        print(f"one weight matrix through the lock: cube {cube_seconds * 1e3:.1f} ms, direct day-row sum "
              f"{direct_seconds:.2f} s; max |difference| {diff:.1e}, same missing cells {same_nan}")
    else:
        print(f"one weight matrix through the lock: cube {cube_seconds * 1e3:.1f} ms ({days} absent: no direct sum)")

    grid = load_grid(straddles.example_grid_path())
    start, cpu = time.perf_counter(), time.process_time()
    table = sweep(backtest, grid, context=StrategyContext(backtest))
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    ms = table["ms"].to_numpy()
    print(f"sweep of the bundled grid: {table.num_rows} strategies in {total:.1f} s end to end, {cpu:.1f} s of CPU "
          f"(context included); per strategy median {np.median(ms):.0f} ms, min {ms.min():.0f} ms")
    for name in (spec, "npnl:mac.180.30:rank:none:none:none"):
        run_batch(ctx, [name])  # its signals now exist
        walls, cpus = [], []
        for _ in range(max(args.repeat, 5)):  # one batch of one each time: nothing shared between runs
            wall, cpu = time.perf_counter(), time.process_time()
            run_batch(ctx, [name])
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        print(f"one strategy once its signals exist ({name}): best {min(walls) * 1e3:.1f} ms wall, "
              f"best {min(cpus) * 1e3:.1f} ms CPU (both threads), of {len(walls)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
