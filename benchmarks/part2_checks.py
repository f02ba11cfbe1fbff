"""SPEC Part II checks on the real AMT with synthetic prices, reported as numbers (not asserts).

1. **SPEC-E29, truncation property**: with ``expiry_basis="anchor"`` and ``asof=T`` for
   consecutive weekday cuts T, every day row and asset-day cell dated <= T must equal the full
   run's, except rows of straddles whose entry came from the month-end fallback (SPEC 6.2 step 3)
   in the month containing T. Prints, per cut, the rows compared, the rows that differ outside the
   exceptions (must be 0) and the number of exception straddles and rows.
2. **SPEC 17, attribution**: the largest |gamma_pnl + theta_pnl + vega_pnl + resid_pnl - pnl| over
   every valued row (must be <= 1e-15), and the residual's distribution: median |resid| / median
   |pnl| and quantiles, over all valued rows and over the rows after entry and before expiry.

    python benchmarks/part2_checks.py --amt ../shared/data/amt.yml --prices prices.parquet \\
        --start 2001 --end 2026 --first-cut 2024-03-18 --cuts 15
"""

from __future__ import annotations

import argparse
import datetime as dt

import numpy as np

from straddles.engine.anchors import NO_DAY
from straddles.engine.dates import day_label, day_number, month_end, month_start, weekday
from straddles.engine.kernel import KernelOptions, run_kernel
from straddles.engine.prices import load_prices
from straddles.engine.straddle_table import build_straddles


def truncation(frame, store, first_cut: int, n_cuts: int) -> None:
    full = run_kernel(frame, store, days=True, options=KernelOptions(anchor_basis=True))
    ids = full.days["straddle_id"]
    dates = full.days["date"]
    columns = {name: full.days[name] for name in ("dte", "mv", "delta", "opnl", "hpnl", "pnl")}
    target = frame.entry_anchor.astype(np.int64) + frame.entry_offset
    fallback = (full.entry_date != NO_DAY) & (frame.entry_anchor != NO_DAY) & (full.entry_date < target)
    cuts = [d for d in range(first_cut, first_cut + 3 * n_cuts) if weekday(d) < 5][:n_cuts]
    print("SPEC-E29 truncation property (expiry_basis='anchor'):")
    print(f"{'cut':>10} {'rows <= T':>10} {'differ':>7} {'exception straddles':>20} {'exception rows':>15} "
          f"{'cells differ':>13}")
    total_exceptions = total_differ = 0
    for cut in cuts:
        cut_run = run_kernel(frame, store, days=True, options=KernelOptions(asof=cut, anchor_basis=True))
        in_month = (month_start(frame.entry_month) <= cut) & (cut <= month_end(frame.entry_month))
        # the exceptions that matter at this cut: fallback entries on or before it (later ones have no rows <= T)
        excepted = np.flatnonzero(fallback & in_month & (full.n_days > 0) & (full.entry_date <= cut))
        keep = (dates <= cut) & ~np.isin(ids, excepted)
        keep_cut = ~np.isin(cut_run.days["straddle_id"], excepted)
        differ = int(keep.sum() != keep_cut.sum())
        if not differ:
            for name, values in {"straddle_id": ids, "date": dates, **columns}.items():
                differ += _n_differ(values[keep], cut_run.days[name][keep_cut])
        exception_rows = int(((dates <= cut) & np.isin(ids, excepted)).sum())
        n_cells = cut - full.grid_origin + 1
        touched = np.zeros(full.grid_pnl[:, :n_cells].shape, dtype=bool)
        rows = np.isin(ids, excepted) & (dates <= cut)
        touched[frame.asset[ids[rows]], dates[rows] - full.grid_origin] = True
        cells_differ = int(np.sum((cut_run.grid_pnl[:, :n_cells] != full.grid_pnl[:, :n_cells]) & ~touched))
        print(f"{day_label(cut):>10} {int(keep.sum()):>10,} {differ:>7} {len(excepted):>20} {exception_rows:>15,} "
              f"{cells_differ:>13}")
        total_exceptions += len(excepted)
        total_differ += differ + cells_differ
    print(f"total: {total_differ} differing rows/cells outside the exceptions; {total_exceptions} exception "
          f"straddle-cuts over {len(cuts)} cuts")


def _n_differ(a: np.ndarray, b: np.ndarray) -> int:
    """Positions where two equal-length arrays differ (NaN equals NaN)."""
    same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
    return int(np.sum(~same))


def attribution(frame, store) -> None:
    run = run_kernel(frame, store, days=True, options=KernelOptions(greeks=True))
    days = run.days
    valued = ~np.isnan(days["pnl"])
    parts = (days["gamma_pnl"] + days["theta_pnl"]) + days["vega_pnl"]
    error = np.abs(parts + days["resid_pnl"] - days["pnl"])[valued]
    print("\nSPEC 17 attribution (realized basis), valued rows:", f"{int(valued.sum()):,}")
    print(f"max |gamma+theta+vega+resid - pnl| = {error.max():.3g}")
    entry = np.r_[True, days["straddle_id"][1:] != days["straddle_id"][:-1]]
    inner = valued & ~entry & (days["dte"] > 0)
    for label, rows in (("all valued rows", valued), ("after entry, before expiry", inner)):
        resid, pnl = np.abs(days["resid_pnl"][rows]), np.abs(days["pnl"][rows])
        shares = {name: np.median(np.abs(days[name][rows])) for name in ("gamma_pnl", "theta_pnl", "vega_pnl")}
        print(f"{label}: median |resid| / median |pnl| = {np.median(resid) / np.median(pnl):.4f}; "
              f"|resid| quantiles 50/90/99 % = {np.quantile(resid, 0.5):.3g} / {np.quantile(resid, 0.9):.3g} / "
              f"{np.quantile(resid, 0.99):.3g}; median |pnl| = {np.median(pnl):.3g}; medians |gamma|, |theta|, "
              f"|vega| = {', '.join(f'{v:.3g}' for v in shares.values())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--amt", required=True)
    parser.add_argument("--prices", required=True)
    parser.add_argument("--start", type=int, default=2001)
    parser.add_argument("--end", type=int, default=2026)
    parser.add_argument("--first-cut", default="2024-03-18")
    parser.add_argument("--cuts", type=int, default=15)
    args = parser.parse_args()
    frame = build_straddles(args.amt, args.start, args.end)
    store = load_prices(args.prices)
    truncation(frame, store, day_number(dt.date.fromisoformat(args.first_cut)), args.cuts)
    attribution(frame, store)


if __name__ == "__main__":
    main()
