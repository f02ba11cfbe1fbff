"""Atomic file output: a failed run never leaves a half-written file behind.

Every writer in the package goes through :func:`atomic_path`: the data is written to a hidden
temporary file in the destination folder and renamed over the final name only once complete
(``os.replace`` is atomic within a file system). :func:`write_files` extends this to a set of
files that should appear together.
"""

from __future__ import annotations

import os
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import StraddlesError

#: Parquet compression for every table we write. Measured on the full universe's 8M-row day table
#: (BENCHMARKS.md): snappy writes in 0.49 s (350 MB), zstd level 1 in 1.08 s (309 MB), lz4 0.74 s.
PARQUET_COMPRESSION = "snappy"


def parquet_options(schema: pa.Schema) -> dict:
    """Writer options for a table: dictionary pages only for string columns (trying them on
    float columns costs more than half the write time and never pays) and min/max statistics only
    for integer and date columns (the ones readers filter on)."""
    strings = [f.name for f in schema if pa.types.is_dictionary(f.type) or pa.types.is_string(f.type)
               or pa.types.is_large_string(f.type)]
    keys = [f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_date(f.type)]
    return {"compression": PARQUET_COMPRESSION, "use_dictionary": strings or False, "write_statistics": keys or False}


@contextmanager
def atomic_path(final: str | Path, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it to ``final`` if the block succeeds.

    Readers see the old file or the complete new one, never a partial file. With ``durable`` the
    data is also flushed to disk before the rename, so that it survives a crash (caches use this;
    large outputs skip the cost). The temporary name is unique, so concurrent writers of the same
    file do not collide; the last one to finish wins.
    """
    final = Path(final)
    if final.is_dir():
        raise StraddlesError(f"{final}: is a folder; give a file name")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StraddlesError(f"{final}: cannot create its folder {final.parent} (a file is in the way)") from None
    temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield temporary
        if durable:
            with open(temporary, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def check_output_folder(directory: Path) -> None:
    """Fail early, with one line, when an output folder's name is taken by a file."""
    if directory.exists() and not directory.is_dir():
        raise StraddlesError(f"{directory}: the output must be a folder, but a file of that name exists")


def write_table(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` atomically as Parquet, or as CSV when ``path`` ends in ``.csv``."""
    path = Path(path)
    with atomic_path(path) as temporary:
        _write(table, path.suffix.lower(), temporary)
    return path


def write_files(writers: dict[Path, Callable[[Path], None]]) -> list[Path]:
    """Write several files all-or-nothing: each ``writer(temporary_path)`` runs first, and the
    files are renamed into place only when every writer has succeeded."""
    with ExitStack() as stack:
        for final, writer in writers.items():
            writer(stack.enter_context(atomic_path(final)))
    return list(writers)


def _write(table: pa.Table, suffix: str, target: Path) -> None:
    if suffix == ".csv":
        plain = pa.table({name: column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
                          for name, column in zip(table.column_names, table.columns)})
        pacsv.write_csv(plain, target)
    else:
        pq.write_table(table, target, **parquet_options(table.schema))


def parquet_writer(table: pa.Table) -> Callable[[Path], None]:
    """A :func:`write_files` writer for one Parquet table."""
    return lambda target: _write(table, ".parquet", target)
