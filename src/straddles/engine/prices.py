"""The price store: every (ticker, field, date) -> value the engine reads, in a kernel-ready layout.

Logically the store is one long table (SPEC section 9.1)::

    ticker: string   field: string   date: date32   value: float64

Physically it is held as one series per (ticker, field) pair, series sorted by (ticker, field) and
rows sorted by date inside each series, in three flat NumPy arrays::

    offsets  int64   (n_series + 1,)   series i is rows offsets[i]:offsets[i + 1]
    dates    int32   (n_rows,)         day numbers since 1970-01-01, strictly increasing per series
    values   float64 (n_rows,)         all finite

Compiled kernels take these arrays directly: a price lookup is a binary search inside one series,
and a series id (from :meth:`PriceStore.lookup`) is all a kernel needs to name a price leg.

The rules of SPEC section 9 are applied once, when the store is built:

* lookup is exact on (ticker, field, date); strings are compared as written (``""`` and ``"none"``
  are ordinary field names, SPEC sections 8.1 and 8.2);
* a NaN, +/-inf or null value counts as missing: the row is dropped and counted in
  :attr:`PriceStore.n_dropped_nonfinite` (SPEC 9.3); zero and negative values are kept;
* duplicate (ticker, field, date) rows with equal values collapse to one; conflicting duplicates
  raise :class:`~straddles.errors.PriceStoreError` naming the first such key (SPEC 9.4).

:func:`load_prices` reads a store from an Arrow table, a pandas DataFrame, a Parquet file, a
directory of Parquet files, a CSV file or a DuckDB table. Sources on disk are cached after their
first load as an uncompressed Arrow IPC file keyed by a hash of the source's bytes and checked
against its own checksum when read, so that a 10-million-row store opens in milliseconds without
being validated or sorted again, and a changed source or a damaged cache is never used.

Example::

    >>> store = PriceStore.from_arrays(
    ...     ["CL1 Comdty", "CL1 Comdty"], ["PX_LAST", "PX_LAST"], ["2024-01-03", "2024-01-02"], [71.2, 70.4]
    ... )
    >>> store.series("CL1 Comdty", "PX_LAST")
    (array([19724, 19725], dtype=int32), array([70.4, 71.2]))
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from . import cache as _cache
from .columns import repeated_dictionary
from .dates import day_label, day_number
from ..errors import PriceStoreError
from .outputs import atomic_path, remove_stale_temporaries

__all__ = ["PriceStore", "load_prices", "load_price_series", "write_prices", "REQUIRED_COLUMNS", "CACHE_LAYOUT_VERSION"]

#: Columns every price source must have; any others are ignored.
REQUIRED_COLUMNS = ("ticker", "field", "date", "value")

#: Bumped whenever the cache file layout changes, so old caches are rebuilt rather than misread.
CACHE_LAYOUT_VERSION = 2

_PARQUET_SUFFIXES = (".parquet", ".pq")
_DUCKDB_SUFFIXES = (".duckdb", ".db")
_CACHE_META_KEY = b"straddles.prices"
_CACHE_CHECKSUM_KEY = b"straddles.checksum"
_STRING_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
_CANONICAL_SCHEMA = pa.schema(
    [("ticker", _STRING_DICTIONARY), ("field", _STRING_DICTIONARY), ("date", pa.int32()), ("value", pa.float64())]
)
_TIME_UNITS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}
# Cells of the CSV value and date columns read as null. Ticker and field are never null: the CSV
# reader keeps "" and "none" (real field names, SPEC 8.1/8.2) as strings.
_CSV_NULL_VALUES = ["", "NA", "N/A", "n/a", "#N/A", "NULL", "null", "NaN", "nan", "-NaN", "-nan"]


class PriceStore:
    """Sorted per-series price arrays (SPEC section 9), ready for compiled kernels.

    Build one with :meth:`from_arrow`, :meth:`from_arrays` or :func:`load_prices`; the constructor
    trusts its arguments and does no checking. All attributes are read-only by convention and the
    NumPy arrays are flagged read-only (they may be views into a memory-mapped cache file).

    Attributes
    ----------
    tickers, fields : list of str
        The (ticker, field) pair of each series, series sorted by (ticker, field) in code-point order.
    offsets : numpy.ndarray of int64, shape (n_series + 1,)
        Series ``i`` occupies rows ``offsets[i]:offsets[i + 1]`` of ``dates`` and ``values``.
    dates : numpy.ndarray of int32
        Day numbers since 1970-01-01 (SPEC 1.2), strictly increasing within each series.
    values : numpy.ndarray of float64
        Prices, all finite. Zero and negative values are kept (SPEC 9.3).
    source : str
        Where the store came from: the path as given, ``"DataFrame"``, ``"<table>"``, ...
    n_dropped_nonfinite : int
        Rows dropped because their value was null, NaN or +/-inf; they count as missing (SPEC 9.3).
    n_collapsed_duplicates : int
        Rows dropped because they repeated an earlier (ticker, field, date) row with an equal
        value (SPEC 9.4).
    cache_path : pathlib.Path or None
        The cache file this store was read from or written to, if any.
    last_day : int or None
        The largest date of any row of the source, non-finite rows included (``asof="last"``,
        SPEC 16.1); None for an empty source.
    """

    def __init__(
        self,
        tickers: list[str],
        fields: list[str],
        offsets: np.ndarray,
        dates: np.ndarray,
        values: np.ndarray,
        source: str,
        n_dropped_nonfinite: int = 0,
        cache_path: Path | None = None,
        n_collapsed_duplicates: int = 0,
        last_day: int | None = None,
    ):
        self.tickers = tickers
        self.fields = fields
        self.offsets = _read_only(offsets)
        self.dates = _read_only(dates)
        self.values = _read_only(values)
        self.source = source
        self.n_dropped_nonfinite = n_dropped_nonfinite
        self.n_collapsed_duplicates = n_collapsed_duplicates
        self.cache_path = cache_path
        self.last_day = last_day if last_day is not None else (int(self.dates.max()) if len(self.dates) else None)
        self._index: dict[tuple[str, str], int] | None = None

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_arrow(cls, table: pa.Table, source: str = "<table>") -> PriceStore:
        """Validate and sort a long price table into a store.

        ``table`` needs the columns ``ticker``, ``field``, ``date`` and ``value``; others are ignored.
        ``ticker``/``field`` may be string, large_string or dictionary-encoded strings; ``date`` may
        be date32, date64, timestamp (any unit; the calendar date is taken, in the column's own
        time zone if it has one) or ISO ``YYYY-MM-DD`` strings; ``value`` any numeric type.

        Raises :class:`~straddles.errors.PriceStoreError`, naming ``source``, for a missing column,
        a column of the wrong type, a null ticker, field or date, an unparseable date (with its row
        number, counted from 0) and conflicting duplicates (SPEC 9.4).
        """
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        return _build(_canonical_table(table, source), source)

    @classmethod
    def from_arrays(
        cls,
        tickers: Sequence[str],
        fields: Sequence[str],
        dates: Sequence,
        values: Sequence[float],
        source: str = "<arrays>",
    ) -> PriceStore:
        """Build a store from four parallel sequences; a convenience for tests and small examples.

        ``dates`` may hold day numbers (ints), :class:`datetime.date` objects or ISO strings.
        The same validation as :meth:`from_arrow` applies.
        """
        date_array = pa.array(dates)
        if pa.types.is_integer(date_array.type) or pa.types.is_null(date_array.type):
            date_array = date_array.cast(pa.int32()).cast(pa.date32())
        table = pa.table(
            {
                "ticker": pa.array(tickers, pa.string()),
                "field": pa.array(fields, pa.string()),
                "date": date_array,
                "value": pa.array(values, pa.float64()),
            }
        )
        return cls.from_arrow(table, source)

    # -- shape --------------------------------------------------------------------------------

    @property
    def n_series(self) -> int:
        """Number of (ticker, field) series."""
        return len(self.offsets) - 1

    @property
    def n_rows(self) -> int:
        """Number of (ticker, field, date) rows with a finite value."""
        return len(self.dates)

    def date_range(self) -> tuple[int, int] | None:
        """(first, last) day number over all series, or None for an empty store."""
        if self.n_rows == 0:
            return None
        return int(self.dates.min()), int(self.dates.max())

    # -- lookup -------------------------------------------------------------------------------

    def _series_ids(self) -> dict[tuple[str, str], int]:
        # Built on first use and kept: lookup() is called with thousands of legs per backtest.
        if self._index is None:
            self._index = {pair: i for i, pair in enumerate(zip(self.tickers, self.fields))}
        return self._index

    def series_index(self, ticker: str, field: str) -> int:
        """Series id of (ticker, field), or -1 if the store has no such series."""
        return self._series_ids().get((ticker, field), -1)

    def lookup(self, tickers: Sequence[str], fields: Sequence[str]) -> np.ndarray:
        """Series ids (int32) of many (ticker, field) pairs at once; -1 where a pair is absent.

        ``tickers`` and ``fields`` are parallel sequences of str (lists, NumPy or Arrow arrays).
        """
        tickers = _as_str_sequence(tickers)
        fields = _as_str_sequence(fields)
        if len(tickers) != len(fields):
            raise ValueError(f"lookup: {len(tickers)} tickers but {len(fields)} fields")
        get = self._series_ids().get
        return np.fromiter((get(pair, -1) for pair in zip(tickers, fields)), dtype=np.int32, count=len(tickers))

    def series(self, ticker: str, field: str) -> tuple[np.ndarray, np.ndarray]:
        """(dates, values) of one series as read-only views; two empty arrays if it is absent."""
        i = self.series_index(ticker, field)
        if i < 0:
            return self.dates[:0], self.values[:0]
        start, stop = self.offsets[i], self.offsets[i + 1]
        return self.dates[start:stop], self.values[start:stop]

    def value(self, ticker: str, field: str, day: int | _dt.date) -> float | None:
        """The value of (ticker, field) on ``day`` (day number or date), or None if there is no row.

        Exact match only (SPEC 9.2): no as-of or nearest-date logic. Meant for tests and reference
        code; kernels search :attr:`dates` directly.
        """
        if isinstance(day, _dt.date):
            day = day_number(day)
        dates, values = self.series(ticker, field)
        j = int(np.searchsorted(dates, day))
        if j < len(dates) and dates[j] == day:
            return float(values[j])
        return None

    # -- export -------------------------------------------------------------------------------

    def to_arrow(self) -> pa.Table:
        """The long table (ticker, field dictionary-encoded; date date32; value float64), sorted."""
        lengths = np.diff(self.offsets)
        return pa.table(
            {
                "ticker": repeated_dictionary(self.tickers, lengths),
                "field": repeated_dictionary(self.fields, lengths),
                "date": pa.array(self.dates).cast(pa.date32()),
                "value": pa.array(self.values),
            }
        )

    def __repr__(self) -> str:
        span = self.date_range()
        dates = "no dates" if span is None else f"{day_label(span[0])}..{day_label(span[1])}"
        cached = ", cached" if self.cache_path is not None else ""
        return (
            f"PriceStore({self.n_series:,} series, {self.n_rows:,} rows, {dates}, "
            f"source={self.source!r}{cached})"
        )


# -- loading ----------------------------------------------------------------------------------


def load_prices(
    source, *, cache: bool = True, cache_dir: str | os.PathLike | None = None
) -> PriceStore:
    """Load a price store from any supported source (SPEC 9.1: the physical form is free).

    ``source`` may be:

    * a :class:`PriceStore` (returned as is);
    * a :class:`pyarrow.Table` or ``RecordBatch``, a pandas DataFrame, or any object exporting an
      Arrow stream (``__arrow_c_stream__``, e.g. a polars DataFrame);
    * a path (str or :class:`os.PathLike`) to a ``.parquet``/``.pq`` file, a ``.csv`` file, or a
      directory whose ``*.parquet``/``*.pq`` files (searched recursively, skipping names starting
      with ``.`` or ``_``) together form the table;
    * a DuckDB table, written ``duckdb:PATH::TABLE``, ``PATH.duckdb::TABLE`` or ``PATH.db::TABLE``.

    CSV files are read with the column types forced (ticker and field strings that are never null,
    so ``""`` and ``"none"`` survive; date ISO ``YYYY-MM-DD``; value float64, where an empty cell
    or ``NaN`` is missing). Error messages give CSV rows as file line numbers (header = line 1).

    When ``cache`` is true and ``source`` is on disk, the validated store is written to an Arrow IPC
    file in ``cache_dir`` (default: ``prices/`` in ``$STRADDLES_CACHE_DIR``, else in ``~/.cache/straddles``),
    keyed by the source's absolute path, an xxh3 hash of the bytes of every source file (so a file
    rewritten with its old size and mtime is a miss), the DuckDB table name and
    :data:`CACHE_LAYOUT_VERSION`. Later loads of the unchanged source read that file into memory
    and check it against the checksum stored in it; nothing is validated or sorted. A missing,
    unreadable or damaged cache file is rebuilt (a damaged one with a warning). Cache writes are
    atomic, cache files are never modified in place, and the cache folder is kept within a size
    budget by evicting the least recently used files (:mod:`straddles.engine.cache`).

    Example::

        >>> store = load_prices("prices.parquet")          # doctest: +SKIP
        >>> store.lookup(["CL1 Comdty"], ["PX_LAST"])      # doctest: +SKIP
        array([0], dtype=int32)
    """
    if isinstance(source, PriceStore):
        return source
    if isinstance(source, (pa.Table, pa.RecordBatch)):
        return PriceStore.from_arrow(source)
    if _is_pandas_dataframe(source):
        return PriceStore.from_arrow(_table_from_pandas(source), "DataFrame")
    if isinstance(source, (str, os.PathLike)):
        return _load_location(_Location.parse(source), cache=cache, cache_dir=cache_dir)
    if hasattr(source, "__arrow_c_stream__"):
        return PriceStore.from_arrow(pa.table(source), type(source).__name__)
    raise TypeError(f"load_prices: unsupported price source of type {type(source).__name__}")


def load_price_series(
    source, tickers: Sequence[str], *, cache: bool = True, cache_dir: str | os.PathLike | None = None
) -> PriceStore:
    """A store holding the series of ``tickers`` (every field of each), read without loading the
    rest of the source: what a task of a partitioned run loads.

    Each series holds exactly the rows it has in the full store (SPEC 9 applies per (ticker,
    field, date) key), so a kernel run over the assets reading these tickers gives the same results
    as against the full store. ``source`` is a :class:`PriceStore` (returned as is) or a path as
    for :func:`load_prices`:

    * when the source's memory-mapped cache exists (see :func:`load_prices`), that store is
      returned: nothing is copied, and only the pages of the series a kernel actually reads are
      ever loaded (shared by every process of the host);
    * otherwise a Parquet file or folder is read with a ``ticker`` filter (row groups whose
      statistics exclude the tickers are skipped), and nothing is cached;
    * any other source is loaded whole (and cached) by :func:`load_prices`.
    """
    if isinstance(source, PriceStore):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"load_price_series: unsupported price source of type {type(source).__name__}")
    location = _Location.parse(source)
    if cache:
        cached = _read_cache(_cache_file(location, cache_dir), location.text)
        if cached is not None:
            return cached
    wanted = sorted(set(_as_str_sequence(tickers)))
    if location.kind == "parquet":
        return PriceStore.from_arrow(_read_parquet(location.path, location.text, wanted), location.text)
    if location.kind == "directory":
        parts = [_canonical_table(_read_parquet(f, str(f), wanted), str(f)) for f in location.parquet_files()]
        return _build(pa.concat_tables(parts), location.text)
    return _load_location(location, cache=cache, cache_dir=cache_dir)


def write_prices(prices, path: str | os.PathLike) -> Path:
    """Write prices to a Parquet file atomically and return its path.

    ``prices`` is a :class:`PriceStore` or anything :func:`load_prices` accepts (validated first,
    without caching). The file holds the sorted long table with dictionary-encoded ticker and
    field, zstd-compressed, so that reading it back takes the already-sorted fast path. It is
    written to a temporary file in the same directory and renamed into place, so a reader never
    sees a partial file.
    """
    path = Path(path)
    if path.suffix.lower() not in _PARQUET_SUFFIXES:
        raise PriceStoreError(f"{path}: write_prices writes Parquet; give a .parquet or .pq path")
    store = load_prices(prices, cache=False)
    with atomic_path(path, durable=True) as tmp:
        # zstd rather than the outputs' snappy: a price file is written once and read by every
        # run (and then cached), so its size matters more than its write time
        pq.write_table(store.to_arrow(), tmp, compression="zstd", use_dictionary=["ticker", "field"])
    return path


class _Location:
    """A price source on disk: what kind it is, where, and how to name it in messages."""

    def __init__(self, text: str, path: Path, kind: str, table: str | None = None):
        self.text = text  # as the user wrote it; used in error messages and PriceStore.source
        self.path = path
        self.kind = kind  # "parquet", "csv", "directory" or "duckdb"
        self.table = table

    @classmethod
    def parse(cls, source: str | os.PathLike) -> _Location:
        text = os.fspath(source)
        if text.startswith("duckdb:"):
            path, sep, table = text[len("duckdb:") :].rpartition("::")
            if not sep or not path or not table:
                raise PriceStoreError(f"{text}: a DuckDB source is written duckdb:PATH::TABLE")
            return cls._duckdb(text, Path(path), table)
        path, sep, table = text.rpartition("::")
        if sep and table and Path(path).suffix.lower() in _DUCKDB_SUFFIXES:
            return cls._duckdb(text, Path(path), table)
        path = Path(text)
        if path.is_dir():
            return cls(text, path, "directory")
        if not path.exists():
            raise PriceStoreError(f"{text}: no such file or directory")
        suffix = path.suffix.lower()
        if suffix in _PARQUET_SUFFIXES:
            return cls(text, path, "parquet")
        if suffix == ".csv":
            return cls(text, path, "csv")
        if suffix in _DUCKDB_SUFFIXES:
            raise PriceStoreError(f"{text}: name the DuckDB table as {text}::TABLE")
        raise PriceStoreError(
            f"{text}: unknown price file type (expected .parquet, .pq, .csv, a directory or DuckDB)"
        )

    @classmethod
    def _duckdb(cls, text: str, path: Path, table: str) -> _Location:
        if not path.is_file():
            raise PriceStoreError(f"{text}: no such DuckDB file {path}")
        return cls(text, path, "duckdb", table)

    def parquet_files(self) -> list[Path]:
        """The Parquet files of a directory source, in a stable order."""
        files = []
        for path in self.path.rglob("*"):
            parts = path.relative_to(self.path).parts
            if path.suffix.lower() in _PARQUET_SUFFIXES and not any(p[0] in "._" for p in parts) and path.is_file():
                files.append(path)
        if not files:
            raise PriceStoreError(f"{self.text}: directory holds no .parquet or .pq files")
        return sorted(files)

    def fingerprint_files(self) -> list[Path]:
        """Files whose size and mtime decide whether a cache of this source is still valid."""
        if self.kind == "directory":
            return self.parquet_files()
        if self.kind == "duckdb":
            wal = self.path.with_name(self.path.name + ".wal")
            return [self.path, wal] if wal.exists() else [self.path]
        return [self.path]


def _load_location(location: _Location, *, cache: bool, cache_dir) -> PriceStore:
    if not cache:
        return _read_location(location)
    cache_file = _cache_file(location, cache_dir)
    store = _read_cache(cache_file, location.text)
    if store is not None:
        return store
    store = _read_location(location)
    _write_cache(store, cache_file)
    return store


def _read_location(location: _Location) -> PriceStore:
    if location.kind == "csv":
        return _read_csv(location)
    if location.kind in ("parquet", "directory"):
        builder = _StoreBuilder(location.text)
        for path in ([location.path] if location.kind == "parquet" else location.parquet_files()):
            name = location.text if location.kind == "parquet" else str(path)
            first_row = 0
            for batch in _parquet_batches(path, name):
                builder.add(_canonical_table(batch, name, first_row=first_row))
                first_row += batch.num_rows
        return builder.finish()
    return PriceStore.from_arrow(_read_duckdb(location), location.text)


#: rows per batch when a Parquet price file is read: the file is never held in memory whole
PARQUET_BATCH_ROWS = 1 << 20


def _parquet_batches(path: Path, name: str):
    """The price columns of a Parquet file as one-batch tables of at most PARQUET_BATCH_ROWS rows."""
    strings = _checked_string_columns(path, name)
    try:
        with pq.ParquetFile(path, read_dictionary=strings) as reader:
            empty = True
            for batch in reader.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=list(REQUIRED_COLUMNS)):
                empty = False
                yield pa.Table.from_batches([batch])
            if empty:  # still one (empty) table, so that the column types are checked
                yield reader.schema_arrow.empty_table().select(list(REQUIRED_COLUMNS))
    except (OSError, pa.ArrowException) as exc:
        raise PriceStoreError(f"{name}: cannot read Parquet file: {exc}") from exc


def _read_parquet(path: Path, name: str, tickers: list[str] | None = None) -> pa.Table:
    """The required columns of a Parquet file; only the rows of ``tickers`` when given."""
    strings = _checked_string_columns(path, name)
    filters = None if tickers is None else [("ticker", "in", tickers)]
    try:
        return pq.read_table(path, columns=list(REQUIRED_COLUMNS), read_dictionary=strings, filters=filters)
    except (OSError, pa.ArrowException) as exc:
        raise PriceStoreError(f"{name}: cannot read Parquet file: {exc}") from exc


def _checked_string_columns(path: Path, name: str) -> list[str]:
    """Check a Parquet file's columns; return its string key columns, read as dictionaries (that
    skips materializing millions of ticker strings)."""
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise PriceStoreError(f"{name}: cannot read Parquet file: {exc}") from exc
    _check_columns(schema.names, name)
    return [c for c in ("ticker", "field") if pa.types.is_string(schema.field(c).type)]


def _read_csv(location: _Location) -> PriceStore:
    name = location.text
    try:
        with open(location.path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except (OSError, UnicodeDecodeError) as exc:
        raise PriceStoreError(f"{name}: cannot read CSV file: {exc}") from exc
    if header is None:
        raise PriceStoreError(f"{name}: empty CSV file")
    _check_columns(header, name)
    types = {"ticker": pa.string(), "field": pa.string(), "date": pa.date32(), "value": pa.float64()}

    def read(column_types, strings_can_be_null=False):
        options = pcsv.ConvertOptions(
            column_types=column_types,
            include_columns=list(column_types),
            null_values=_CSV_NULL_VALUES,
            strings_can_be_null=strings_can_be_null,
        )
        return pcsv.read_csv(location.path, convert_options=options)

    try:
        table = read(types)
    except pa.ArrowInvalid as exc:
        # pyarrow names the bad cell but not its line: read date and value as text to find it.
        try:
            text = read({"date": pa.string(), "value": pa.string()}, strings_can_be_null=True)
        except (OSError, pa.ArrowException):
            text = None
        if text is not None:
            _cast_strings(text.column("date"), pa.date32(), name, "date", first_line=2)
            _cast_strings(text.column("value"), pa.float64(), name, "value", first_line=2)
        raise PriceStoreError(f"{name}: cannot read CSV file: {exc}") from exc
    except OSError as exc:
        raise PriceStoreError(f"{name}: cannot read CSV file: {exc}") from exc
    return _build(_canonical_table(table, name, first_line=2), name)


def _read_duckdb(location: _Location) -> pa.Table:
    import duckdb  # optional dependency, needed only for DuckDB sources

    name = location.text
    try:
        with duckdb.connect(str(location.path), read_only=True) as con:
            relation = con.table(location.table)
            _check_columns(relation.columns, name)
            result = relation.select(*REQUIRED_COLUMNS).arrow()
            # duckdb >= 1.4 returns a RecordBatchReader here, older versions a Table.
            return result.read_all() if isinstance(result, pa.RecordBatchReader) else result
    except duckdb.Error as exc:
        raise PriceStoreError(f"{name}: cannot read DuckDB table {location.table!r}: {exc}") from exc


def _is_pandas_dataframe(obj) -> bool:
    # Checked by type name so that pandas is imported only by callers who already use it.
    cls = type(obj)
    return cls.__name__ == "DataFrame" and cls.__module__.split(".")[0] == "pandas"


def _table_from_pandas(frame) -> pa.Table:
    _check_columns(list(frame.columns), "DataFrame")
    try:
        return pa.Table.from_pandas(frame[list(REQUIRED_COLUMNS)], preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise PriceStoreError(f"DataFrame: cannot convert to Arrow: {exc}") from exc


# -- validation and layout --------------------------------------------------------------------


def _check_columns(names, source: str) -> None:
    """Every required column present, and exactly once: a repeated name is ambiguous (which
    ``value`` is meant?), so it is an error for every kind of source."""
    names = list(names)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise PriceStoreError(
            f"{source}: missing column{plural} {', '.join(map(repr, missing))} "
            f"(columns present: {', '.join(map(str, names)) or 'none'})"
        )
    repeated = [c for c in REQUIRED_COLUMNS if names.count(c) > 1]
    if repeated:
        raise PriceStoreError(f"{source}: column {repeated[0]!r} appears {names.count(repeated[0])} times; "
                              f"each of {', '.join(REQUIRED_COLUMNS)} must appear once")


def _row_name(index: int, first_line: int | None, first_row: int = 0) -> str:
    index += first_row
    return f"row {index}" if first_line is None else f"line {index + first_line}"


def _canonical_table(table: pa.Table, source: str, first_line: int | None = None, first_row: int = 0) -> pa.Table:
    """Check the columns of a raw table and convert them to :data:`_CANONICAL_SCHEMA`.

    ``first_line`` is the file line of row 0 (CSV sources), for error messages; None gives rows.
    ``first_row`` is the source row of the table's row 0 (a batch of a streamed file).
    """
    _check_columns(table.column_names, source)
    for name in ("ticker", "field", "date"):
        column = table.column(name)
        if column.null_count:
            first = int(np.flatnonzero(pc.is_null(column).to_numpy(zero_copy_only=False))[0])
            raise PriceStoreError(f"{source}: {_row_name(first, first_line, first_row)}: {name} is null")
    return pa.table(
        [
            _string_dictionary(table.column("ticker"), "ticker", source),
            _string_dictionary(table.column("field"), "field", source),
            pa.array(_day_numbers(table.column("date"), source, first_line, first_row)),
            pa.array(_float_values(table.column("value"), source)),
        ],
        schema=_CANONICAL_SCHEMA,
    )


def _string_dictionary(column: pa.ChunkedArray, name: str, source: str) -> pa.ChunkedArray:
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise PriceStoreError(f"{source}: column {name!r} has type {column.type}; expected strings")
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    return column.cast(_STRING_DICTIONARY)


def _day_numbers(column: pa.ChunkedArray, source: str, first_line: int | None = None,
                 first_row: int = 0) -> np.ndarray:
    """Day numbers (int32) of a date32, date64, timestamp or ISO-string column."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_date32(kind):
        return column.cast(pa.int32()).to_numpy()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _cast_strings(column, pa.date32(), source, "date", first_line, first_row).cast(pa.int32()).to_numpy()
    if pa.types.is_date64(kind):
        per_day = _TIME_UNITS_PER_DAY["ms"]
    elif pa.types.is_timestamp(kind):
        per_day = _TIME_UNITS_PER_DAY[kind.unit]
        if kind.tz is not None:
            column = _zoned_calendar_ticks(column, per_day)
    else:
        raise PriceStoreError(
            f"{source}: column 'date' has type {kind}; expected date32, date64, timestamp or ISO strings"
        )
    days = np.floor_divide(column.cast(pa.int64()).to_numpy(), per_day)
    if len(days) and (days.min() < np.iinfo(np.int32).min or days.max() > np.iinfo(np.int32).max):
        raise PriceStoreError(f"{source}: column 'date' holds dates outside the date32 range")
    return days.astype(np.int32)


def _zoned_calendar_ticks(column: pa.ChunkedArray, per_day: int) -> pa.ChunkedArray:
    """Wall-clock ticks of a time-zone-aware timestamp column, whose floor is the calendar date.

    The date is taken in the column's own zone: a close stamped 16:00 New York time is that New
    York day. One exception: when every instant is at midnight UTC but not every one is at
    midnight in the column's zone, the column holds UTC dates labelled with a zone (a western
    zone would move every price back a day), and the UTC date is taken.
    """
    local = pc.local_timestamp(column)
    if np.any(local.cast(pa.int64()).to_numpy() % per_day) and not np.any(column.cast(pa.int64()).to_numpy() % per_day):
        return column.cast(pa.timestamp(column.type.unit))
    return local


def _cast_strings(
    column: pa.ChunkedArray, target: pa.DataType, source: str, name: str, first_line: int | None, first_row: int = 0
) -> pa.ChunkedArray:
    """Cast a string column to ``target`` (date32 or float64), naming the first bad cell on failure.

    Arrow's error names the bad text but not its row, so on failure the cell is searched for,
    block by block and then by bisection; good data costs a single cast.
    """

    def parses(part) -> bool:
        try:
            part.cast(target)
        except pa.ArrowInvalid:
            return False
        return True

    try:
        return column.cast(target)
    except pa.ArrowInvalid as exc:
        error = exc
    step = 1 << 16
    for start in range(0, len(column), step):
        low, high = start, min(start + step, len(column))
        if parses(column.slice(low, high - low)):
            continue
        while high - low > 1:  # the bad cell is in [low, high)
            middle = (low + high) // 2
            if parses(column.slice(low, middle - low)):
                low = middle
            else:
                high = middle
        text = column[low].as_py()
        expected = "an ISO date YYYY-MM-DD" if pa.types.is_date32(target) else "a number"
        raise PriceStoreError(
            f"{source}: {_row_name(low, first_line, first_row)}: {name} {text!r} is not {expected}")
    raise PriceStoreError(f"{source}: column {name!r}: {error}")


def _float_values(column: pa.ChunkedArray, source: str) -> np.ndarray:
    """float64 values of a numeric column; nulls become NaN (missing, SPEC 9.3)."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        raise PriceStoreError(f"{source}: column 'value' has type {kind}; expected a numeric type")
    return column.cast(pa.float64()).to_numpy()


def _build(table: pa.Table, source: str) -> PriceStore:
    """Sort a canonical table into per-series arrays, enforcing SPEC 9.3 and 9.4."""
    builder = _StoreBuilder(source)
    builder.add(table)
    return builder.finish()


class _StoreBuilder:
    """Builds a store from canonical tables added one after the other (batches of a file, files of
    a directory), holding only compact columns in between: per row a ticker and a field code
    (int32, numbered in first-seen order across batches), the day (int32) and the value (float64),
    non-finite rows already dropped (SPEC 9.3). A 20x-universe file (95 M rows) then builds in a
    few GB instead of holding its whole Arrow table and several full-size temporaries at once.

    :meth:`finish` gives every row one int64 key, ``series * span + (date - first_day)`` with series
    numbered in (ticker, field) order: sorting the keys orders the rows, equal neighbours are
    duplicates (SPEC 9.4) and ``key // span`` is the series.
    """

    def __init__(self, source: str):
        self.source = source
        self.ticker_ids: dict[str, int] = {}
        self.field_ids: dict[str, int] = {}
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.n_dropped = 0
        self.last_day: int | None = None  # the largest date of any row, non-finite ones included

    def add(self, table: pa.Table) -> None:
        """Add a table in :data:`_CANONICAL_SCHEMA`."""
        values = table.column("value").to_numpy()
        finite = np.isfinite(values)
        n_finite = int(np.count_nonzero(finite))
        self.n_dropped += len(values) - n_finite
        dates = table.column("date").to_numpy()
        if len(dates):
            newest = int(dates.max())
            self.last_day = newest if self.last_day is None else max(self.last_day, newest)
        columns = (_global_codes(table.column("ticker"), self.ticker_ids),
                   _global_codes(table.column("field"), self.field_ids), dates, values)
        if n_finite < len(values):
            columns = tuple(column[finite] for column in columns)
        if n_finite:
            self.parts.append(columns)

    def finish(self) -> PriceStore:
        source, n_dropped = self.source, self.n_dropped
        if not self.parts:
            empty = np.empty(0)
            return PriceStore([], [], np.zeros(1, np.int64), empty.astype(np.int32), empty, source, n_dropped,
                              last_day=self.last_day)
        ticker_names, ticker_rank = _sorted_names(self.ticker_ids)
        field_names, field_rank = _sorted_names(self.field_ids)
        n_fields = len(field_names)
        n_pairs = len(ticker_names) * n_fields
        key_type = np.int32 if n_pairs < 2**31 else np.int64
        first_day = min(int(dates.min()) for _, _, dates, _ in self.parts)
        span = max(int(dates.max()) for _, _, dates, _ in self.parts) - first_day + 1
        n = sum(len(part[3]) for part in self.parts)
        series_key, dates, values = np.empty(n, key_type), np.empty(n, np.int32), np.empty(n, np.float64)
        start = 0
        while self.parts:  # each part is freed once copied: memory holds about one copy of the rows
            tickers, fields, days, part_values = self.parts.pop(0)
            stop = start + len(part_values)
            series_key[start:stop] = ticker_rank[tickers] * n_fields + field_rank[fields]
            dates[start:stop] = days
            values[start:stop] = part_values
            start = stop
            del tickers, fields, days, part_values
        pair_of_series = None
        if n_pairs * span >= 2**63:
            # Only with billions of (ticker, field) combinations: number the pairs present instead.
            pair_of_series, series_key = np.unique(series_key, return_inverse=True)
        row_key = series_key.astype(np.int64)
        del series_key
        row_key *= span
        row_key += dates
        row_key -= first_day
        del dates

        def names(series: np.ndarray) -> tuple[list[str], list[str]]:
            pairs = series if pair_of_series is None else pair_of_series[series]
            return [ticker_names[p] for p in (pairs // n_fields).tolist()], [
                field_names[p] for p in (pairs % n_fields).tolist()]

        if np.all(row_key[1:] >= row_key[:-1]):  # real files are often sorted already
            sorted_key, sorted_values = row_key, values
        else:
            order = np.argsort(row_key)
            sorted_key, sorted_values = row_key[order], values[order]
            del order
        duplicate = sorted_key[1:] == sorted_key[:-1]
        n_collapsed = int(np.count_nonzero(duplicate))
        if n_collapsed:
            conflict = duplicate & (sorted_values[1:] != sorted_values[:-1])
            if conflict.any():
                raise _conflict_error(source, duplicate, conflict, sorted_key, row_key, values, span, first_day,
                                      names)
            keep = np.ones(n, bool)
            keep[1:] = ~duplicate
            sorted_key, sorted_values = sorted_key[keep], sorted_values[keep]
            n = len(sorted_values)
        del duplicate, row_key, values

        series_of_row = sorted_key // span
        offsets = np.concatenate([[0], np.flatnonzero(series_of_row[1:] != series_of_row[:-1]) + 1, [n]])
        tickers, fields = names(series_of_row[offsets[:-1]])
        del series_of_row
        sorted_key %= span
        sorted_key += first_day
        return PriceStore(tickers, fields, offsets.astype(np.int64), sorted_key.astype(np.int32),
                          np.ascontiguousarray(sorted_values, np.float64), source, n_dropped,
                          n_collapsed_duplicates=n_collapsed, last_day=self.last_day)


def _global_codes(column: pa.ChunkedArray, ids: dict[str, int]) -> np.ndarray:
    """int32 codes of a dictionary<string> column's rows in ``ids`` (string -> code, extended with
    strings first seen here). Only the chunk dictionaries are touched as Python strings."""
    parts = [np.empty(0, np.int32)]
    for chunk in column.chunks:
        mapping = np.fromiter((ids.setdefault(name, len(ids)) for name in chunk.dictionary.to_pylist()),
                              dtype=np.int32, count=len(chunk.dictionary))
        parts.append(mapping[chunk.indices.to_numpy()] if len(mapping) else np.empty(len(chunk), np.int32))
    return np.concatenate(parts) if len(parts) > 2 else parts[-1]


def _sorted_names(ids: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """The strings of ``ids`` in code-point order, and the rank of each code in that order."""
    names = sorted(ids)
    rank = np.empty(len(names), np.int64)
    rank[[ids[name] for name in names]] = np.arange(len(names))
    return names, rank


def _conflict_error(
    source, duplicate, conflict, sorted_key, row_key, values, span, first_day, names
) -> PriceStoreError:
    """The SPEC 9.4 error for the first conflicting key in sorted order; values in input order."""
    key = sorted_key[int(np.flatnonzero(conflict)[0])]
    (ticker,), (field,) = names(np.array([key // span]))
    given = values[row_key == key]
    distinct = [float(v) for i, v in enumerate(given) if v not in given[:i]]
    # A run of adjacent duplicates is one key; count the runs that hold a conflict.
    run_id = np.cumsum(np.concatenate([[True], ~duplicate[:-1]]) & duplicate)
    n_keys = len(np.unique(run_id[conflict]))
    more = f" ({n_keys - 1} more conflicting keys)" if n_keys > 1 else ""
    return PriceStoreError(
        f"{source}: conflicting duplicate rows for ({ticker!r}, {field!r}, {day_label(key % span + first_day)}): "
        f"{' vs '.join(map(repr, distinct))}{more}"
    )


# -- cache ------------------------------------------------------------------------------------


def _cache_file(location: _Location, cache_dir) -> Path:
    """Cache file of a source: ``<source hash>-<content hash>.arrow`` in the cache directory.

    The first hash names the source (absolute path and table), so that a rebuild can remove the
    caches of earlier versions of the same source; the second covers everything that invalidates
    the cache: the bytes of every source file (an xxh3 hash, remembered while the file's ctime
    proves it unchanged, :func:`straddles.engine.cache.source_checksum`; sizes and mtimes alone
    miss a file rewritten by ``cp -p`` or ``rsync -t``) and the layout version.
    """
    if cache_dir is None:
        cache_dir = _cache.cache_dir("prices")
    absolute = str(location.path.resolve())
    memo = _cache.cache_dir("sources") / "xxh3.json"
    try:
        stamps = [(str(f.resolve()), _cache.source_checksum(f, memo)) for f in location.fingerprint_files()]
    except OSError as exc:
        raise PriceStoreError(f"{location.text}: cannot read: {exc}") from exc
    source_key = _digest([absolute, location.table])[:16]
    content_key = _digest([CACHE_LAYOUT_VERSION, absolute, location.table, stamps])[:24]
    return Path(cache_dir) / f"{source_key}-{content_key}.arrow"


def _digest(parts) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _read_cache(path: Path, source: str) -> PriceStore | None:
    """Memory-map a cache file into a store; None if it is missing, unreadable or damaged.

    The checksum stored in the file covers its metadata and both columns and is verified on every
    open (xxh3 over the mapping: a few ms per 50 MB, BENCHMARKS.md); a damaged file gives a
    warning and the caller rebuilds it. A truncated file fails to open (its Arrow footer is at the
    end). Cache files are only ever replaced by rename or deleted, never modified in place, so a
    concurrent ``straddles`` process cannot pull pages from under this mapping; another program
    truncating the file in place can (SIGBUS), see the README.
    """
    if not path.is_file():
        return None
    try:
        reader = ipc.open_file(pa.BufferReader(pa.py_buffer(_cache.map_file(path))))
        metadata = reader.schema.metadata
        meta_text = metadata[_CACHE_META_KEY]
        meta = json.loads(meta_text)
        if meta["layout"] != CACHE_LAYOUT_VERSION:
            return None
        if reader.num_record_batches != 1:
            raise ValueError("expected one record batch")
        batch = reader.get_batch(0)
        dates = _zero_copy(batch.column(0), np.int32, pa.date32())
        values = _zero_copy(batch.column(1), np.float64, pa.float64())
        if metadata[_CACHE_CHECKSUM_KEY].decode() != _cache.checksum(meta_text, dates, values):
            raise ValueError("checksum mismatch")
        offsets = np.asarray(meta["offsets"], dtype=np.int64)
        tickers, fields = meta["tickers"], meta["fields"]
        if not (len(tickers) == len(fields) == len(offsets) - 1 and offsets[-1] == len(dates) == len(values)):
            raise ValueError("inconsistent layout")
        counts = int(meta["n_dropped_nonfinite"]), int(meta["n_collapsed_duplicates"])
    except (OSError, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError, pa.ArrowException) as exc:
        warnings.warn(f"{source}: price cache {path} is damaged ({exc}); rebuilding it", stacklevel=4)
        return None
    _cache.touch(path)
    return PriceStore(tickers, fields, offsets, dates, values, source, counts[0], path, counts[1],
                      meta.get("last_day"))


def _zero_copy(array: pa.Array, dtype, arrow_type: pa.DataType) -> np.ndarray:
    if array.type != arrow_type or array.null_count:
        raise ValueError("unexpected cache column")
    if len(array) == 0:
        return np.empty(0, dtype)
    offset = array.offset * np.dtype(dtype).itemsize
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=offset)


def _write_cache(store: PriceStore, path: Path) -> None:
    """Write ``store`` to ``path`` atomically, then drop older caches of the same source and the
    least recently used caches beyond the size budget.

    A failure (read-only or full disk) only warns: the store itself is already loaded.
    """
    meta_text = json.dumps({
        "layout": CACHE_LAYOUT_VERSION,
        "n_dropped_nonfinite": store.n_dropped_nonfinite,
        "last_day": store.last_day,
        "n_collapsed_duplicates": store.n_collapsed_duplicates,
        "tickers": store.tickers,
        "fields": store.fields,
        "offsets": store.offsets.tolist(),
    }).encode()
    metadata = {_CACHE_META_KEY: meta_text, _CACHE_CHECKSUM_KEY: _cache.checksum(meta_text, store.dates, store.values)}
    schema = pa.schema([("date", pa.date32()), ("value", pa.float64())], metadata=metadata)
    batch = pa.record_batch([pa.array(store.dates).cast(pa.date32()), pa.array(store.values)], schema=schema)
    try:
        with atomic_path(path, durable=True) as tmp:
            with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, schema) as writer:
                writer.write_batch(batch)
    except OSError as exc:
        warnings.warn(f"{store.source}: price cache not written to {path}: {exc}", stacklevel=3)
        return
    store.cache_path = path
    source_key = path.name.split("-", 1)[0]
    for old in path.parent.glob(f"{source_key}-*.arrow"):
        if old != path:
            _remove_quietly(old)
    remove_stale_temporaries(path.parent, f"{source_key}-")
    _cache.prune(path.parent, keep=path)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


# -- small helpers ----------------------------------------------------------------------------


def _read_only(array: np.ndarray) -> np.ndarray:
    # One flag for every store, cached or not, so compiled kernels see a single array type.
    array = np.asarray(array)
    if array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return array


def _as_str_sequence(items) -> Sequence[str]:
    if isinstance(items, (pa.Array, pa.ChunkedArray)):
        return items.to_pylist()
    return items
