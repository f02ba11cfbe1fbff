"""Time the AMT signal_table rows (STRATEGY S3) on the real universe's grid.

    STRADDLES_CACHE_DIR=/tmp/cache python benchmarks/signal_table.py [AMT] [--days 9500] [--assets 189]

Runs every row's compiled program (``strategy.recursion.run_program``) on a random
``days x assets`` input with 5 % NaN, numba warm (one untimed run first), and prints the best of
five runs per row in milliseconds: wall clock, and CPU time of all threads (steadier on a busy
machine).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from straddles import load_amt
from straddles.strategy.recursion import run_program, signal_programs

REAL_AMT = Path(__file__).resolve().parents[2] / "shared" / "data" / "amt.yml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("amt", nargs="?", default=str(REAL_AMT))
    parser.add_argument("--days", type=int, default=9500)
    parser.add_argument("--assets", type=int, default=189)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.days, args.assets))
    x[rng.random(x.shape) < 0.05] = np.nan
    programs = signal_programs(load_amt(args.amt))
    print(f"{args.days:,} days x {args.assets} assets, best of {args.repeat}")
    total = total_cpu = 0.0
    for name, program in programs.items():
        run_program(program, x)  # compile or load the JIT cache
        best = cpu = float("inf")
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            run_program(program, x)
            best = min(best, time.perf_counter() - start)
            cpu = min(cpu, time.process_time() - start_cpu)
        total, total_cpu = total + best, total_cpu + cpu
        print(f"  {name:8s} {len(program.calc_code):3d} instructions  {best * 1e3:7.1f} ms  (cpu {cpu * 1e3:6.1f} ms)")
    print(f"  all {len(programs)} rows            {total * 1e3:7.1f} ms  (cpu {total_cpu * 1e3:6.1f} ms)")


if __name__ == "__main__":
    main()
