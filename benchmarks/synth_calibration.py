"""Print the calibration statistics of the synthetic market on an AMT (default: the real one).

    .venv/bin/python benchmarks/synth_calibration.py [AMT] [--seed 0] [--start 2001] [--end 2026]

Synthesizes the AMT's prices, runs a backtest without the day table and prints the implied-minus-
realized vol premium per class (straddles.calibration.vol_premium) and the long-straddle book's
profile (straddles.calibration.pnl_profile): the numbers quoted in README's "Synthetic data".
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import straddles
from straddles.calibration import pnl_profile, vol_premium
from straddles.engine.anchors import Overrides
from straddles.engine.prices import PriceStore

REAL_AMT = Path(__file__).resolve().parents[2] / "shared" / "data" / "amt.yml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("amt", nargs="?", default=str(REAL_AMT))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=2001)
    parser.add_argument("--end", type=int, default=2026)
    args = parser.parse_args()
    amt = straddles.load_amt(args.amt)
    clock = time.perf_counter()
    table = straddles.synthesize(amt, args.start, args.end, seed=args.seed)
    print(f"synthesized {table.num_rows:,} rows in {time.perf_counter() - clock:.1f} s")
    store = PriceStore.from_arrow(table)
    frame = straddles.build_straddles(amt, args.start, args.end, overrides=Overrides(path=None))
    premium = vol_premium(frame, store)
    for name in sorted(set(premium["class"].to_pylist())):
        rows = [r for r in premium.to_pylist() if r["class"] == name]
        values = np.array([r["premium"] for r in rows])
        print(f"{name:12s} {len(rows):3d} assets: premium mean {values.mean():+.2f} vol pts "
              f"(min {values.min():+.2f}, max {values.max():+.2f}), implied {np.mean([r['implied'] for r in rows]):.1f}, "
              f"positive on {np.mean([r['positive'] for r in rows]):.0%} of days")
    clock = time.perf_counter()
    result = straddles.backtest(amt, store, args.start, args.end, days=False)
    print(f"backtest in {time.perf_counter() - clock:.1f} s; status {result.status_counts()}")
    for line in pnl_profile(result).lines():
        print(line)
    annual = straddles.stats(result, "class").annual.to_pylist()
    for year in (2008, 2011, 2020, 2022, 2017):
        print(year, " ".join(f"{r['bucket']}:{r['pnl']:+.2f}" for r in annual if r["year"] == year))


if __name__ == "__main__":
    main()
