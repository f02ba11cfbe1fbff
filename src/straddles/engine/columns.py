"""NumPy -> Arrow column conversions shared by every output table.

Kernels mark missing values in-band (NaN for floats, :data:`~straddles.engine.anchors.NO_DAY` for days);
Arrow outputs carry them as nulls (SPEC 1.2). These helpers build the validity bitmap and wrap the
NumPy data buffer without copying it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .anchors import NO_DAY


def float_array(values: np.ndarray) -> pa.Array:
    """float64 Arrow array over ``values``; NaN becomes null."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    return _with_nulls(pa.float64(), values, np.isnan(values))


def date_array(days: np.ndarray) -> pa.Array:
    """date32 Arrow array over int32 day numbers; NO_DAY becomes null."""
    days = np.ascontiguousarray(days, dtype=np.int32)
    return _with_nulls(pa.date32(), days, days == NO_DAY)


def int32_array(values: np.ndarray) -> pa.Array:
    """int32 Arrow array over ``values`` (no nulls)."""
    return pa.array(np.ascontiguousarray(values, dtype=np.int32))


def _with_nulls(type_: pa.DataType, values: np.ndarray, missing: np.ndarray) -> pa.Array:
    null_count = int(missing.sum())
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if null_count else None
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(values)], null_count=null_count)


def repeated_dictionary(names: list[str], lengths: np.ndarray) -> pa.DictionaryArray:
    """A dictionary-encoded string column holding ``names[i]`` ``lengths[i]`` times, in order.

    For long tables stored series by series (prices): one small sorted dictionary of distinct
    names and int32 indices, never a string per row.
    """
    distinct, code = np.unique(np.array(names, dtype=object), return_inverse=True)
    rows = np.repeat(code.astype(np.int32), np.asarray(lengths, dtype=np.int64))
    return pa.DictionaryArray.from_arrays(pa.array(rows), pa.array(distinct.tolist(), pa.string()))
