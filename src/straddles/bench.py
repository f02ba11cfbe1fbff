"""The benchmark harness behind ``straddles bench``: where a backtest spends its time.

:func:`run_bench` runs the backtest twice in this process (the first run compiles the kernel or
loads it from numba's disk cache, and reads the price source cold), then reports the second run
stage by stage. In the same run it times

* the price store cold (parse, validate, sort, write the cache) and cached (memory-map);
* the **pricing floor**: a plain NumPy vectorized ES valuation (SPEC 11.2) over as many
  straddle-days as the kernel valued, with every input already gathered in arrays; the kernel
  does all of that plus finding the days, rolling prices, P&L and aggregation;
* the whole ``straddles backtest`` command as fresh processes (wall time and peak RSS): without
  the day table and the cohort cube, with the cube (the default), with the day table; and the
  **fixed cost** of a process, the same command for one asset and one expiry year (start-up,
  imports, loading the cached kernel, the tables and the summary, with almost nothing to compute).
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .engine.outputs import atomic_path
from .engine.pipeline import backtest
from .engine.straddle_table import build_straddles
from .engine.prices import load_prices, write_prices

# Cephes ndtr/erf/erfc coefficients: double-precision N(x) from NumPy ufuncs alone
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_ERFC_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)
_SQRTH = 0.70710678118654752440
#: straddle-days the pricing floor values at most (see :func:`pricing_floor`)
FLOOR_SAMPLE = 10_000_000


@dataclass
class BenchResult:
    """Everything ``straddles bench`` prints, also written as JSON with ``--json``."""

    amt: str
    years: tuple[int, int]
    prices: str
    n_straddles: int
    n_straddle_days: int
    n_valued_days: int
    first_run_seconds: float
    stages: dict[str, float]
    prices_cold_seconds: float
    prices_cached_seconds: float
    floor_seconds: float
    kernel_over_floor: float
    straddles_per_second: float
    straddle_days_per_second: float
    peak_rss_mb: float
    processes: dict[str, dict[str, float]] = field(default_factory=dict)


def run_bench(amt_path: str | Path, start_year: int = 2001, end_year: int = 2026, prices=None, synth: bool = False,
              seed: int = 0, days: bool = False, processes: bool = True, greeks: bool = False,
              costs: bool = False) -> BenchResult:
    """Benchmark a backtest of ``amt_path`` over the expiry years (see the module docstring).

    ``prices`` is a price source path; with ``synth=True`` synthetic prices are generated first
    (not timed). ``days`` also materializes and writes the day table in the timed runs;
    ``greeks`` and ``costs`` (the AMT's Slippage) turn those SPEC 17/18 options on in them.
    """
    amt_path = Path(amt_path)
    with tempfile.TemporaryDirectory(prefix="straddles-bench-") as scratch:
        scratch = Path(scratch)
        if synth:
            from .synth import synthesize
            prices = scratch / "prices.parquet"
            write_prices(synthesize(amt_path, start_year, end_year, seed=seed), prices)
        if prices is None:
            raise ValueError("bench needs a price source (prices=...) or synth=True")
        cache_root = scratch / "cache"  # the child processes get it as STRADDLES_CACHE_DIR
        cache_dir = cache_root / "prices"

        start = time.perf_counter()
        cold = _load_timed(prices, cache_dir)
        prices_cold_seconds = cold[1]
        options = dict(days=days, greeks=greeks, costs=costs or None)
        _timed_run(amt_path, cold[0], start_year, end_year, scratch / "out1", **options)
        first_run = time.perf_counter() - start
        del cold  # the first run's store and results go before the second run (memory at 20x)
        cached = _load_timed(prices, cache_dir)
        stages, result = _timed_run(amt_path, cached[0], start_year, end_year, scratch / "out2", **options)

        n_valued = int(result.straddles["n_days"].to_numpy().sum())
        frame = build_straddles(amt_path, start_year, end_year)
        n_days = frame.n_days()  # every calendar day of every span
        floor = pricing_floor(n_valued)
        stages = {"load price store (cached)" if name == "load price store" else name: seconds
                  for name, seconds in stages.items()}
        stages["load price store (cached)"] = cached[1]
        total = sum(stages.values())
        bench = BenchResult(
            amt=str(amt_path), years=(start_year, end_year), prices=str(prices) if not synth else "synthetic",
            n_straddles=result.straddles.num_rows, n_straddle_days=n_days, n_valued_days=n_valued,
            first_run_seconds=first_run, stages=stages, prices_cold_seconds=prices_cold_seconds,
            prices_cached_seconds=cached[1], floor_seconds=floor,
            kernel_over_floor=stages["kernel"] / floor if floor else float("nan"),
            straddles_per_second=result.straddles.num_rows / total, straddle_days_per_second=n_days / total,
            peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        )
        del result, cached  # the fresh processes below should not share the machine with them
        if processes:
            bench.processes = _process_runs(amt_path, prices, start_year, end_year, frame.assets[0].underlying, scratch,
                                            cache_root)
        return bench


def _load_timed(prices, cache_dir: Path):
    start = time.perf_counter()
    store = load_prices(prices, cache_dir=cache_dir)
    return store, time.perf_counter() - start


def _timed_run(amt_path: Path, store, start_year: int, end_year: int, out: Path, **options):
    """One backtest writing its outputs (days streamed, as the CLI does), with its stage times."""
    result = backtest(amt_path, store, start_year, end_year, out=out, **options)
    return result.timings, result


def pricing_floor(n: int, repeat: int = 2) -> float:
    """Best-of-``repeat`` seconds of a plain NumPy ES valuation (mv and delta) of ``n`` straddle-days
    whose inputs (S, X, v, t) are already gathered in arrays.

    The inputs are drawn once, deterministically, in realistic ranges; timing only covers the
    valuation. Beyond :data:`FLOOR_SAMPLE` days the time of that many is scaled up (it is linear;
    NumPy's temporaries for 160 M days at 20x would take about 10 GB). N(x) is the Cephes double-precision algorithm written with NumPy ufuncs (NumPy has
    no erf), so the floor computes what the kernel computes, at the same precision.
    """
    if n == 0:
        return 0.0
    sample = min(n, FLOOR_SAMPLE)
    rng = np.random.default_rng(0)
    X = rng.uniform(50, 150, sample)
    S = X * np.exp(rng.normal(0, 0.05, sample))
    v = rng.uniform(5, 60, sample)
    t = rng.integers(0, 92, sample).astype(np.float64)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        es_value_numpy(S, X, v, t)
        best = min(best, time.perf_counter() - start)
    return best * n / sample


def es_value_numpy(S: np.ndarray, X: np.ndarray, v: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SPEC 11.2 ES (mv, delta) vectorized with NumPy; t = 0 rows are intrinsic."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tv = (v / 100.0) * np.sqrt(t / 365.0)
        d1 = np.log(S / X) / tv + 0.5 * tv
        n1 = 2.0 * norm_cdf_numpy(d1) - 1.0
        n2 = 2.0 * norm_cdf_numpy(d1 - tv) - 1.0
        expired = t == 0
        mv = np.where(expired, np.abs(S - X) / X, (S * n1 - X * n2) / X)
        delta = np.where(expired, np.where(S >= X, 1.0, -1.0), n1)
    return mv, delta


def norm_cdf_numpy(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF to double precision with NumPy ufuncs only (Cephes ``ndtr``; beyond
    |x| = 8*sqrt(2) the tail is below 1e-29 and rounds to 0 or 1)."""
    z = np.abs(x) * _SQRTH
    small = z < 1.0  # erf's rational approximation holds on [0, 1], erfc's on [1, 8]
    zz = z * z
    erf_small = x * _SQRTH * _polynomial(zz, _ERF_T) / _polynomial(zz, _ERF_U)
    erfc_large = np.exp(-zz) * _polynomial(z, _ERFC_P) / _polynomial(z, _ERFC_Q)
    tail = 0.5 * erfc_large
    return np.where(small, 0.5 + 0.5 * erf_small, np.where(x > 0, 1.0 - tail, tail))


def _polynomial(x: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    result = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result *= x
        result += c
    return result


#: runs the CLI as the ``straddles`` script does (:func:`straddles.cli.run`), reporting the process's
#: own peak RSS (VmHWM) just before it ends. Linux carries a forked parent's high-water mark across
#: exec into the child's rusage, so the child must read its own /proc status (reset at exec) instead.
_CHILD = """
import sys
from straddles.cli import run

def report_peak_rss():
    try:
        lines = open("/proc/self/status").read().splitlines()
        sys.stderr.write("VmHWM " + next(l.split()[1] for l in lines if l.startswith("VmHWM")) + "\\n")
    except (OSError, StopIteration):
        pass

run(sys.argv[1:], before_exit=report_peak_rss)
"""


def _process_runs(amt_path: Path, prices, start_year: int, end_year: int, one_asset: str, scratch: Path,
                  cache_root: Path) -> dict:
    """Wall seconds, CPU seconds (user + system, all threads) and peak RSS of ``straddles backtest``
    as a fresh process with warm caches (each command runs twice; the second run is reported); the
    fixed-cost run selects ``one_asset`` and the last expiry year."""
    runs = {}
    env = dict(os.environ, STRADDLES_CACHE_DIR=str(cache_root))
    years = ["--start", str(start_year), "--end", str(end_year)]
    one = ["--start", str(end_year), "--end", str(end_year), "--pattern", f"^{re.escape(one_asset)}$"]
    for name, extra in (("backtest --no-days --no-cohorts", [*years, "--no-days", "--no-cohorts"]),
                        ("backtest --no-days", [*years, "--no-days"]),
                        ("backtest (days written)", years),
                        ("backtest --no-days --no-cohorts of one asset and year (the fixed cost)",
                         [*one, "--no-days", "--no-cohorts"])):
        command = [sys.executable, "-c", _CHILD, "backtest", str(amt_path), "--prices", str(prices),
                   "--out", str(scratch / "process-out"), *extra]
        for _ in range(2):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            process = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if process.returncode != 0:
                raise RuntimeError(f"straddles {' '.join(command[3:])} failed: {process.stderr}")
        peak = [line.split()[1] for line in process.stderr.splitlines() if line.startswith("VmHWM ")]
        runs[name] = {"wall_seconds": wall,
                      "cpu_seconds": after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
                      "peak_rss_mb": int(peak[0]) / 1024 if peak else float("nan")}
    return runs


def write_json(result: BenchResult, path: str | Path) -> None:
    """Write the bench result as JSON, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(asdict(result), indent=2) + "\n")
