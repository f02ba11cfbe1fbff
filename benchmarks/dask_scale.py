"""Scale benchmark (issue 12): a cloned universe on one process vs a local Dask cluster.

Measures, on a universe made by :func:`straddles.scale.universe.clone_universe` and its synthetic
prices (``straddles synth``):

* the backtest in one process (``scheduler=None``) and partitioned on ``local:N`` (the cluster is
  started once and not timed; each run is timed from the call to the written files), best of
  ``--repeat`` runs, warm caches (JIT and memory-mapped prices) for both;
* the per-task overhead: a Dask round trip of no-op tasks, and a partitioned run's fixed cost per
  task (expanding one asset, copying its series out of the price cache, a 1-asset kernel run);
* the peak RSS of every worker process (VmHWM) and of this process;
* the tasks' timings, so that a projection to larger universes rests on measured throughput.

    python benchmarks/dask_scale.py --amt big/amt.yml --prices big/prices.parquet --workers 2 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import straddles
from straddles.engine.straddle_table import build_straddles
from straddles.scale import partition


def peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line.split()[1] for line in status if line.startswith("VmHWM"))) / 1024


def best(function, repeat: int) -> tuple[float, object, list[float]]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result, times


def _noop(x):
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--amt", required=True)
    parser.add_argument("--prices", required=True)
    parser.add_argument("--start", type=int, default=2001)
    parser.add_argument("--end", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", action="store_true", help="also write the day table")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from distributed import Client

    from straddles.scale.executor import local_cluster

    amt = straddles.load_amt(args.amt)
    frame = build_straddles(amt, args.start, args.end)
    report = {"amt": args.amt, "assets": len(frame.assets), "straddles": len(frame),
              "straddle_days": frame.n_days(), "workers": args.workers, "days": args.days}
    straddles.load_prices(args.prices)  # the memory-mapped cache, for both sides
    out = Path(tempfile.mkdtemp(prefix="dask-scale-"))

    def single():
        return straddles.backtest(amt, args.prices, args.start, args.end, days=args.days, out=out / "one")

    single()  # JIT cache load
    report["single_seconds"], result, report["single_runs"] = best(single, args.repeat)
    report["single_timings"] = result.timings
    report["valued_days"] = int(result.straddles["n_days"].to_numpy().sum())

    start = time.perf_counter()
    cluster = local_cluster(args.workers)  # NUMBA_NUM_THREADS = cores / workers
    client = Client(cluster)
    report["cluster_start_seconds"] = time.perf_counter() - start
    try:
        futures = client.map(_noop, range(200), pure=False)
        client.gather(futures)  # warm
        start = time.perf_counter()
        client.gather(client.map(_noop, range(200), pure=False))
        report["dask_noop_task_ms"] = (time.perf_counter() - start) / 200 * 1000

        def distributed():
            return straddles.backtest(amt, args.prices, args.start, args.end, days=args.days, out=out / "dask",
                                      scheduler=client)

        distributed()  # JIT cache load in the workers
        report["dask_seconds"], result, report["dask_runs"] = best(distributed, args.repeat)
        report["dask_timings"] = result.timings
        parts = partition.plan_parts(frame, args.start, args.end, args.days, None)
        report["tasks"] = len(parts)

        one_asset = partition.plan_parts(build_straddles(amt, args.start, args.end, pattern="^SPY US Equity$"),
                                         args.start, args.end, False, None)
        prices = os.path.abspath(args.prices)
        start = time.perf_counter()
        for _ in range(5):
            partition.run_part(one_asset[0], amt, None, prices)
        report["task_fixed_cost_ms"] = (time.perf_counter() - start) / 5 * 1000
        report["worker_peak_rss_mb"] = list(client.run(peak_rss_mb).values())
    finally:
        client.close()
        cluster.close()
    report["client_peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
