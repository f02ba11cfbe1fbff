"""The cohort cube (STRATEGY S1.5): straddle P&L summed per (asset, entry day), day by day.

A strategy holds, for each straddle, the weight of its asset on its *lock day* (S1.3), so every
straddle of an asset entered on the same day holds the same weight: they form a **cohort**, and a
weight matrix only needs each cohort's summed daily P&L. The cube stores, ragged and cohort-major,
for every cohort (asset, entry day) and each day from its entry to its last straddle's expiry:

* ``pnl, opnl, hpnl``: Σ w_k·x_k over the cohort's straddles with a pnl that day (w = SPEC 13.1
  ``weight``), and the same for the attribution and cost columns when the day rows carry them;
* ``vol``: Σ w_k·vol_k and ``weight``: Σ w_k over the same straddles (for V of S2);
* ``count``: how many of its straddles have a pnl that day (0 = no value).

Memory is bounded by the valued day rows (a cohort's run is at most as long as its straddles'
days). The lock day is not stored: it is computed when a strategy runs (the day before the entry,
or before the first day of the entry month), so one cube serves both inception modes.

:class:`CohortBuilder` lays a cube out after the backtest kernel's SELECT pass; the kernel then
adds each valued day into it directly (no day rows needed), or it fills from streamed day chunks. :func:`books` turns a weight matrix into long and short books through
the lock: one pass over the cube.

This module imports numba only inside the functions that compute (``from . import nb``), so that
reading a results folder with a cube does not pay for the compiler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..engine.columns import date_array
from ..engine.dates import month_start
from ..engine.legs import VOL
from ..errors import StraddlesError

#: file name of the cube inside a backtest folder
COHORTS_FILE = "cohorts.parquet"
#: summed w·x columns every cube has, in this order
BASE_COLUMNS = ("pnl", "opnl", "hpnl")
#: summed w·x columns a cube has when the day rows carry them (SPEC 17-18 attribution and costs)
EXTRA_COLUMNS = ("gamma_pnl", "theta_pnl", "vega_pnl", "resid_pnl", "cost_option", "cost_hedge", "pnl_net")
#: inception modes of the lock (S1.3)
INCEPTIONS = ("entry", "month_start")
#: Parquet schema metadata key holding the AMT settings a strategy needs (see :attr:`Cohorts.settings`)
SETTINGS_KEY = b"straddles.strategy"


@dataclass
class Cohorts:
    """A cohort cube: a cohort table and value columns over each cohort's days.

    ``asset`` (int32, index into the backtest's asset table), ``entry`` (int32 day number, also the
    cohort's first day), ``length`` (int32 days) and ``offset`` (int64, ``n + 1`` run starts into
    the value columns). ``columns`` maps a name (``pnl, opnl, hpnl, vol, weight`` and any extra
    column) to its float64 values; ``count`` is int32.

    ``settings`` carries what a strategy needs from the AMT beyond the asset table, so that a
    results folder alone supports strategies: ``amt`` (the file's path, for messages),
    ``signal_table`` (rows ``[name, calc, init]``),
    ``group_risk_multipliers`` ({group: multiplier}), ``aum`` and ``leverage`` (None if absent).
    """

    asset: np.ndarray
    entry: np.ndarray
    length: np.ndarray
    offset: np.ndarray
    columns: dict[str, np.ndarray]
    count: np.ndarray
    settings: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.asset)

    @property
    def n_cells(self) -> int:
        return int(self.offset[-1])

    @property
    def value_columns(self) -> tuple[str, ...]:
        """The summed P&L columns (base, then extras present)."""
        return BASE_COLUMNS + tuple(name for name in EXTRA_COLUMNS if name in self.columns)

    def day_range(self) -> tuple[int, int] | None:
        """First and last day number on which some straddle has a pnl (None for an empty cube)."""
        present = np.flatnonzero(self.count > 0)
        if not len(present):
            return None
        cohort = np.searchsorted(self.offset, present, side="right") - 1
        days = self.entry[cohort] + (present - self.offset[cohort])
        return int(days.min()), int(days.max())

    def lock_order(self) -> np.ndarray:
        """Cohorts ordered by entry (so by lock day, in either inception mode), then asset."""
        return np.lexsort((self.asset, self.entry)).astype(np.int64)

    def lock_days(self, inception: str = "entry") -> np.ndarray:
        """Each cohort's lock day (S1.3): the day before its entry, or with ``month_start`` the
        day before the first day of its entry month."""
        if inception == "entry":
            return self.entry.astype(np.int64) - 1
        if inception == "month_start":
            months = self.entry.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
            return np.asarray(month_start(months), np.int64) - 1
        raise StraddlesError(f"strategy: inception must be one of {', '.join(INCEPTIONS)}, got {inception!r}")

    # --- Arrow / Parquet -----------------------------------------------------------------------

    def to_arrow(self) -> pa.Table:
        """One row per cohort: ``asset, entry, length`` and a list column per value column."""
        offsets = pa.array(self.offset.astype(np.int32 if self.n_cells < 2**31 else np.int64))
        list_of = pa.ListArray if offsets.type == pa.int32() else pa.LargeListArray
        columns = {"asset": pa.array(self.asset.astype(np.int32)), "entry": date_array(self.entry),
                   "length": pa.array(self.length.astype(np.int32))}
        for name, values in self.columns.items():
            columns[name] = list_of.from_arrays(offsets, pa.array(values))
        columns["count"] = list_of.from_arrays(offsets, pa.array(self.count.astype(np.int32)))
        table = pa.table(columns)
        return table.replace_schema_metadata({SETTINGS_KEY: json.dumps(self.settings).encode()})

    @classmethod
    def from_arrow(cls, table: pa.Table) -> Cohorts:
        table = table.combine_chunks()
        metadata = table.schema.metadata or {}
        settings = json.loads(metadata[SETTINGS_KEY]) if SETTINGS_KEY in metadata else {}

        def flat(name):
            array = table[name].chunk(0) if table[name].num_chunks else pa.array([], table[name].type)
            return array.flatten().to_numpy(zero_copy_only=False)

        lengths = table["length"].to_numpy().astype(np.int64)
        offset = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=offset[1:])
        names = [name for name in table.column_names if name not in ("asset", "entry", "length", "count")]
        return cls(asset=table["asset"].to_numpy().astype(np.int32),
                   entry=table["entry"].cast(pa.int32()).to_numpy().astype(np.int32),
                   length=lengths.astype(np.int32), offset=offset,
                   columns={name: np.ascontiguousarray(flat(name), np.float64) for name in names},
                   count=np.ascontiguousarray(flat("count"), np.int32), settings=settings)

    @classmethod
    def read(cls, path: str | Path) -> Cohorts:
        try:
            return cls.from_arrow(pq.read_table(path))
        except (OSError, KeyError, pa.ArrowInvalid) as exc:
            raise StraddlesError(f"{path}: not a cohort cube ({exc})") from None


class CohortBuilder:
    """Lays out and fills a cube from a backtest kernel run.

    The pipeline passes it as :func:`~straddles.engine.kernel.run_kernel`'s ``cube``: the kernel
    calls :meth:`kernel_layout` after its SELECT pass and then adds every valued day into the
    cube's cells itself, in its VALUE pass (no day rows needed). It is also a day sink: with
    :meth:`layout` as the kernel's ``on_select``, each call scatters one chunk of day rows in a
    compiled loop (chunks in any order; a cohort's rows may span chunks). Both sum each cell in
    ``straddle_id`` order, so they give the same cube bit for bit.
    """

    def __init__(self, asset: np.ndarray, weight: np.ndarray, settings: dict | None = None):
        self.asset = np.asarray(asset, np.int32)
        self.weight = np.asarray(weight, np.float64)
        self.settings = settings or {}
        self.cohort_of = None
        self.extra: dict[str, np.ndarray] = {}

    def layout(self, selected: dict, extra: tuple[str, ...] = ()) -> None:
        """Size the cube from each straddle's ``entry_date`` and ``n_days`` (the kernel's SELECT
        pass), with zeroed value columns; ``extra`` names the :data:`EXTRA_COLUMNS` to allocate now
        (others are added by :meth:`__call__` when day rows carry them)."""
        from ..engine.kernel import CUBE_BASE_ROWS

        # every straddle with day rows: valued ones, and open ones of a point-in-time run (SPEC 16.1)
        valued = np.flatnonzero(selected["n_days"] > 0)
        entry = selected["entry_date"][valued].astype(np.int64)
        end = entry + selected["n_days"][valued]
        asset = self.asset[valued]
        order = np.lexsort((entry, asset))
        asset, entry, end, valued = asset[order], entry[order], end[order], valued[order]
        new = np.r_[True, (asset[1:] != asset[:-1]) | (entry[1:] != entry[:-1])] if len(order) else np.zeros(0, bool)
        starts = np.flatnonzero(new)
        length = np.maximum.reduceat(end, starts) - entry[starts] if len(starts) else np.zeros(0, np.int64)
        self.cohort_of = np.full(len(self.asset), -1, np.int64)
        self.cohort_of[valued] = np.cumsum(new) - 1
        self.c_asset, self.c_entry = asset[starts].astype(np.int32), entry[starts].astype(np.int32)
        self.c_length = length.astype(np.int32)
        self.offset = np.zeros(len(starts) + 1, np.int64)
        np.cumsum(length, out=self.offset[1:])
        # one block, rows CUBE_BASE_ROWS then ``extra``: the layout the kernel adds into
        self.values = np.zeros((len(CUBE_BASE_ROWS) + len(extra), int(self.offset[-1])))
        self.columns = dict(zip(CUBE_BASE_ROWS, self.values))
        self.extra = {name: self.values[len(CUBE_BASE_ROWS) + k] for k, name in enumerate(extra)}
        self.count = np.zeros(self.n_cells, np.int32)

    def kernel_layout(self, selected: dict, extra: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`layout`, then what the kernel adds into: ``(cube_base, values, count)``, where
        straddle i's day t is cell ``cube_base[i] + t`` (``NO_CUBE`` for a straddle without days)."""
        from ..engine.kernel import NO_CUBE

        self.layout(selected, extra)
        has = self.cohort_of >= 0
        cohort = self.cohort_of[has]
        cube_base = np.full(len(self.asset), NO_CUBE, np.int64)
        cube_base[has] = self.offset[cohort] - self.c_entry[cohort]
        return cube_base, self.values, self.count

    def __call__(self, chunk: dict) -> None:
        if self.cohort_of is None:
            raise RuntimeError("CohortBuilder: layout() must run before the day rows (run_kernel on_select)")
        from . import nb

        ids, date, pnl = chunk["straddle_id"], chunk["date"], chunk["pnl"]
        c = self.columns
        nb.scatter_days(ids, date, pnl, chunk["opnl"], chunk["hpnl"], chunk["legs"][VOL], self.cohort_of,
                        self.weight, self.c_entry, self.offset, c["pnl"], c["opnl"], c["hpnl"], c["vol"],
                        c["weight"], self.count)
        for name in EXTRA_COLUMNS:
            if name in chunk:
                out = self.extra.setdefault(name, np.zeros(self.n_cells))
                nb.scatter_column(ids, date, pnl, np.asarray(chunk[name], np.float64), self.cohort_of,
                                  self.weight, self.c_entry, self.offset, out)

    @property
    def n_cells(self) -> int:
        return int(self.offset[-1])

    def result(self) -> Cohorts:
        """The filled cube (the column arrays are handed over, not copied)."""
        if self.cohort_of is None:
            raise RuntimeError("CohortBuilder: layout() never ran (run_kernel on_select)")
        columns = {name: self.columns[name] for name in BASE_COLUMNS}
        columns.update(self.extra)
        columns.update(vol=self.columns["vol"], weight=self.columns["weight"])
        return Cohorts(self.c_asset, self.c_entry, self.c_length, self.offset, columns, self.count, self.settings)


def books(cohorts: Cohorts, W: np.ndarray, origin: int, lock: np.ndarray, grid_start: int, n_days: int,
          values: np.ndarray, bucket: np.ndarray | None = None, n_buckets: int | None = None,
          order: np.ndarray | None = None):
    """The long and short books of the weight matrix ``W`` (rows = days from ``origin``) through
    the lock (S1.4): ``Σ_k w_k·x_k(d)·W[lock_k, a_k]`` over each bucket's cohorts, with
    ``max(W, 0)`` and ``min(W, 0)``.

    ``values`` is ``float64[n_cols, n_cells]`` (cube columns stacked, see
    :meth:`~straddles.strategies.context.StrategyContext.values`);
    ``bucket`` maps each cohort to a bucket (default: its asset). Returns ``(long, short)``, each
    ``float64[n_cols, n_buckets, n_days]`` over the grid of ``n_days`` days from ``grid_start``,
    0 (not NaN) where the bucket has no pnl. One pass over the cube. ``order`` is
    :meth:`Cohorts.lock_order` (computed when not given).
    """
    from . import nb

    order = cohorts.lock_order() if order is None else order
    held = nb.cohort_weights(W, origin, lock, cohorts.asset, order)[None, :]
    if bucket is None:
        bucket, n_buckets = cohorts.asset, W.shape[1]
    long_, short = many_books(cohorts, held, grid_start, n_days, values, bucket, n_buckets)
    return long_[0], short[0]


def many_books(cohorts: Cohorts, held: np.ndarray, grid_start: int, n_days: int, values: np.ndarray,
               bucket: np.ndarray, n_buckets: int):
    """:func:`books` of several weight matrices in one pass over the cube, given the weight each
    cohort holds under each (``held[m]``, from :func:`~straddles.strategies.nb.cohort_weights`):
    ``(long, short)``, each ``float64[len(held), n_cols, n_buckets, n_days]``; book ``m`` equals
    :func:`books` of matrix ``m`` exactly (each cell sums the same terms in the same order)."""
    from . import nb

    long_ = np.zeros((len(values), n_buckets, n_days, len(held)))
    short = np.zeros((len(values), n_buckets, n_days, len(held)))
    nb.cohort_books(values, bucket, cohorts.entry.astype(np.int64) - grid_start, cohorts.length, cohorts.offset,
                    np.ascontiguousarray(held), long_, short, nb.day_blocks())
    return np.moveaxis(long_, 3, 0), np.moveaxis(short, 3, 0)


def base_matrices(cohorts: Cohorts, grid_start: int, n_days: int, n_assets: int) -> tuple[np.ndarray, np.ndarray]:
    """P and V of S2 over the grid: ``P = Σ w·pnl`` and ``V = Σ w·vol / Σ w`` over each asset's
    straddles with a pnl that day, NaN where none (V also NaN where one of them has no vol)."""
    values = np.stack([cohorts.columns["pnl"], cohorts.columns["vol"], cohorts.columns["weight"],
                       cohorts.count.astype(np.float64)])
    out, _ = books(cohorts, np.ones((1, n_assets)), 0, np.zeros(len(cohorts), np.int64), grid_start, n_days, values)
    pnl, vol, weight, count = (out[k].T for k in range(4))
    has = count > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        V = np.where(has, vol / weight, np.nan)
    P = np.where(has, pnl, np.nan)
    V[~np.isfinite(V)] = np.nan
    return P, V


def amt_settings(amt) -> dict:
    """What a strategy needs from the AMT besides the asset table (see :attr:`Cohorts.settings`)."""
    backtest = amt.backtest or {}

    def number(key):
        value = backtest.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    return {"amt": str(amt.path), "signal_table": [list(row) for row in amt.signal_table],
            "group_risk_multipliers": dict(amt.group_risk_multipliers),
            "aum": number("aum"), "leverage": number("leverage")}
