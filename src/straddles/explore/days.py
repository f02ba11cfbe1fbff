"""Random access to a results folder's day table, one straddle at a time.

``days.parquet`` holds the day rows in ``straddle_id`` order (SPEC 13.2), a straddle's rows
contiguous and ``n_days`` of them (the straddle table's column). Parquet cannot seek to a row: on
the real universe reading one straddle's rows with a filter decodes a 2 M-row row group (about
1 s). So the explorer copies the table once, row group by row group, into an uncompressed Arrow
IPC file in the cache folder (``$STRADDLES_CACHE_DIR/days``, keyed by the Parquet file's
content), memory-maps it, and slices a straddle's rows by offset in microseconds. Until the copy exists (it is built in a background thread) a drill-down reads the
Parquet file with a filter. Nothing is ever written into the results folder.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from ..engine import cache
from ..engine.outputs import atomic_path
from ..errors import StraddlesError


class DayTable:
    """The day rows of one straddle, from a memory-mapped copy of ``days.parquet`` when ready."""

    def __init__(self, path: Path, straddle_ids: np.ndarray, n_days: np.ndarray):
        self.path = Path(path)
        order = np.argsort(straddle_ids, kind="stable")
        counts = np.zeros(len(order) + 1, np.int64)
        counts[1:] = n_days[order]
        self._ids = straddle_ids[order]
        self._offsets = np.cumsum(counts)
        self._table: pa.Table | None = None
        self._lock = threading.Lock()
        self._consistent = self._offsets[-1] == pq.ParquetFile(self.path).metadata.num_rows

    @property
    def ready(self) -> bool:
        """Whether the memory-mapped copy is open (drill-downs are then instant)."""
        return self._table is not None

    def prepare(self) -> None:
        """Open the cached copy, building it first if needed (seconds on the full universe)."""
        with self._lock:
            if self._table is None and self._consistent:
                self._table = _mapped_copy(self.path)

    def table(self) -> pa.Table:
        """The whole day table, memory-mapped (prepared first if needed)."""
        self.prepare()
        if self._table is None:
            raise StraddlesError(f"{self.path}: the day table does not match the straddle table's n_days")
        return self._table

    def rows(self, straddle_id: int) -> pa.Table:
        """The day rows of ``straddle_id`` in date order (empty for a straddle without rows)."""
        position = int(np.searchsorted(self._ids, straddle_id))
        if position == len(self._ids) or self._ids[position] != straddle_id:
            raise KeyError(straddle_id)
        start, stop = int(self._offsets[position]), int(self._offsets[position + 1])
        if self._table is not None:
            return self._table.slice(start, stop - start)
        return pq.read_table(self.path, filters=[("straddle_id", "==", straddle_id)])


def _mapped_copy(path: Path) -> pa.Table:
    """The Arrow IPC copy of the Parquet file ``path``, memory-mapped, built if missing or damaged.

    As every cache of the package (:mod:`straddles.engine.cache`): keyed by the content of the
    source (its remembered xxh3), written atomically with a checksum of its own bytes beside it,
    verified when opened, touched when used and pruned to the cache budget.
    """
    key = cache.source_checksum(path, cache.cache_dir("sources") / "xxh3.json")
    target = cache.cache_dir("days") / f"{key}.arrow"
    stamp = target.with_suffix(".xxh3")
    try:
        if stamp.read_text() == cache.file_checksum(target):
            cache.touch(target)
            return ipc.open_file(pa.memory_map(str(target), "r")).read_all()
        warnings.warn(f"{target}: damaged day-table cache entry, rebuilt", stacklevel=2)
    except (OSError, pa.ArrowInvalid):
        pass
    source = pq.ParquetFile(path)
    with atomic_path(target) as temporary:
        with pa.OSFile(str(temporary), "wb") as sink, ipc.new_file(sink, source.schema_arrow) as writer:
            for group in range(source.num_row_groups):
                writer.write_table(source.read_row_group(group))
        digest = cache.file_checksum(temporary)
    with atomic_path(stamp) as temporary:
        temporary.write_text(digest)
    cache.prune(target.parent, keep=target)
    return ipc.open_file(pa.memory_map(str(target), "r")).read_all()
