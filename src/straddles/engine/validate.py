"""Price coverage of a selection: which series the straddles need, which are missing or sparse.

:func:`validate_prices` expands the selected straddles (SPEC 4, 8), looks every leg up in the price
store (SPEC 9) and counts, per straddle and leg, the rows the store has inside the straddle's span
(SPEC 5). A straddle whose early status is still open and one of whose legs has no row in its span
will end ``no_prices`` (SPEC 13.1, status 6), whatever the other data. The result says:

* per series (``series``): the legs it serves, how many assets and straddles read it, the window
  they need, the rows the store has there and the share of weekdays covered, whether it is
  ``missing`` (not in the store), ``sparse`` (under ``SPARSE_COVERAGE`` of the weekdays of its
  window) or ``ok``, and the straddles it leaves without prices;
* per (asset, expiry year) (``by_asset_year``): straddles, those that would be ``no_prices``, and
  the series that leaves the most of them without prices;
* the early status counts (SPEC 13.1 statuses 1-5, decided without prices) plus ``no_prices``.

It is what ``straddles validate`` prints, and the backtest's warning when many straddles are
``no_prices`` names the top series from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import status as st
from .amt import Amt
from .dates import day_to_date, month_year, weekday
from .legs import LEG_NAMES
from .straddle_table import StraddleFrame, build_straddles

#: a series with rows on fewer than this share of the weekdays of its needed window is "sparse"
SPARSE_COVERAGE = 0.5
#: share of ``no_prices`` straddles above which a backtest warns
WARN_NO_PRICES = 0.05
_DAY_SPAN = 1 << 20  # more day numbers than any store holds: key = series * _DAY_SPAN + day


@dataclass
class Coverage:
    """What :func:`validate_prices` found (see the module docstring)."""

    n_straddles: int
    n_no_prices: int
    status: dict[str, int]
    series: pa.Table
    by_asset_year: pa.Table

    @property
    def no_prices_share(self) -> float:
        return self.n_no_prices / self.n_straddles if self.n_straddles else 0.0

    def problems(self) -> pa.Table:
        """The series that are missing or sparse, those leaving most straddles without prices first."""
        return self.series.filter(pa.compute.not_equal(self.series["state"], "ok"))

    def top_missing(self, n: int = 5) -> list[str]:
        """Up to ``n`` series leaving straddles without prices, as ``ticker|field (k straddles)``."""
        rows = self.series.filter(pa.compute.greater(self.series["no_prices_straddles"], 0)).slice(0, n)
        return [f"{r['ticker']}|{r['field']} ({r['state']}, {r['no_prices_straddles']:,} straddles)"
                for r in rows.to_pylist()]


def validate_prices(amt: Amt | str, prices, start_year: int, end_year: int, pattern: str = ".",
                    live_only: bool = True, overrides=None) -> Coverage:
    """Price coverage of the straddles a backtest with the same arguments would run."""
    from .prices import load_prices

    frame = build_straddles(amt, start_year, end_year, pattern, live_only, overrides)
    return coverage(frame, load_prices(prices))


def coverage(frame: StraddleFrame, store) -> Coverage:
    """Coverage of ``frame``'s legs by ``store`` (see :func:`validate_prices`)."""
    n_series = len(frame.catalog)
    pairs = [frame.catalog.pair(i) for i in range(n_series)]
    store_id = store.lookup([t for t, _ in pairs], [f for _, f in pairs]) if n_series else np.zeros(0, np.int32)
    keys = np.repeat(np.arange(store.n_series, dtype=np.int64), np.diff(store.offsets)) * _DAY_SPAN + store.dates
    start, end = frame.span_start.astype(np.int64), frame.span_end.astype(np.int64)
    open_status = frame.status == st.PENDING
    rows_in_span = np.full(frame.legs.shape, -1, dtype=np.int64)  # -1: the straddle has no such leg
    for slot in range(len(LEG_NAMES)):
        ids = frame.legs[slot]
        has = ids >= 0
        counts = np.zeros(len(ids), dtype=np.int64)
        found = has & (store_id[np.where(has, ids, 0)] >= 0) if n_series else has
        base = store_id[ids[found]].astype(np.int64) * _DAY_SPAN
        counts[found] = (np.searchsorted(keys, base + end[found], "right") - np.searchsorted(keys, base + start[found]))
        rows_in_span[slot] = np.where(has, counts, -1)
    empty_leg = (rows_in_span == 0) & open_status  # (slot, straddle): a leg without any row in the span
    no_prices = empty_leg.any(axis=0)
    status = _early_status(frame, no_prices)
    return Coverage(n_straddles=len(frame), n_no_prices=int(no_prices.sum()), status=status,
                    series=_series_table(frame, pairs, store, store_id, empty_leg),
                    by_asset_year=_asset_year_table(frame, pairs, empty_leg, no_prices))


def _early_status(frame: StraddleFrame, no_prices: np.ndarray) -> dict[str, int]:
    codes = np.where(no_prices, st.NO_PRICES, frame.status)
    counts = np.bincount(codes, minlength=len(st.STATUS_NAMES) + 1)
    named = {name: int(counts[code]) for code, name in enumerate(st.STATUS_NAMES, start=1) if counts[code]}
    if counts[st.PENDING]:
        named["to be valued"] = int(counts[st.PENDING])
    return named


def _series_table(frame, pairs, store, store_id, empty_leg) -> pa.Table:
    n_series = len(pairs)
    ids = frame.legs.reshape(-1)
    used = ids >= 0
    slots = np.repeat(np.arange(len(LEG_NAMES)), len(frame))[used]
    straddle = np.tile(np.arange(len(frame)), len(LEG_NAMES))[used]
    series = ids[used].astype(np.int64)
    n_straddles = np.bincount(series, minlength=n_series)
    leaves = np.bincount(series, weights=empty_leg.reshape(-1)[used], minlength=n_series).astype(np.int64)
    first = np.full(n_series, np.iinfo(np.int64).max)
    last = np.full(n_series, np.iinfo(np.int64).min)
    np.minimum.at(first, series, frame.span_start.astype(np.int64)[straddle])
    np.maximum.at(last, series, frame.span_end.astype(np.int64)[straddle])
    asset_sets = [[] for _ in range(n_series)]
    leg_sets = [set() for _ in range(n_series)]
    n_assets = max(len(frame.assets), 1)
    triples = np.unique((series * n_assets + frame.asset[straddle]) * len(LEG_NAMES) + slots)
    for triple in triples.tolist():
        rest, slot = divmod(triple, len(LEG_NAMES))
        s, a = divmod(rest, n_assets)
        if not asset_sets[s] or asset_sets[s][-1] != a:
            asset_sets[s].append(a)
        leg_sets[s].add(slot)
    rows, weekdays = np.zeros(n_series, np.int64), np.zeros(n_series, np.int64)
    for s in np.flatnonzero(n_straddles).tolist():
        window = np.arange(first[s], last[s] + 1)
        weekdays[s] = int((weekday(window) < 5).sum())
        if store_id[s] >= 0:
            dates = store.dates[store.offsets[store_id[s]]:store.offsets[store_id[s] + 1]]
            rows[s] = int(np.searchsorted(dates, last[s], "right") - np.searchsorted(dates, first[s]))
    share = np.where(weekdays > 0, rows / np.maximum(weekdays, 1), 0.0)
    state = np.where(store_id < 0, "missing", np.where(share < SPARSE_COVERAGE, "sparse", "ok"))
    keep = np.flatnonzero(n_straddles)
    order = sorted(keep.tolist(), key=lambda s: (-leaves[s], state[s] == "ok", pairs[s]))
    assets = frame.assets
    return pa.table({
        "ticker": pa.array([pairs[s][0] for s in order], pa.string()),
        "field": pa.array([pairs[s][1] for s in order], pa.string()),
        "legs": pa.array([",".join(LEG_NAMES[i] for i in sorted(leg_sets[s])) for s in order], pa.string()),
        "assets": pa.array([", ".join(sorted(assets[a].underlying for a in asset_sets[s])[:3])
                            + (f" (+{len(asset_sets[s]) - 3})" if len(asset_sets[s]) > 3 else "") for s in order],
                           pa.string()),
        "straddles": pa.array(n_straddles[order], pa.int64()),
        "first_needed": pa.array([day_to_date(int(first[s])) for s in order], pa.date32()),
        "last_needed": pa.array([day_to_date(int(last[s])) for s in order], pa.date32()),
        "rows": pa.array(rows[order], pa.int64()),
        "weekday_coverage": pa.array(share[order], pa.float64()),
        "state": pa.array(state[order].tolist(), pa.string()),
        "no_prices_straddles": pa.array(leaves[order], pa.int64()),
    })


def _asset_year_table(frame, pairs, empty_leg, no_prices) -> pa.Table:
    year = month_year(frame.expiry_month).astype(np.int64)
    cell = frame.asset.astype(np.int64) * 10_000 + year
    cells, inverse = np.unique(cell, return_inverse=True)
    n = np.bincount(inverse, minlength=len(cells))
    bad = np.bincount(inverse, weights=no_prices, minlength=len(cells)).astype(np.int64)
    # the series leaving most straddles of a cell without prices: count (cell, series) pairs
    slot_of, straddle_of = np.nonzero(empty_leg)
    pair = inverse[straddle_of].astype(np.int64) * max(len(pairs), 1) + frame.legs[slot_of, straddle_of]
    found, count = np.unique(pair, return_counts=True)
    order = np.lexsort((-count, found // max(len(pairs), 1)))  # by cell, most straddles first
    first_of_cell = order[np.r_[True, np.diff(found[order] // max(len(pairs), 1)) != 0]] if len(found) else order
    worst = [None] * len(cells)
    for index in first_of_cell.tolist():
        cell_index, series = divmod(int(found[index]), max(len(pairs), 1))
        worst[cell_index] = "|".join(pairs[series])
    return pa.table({
        "asset": pa.array([frame.assets[int(c // 10_000)].underlying for c in cells], pa.string()),
        "year": pa.array((cells % 10_000).astype(np.int32), pa.int32()),
        "straddles": pa.array(n, pa.int64()),
        "no_prices": pa.array(bad, pa.int64()),
        "top_missing_series": pa.array(worst, pa.string()),
    })
