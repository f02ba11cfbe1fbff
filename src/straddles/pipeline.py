"""Run the pipeline end to end and hold its results (SPEC section 13).

:func:`backtest` chains the stages (AMT -> straddles and legs -> price store -> kernel -> Arrow
outputs), times each one, and returns a :class:`Backtest` with three tables:

* ``straddles``: one row per straddle with its dates, strike, status and P&L sum (SPEC 13.1);
* ``days``: one row per valued straddle-day (SPEC 13.2), or None with ``days=False``;
* ``asset_pnl``: weighted daily P&L per asset (SPEC 13.3), with the option/hedge split alongside.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import status as st
from .amt import Amt, load_amt
from .columns import date_array, float_array, int32_array
from .errors import StraddlesError
from .straddle_table import StraddleFrame, build_straddles
from .legs import LEG_NAMES
from .outputs import parquet_writer, write_files

#: output file names inside a backtest folder
STRADDLES_FILE, DAYS_FILE, ASSET_PNL_FILE, ASSETS_FILE = (
    "straddles.parquet", "days.parquet", "asset_pnl.parquet", "assets.parquet")
#: columns of the straddle table, in SPEC 13.1 order; the leg columns follow
STRADDLE_COLUMNS = (
    "straddle_id", "asset", "class", "group", "straddle", "schedule", "schid", "entry_month", "expiry_month",
    "ntrc", "ntrv", "xprc", "xprv", "wgt", "weight", "entry_anchor", "expiry_anchor", "entry_date",
    "expiry_date", "strike", "strike_vol", "model", "status", "n_days", "pnl_sum",
)
TOTAL_KEYS = ("class", "group", "portfolio")


class StageTimer:
    """Wall-clock seconds per named pipeline stage, in the order the stages ran."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start


@dataclass
class Backtest:
    """The results of one backtest run.

    ``assets`` lists the selected assets with their class, group and rule-table values, so that
    totals and reports need nothing but this object (or the folder it was written to).
    """

    straddles: pa.Table
    days: pa.Table | None
    asset_pnl: pa.Table
    assets: pa.Table
    timings: dict[str, float] = field(default_factory=dict)

    def totals(self, by: str = "portfolio") -> pa.Table:
        """Plain sums of per-asset daily P&L by ``class``, ``group`` or over the ``portfolio``
        (SPEC 13.3): columns ``<by>`` (not for portfolio), ``date, pnl, opnl, hpnl, n_assets``."""
        return totals(self.asset_pnl, self.assets, by)

    def status_counts(self) -> dict[str, int]:
        """Number of straddles per status, in SPEC priority order."""
        counts = self.straddles["status"].value_counts()
        found = {item["values"].as_py(): item["counts"].as_py() for item in counts}
        return {name: found[name] for name in st.STATUS_NAMES if name in found}

    def legs(self) -> pa.Table:
        """The legs table ``straddle_id, leg, ticker, field`` (SPEC 13.2), one row per leg a
        straddle has, in (straddle_id, leg slot) order."""
        parts = []
        for name in LEG_NAMES:
            tickers = self.straddles[f"{name}_ticker"]
            present = tickers.is_valid()
            parts.append(pa.table({
                "straddle_id": self.straddles["straddle_id"].filter(present),
                "leg": pa.array([name] * int(pa.compute.sum(present.cast(pa.int64())).as_py() or 0), pa.string()),
                "ticker": tickers.filter(present).cast(pa.string()),
                "field": self.straddles[f"{name}_field"].filter(present).cast(pa.string()),
            }))
        table = pa.concat_tables(parts)
        order = np.lexsort((np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)]),
                            table["straddle_id"].to_numpy()))
        return table.take(order)

    def write(self, directory: str | Path) -> list[Path]:
        """Write the tables as Parquet files into ``directory``, all or nothing."""
        directory = Path(directory)
        tables = {STRADDLES_FILE: self.straddles, ASSET_PNL_FILE: self.asset_pnl, ASSETS_FILE: self.assets}
        if self.days is not None:
            tables[DAYS_FILE] = self.days
        written = write_files({directory / name: parquet_writer(table) for name, table in tables.items()})
        if self.days is None:  # a day table left by an earlier run would not match these results
            (directory / DAYS_FILE).unlink(missing_ok=True)
        return written


def load_backtest(directory: str | Path) -> Backtest:
    """Read a backtest folder written by :meth:`Backtest.write` (or ``straddles backtest --out``)."""
    directory = Path(directory)
    missing = [name for name in (STRADDLES_FILE, ASSET_PNL_FILE, ASSETS_FILE) if not (directory / name).is_file()]
    if missing:
        raise StraddlesError(f"{directory}: not a backtest folder (missing {', '.join(missing)})")
    days = directory / DAYS_FILE
    return Backtest(straddles=pq.read_table(directory / STRADDLES_FILE),
                    days=pq.read_table(days) if days.is_file() else None,
                    asset_pnl=pq.read_table(directory / ASSET_PNL_FILE),
                    assets=pq.read_table(directory / ASSETS_FILE))


def backtest(amt: Amt | str | Path, prices, start_year: int, end_year: int, pattern: str = ".",
             overrides=None, days: bool = True, live_only: bool = True) -> Backtest:
    """Backtest every straddle the AMT implies for expiries in ``start_year``..``end_year``.

    ``prices`` is anything :func:`straddles.load_prices` accepts (a path, a table, a DataFrame, a
    PriceStore). With ``days=False`` the day table is not materialized; the straddle and
    asset tables still are, so memory stays small on the full universe.

    >>> result = backtest("amt.yml", "prices.parquet", 2020, 2024)       # doctest: +SKIP
    >>> result.status_counts()["valued"], result.totals("class").num_rows  # doctest: +SKIP
    """
    from .prices import load_prices
    from .kernel import run_kernel

    timer = StageTimer()
    with timer("load AMT"):
        if not isinstance(amt, Amt):
            amt = load_amt(amt)
    with timer("expand straddles"):
        frame = build_straddles(amt, start_year, end_year, pattern, live_only, overrides)
    with timer("load prices"):
        store = load_prices(prices)
    with timer("kernel"):
        result = run_kernel(frame, store, days=days)
    with timer("aggregation"):
        asset_pnl = asset_pnl_table(frame, result)
    with timer("build tables"):
        straddles = straddle_table(frame, result)
        day_table = days_table(result.days) if days else None
        assets = assets_table(frame)
    return Backtest(straddles=straddles, days=day_table, asset_pnl=asset_pnl, assets=assets, timings=timer.seconds)


def straddle_table(frame: StraddleFrame, result) -> pa.Table:
    """The SPEC 13.1 straddle table: the expand columns plus the kernel's per-straddle results."""
    base = frame.to_arrow()
    computed = {
        "entry_date": date_array(result.entry_date),
        "expiry_date": date_array(result.expiry_date),
        "strike": float_array(result.strike),
        "strike_vol": float_array(result.strike_vol),
        "status": st.status_array(result.status),
        "n_days": pa.array(result.n_days),
        "pnl_sum": float_array(result.pnl_sum),
    }
    columns = {name: computed[name] if name in computed else base[name] for name in STRADDLE_COLUMNS}
    for name in base.column_names:
        columns.setdefault(name, base[name])
    return pa.table(columns)


def days_table(days: dict[str, np.ndarray]) -> pa.Table:
    """The SPEC 13.2 day table from the kernel's day arrays (NaN -> null, zero-copy data)."""
    columns = {
        "straddle_id": pa.array(days["straddle_id"]),
        "date": date_array(days["date"]),
        "dte": int32_array(days["dte"]),
    }
    for slot, name in enumerate(LEG_NAMES):
        columns[name] = float_array(days["legs"][slot])
    for name in ("mv", "delta", "opnl", "hpnl", "pnl"):
        columns[name] = float_array(days[name])
    return pa.table(columns)


def asset_pnl_table(frame: StraddleFrame, result) -> pa.Table:
    """Per-asset daily P&L (SPEC 13.3): a row per (asset, date) with at least one straddle P&L."""
    asset_index, column = np.nonzero(result.grid_count)
    names = pa.array([a.underlying for a in frame.assets], pa.string())
    return pa.table({
        "asset": pa.DictionaryArray.from_arrays(pa.array(asset_index.astype(np.int32)), names),
        "date": date_array(column + result.grid_origin),
        "pnl": pa.array(result.grid_pnl[asset_index, column]),
        "opnl": pa.array(result.grid_opnl[asset_index, column]),
        "hpnl": pa.array(result.grid_hpnl[asset_index, column]),
        "n_straddles": pa.array(result.grid_count[asset_index, column]),
    })


def assets_table(frame: StraddleFrame) -> pa.Table:
    """The selected assets in file order with their reporting attributes (SPEC 2.3, 2.6)."""
    assets = frame.assets
    return pa.table({
        "asset": pa.array([a.underlying for a in assets], pa.string()),
        "class": pa.array([a.asset_class for a in assets], pa.string()),
        "group": pa.array([str(a.group) for a in assets], pa.string()),
        "subgroup": pa.array([str(a.subgroup) for a in assets], pa.string()),
        "liquidity": pa.array([_number_or_none(a.liquidity) for a in assets], pa.float64()),
        "weight_cap": pa.array([_number_or_none(a.weight_cap) for a in assets], pa.float64()),
        "model": pa.array([a.model for a in assets], pa.string()),
        "schedule": pa.array([a.schedule for a in assets], pa.string()),
    })


def totals(asset_pnl: pa.Table, assets: pa.Table, by: str) -> pa.Table:
    """Sum per-asset daily P&L by an asset attribute (``class``/``group``) or over all assets."""
    if by not in TOTAL_KEYS:
        raise ValueError(f"totals: by must be one of {', '.join(TOTAL_KEYS)}, got {by!r}")
    asset_names = asset_pnl["asset"].cast(pa.string()).to_numpy(zero_copy_only=False)
    dates = asset_pnl["date"].cast(pa.int32()).to_numpy()
    if by == "portfolio":
        keys = np.zeros(len(dates), dtype=np.int64)
        key_names = None
    else:
        lookup = dict(zip(assets["asset"].to_pylist(), assets[by].to_pylist()))
        key_names, keys = np.unique(np.array([lookup[a] for a in asset_names], dtype=object), return_inverse=True)
    day0 = int(dates.min()) if len(dates) else 0
    n_days = int(dates.max()) - day0 + 1 if len(dates) else 0
    cell = keys * n_days + (dates - day0)
    size = (int(keys.max()) + 1) * n_days if len(dates) else 0
    count = np.bincount(cell, minlength=size)
    sums = {name: np.bincount(cell, weights=asset_pnl[name].to_numpy(), minlength=size)
            for name in ("pnl", "opnl", "hpnl")}
    present = np.flatnonzero(count)
    columns = {}
    if key_names is not None:
        columns[by] = pa.array(key_names[present // n_days].tolist(), pa.string())
    columns["date"] = date_array(present % n_days + day0)
    for name, values in sums.items():
        columns[name] = pa.array(values[present])
    columns["n_assets"] = pa.array(count[present].astype(np.int32))
    return pa.table(columns)


def _number_or_none(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
