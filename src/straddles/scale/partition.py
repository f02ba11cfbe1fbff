"""Partitioned backtests: chunks of assets run as Dask tasks, merged into the single-process outputs.

Why partitioning by asset gives identical results. A straddle's rows depend only on its own asset
(its legs, anchors and prices), and an asset's P&L grid row sums its own straddles in
``straddle_id`` order, expiry year by expiry year, in every run. So a task expands a contiguous
slice of the selected assets (:func:`~straddles.engine.straddle_table.build_straddles` with
``assets=``), loads only the price series those assets read
(:func:`~straddles.engine.prices.load_price_series`), runs the kernel and numbers its rows with
their global ``straddle_id`` (SPEC 4.3: expiry month, then asset in file order, then entry): local
row ``j*K_part + k`` of the slice is global row ``j*K + first_template + k``, ``K`` the number of
(asset, entry) templates of the whole selection.

The client expands the whole selection too (milliseconds; it validates the AMT and gives the
straddle table its columns) and merges the parts:

* the straddle table: the per-straddle kernel results scattered into global row order, then the
  same :func:`~straddles.engine.pipeline.straddle_table` as a single-process run;
* ``asset_pnl``: each part's rows (its assets, by date) concatenated in asset order;
* the day table: each task writes its day rows as a Parquet part (global ids, sorted); the client
  reads the parts a few expiry years at a time, sorts each slice by ``straddle_id`` and writes
  them as the same row groups the single-process day writer writes. The result is byte-identical;
* the cohort cube (STRATEGY S1.5): each task fills its slice's cube from its own day rows. A
  cohort is one asset's, the cube is asset-major (cohorts by asset, then entry, and the asset-day
  windows by asset) and a task adds a cell's day rows in global ``straddle_id`` order as a single
  process does (local ids map to global ids in increasing order), so the parts' cubes,
  concatenated in asset order with the asset index shifted by the slice's first asset, are the
  single-process cube to the bit.

Outputs are written all-or-nothing as in :func:`~straddles.engine.pipeline.backtest`; the parts
live in a hidden folder inside the output folder (which the workers must be able to write) and are
removed whatever happens.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..engine.amt import Amt, Asset, load_amt
from ..engine.kernel import DAY_CHUNK_ROWS, KernelResult, _chunks, run_kernel
from ..engine.outputs import check_output_folder, parquet_options, result_folder
from ..engine.pipeline import (DAYS_FILE, DAYS_SCHEMA, Backtest,
                               StageTimer, asset_pnl_table, assets_table, days_table, straddle_table)
from ..engine.prices import PriceStore, load_price_series
from ..engine.straddle_table import StraddleFrame, build_straddles
from ..errors import StraddlesError
from ..strategies.cube import BASE_COLUMNS, DAY_COLUMNS, CohortBuilder, Cohorts, amt_settings
from .executor import KERNEL_LOCK, run_tasks, warm_price_caches, worker_prices

#: straddle-days of span per task: about a second of kernel on one core without the day table
#: (BENCHMARKS.md, "Dask"); fewer with the day table, whose rows cost more than the valuation
TASK_STRADDLE_DAYS = 32_000_000
TASK_STRADDLE_DAYS_WITH_DAY_TABLE = 12_000_000
#: the kernel's per-straddle results a task sends back (SPEC 13.1 computed columns)
PER_STRADDLE = ("status", "entry_date", "expiry_date", "strike", "strike_vol", "n_days", "pnl_sum")


@dataclass(frozen=True)
class Part:
    """One task of a partitioned run: a contiguous slice of the selected assets."""

    number: int
    assets: tuple[Asset, ...]
    first_asset: int
    first_template: int
    templates: int
    n_templates: int
    start_year: int
    end_year: int
    days: bool
    day_file: str | None
    cohorts: bool = False


@dataclass
class PartResult:
    """What a task sends back: per-straddle kernel results in the slice's row order, its asset
    P&L rows, its day rows per expiry year (written to ``Part.day_file``, or held here) and its
    slice's cohort cube (asset indices local to the slice; None without ``Part.cohorts``)."""

    per_straddle: dict[str, np.ndarray]
    asset_pnl: pa.Table
    year_rows: np.ndarray
    days: pa.Table | None
    cohorts: Cohorts | None = None


def partitioned_backtest(client, amt: Amt | str | Path, prices, start_year: int, end_year: int,
                         pattern: str = ".", overrides=None, days: bool = True, live_only: bool = True,
                         out: str | Path | None = None, progress=None, asof=None, expiry_basis: str = "realized",
                         greeks: bool = False, costs=None, calendars=None, cohorts: bool = True) -> Backtest:
    """:func:`straddles.backtest` on a Dask cluster: same arguments, same results (see the module
    docstring). ``prices`` must be a path the workers can read; ``progress(done, total)`` is
    called as tasks complete. The SPEC 16-18 options (and calendars, SPEC 6.5) are not partitioned
    yet: asking for one is an error."""
    requested = [name for name, value, default in (("asof", asof, None), ("expiry_basis", expiry_basis, "realized"),
                                                    ("greeks", greeks, False), ("costs", costs, None),
                                                    ("calendars", calendars, None)) if value != default]
    if requested:
        raise StraddlesError(f"a backtest on a Dask scheduler does not support {', '.join(requested)} yet: "
                             f"run it without scheduler=")
    timer = StageTimer()
    prices = worker_prices(prices)
    with timer("load AMT"):
        if not isinstance(amt, Amt):
            amt = load_amt(amt)
    frame = build_straddles(amt, start_year, end_year, pattern, live_only, overrides, timer=timer)
    parts_dir = None
    if out is not None:
        check_output_folder(Path(out))
    if out is not None and days:
        parts_dir = Path(out) / f".parts-{uuid.uuid4().hex[:12]}"
        parts_dir.mkdir(parents=True)
    try:
        n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
        parts = plan_parts(frame, start_year, end_year, days, parts_dir, n_workers=n_workers, cohorts=cohorts)
        with timer("tasks"):
            warm_price_caches(client, prices)
            results = run_tasks(client, run_part, parts, progress, amt=amt, overrides=frame.overrides,
                                prices=prices)
        settings = amt_settings(amt) if cohorts else None
        return _merge(frame, parts, results, days, out, timer, settings)
    finally:
        if parts_dir is not None:
            _remove_parts(parts_dir)


def _remove_parts(parts_dir: Path) -> None:
    """Delete the part files' folder. After a failure, cancelled tasks may still be running and
    creating files in it, which would make a plain ``rmtree`` fail on a folder that is not empty;
    the folder is first renamed, which no task knows, so nothing new appears while it is removed."""
    doomed = parts_dir.with_name(f"{parts_dir.name}.removing")
    try:
        parts_dir.rename(doomed)
    except OSError:
        doomed = parts_dir
    shutil.rmtree(doomed, ignore_errors=True)


def plan_parts(frame: StraddleFrame, start_year: int, end_year: int, days: bool, parts_dir: Path | None,
               target: int | None = None, n_workers: int = 1, cohorts: bool = False) -> list[Part]:
    """Contiguous asset slices of at least about ``target`` straddle-days of span each (default
    :data:`TASK_STRADDLE_DAYS`, or :data:`TASK_STRADDLE_DAYS_WITH_DAY_TABLE` with ``days``), of
    equal cost; once there are more slices than workers, a multiple of ``n_workers`` of them, so
    that the last round of tasks keeps every worker busy."""
    n_assets = len(frame.assets)
    span = (frame.span_end.astype(np.int64) - frame.span_start + 1).astype(np.float64)
    cost = np.cumsum(np.bincount(frame.asset, weights=span, minlength=n_assets))
    total = float(cost[-1]) if n_assets else 0.0
    target = target or (TASK_STRADDLE_DAYS_WITH_DAY_TABLE if days else TASK_STRADDLE_DAYS)
    n_tasks = max(1, int(total // target))
    if n_tasks > n_workers:
        n_tasks = -(-n_tasks // n_workers) * n_workers
    n_tasks = min(n_tasks, max(n_assets, 1))
    # slice k ends at the first asset whose cumulative cost reaches (k+1)/n of the total
    ends = np.searchsorted(cost, total * np.arange(1, n_tasks + 1) / n_tasks) + 1
    bounds = np.unique(np.r_[0, ends.clip(max=n_assets), n_assets]).astype(int)
    template_asset = np.array([index for index, _ in frame.templates], dtype=np.int64)
    first_template = np.searchsorted(template_asset, bounds)  # templates are in asset order
    parts = []
    for number in range(len(bounds) - 1):
        lo, hi = bounds[number], bounds[number + 1]
        day_file = str(parts_dir / f"part-{number:05d}.parquet") if parts_dir is not None else None
        parts.append(Part(number, tuple(frame.assets[lo:hi]), int(lo), int(first_template[number]),
                          int(first_template[number + 1] - first_template[number]), len(frame.templates),
                          start_year, end_year, days, day_file, cohorts))
    return parts


def global_ids(n_rows: int, part_templates: int, first_template: int, n_templates: int) -> np.ndarray:
    """Global straddle_id of each row of a slice's frame (see the module docstring)."""
    local = np.arange(n_rows, dtype=np.int64)
    month, template = np.divmod(local, max(part_templates, 1))
    return month * n_templates + first_template + template


def run_part(part: Part, amt: Amt, overrides, prices: str | PriceStore) -> PartResult:
    """The task: expand the slice, load its series, run the kernel, write its day rows and fill
    its cohort cube."""
    frame = build_straddles(amt, part.start_year, part.end_year, overrides=overrides, assets=part.assets)
    store = load_price_series(prices, frame.catalog.tickers)
    if len(frame.templates) != part.templates:
        raise StraddlesError(f"partitioned run: a slice of {len(part.assets)} assets expanded to "
                             f"{len(frame.templates)} schedule entries on the worker, {part.templates} on the client")
    ids = global_ids(len(frame), part.templates, part.first_template, part.n_templates)
    sink = _DayPart(ids, part.day_file) if part.days and part.day_file is not None else None
    in_memory = part.days and sink is None
    builder = CohortBuilder(frame.asset, frame.weight, n_assets=len(frame.assets)) if part.cohorts else None
    try:
        with KERNEL_LOCK:
            # chunk_rows=0: each chunk holds at most one expiry year with day rows; the kernel fills
            # the cube (local ids) in its valuation pass, with or without day rows
            result = run_kernel(frame, store, days=in_memory, day_sink=sink, chunk_rows=0, cube=builder)
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    if sink is not None:
        sink.close()
    per_straddle = {name: getattr(result, name) for name in PER_STRADDLE}
    year = frame.expiry_month // 12 - part.start_year
    year_rows = np.bincount(year, weights=result.n_days, minlength=part.end_year - part.start_year + 1)
    day_table = None
    if in_memory:
        day_table = days_table(dict(result.days, straddle_id=ids[result.days["straddle_id"]]))
    return PartResult(per_straddle, asset_pnl_table(frame, result), year_rows.astype(np.int64), day_table,
                      builder.result() if builder is not None else None)


class _DayPart:
    """Day sink of a task: the kernel's day chunks with global ids, appended to the part file
    under a temporary name that is renamed when complete (a retried task starts afresh)."""

    def __init__(self, ids: np.ndarray, path: str):
        self.ids, self.path, self.writer = ids, Path(path), None
        self.temporary = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")

    def __call__(self, chunk: dict) -> None:
        table = days_table(dict(chunk, straddle_id=self.ids[chunk["straddle_id"]]))
        if table.num_rows == 0:
            return
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.temporary, table.schema, **parquet_options(table.schema))
        self.writer.write_table(table, row_group_size=table.num_rows)

    def close(self) -> None:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.temporary, DAYS_SCHEMA, **parquet_options(DAYS_SCHEMA))
        self.writer.close()
        os.replace(self.temporary, self.path)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.temporary.unlink(missing_ok=True)


def _merge(frame: StraddleFrame, parts: list[Part], results: list[PartResult], days: bool, out,
           timer: StageTimer, settings: dict | None = None) -> Backtest:
    """The single-process outputs from the parts (see the module docstring); the cohort cube
    (carrying the AMT ``settings``) when they are given."""
    with timer("merge"):
        merged = _merged_kernel_result(frame, parts, results)
        asset_pnl = _merged_asset_pnl(frame, parts, results)
        straddles = straddle_table(frame, merged)
        assets = assets_table(frame)
        day_table = None
        if days and out is None:
            day_table = _sorted_by_id(pa.concat_tables([result.days for result in results]))
        cube = _merged_cohorts(parts, results, settings) if settings is not None else None
    backtest = Backtest(straddles=straddles, days=day_table, asset_pnl=asset_pnl, assets=assets,
                        timings=timer.seconds, cohorts=cube)
    if out is not None:
        with timer("write outputs"):
            _write(Path(out), backtest, parts, results, frame, days)
    return backtest


def _merged_kernel_result(frame: StraddleFrame, parts: list[Part], results: list[PartResult]) -> KernelResult:
    n = len(frame)
    merged = {}
    for part, result in zip(parts, results):
        length = len(next(iter(result.per_straddle.values())))
        ids = global_ids(length, part.templates, part.first_template, part.n_templates)
        for name, values in result.per_straddle.items():
            if name not in merged:
                merged[name] = np.empty(n, dtype=values.dtype)
            merged[name][ids] = values
    # the straddle table reads only the per-straddle results: the grids stay empty
    no_cells, no_assets = np.zeros(0), np.zeros(0, np.int64)
    return KernelResult(**merged, grid_offsets=np.zeros(1, np.int64), grid_first_day=no_assets, grid_pnl=no_cells,
                        grid_opnl=no_cells, grid_hpnl=no_cells, grid_count=no_assets, days=None)


def _merged_asset_pnl(frame: StraddleFrame, parts: list[Part], results: list[PartResult]) -> pa.Table:
    """Each part's asset P&L rows, in asset order, with the asset column over the whole selection."""
    tables = []
    for part, result in zip(parts, results):
        table = result.asset_pnl
        index = pc.add(table["asset"].combine_chunks().indices, pa.scalar(part.first_asset, pa.int32()))
        tables.append(table.set_column(0, "asset", index))
    table = pa.concat_tables(tables).combine_chunks()
    names = pa.array([a.underlying for a in frame.assets], pa.string())
    asset = pa.DictionaryArray.from_arrays(table["asset"].combine_chunks(), names)
    return table.set_column(0, "asset", asset)


def _merged_cohorts(parts: list[Part], results: list[PartResult], settings: dict) -> Cohorts:
    """The parts' cubes concatenated in asset order (see the module docstring)."""
    cubes = [result.cohorts for result in results]
    names = list(cubes[0].columns) if cubes else list(BASE_COLUMNS)
    length = np.concatenate([cube.length for cube in cubes] or [np.zeros(0, np.int32)])
    offset = np.zeros(len(length) + 1, np.int64)
    np.cumsum(length, out=offset[1:])
    day_count = _joined([cube.day_count for cube in cubes], np.int32)
    day_offset = np.zeros(1, np.int64)
    if cubes:
        day_offset = np.r_[0, np.cumsum(np.concatenate([np.diff(cube.day_offset) for cube in cubes]))].astype(np.int64)
    asset = _joined([cube.asset + part.first_asset for part, cube in zip(parts, cubes)], np.int32)
    return Cohorts(asset=asset, entry=_joined([cube.entry for cube in cubes], np.int32), length=length,
                   offset=offset, columns={name: _joined([cube.columns[name] for cube in cubes], np.float64)
                                           for name in names},
                   day_offset=day_offset, day_first=_joined([cube.day_first for cube in cubes], np.int32),
                   days={name: _joined([cube.days[name] for cube in cubes], np.float64) for name in DAY_COLUMNS},
                   day_count=day_count, settings=settings)


def _joined(arrays: list[np.ndarray], dtype) -> np.ndarray:
    """The arrays concatenated (an empty array of ``dtype`` for none)."""
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)


def _sorted_by_id(table: pa.Table) -> pa.Table:
    """Day rows of several parts in (straddle_id, date) order (each part's rows are already in
    that order; a stable sort on the id keeps the dates in order)."""
    return table.take(pc.sort_indices(table["straddle_id"])) if table.num_rows else table


def _write(directory: Path, backtest: Backtest, parts: list[Part], results: list[PartResult],
           frame: StraddleFrame, days: bool) -> None:
    """All output files or none, with the folder's manifest, as :func:`straddles.backtest` with ``out``."""
    with result_folder(directory) as temporary:
        if days:
            _write_days(temporary(DAYS_FILE), parts, results, frame)
        backtest.write_into(temporary)  # without days: the day table is not held


def _write_days(target: Path, parts: list[Part], results: list[PartResult], frame: StraddleFrame) -> None:
    """Merge the day parts into one file, chunk by chunk as the single-process day writer does
    (the same groups of expiry years, one row group each), so the bytes are the same."""
    year_rows = np.sum([result.year_rows for result in results], axis=0) if results else np.zeros(0, np.int64)
    years_present = np.unique(frame.expiry_month // 12 - parts[0].start_year) if parts else np.zeros(0, np.int64)
    phase_rows = year_rows[years_present] if len(year_rows) else np.zeros(0, np.int64)
    phase_start = np.r_[0, np.cumsum(phase_rows)].astype(np.int64)
    part_start = [np.r_[0, np.cumsum(result.year_rows[years_present])] for result in results]
    readers = [pq.ParquetFile(part.day_file) for part in parts]
    writer = None
    try:
        for lo, hi in _chunks(phase_start, DAY_CHUNK_ROWS):
            if phase_start[hi] == phase_start[lo]:
                continue
            slices = [_read_rows(reader, int(starts[lo]), int(starts[hi])) for reader, starts in zip(readers, part_start)]
            table = _sorted_by_id(pa.concat_tables(slices))
            if writer is None:
                writer = pq.ParquetWriter(target, table.schema, **parquet_options(table.schema))
            writer.write_table(table, row_group_size=table.num_rows)
        if writer is None:
            writer = pq.ParquetWriter(target, DAYS_SCHEMA, **parquet_options(DAYS_SCHEMA))
    finally:
        if writer is not None:
            writer.close()
        for reader in readers:
            reader.close()


def _read_rows(reader: pq.ParquetFile, lo: int, hi: int) -> pa.Table:
    """Rows [lo, hi) of a Parquet file, reading only the row groups that hold them."""
    groups, first_row, offset = [], None, 0
    for group in range(reader.metadata.num_row_groups):
        size = reader.metadata.row_group(group).num_rows
        if offset < hi and offset + size > lo:
            groups.append(group)
            first_row = offset if first_row is None else first_row
        offset += size
    if not groups:
        return reader.schema_arrow.empty_table()
    return reader.read_row_groups(groups).slice(lo - first_row, hi - lo)
