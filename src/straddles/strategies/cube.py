"""The cohort cube (STRATEGY S1.5): straddle P&L summed per (asset, entry day), day by day.

A strategy holds, for each straddle, the weight of its asset on its *lock day* (S1.3), so every
straddle of an asset entered on the same day holds the same weight: they form a **cohort**, and a
weight matrix only needs each cohort's summed daily P&L. The cube stores, ragged and cohort-major,
for every cohort (asset, entry day) and each day from its entry to its last straddle's expiry, the
cells ``pnl, opnl, hpnl``: Σ w_k·x_k over the cohort's straddles with a pnl that day (w = SPEC 13.1
``weight``, 0 where none has one), and the same for the attribution and cost columns when the run
has them (SPEC 17-18).

What does not depend on the lock is kept per **asset-day** instead, over each asset's window from
its first cohort's entry to its last cohort's end: Σ w·pnl (P of S2, the SPEC 13.3 asset P&L, the
same sums in the same order as the backtest's grid), Σ w·vol and Σ w (V of S2), and how many
straddles have a pnl (``has``). Per cohort they would triple the cube for nothing.

Memory is bounded by the valued day rows (a cohort's run is at most as long as its straddles'
days). The lock day is not stored: it is computed when a strategy runs (the day before the entry,
or before the first day of the entry month), so one cube serves both inception modes.

:class:`CohortBuilder` lays a cube out after the backtest kernel's SELECT pass; the kernel then
adds each valued day into it directly (no day rows needed), or it fills from streamed day chunks.
:func:`books` turns a weight matrix into long and short books through the lock: one pass over the
cube. :meth:`Cohorts.write` stores a cube as an uncompressed Arrow IPC file, which
:meth:`Cohorts.read` maps into memory without copying (BENCHMARKS.md, "Cohort cube").

This module imports numba only inside the functions that compute (``from . import nb``), so that
reading a results folder with a cube does not pay for the compiler.
"""

from __future__ import annotations

import json
import mmap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..engine.dates import month_start
from ..engine.legs import VOL
from ..errors import StraddlesError

#: summed w·x cell columns every cube has, in this order
BASE_COLUMNS = ("pnl", "opnl", "hpnl")
#: summed w·x cell columns a cube has when the day rows carry them (SPEC 17-18 attribution and costs)
EXTRA_COLUMNS = ("gamma_pnl", "theta_pnl", "vega_pnl", "resid_pnl", "cost_option", "cost_hedge", "pnl_net")
#: the asset-day sums (float64), beside ``day_count``: Σ w·pnl, Σ w·vol, Σ w over straddles with a pnl
DAY_COLUMNS = ("pnl", "vol", "weight")
#: inception modes of the lock (S1.3)
INCEPTIONS = ("entry", "month_start")
#: schema metadata key holding the AMT settings a strategy needs (see :attr:`Cohorts.settings`)
SETTINGS_KEY = b"straddles.strategy"


@dataclass
class Cohorts:
    """A cohort cube: a cohort table, cell columns over each cohort's days, and asset-day sums.

    Cohorts are sorted by asset, then entry. ``asset`` (int32, index into the backtest's asset
    table), ``entry`` (int32 day number, also the cohort's first day), ``length`` (int32 days) and
    ``offset`` (int64, ``n + 1`` run starts into the cells). ``columns`` maps a cell column
    (``pnl, opnl, hpnl`` and any extra) to its float64 values.

    Asset ``a``'s days are ``day_offset[a]:day_offset[a + 1]``, one per calendar day from
    ``day_first[a]`` (int32); ``days`` maps :data:`DAY_COLUMNS` to their float64 sums and
    ``day_count`` (int32) counts the straddles with a pnl. Arrays read from a file are read-only
    views of it.

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
    day_offset: np.ndarray
    day_first: np.ndarray
    days: dict[str, np.ndarray]
    day_count: np.ndarray
    settings: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.asset)

    @property
    def n_cells(self) -> int:
        return int(self.offset[-1])

    @property
    def nbytes(self) -> int:
        """Bytes of the cells and asset-day arrays (the cube's size in memory, or mapped)."""
        arrays = [*self.columns.values(), *self.days.values(), self.day_count]
        return sum(array.nbytes for array in arrays)

    @property
    def n_assets(self) -> int:
        """Assets the asset-day windows cover (the backtest's selected assets)."""
        return len(self.day_first)

    @property
    def value_columns(self) -> tuple[str, ...]:
        """The summed P&L columns (base, then extras present)."""
        return BASE_COLUMNS + tuple(name for name in EXTRA_COLUMNS if name in self.columns)

    def day_range(self) -> tuple[int, int] | None:
        """First and last day number on which some straddle has a pnl (None for an empty cube)."""
        present = np.flatnonzero(self.day_count > 0)
        if not len(present):
            return None
        asset = np.searchsorted(self.day_offset, present, side="right") - 1
        days = self.day_first[asset].astype(np.int64) + (present - self.day_offset[asset])
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

    # --- Arrow --------------------------------------------------------------------------------

    def to_arrow(self) -> pa.Table:
        """One row per asset: its window's first day (``first_day``), its cohorts (``entry``,
        ``length``), their cells, run after run (a list column per cell column), and its asset-day
        sums (``day_pnl, day_vol, day_weight, day_count``); no copies of the arrays. In an IPC
        file the values of consecutive list columns of one type lie at equal distances (the next
        column's offsets between them): :class:`CohortBuilder` relies on it to fill a file in place."""
        n_assets = self.n_assets
        bounds = np.searchsorted(self.asset, np.arange(n_assets + 1)).astype(np.int64)
        cells = self.offset[bounds]

        def lists(offsets: np.ndarray, values: np.ndarray) -> pa.Array:
            large = int(offsets[-1]) >= 2**31
            kind = pa.LargeListArray if large else pa.ListArray
            return kind.from_arrays(pa.array(offsets.astype(np.int64 if large else np.int32)), pa.array(values))

        columns = {"first_day": pa.array(self.day_first.astype(np.int32, copy=False)).view(pa.date32())}
        columns["entry"] = lists(bounds, pa.array(self.entry.astype(np.int32, copy=False)).view(pa.date32()))
        columns["length"] = lists(bounds, self.length.astype(np.int32, copy=False))
        for name, values in self.columns.items():
            columns[name] = lists(cells, values)
        for name in DAY_COLUMNS:
            columns["day_" + name] = lists(self.day_offset, self.days[name])
        columns["day_count"] = lists(self.day_offset, self.day_count.astype(np.int32, copy=False))
        table = pa.table(columns)
        return table.replace_schema_metadata({SETTINGS_KEY: json.dumps(self.settings).encode()})

    @classmethod
    def from_arrow(cls, table: pa.Table) -> Cohorts:
        """The cube of :meth:`to_arrow`'s table; arrays are views of the table's buffers (one
        record batch, as :meth:`write` writes), copies only for a table in several chunks."""
        metadata = table.schema.metadata or {}
        settings = json.loads(metadata[SETTINGS_KEY]) if SETTINGS_KEY in metadata else {}
        if any(column.num_chunks != 1 for column in table.columns):
            table = table.combine_chunks()

        def chunk(name: str) -> pa.Array:
            array = table[name].chunk(0)
            return array if array.offset == 0 and array.offsets[0].as_py() == 0 else pa.concat_arrays([array])

        def values(name: str, dtype) -> np.ndarray:
            array = chunk(name).values
            if pa.types.is_date32(array.type):
                array = array.view(pa.int32())
            return np.asarray(array.to_numpy(zero_copy_only=True)).view(dtype)

        def offsets(name: str) -> np.ndarray:
            return chunk(name).offsets.to_numpy().astype(np.int64)

        n_assets = table.num_rows
        bounds = offsets("entry") if n_assets else np.zeros(1, np.int64)
        length = values("length", np.int32) if n_assets else np.zeros(0, np.int32)
        offset = np.zeros(len(length) + 1, np.int64)
        np.cumsum(length, out=offset[1:])
        fixed = {"first_day", "entry", "length", "day_count", *("day_" + name for name in DAY_COLUMNS)}
        names = [name for name in table.column_names if name not in fixed]
        empty = np.zeros(0)
        return cls(asset=np.repeat(np.arange(n_assets, dtype=np.int32), np.diff(bounds)),
                   entry=values("entry", np.int32) if n_assets else np.zeros(0, np.int32),
                   length=length, offset=offset,
                   columns={name: values(name, np.float64) if n_assets else empty for name in names},
                   day_offset=offsets("day_count") if n_assets else np.zeros(1, np.int64),
                   day_first=table["first_day"].cast(pa.int32()).to_numpy().astype(np.int32),
                   days={name: values("day_" + name, np.float64) if n_assets else empty for name in DAY_COLUMNS},
                   day_count=values("day_count", np.int32) if n_assets else np.zeros(0, np.int32),
                   settings=settings)

    def write(self, path: str | Path, compression: str | None = None) -> None:
        """Write the cube to ``path`` as an Arrow IPC file (uncompressed by default: it is
        written and mapped back fastest, see BENCHMARKS.md); not atomic by itself (a backtest
        folder's writer renames it into place)."""
        table = self.to_arrow()
        options = pa.ipc.IpcWriteOptions(compression=compression)
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=options) as writer:
            writer.write_table(table, max_chunksize=max(table.num_rows, 1))

    @classmethod
    def read(cls, path: str | Path) -> Cohorts:
        """The cube of a file :meth:`write` wrote, memory-mapped: its arrays are read-only views
        of the file (pages are read when first used), not copies."""
        try:
            source = pa.memory_map(str(path), "r")
            return cls.from_arrow(pa.ipc.open_file(source).read_all())
        except (OSError, KeyError, pa.ArrowInvalid) as exc:
            raise StraddlesError(f"{path}: not a cohort cube ({' '.join(str(exc).split())})") from None


class CohortBuilder:
    """Lays out and fills a cube from a backtest kernel run.

    The pipeline passes it as :func:`~straddles.engine.kernel.run_kernel`'s ``cube``: the kernel
    calls :meth:`kernel_layout` after its SELECT pass and then adds every valued day into the
    cube's cells and asset-days itself, in its VALUE pass (no day rows needed). It is also a day
    sink: with :meth:`layout` as the kernel's ``on_select``, each call scatters one chunk of day
    rows in a compiled loop (chunks in any order; a cohort's rows may span chunks). Both sum each
    cell in ``straddle_id`` order, so they give the same cube bit for bit.

    ``n_assets`` (default: the largest asset index + 1) sets how many assets the asset-day
    windows cover; assets without cohorts get empty windows.

    With a ``path``, the kernel fills the cube in that file: :meth:`kernel_layout` writes the
    zeroed cube there and maps it, and the kernel adds into the mapped pages, so the finished cube
    is already its file (:meth:`Cohorts.write`'s bytes) and never held twice, in memory and in the
    page cache (fresh memory is what costs on this VM, BENCHMARKS.md). Its arrays are read-only
    once :meth:`result` returns.
    """

    def __init__(self, asset: np.ndarray, weight: np.ndarray, settings: dict | None = None,
                 n_assets: int | None = None, path: str | Path | None = None):
        self.asset = np.asarray(asset, np.int32)
        self.weight = np.asarray(weight, np.float64)
        self.settings = settings or {}
        self.n_assets = int(self.asset.max()) + 1 if n_assets is None and len(self.asset) else int(n_assets or 0)
        self.cohort_of = None
        self.extra: dict[str, np.ndarray] = {}
        self.path = path
        self._mapped = False

    def layout(self, selected: dict, extra: tuple[str, ...] = ()) -> None:
        """Size the cube from each straddle's ``entry_date`` and ``n_days`` (the kernel's SELECT
        pass), with zeroed cells and asset-days; ``extra`` names the :data:`EXTRA_COLUMNS` to
        allocate now (others are added by :meth:`__call__` when day rows carry them)."""
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
        self._layout_days()

    def _layout_days(self) -> None:
        """Each asset's window of asset-days: from its first cohort's entry to its last cohort's
        end (cohorts are sorted by asset, then entry)."""
        bounds = np.searchsorted(self.c_asset, np.arange(self.n_assets + 1))
        present = np.flatnonzero(bounds[1:] > bounds[:-1])
        first = np.zeros(self.n_assets, np.int64)
        size = np.zeros(self.n_assets, np.int64)
        if len(present):
            starts = bounds[present]
            first[present] = self.c_entry[starts]
            size[present] = np.maximum.reduceat(self.c_entry.astype(np.int64) + self.c_length, starts) - first[present]
        self.day_first = first.astype(np.int32)
        self.day_offset = np.zeros(self.n_assets + 1, np.int64)
        np.cumsum(size, out=self.day_offset[1:])
        # straddle i's asset-day of day t: day_base[i] + t
        self.day_base = (self.day_offset[:-1] - first)[self.asset] if self.n_assets else np.zeros(len(self.asset), np.int64)
        self.day_values = np.zeros((len(DAY_COLUMNS), int(self.day_offset[-1])))
        self.day_count = np.zeros(int(self.day_offset[-1]), np.int32)

    def kernel_layout(self, selected: dict, extra: tuple[str, ...]):
        """:meth:`layout`, then what the kernel adds into: ``(cube_base, values, day_base,
        day_values, day_count)``, where straddle i's day t is cell ``cube_base[i] + t`` (``NO_CUBE``
        for a straddle without days) and asset-day ``day_base[i] + t``."""
        from ..engine.kernel import NO_CUBE

        self.layout(selected, extra)
        if self.path is not None:
            self._map_file()
        has = self.cohort_of >= 0
        cohort = self.cohort_of[has]
        cube_base = np.full(len(self.asset), NO_CUBE, np.int64)
        cube_base[has] = self.offset[cohort] - self.c_entry[cohort]
        return cube_base, self.values, self.day_base, self.day_values, self.day_count

    def __call__(self, chunk: dict) -> None:
        if self.cohort_of is None:
            raise RuntimeError("CohortBuilder: layout() must run before the day rows (run_kernel on_select)")
        from . import nb

        ids, date, pnl = chunk["straddle_id"], chunk["date"], chunk["pnl"]
        c = self.columns
        nb.scatter_days(ids, date, pnl, chunk["opnl"], chunk["hpnl"], chunk["legs"][VOL], self.cohort_of,
                        self.weight, self.c_entry, self.offset, self.day_base, c["pnl"], c["opnl"], c["hpnl"],
                        self.day_values, self.day_count)
        for name in EXTRA_COLUMNS:
            if name in chunk:
                out = self.extra.setdefault(name, np.zeros(self.n_cells))
                nb.scatter_column(ids, date, pnl, np.asarray(chunk[name], np.float64), self.cohort_of,
                                  self.weight, self.c_entry, self.offset, out)

    def _map_file(self) -> None:
        """Write the zeroed cube to :attr:`path` and put its cells and asset-days in a shared,
        writable map of the file (see the class docstring). The zeroed arrays were never written,
        so writing them reads only the kernel's zero page. If the file's layout is not the one
        expected, the arrays stay in memory and :meth:`result` writes the file."""
        self._cube().write(self.path)
        self._mapped = not self.n_cells  # without cells the zeroed file is the cube
        if self._mapped or not hasattr(mmap, "MAP_SHARED"):  # (no POSIX mmap flags: write at the end)
            return
        with open(self.path, "r+b") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        raw = np.frombuffer(mapped, np.uint8)
        base = pa.py_buffer(mapped)
        table = pa.ipc.open_file(base).read_all()

        def start(name: str) -> int:
            return table[name].chunk(0).values.buffers()[1].address - base.address

        def block(names: list[str]) -> np.ndarray | None:
            """The values of these float64 list columns as one C-contiguous ``[rows, stride]``
            view whose rows start at each column's values (None if not equally spaced)."""
            starts = [start(name) for name in names]
            first, stride = starts[0], starts[1] - starts[0]
            if (first % 8 or stride % 8 or stride <= 0 or first + len(names) * stride > len(raw)
                    or starts != [first + k * stride for k in range(len(names))]):
                return None
            return raw[first:first + len(names) * stride].view(np.float64).reshape(len(names), stride // 8)

        n_cells, n_days = self.n_cells, int(self.day_offset[-1])
        names = [*self.columns, *self.extra]
        cells = block(names)
        days = block(["day_" + name for name in DAY_COLUMNS])
        count = start("day_count")
        if cells is None or days is None or count % 4:
            return
        self.values, self.day_values = cells, days  # rows longer than the cube: the kernel stays inside
        self.columns = {name: cells[k, :n_cells] for k, name in enumerate(self.columns)}
        self.extra = {name: cells[len(self.columns) + k, :n_cells] for k, name in enumerate(self.extra)}
        self.day_count = raw[count:count + 4 * n_days].view(np.int32)
        self._mapped = True

    @property
    def n_cells(self) -> int:
        return int(self.offset[-1])

    def _cube(self) -> Cohorts:
        columns = {name: self.columns[name] for name in BASE_COLUMNS}
        columns.update(self.extra)
        n_days = int(self.day_offset[-1])
        return Cohorts(self.c_asset, self.c_entry, self.c_length, self.offset, columns, self.day_offset,
                       self.day_first, {name: row[:n_days] for name, row in zip(DAY_COLUMNS, self.day_values)},
                       self.day_count, self.settings)

    def result(self) -> Cohorts:
        """The filled cube (the arrays are handed over, not copied); with a :attr:`path`, also
        its file (the cube's arrays then map it, read-only)."""
        if self.cohort_of is None:
            raise RuntimeError("CohortBuilder: layout() never ran (run_kernel on_select)")
        cube = self._cube()
        if self.path is not None and not self._mapped:
            cube.write(self.path)
        if self._mapped:
            for array in (*cube.columns.values(), *cube.days.values(), cube.day_count):
                array.flags.writeable = False
        return cube


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
               bucket: np.ndarray, n_buckets: int, entry_row: np.ndarray | None = None):
    """:func:`books` of several weight matrices in one pass over the cube, given the weight each
    cohort holds under each (``held[m]``, from :func:`~straddles.strategies.nb.cohort_weights`):
    ``(long, short)``, each ``float64[len(held), n_cols, n_buckets, n_days]``; book ``m`` equals
    :func:`books` of matrix ``m`` exactly (each cell sums the same terms in the same order).

    ``entry_row`` (each cohort's entry as a grid row, int64) may be given by a caller that keeps
    it."""
    from . import nb

    long_ = np.zeros((len(held), len(values), n_buckets, n_days))
    short = np.zeros((len(held), len(values), n_buckets, n_days))
    if entry_row is None:
        entry_row = cohorts.entry.astype(np.int64) - grid_start
    nb.cohort_books(values, bucket, entry_row, cohorts.length, cohorts.offset, np.ascontiguousarray(held.T),
                    long_, short, nb.day_blocks())
    return long_, short


def base_matrices(cohorts: Cohorts, grid_start: int, n_days: int, n_assets: int) -> tuple[np.ndarray, np.ndarray]:
    """P and V of S2 over the grid, from the cube's asset-days: ``P = Σ w·pnl`` (the SPEC 13.3
    asset P&L, bit for bit) and ``V = Σ w·vol / Σ w`` over each asset's straddles with a pnl that
    day, NaN where none (V also NaN where one of them has no vol)."""
    P = np.full((n_days, n_assets), np.nan)
    V = np.full((n_days, n_assets), np.nan)
    pnl, vol, weight = (cohorts.days[name] for name in DAY_COLUMNS)
    for a in range(min(n_assets, cohorts.n_assets)):
        lo, hi = int(cohorts.day_offset[a]), int(cohorts.day_offset[a + 1])
        first = int(cohorts.day_first[a]) - grid_start
        # the window's part inside the grid
        skip, stop = max(0, -first), min(hi - lo, n_days - first)
        if stop <= skip:
            continue
        cells = slice(lo + skip, lo + stop)
        rows = slice(first + skip, first + stop)
        has = cohorts.day_count[cells] > 0
        P[rows, a] = np.where(has, pnl[cells], np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            V[rows, a] = np.where(has, vol[cells] / weight[cells], np.nan)
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
