"""Run the pipeline end to end and hold its results (SPEC section 13).

:func:`backtest` chains the stages (AMT -> straddles and legs -> price store -> kernel -> Arrow
outputs), times each one, and returns a :class:`Backtest` with three tables:

* ``straddles``: one row per straddle with its dates, strike, status and P&L sum (SPEC 13.1);
* ``days``: one row per valued straddle-day (SPEC 13.2), or None with ``days=False``;
* ``asset_pnl``: weighted daily P&L per asset (SPEC 13.3), with the option/hedge split alongside.

and, unless ``cohorts=False``, the cohort cube of the strategy layer (STRATEGY S1.5), which the
kernel fills as it values each day, with or without day rows (:mod:`straddles.strategies.cube`).
"""

from __future__ import annotations

import gc
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import status as st
from .amt import Amt, load_amt
from .columns import date_array, float_array, int32_array
from ..errors import StraddlesError
from .legs import LEG_NAMES
from .options import COST_DAY_COLUMNS, GREEK_DAY_COLUMNS
from .outputs import check_output_folder, parquet_options, parquet_writer, result_folder, verify_folder
from .straddle_table import StraddleFrame, build_straddles
from .totals import aggregate

if TYPE_CHECKING:
    from ..strategies.cube import Cohorts

#: output file names inside a backtest folder
STRADDLES_FILE, DAYS_FILE, ASSET_PNL_FILE, ASSETS_FILE, COHORTS_FILE = (
    "straddles.parquet", "days.parquet", "asset_pnl.parquet", "assets.parquet", "cohorts.arrow")
#: columns of the straddle table, in SPEC 13.1 order; the leg columns follow
STRADDLE_COLUMNS = (
    "straddle_id", "asset", "class", "group", "straddle", "schedule", "schid", "entry_month", "expiry_month",
    "ntrc", "ntrv", "xprc", "xprv", "wgt", "weight", "entry_anchor", "expiry_anchor", "entry_date",
    "expiry_date", "strike", "strike_vol", "model", "status", "n_days", "pnl_sum",
)
TOTAL_KEYS = ("class", "group", "portfolio")


class StageTimer:
    """Wall-clock seconds per named pipeline stage, in the order the stages first started.

    Stages may nest (writing day rows happens inside the kernel stage): a stage's time excludes
    the time of stages nested in it, so the stage times add up to the wall time.
    """

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._nested: list[float] = []

    @contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        self.seconds.setdefault(stage, 0.0)  # report stages in the order they started
        self._nested.append(0.0)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed - self._nested.pop()
            if self._nested:
                self._nested[-1] += elapsed


@dataclass
class Backtest:
    """The results of one backtest run.

    ``assets`` lists the selected assets with their class, group and rule-table values, so that
    totals and reports need nothing but this object (or the folder it was written to).
    ``cohorts`` is the strategy layer's cohort cube (None when not built).
    """

    straddles: pa.Table
    days: pa.Table | None
    asset_pnl: pa.Table
    assets: pa.Table
    timings: dict[str, float] = field(default_factory=dict)
    #: price rows the store left out: ``{"non-finite": n, "duplicate": m}`` (SPEC 9.3, 9.4)
    dropped_price_rows: dict[str, int] = field(default_factory=dict)
    cohorts: Cohorts | None = None

    def totals(self, by: str = "portfolio") -> pa.Table:
        """Plain sums of per-asset daily P&L by ``class``, ``group`` or over the ``portfolio``
        (SPEC 13.3): columns ``<by>`` (not for portfolio), ``date, pnl, opnl, hpnl``, the SPEC 17/18
        sums when the run has them, and ``n_assets``.
        :func:`straddles.portfolio` adds sizing and the long/short split."""
        if by not in TOTAL_KEYS:
            raise ValueError(f"totals: by must be one of {', '.join(TOTAL_KEYS)}, got {by!r}")
        return aggregate(self.asset_pnl, self.assets, by).drop_columns(["pnl_long", "pnl_short"])

    def to_pandas(self, by: str = "asset", value: str = "pnl"):
        """Daily P&L as a wide pandas DataFrame: a DatetimeIndex of calendar days, one column per
        asset (``by="asset"``), class, group, subgroup or ``portfolio``, NaN where a bucket has no
        P&L that day. ``value`` is ``pnl``, ``opnl`` or ``hpnl`` (or ``n_straddles`` by asset).
        Needs pandas (``pip install 'straddles[pandas]'``); imported only here.

        >>> result.to_pandas("class").cumsum().plot()                    # doctest: +SKIP
        """
        from .frames import wide_frame

        if by == "asset":
            return wide_frame(self.asset_pnl, value)
        if by not in TOTAL_KEYS + ("subgroup",):
            raise StraddlesError(f"to_pandas: by must be asset, {', '.join(TOTAL_KEYS)} or subgroup, got {by!r}")
        return wide_frame(aggregate(self.asset_pnl, self.assets, by), value)

    def status_counts(self) -> dict[str, int]:
        """Number of straddles per status, in SPEC priority order."""
        counts = self.straddles["status"].value_counts()
        found = {item["values"].as_py(): item["counts"].as_py() for item in counts}
        return {name: found[name] for name in st.STATUS_NAMES if name in found}

    def legs(self) -> pa.Table:
        """The legs table ``straddle_id, leg, ticker, field`` (SPEC 13.2), one row per leg a
        straddle has, in (straddle_id, leg slot) order."""
        parts = []
        for slot, name in enumerate(LEG_NAMES):
            present = self.straddles[f"{name}_ticker"].is_valid()
            ids = self.straddles["straddle_id"].filter(present)
            parts.append(pa.table({
                "straddle_id": ids,
                "slot": pa.array(np.full(len(ids), slot, dtype=np.int8)),
                "leg": pa.array(np.full(len(ids), name, dtype=object), pa.string()),
                "ticker": self.straddles[f"{name}_ticker"].filter(present).cast(pa.string()),
                "field": self.straddles[f"{name}_field"].filter(present).cast(pa.string()),
            }))
        table = pa.concat_tables(parts).sort_by([("straddle_id", "ascending"), ("slot", "ascending")])
        return table.drop_columns(["slot"])

    def tables(self) -> dict[str, pa.Table]:
        """The output Parquet tables by file name (the day table only when it is held; the cohort
        cube is an Arrow IPC file of its own, written by :meth:`write_into`)."""
        tables = {STRADDLES_FILE: self.straddles, ASSET_PNL_FILE: self.asset_pnl, ASSETS_FILE: self.assets}
        if self.days is not None:
            tables[DAYS_FILE] = self.days
        return tables

    def write(self, directory: str | Path) -> list[Path]:
        """Write the tables as Parquet files, and the cohort cube, into ``directory`` as one set
        (all or nothing, with a manifest that :func:`load_backtest` verifies; files of an earlier
        run that this one does not write, such as its day table, are removed)."""
        directory = Path(directory)
        with result_folder(directory) as temporary:
            self.write_into(temporary)
        return [directory / name for name in self.tables()] + ([directory / COHORTS_FILE] if self.cohorts else [])

    def write_into(self, temporary) -> None:
        """Write every output file, the Parquet tables and the cohort cube, into a
        :func:`~straddles.engine.outputs.result_folder` (its ``temporary``), concurrently."""
        writers = parquet_writers(self.tables())
        if self.cohorts is not None:
            writers[COHORTS_FILE] = self.cohorts.write
        write_concurrently(writers, temporary)


def parquet_writers(tables: dict[str, pa.Table]) -> dict[str, Callable[[Path], None]]:
    """A Parquet writer per file name (see :func:`write_concurrently`)."""
    return {name: parquet_writer(table) for name, table in tables.items()}


def write_concurrently(writers: dict[str, Callable[[Path], None]], temporary) -> None:
    """Run each ``writer(temporary(name))``, the files at the same time: pyarrow's writers release
    the GIL, so the stage takes about as long as the largest file, not the sum. A failed writer's
    error is raised once every writer has finished."""
    with ThreadPoolExecutor(max_workers=max(min(len(writers), 4), 1), thread_name_prefix="straddles-write") as pool:
        for future in [pool.submit(writer, temporary(name)) for name, writer in writers.items()]:
            future.result()


def load_backtest(directory: str | Path, days: bool = True, cohorts: bool = True) -> Backtest:
    """Read a backtest folder written by :meth:`Backtest.write` (or ``straddles backtest --out``).

    ``days=False`` skips the day table (``days`` is then None): aggregation, statistics and the
    report need only the straddle and asset tables, and the full universe's day table is 8 M rows.
    ``cohorts=False`` skips the strategy layer's cohort cube (``cohorts`` is then None).
    The folder's files are checked against its manifest first (:func:`~straddles.engine.outputs.verify_folder`):
    files of different runs, mixed by an interrupted write, are refused.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise StraddlesError(f"{directory}: not a backtest folder (no such directory)")
    required = (STRADDLES_FILE, ASSET_PNL_FILE, ASSETS_FILE)
    optional = [name for name, wanted in ((COHORTS_FILE, cohorts), (DAYS_FILE, days)) if wanted]
    files = verify_folder(directory, [*required, *optional])
    missing = [name for name in required if name not in files]
    if missing:
        raise StraddlesError(f"{directory}: not a backtest folder (missing {', '.join(missing)})")
    cohorts = None
    if COHORTS_FILE in files:
        from ..strategies.cube import Cohorts

        cohorts = Cohorts.read(files.pop(COHORTS_FILE))
    tables = {name: _read_parquet(path) for name, path in files.items()}
    return Backtest(straddles=tables[STRADDLES_FILE], days=tables.get(DAYS_FILE), asset_pnl=tables[ASSET_PNL_FILE],
                    assets=tables[ASSETS_FILE], cohorts=cohorts)


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise StraddlesError(f"{path}: cannot read: {' '.join(str(exc).split())}") from None


def as_backtest(source: Backtest | str | Path) -> Backtest:
    """A :class:`Backtest` as is, or the folder's tables without the day table; what every
    results function (portfolio, stats, report) accepts as its ``source``."""
    if isinstance(source, (str, Path)):
        return load_backtest(source, days=False, cohorts=False)
    if not all(hasattr(source, name) for name in ("straddles", "asset_pnl", "assets")):
        raise StraddlesError(f"expected a Backtest or a backtest folder, got {type(source).__name__}")
    return source


def backtest(amt: Amt | str | Path, prices, start_year: int, end_year: int, pattern: str = ".",
             overrides=None, days: bool = True, live_only: bool = True, out: str | Path | None = None,
             asof=None, expiry_basis: str = "realized", greeks: bool = False, costs=None,
             calendars=None, cohorts: bool = True, scheduler=None) -> Backtest:
    """Backtest every straddle the AMT implies for expiries in ``start_year``..``end_year``.

    ``prices`` is anything :func:`straddles.load_prices` accepts (a path, a table, a DataFrame, a
    PriceStore). With ``days=False`` the day table is not built; the straddle and asset tables
    still are, so memory stays small on the full universe.

    With ``out`` the results are also written into that folder, all files or none (see
    :meth:`Backtest.write`), and the day table is streamed to ``days.parquet`` a few expiry years
    at a time instead of being held in memory: the returned Backtest then has ``days=None``
    (read it back with :func:`load_backtest`).

    Opt-in extensions (SPEC Part II; off by default, and then every output is unchanged):

    * ``asof`` (a date, ``YYYY-MM-DD`` or ``"last"``): a point-in-time run that ignores prices
      dated after it; straddles not yet decided are ``open`` and valued up to asof (SPEC 16.1);
    * ``expiry_basis``: ``"realized"`` (SPEC 6.3) or ``"anchor"``, expiring on the expiry anchor
      so that daily runs never rewrite history (SPEC 16.2);
    * ``greeks``: gamma, vega, theta and the daily P&L attribution columns (SPEC 17);
    * ``costs``: True for the AMT's Slippage, a :class:`~straddles.engine.costs.CostModel` or a
      cost YAML path: option and hedge costs and net P&L (SPEC 18);
    * ``calendars``: ``{Underlying regex: exchange calendar}`` or a YAML path of that mapping;
      BD anchors then skip that exchange's holidays (SPEC 6.5).

    ``cohorts=True`` also builds the strategy layer's cohort cube (``result.cohorts``, and
    ``cohorts.arrow`` in ``out``) from the streamed day rows; without days this costs a second
    kernel pass over the straddles.

    ``scheduler`` runs it on Dask instead of in this process: ``"local:N"`` (N worker processes),
    a scheduler address or a ``dask.distributed.Client`` (see :mod:`straddles.scale.executor`);
    the results are the same (:mod:`straddles.scale.partition`). ``prices`` must then be a path.

    >>> result = backtest("amt.yml", "prices.parquet", 2020, 2024)       # doctest: +SKIP
    >>> result.status_counts()["valued"], result.totals("class").num_rows  # doctest: +SKIP
    """
    with _cyclic_gc_paused():
        options = dict(asof=asof, expiry_basis=expiry_basis, greeks=greeks, costs=costs, calendars=calendars)
        if scheduler is not None:  # the executor seam; scale/ builds on the engine, imported only here
            from ..scale.executor import dask_client
            from ..scale.partition import partitioned_backtest

            with dask_client(scheduler) as client:
                return partitioned_backtest(client, amt, prices, start_year, end_year, pattern, overrides, days,
                                            live_only, out, cohorts=cohorts, **options)
        return _backtest(amt, prices, start_year, end_year, pattern, overrides, days, live_only, out, cohorts, options)


@contextmanager
def _cyclic_gc_paused():
    """Pause Python's cyclic garbage collector for the duration of a run.

    The pipeline creates almost no reference cycles, but it allocates enough small objects to
    trigger full collections, and a full collection scans every live object of the process
    (numba's compiler state alone is large): measured at 50-70 ms inside a 20 ms stage.
    Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _backtest(amt, prices, start_year, end_year, pattern, overrides, days, live_only, out, cohorts,
              options) -> Backtest:
    from .prices import load_prices

    timer = StageTimer()
    with timer("load AMT"):
        if not isinstance(amt, Amt):
            amt = load_amt(amt)
    with timer("load price store"):
        store = load_prices(prices)
    dropped = {"non-finite": store.n_dropped_nonfinite, "duplicate": getattr(store, "n_collapsed_duplicates", 0)}
    settings = None
    if cohorts:
        from ..strategies.cube import amt_settings

        settings = amt_settings(amt)
    if out is None:
        frame, result, cube = run_stages(amt, store, start_year, end_year, pattern, live_only, overrides, days, timer,
                                         cohorts=settings, **options)
        backtest_ = assemble(frame, result, days, timer, cube)
        backtest_.dropped_price_rows = dropped
        return backtest_

    directory = Path(out)
    check_output_folder(directory)
    # every file is renamed into place, with the folder's manifest, only if the whole run succeeds
    with result_folder(directory) as temporary, ExitStack() as files:
        day_writer = None
        if days:
            day_writer = _DayWriter(temporary(DAYS_FILE), timer,
                                    days_schema(greeks=options["greeks"], costs=options["costs"] not in (None, False)))
            files.callback(day_writer.close)  # also on failure, before the temporary file goes
        # the kernel fills the cube in its file (CohortBuilder ``path``)
        cube_file = temporary(COHORTS_FILE) if settings is not None else None
        frame, result, cube = run_stages(amt, store, start_year, end_year, pattern, live_only, overrides, days=False,
                                         timer=timer, day_sink=day_writer, cohorts=settings, cube_file=cube_file,
                                         **options)
        if day_writer is not None:
            day_writer.close()
        backtest_ = assemble(frame, result, False, timer, cube)
        backtest_.dropped_price_rows = dropped
        with timer("write outputs"):
            write_concurrently(parquet_writers(backtest_.tables()), temporary)  # the cube is in its file
    return backtest_


class _DayWriter:
    """A kernel day sink appending each chunk of day rows to a Parquet file as a row group, on a
    writer thread.

    pyarrow's Parquet writer is single-threaded but releases the GIL, as does the kernel, so the
    writer encodes chunk k while the kernel computes chunk k+1. The kernel keeps a chunk's arrays
    intact until the sink's next call returns (see :func:`~straddles.engine.kernel.run_kernel`),
    and each call first waits for the previous chunk's write: at most one chunk is in flight.
    The ``write outputs`` stage counts only the time the kernel waits for the writer.
    """

    def __init__(self, path: Path, timer: StageTimer, schema: pa.Schema):
        self.path, self.timer, self.schema, self.writer, self.closed = path, timer, schema, None, False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="straddles-days")
        self._pending = None

    def __call__(self, chunk: dict) -> None:
        if not len(chunk["straddle_id"]):  # Parquet has no empty row groups; close() keeps the schema
            return
        with self.timer("write outputs"):
            self._wait()
            self._pending = self._thread.submit(self._write, chunk)

    def _write(self, chunk: dict) -> None:
        table = days_table(chunk)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, **parquet_options(table.schema))
        self.writer.write_table(table, row_group_size=table.num_rows)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()  # re-raises a failed write here, in the kernel's thread

    def close(self) -> None:
        """Finish the file (an empty table with the right schema if no straddle was valued)."""
        if self.closed:
            return
        self.closed = True
        with self.timer("write outputs"):
            try:
                self._wait()
            finally:
                self._thread.shutdown()
                if self.writer is None:
                    self.writer = pq.ParquetWriter(self.path, self.schema, **parquet_options(self.schema))
                self.writer.close()


def run_stages(amt: Amt, store, start_year: int, end_year: int, pattern: str = ".", live_only: bool = True,
               overrides=None, days: bool = True, timer: StageTimer | None = None, day_sink=None,
               asof=None, expiry_basis: str = "realized", greeks: bool = False, costs=None, calendars=None,
               cohorts=None, cube_file=None):
    """The compute stages: expand the straddles, resolve their legs, run the kernel.

    Returns the :class:`StraddleFrame`, the kernel's :class:`~straddles.engine.kernel.KernelResult`
    and the cohort cube (None unless ``cohorts``, the AMT settings the cube carries, is given);
    ``day_sink`` streams the day rows (see :func:`~straddles.engine.kernel.run_kernel`); the
    kernel adds into the cube as it values each day, with or without day rows, and with a
    ``cube_file`` into that file, which is then the finished ``cohorts.arrow``
    (:class:`~straddles.strategies.cube.CohortBuilder`). The options are those of :func:`backtest`.
    """
    from .calendars import calendars_option
    from .kernel import run_kernel
    from .options import kernel_options

    timer = timer or StageTimer()
    frame = build_straddles(amt, start_year, end_year, pattern, live_only, overrides, timer=timer,
                            calendars=calendars_option(calendars))
    options = kernel_options(frame, store, asof, expiry_basis, greeks, costs)
    builder = None
    if cohorts is not None:
        from ..strategies.cube import CohortBuilder

        builder = CohortBuilder(frame.asset, frame.weight, cohorts, n_assets=len(frame.assets), path=cube_file)
    with timer("kernel"):  # the kernel fills the cube itself, in its VALUE pass
        result = run_kernel(frame, store, days=days, day_sink=day_sink, options=options, cube=builder)
    return frame, result, builder.result() if builder is not None else None


def assemble(frame: StraddleFrame, result, days: bool, timer: StageTimer | None = None, cohorts=None) -> Backtest:
    """The Arrow outputs of a kernel run: aggregation, then the straddle, day and asset tables."""
    timer = timer or StageTimer()
    with timer("aggregation"):
        asset_pnl = asset_pnl_table(frame, result)
    with timer("build tables"):
        straddles = straddle_table(frame, result)
        day_table = days_table(result.days) if days else None
        assets = assets_table(frame)
    return Backtest(straddles=straddles, days=day_table, asset_pnl=asset_pnl, assets=assets, timings=timer.seconds,
                    cohorts=cohorts)


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
    if result.cost_sums is not None:  # SPEC 18, after pnl_sum
        columns["cost_sum"] = float_array(result.cost_sums[0])
        columns["pnl_net_sum"] = float_array(result.cost_sums[1])
    for name in base.column_names:
        columns.setdefault(name, base[name])
    return pa.table(columns)


DAYS_SCHEMA = pa.schema([("straddle_id", pa.int64()), ("date", pa.date32()), ("dte", pa.int32())]
                        + [(name, pa.float64()) for name in (*LEG_NAMES, "mv", "delta", "opnl", "hpnl", "pnl")])


def days_schema(greeks: bool = False, costs: bool = False) -> pa.Schema:
    """The day table's schema: SPEC 13.2, plus the SPEC 17 / 18 columns when those are on."""
    extra = (GREEK_DAY_COLUMNS if greeks else ()) + (COST_DAY_COLUMNS if costs else ())
    return pa.schema(list(DAYS_SCHEMA) + [(name, pa.float64()) for name in extra])


def days_table(days: dict[str, np.ndarray]) -> pa.Table:
    """The SPEC 13.2 day table from the kernel's day arrays (NaN -> null, zero-copy data), with
    the SPEC 17/18 columns the arrays carry."""
    columns = {
        "straddle_id": pa.array(days["straddle_id"]),
        "date": date_array(days["date"]),
        "dte": int32_array(days["dte"]),
    }
    for slot, name in enumerate(LEG_NAMES):
        columns[name] = float_array(days["legs"][slot])
    for name in ("mv", "delta", "opnl", "hpnl", "pnl"):
        columns[name] = float_array(days[name])
    schema = days_schema(greeks="gamma" in days, costs="pnl_net" in days)
    for name in schema.names[len(DAYS_SCHEMA):]:
        columns[name] = float_array(days[name])
    return pa.table(columns, schema=schema)


def asset_pnl_table(frame: StraddleFrame, result) -> pa.Table:
    """Per-asset daily P&L (SPEC 13.3): a row per (asset, date) with at least one straddle P&L.

    The kernel's grid holds each asset's days in one window of a flat array, asset after asset,
    so the cells with P&L, in grid order, are already the rows in (asset, date) order
    (:func:`~straddles.engine.grid.compact_grid`).
    """
    from .grid import compact_grid

    rows = compact_grid(result)
    names = pa.array([a.underlying for a in frame.assets], pa.string())
    return pa.table({
        "asset": pa.DictionaryArray.from_arrays(pa.array(rows["asset"]), names),
        "date": date_array(rows["day"]),
        "pnl": pa.array(rows["pnl"]),
        "opnl": pa.array(rows["opnl"]),
        "hpnl": pa.array(rows["hpnl"]),
        "n_straddles": pa.array(rows["n_straddles"]),
        **{name: pa.array(rows["extra"][slot])  # SPEC 17/18 sums, when on
           for slot, name in enumerate(result.options.grid_columns())},
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


def _number_or_none(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
