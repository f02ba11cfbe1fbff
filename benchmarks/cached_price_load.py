"""Cached price-store load time, best of N loads after the cache is built (BENCHMARKS.md, issue 10).

    STRADDLES_CACHE_DIR=/tmp/bench-cache python benchmarks/cached_price_load.py PRICES [N]

Prints the wall and CPU time of ``load_prices(PRICES)`` served from the cache, and its parts: the
xxh3 of the source file (paid only when the file's stamps changed, see
``straddles.engine.cache.source_checksum``) and opening plus verifying the cache file. Run it
under ``PYTHONPATH=<old checkout>/src`` for the before numbers (the parts are then skipped).
"""

import os
import sys
import time
from pathlib import Path

from straddles.engine.prices import load_prices


def best(function, repeat: int) -> tuple[float, float]:
    """Best wall and best CPU seconds of ``repeat`` calls."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall, cpu = min(wall, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    source, repeat = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 9
    store = load_prices(source)  # builds the cache if needed
    wall, cpu = best(lambda: load_prices(source), repeat)
    print(f"{Path(source).name}: {store.n_rows:,} rows, source {os.path.getsize(source) / 1e6:.0f} MB, "
          f"cache {store.cache_path.stat().st_size / 1e6:.0f} MB: cached load best {wall * 1e3:.1f} ms wall, "
          f"{cpu * 1e3:.1f} ms CPU")
    try:
        from straddles.engine import cache, prices
    except ImportError:
        return
    if not hasattr(cache, "file_checksum"):
        return
    source_hash, _ = best(lambda: cache.file_checksum(source), repeat)
    verify, _ = best(lambda: prices._read_cache(store.cache_path, source), repeat)
    print(f"  of which: xxh3 of the source (when re-hashed) {source_hash * 1e3:.1f} ms, "
          f"open + verify the cache {verify * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
