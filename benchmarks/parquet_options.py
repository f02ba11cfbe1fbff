"""Time Parquet writer options on a day table: the measurement behind ``outputs.parquet_options``.

    python benchmarks/parquet_options.py results/days.parquet

Writes the table (read from a backtest folder) with several option sets, best of two, and prints
seconds and file size for each.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import pyarrow as pa
import pyarrow.parquet as pq

from straddles.engine.outputs import parquet_options


def best_write(table: pa.Table, path: str, **options) -> tuple[float, float]:
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        pq.write_table(table, path, **options)
        best = min(best, time.perf_counter() - start)
    return best, os.path.getsize(path) / 1e6


def main(days_path: str) -> None:
    table = pq.read_table(days_path)
    print(f"{days_path}: {table.num_rows:,} rows, {table.nbytes / 1e6:,.0f} MB in memory")
    candidates = {
        "pyarrow defaults (snappy, dictionary on every column)": {},
        "zstd 1, dictionary on every column": {"compression": "zstd", "compression_level": 1},
        "zstd 1, no dictionary": {"compression": "zstd", "compression_level": 1, "use_dictionary": False},
        "lz4, no dictionary": {"compression": "lz4", "use_dictionary": False},
        "straddles (outputs.parquet_options)": parquet_options(table.schema),
        "no compression, no dictionary": {"compression": "none", "use_dictionary": False},
    }
    with tempfile.TemporaryDirectory() as scratch:
        target = os.path.join(scratch, "days.parquet")
        print("| options | seconds | MB |\n|---|---|---|")
        for name, options in candidates.items():
            seconds, megabytes = best_write(table, target, **options)
            print(f"| {name} | {seconds:.2f} | {megabytes:,.0f} |")


if __name__ == "__main__":
    main(sys.argv[1])
