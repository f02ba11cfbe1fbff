"""The cohort cube's file format: write, read and size of Arrow IPC (uncompressed, lz4, zstd) and
Parquet on one cube, and the load times of a results folder and its strategy context.

    python benchmarks/cube_format.py ../shared/data/amt.yml prices.parquet 2001 2026 --folder results/

The cube is built in-process (``backtest(days=False)``); each format is written and read back 3
times into a scratch folder, best of each. Reads go through :meth:`Cohorts.from_arrow` (for IPC:
a memory map, so no bytes are read until used); "first pass" sums four columns after the read.
With ``--folder`` (a ``straddles backtest --out`` folder), it also times ``load_backtest`` and
``StrategyContext`` on it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import straddles
from straddles.engine.outputs import parquet_options
from straddles.strategies.context import StrategyContext
from straddles.strategies.cube import Cohorts


def best(function, repeat: int = 3):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def formats(cube: Cohorts, scratch: Path) -> None:
    table = cube.to_arrow()

    def read_ipc(path):
        return Cohorts.read(path)

    def read_parquet(path):
        return Cohorts.from_arrow(pq.read_table(path))

    cases = {
        "Arrow IPC, uncompressed": (lambda path: cube.write(path), read_ipc),
        "Arrow IPC, lz4": (lambda path: cube.write(path, compression="lz4"), read_ipc),
        "Arrow IPC, zstd": (lambda path: cube.write(path, compression="zstd"), read_ipc),
        "Parquet, snappy": (lambda path: pq.write_table(table, path, **parquet_options(table.schema)), read_parquet),
    }
    for number, (name, (write, read)) in enumerate(cases.items()):
        path = scratch / f"cube{number}"
        write_seconds, _ = best(lambda: write(path))
        read_seconds, loaded = best(lambda: read(path))
        first_pass, _ = best(lambda: sum(float(loaded.columns[c].sum()) for c in ("pnl", "opnl", "hpnl"))
                             + float(loaded.days["vol"].sum()))
        print(f"{name}: {path.stat().st_size / 1e6:.1f} MB, write {write_seconds:.3f} s, read {read_seconds:.4f} s, "
              f"first pass {first_pass:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("amt")
    parser.add_argument("prices")
    parser.add_argument("start", type=int)
    parser.add_argument("end", type=int)
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    cube = straddles.backtest(args.amt, args.prices, args.start, args.end, days=False).cohorts
    print(f"cube: {len(cube):,} cohorts, {cube.n_cells:,} cells, {int(cube.day_offset[-1]):,} asset-days, "
          f"{cube.nbytes / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory() as scratch:
        formats(cube, Path(scratch))
    if args.folder is not None:
        seconds, backtest = best(lambda: straddles.load_backtest(args.folder, days=False))
        print(f"load_backtest(days=False), with the cube: {seconds:.3f} s")
        seconds, _ = best(lambda: StrategyContext(backtest))
        print(f"StrategyContext(loaded backtest): {seconds:.3f} s")
        seconds, _ = best(lambda: StrategyContext(args.folder))
        print(f"StrategyContext(folder): {seconds:.3f} s")


if __name__ == "__main__":
    main()
