"""How cost grows with the universe: the real AMT cloned 10x and 20x (``straddles.scale.universe``).

For each factor the AMT's assets are cloned under new names and tickers, synthetic prices are
generated for the clone (``straddles synth``, seed 0; kept in ``--work`` and reused, not timed),
and then, one factor at a time:

* the cold price-store build (read, validate, sort, write the cache) as a fresh process: wall
  seconds and peak RSS;
* ``straddles bench`` without processes: the compute stages of a warm in-process run;
* ``straddles backtest`` as fresh processes with warm caches, without and with the day table:
  wall seconds and peak RSS (as ``straddles bench`` measures them).

    python benchmarks/scale.py --amt ../shared/data/amt.yml --factors 1 10 20 --work /tmp/scale

Prints a Markdown table (and writes ``--json``). Memory and time are real at 20x (95 M price rows,
2 GB of day-table Parquet): run one at a time on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from straddles.bench import run_bench
from straddles.scale.universe import clone_universe

#: a cold price-store build in a fresh process, reporting its own peak RSS (VmHWM)
COLD_BUILD = """
import sys, time
from straddles.engine.prices import load_prices
start = time.perf_counter()
store = load_prices(sys.argv[1], cache_dir=sys.argv[2])
seconds = time.perf_counter() - start
peak = next(l.split()[1] for l in open("/proc/self/status").read().splitlines() if l.startswith("VmHWM"))
print(seconds, int(peak) / 1024, store.n_rows)
"""

COMPUTE_STAGES = ("expand straddles", "resolve legs", "kernel", "aggregation")


def universe(amt: Path, factor: int, work: Path, start: int, end: int) -> tuple[Path, Path]:
    """The cloned AMT and its synthetic prices (generated once, then reused)."""
    folder = work / f"x{factor}"
    cloned = clone_universe(amt, factor, folder)
    prices = folder / f"prices_{start}_{end}.parquet"
    if not prices.is_file():
        subprocess.run([sys.executable, "-m", "straddles", "synth", str(cloned), "--start", str(start), "--end",
                        str(end), "--out", str(prices), "--seed", "0"], check=True, stdout=subprocess.DEVNULL)
    return cloned, prices


def cold_build(prices: Path, cache: Path) -> dict:
    if cache.exists():
        for old in cache.glob("*"):
            old.unlink()
    done = subprocess.run([sys.executable, "-c", COLD_BUILD, str(prices), str(cache)], check=True,
                          capture_output=True, text=True)
    seconds, peak, rows = done.stdout.split()
    return {"seconds": float(seconds), "peak_rss_mb": float(peak), "price_rows": int(rows)}


def measure(amt: Path, factor: int, work: Path, start: int, end: int) -> dict:
    cloned, prices = universe(amt, factor, work, start, end)
    row = {"factor": factor, "cold_build": cold_build(prices, work / f"x{factor}" / "cold-cache")}
    bench = run_bench(cloned, start, end, prices=prices, processes=True)
    compute = sum(bench.stages[stage] for stage in COMPUTE_STAGES)
    row.update(n_straddles=bench.n_straddles, n_valued_days=bench.n_valued_days, stages=bench.stages,
               compute_seconds=compute, ns_per_valued_day=compute / bench.n_valued_days * 1e9,
               bench_peak_rss_mb=bench.peak_rss_mb, processes=bench.processes)
    return row


def markdown(rows: list[dict]) -> str:
    lines = ["| universe | straddles | valued days | cold price store | compute | per valued day | aggregation "
             "| process, no days, no cube | process, no days | process, days written |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        runs = row["processes"]
        cold, no_cube, no_days, days = row["cold_build"], runs["backtest --no-days --no-cohorts"], \
            runs["backtest --no-days"], runs["backtest (days written)"]
        lines.append(
            f"| {row['factor']}x | {row['n_straddles']:,} | {row['n_valued_days']:,} "
            f"| {cold['seconds']:.1f} s, {cold['peak_rss_mb']:,.0f} MB ({cold['price_rows'] / 1e6:.1f} M rows) "
            f"| {row['compute_seconds']:.2f} s | {row['ns_per_valued_day']:.0f} ns "
            f"| {row['stages']['aggregation']:.3f} s "
            f"| {process(no_cube)} | {process(no_days)} | {process(days)} |")
    return "\n".join(lines)


def process(run: dict) -> str:
    return f"{run['wall_seconds']:.2f} s ({run['cpu_seconds']:.2f} s CPU), {run['peak_rss_mb']:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amt", required=True, type=Path)
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10, 20])
    parser.add_argument("--work", type=Path, required=True, help="folder for the universes and their prices")
    parser.add_argument("--start", type=int, default=2001)
    parser.add_argument("--end", type=int, default=2026)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    for factor in args.factors:
        started = time.perf_counter()
        rows.append(measure(args.amt.resolve(), factor, args.work, args.start, args.end))
        print(f"{factor}x measured in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
