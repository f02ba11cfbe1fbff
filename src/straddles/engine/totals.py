"""Plain sums of per-asset daily P&L by bucket and day (SPEC 13.3 totals).

The columnar core shared by :meth:`straddles.Backtest.totals` (the engine's plain totals) and
:func:`straddles.portfolio` (which adds sizing on top): one ``bincount`` per column over
(bucket, day) cells.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import StraddlesError
from .columns import date_array
from .options import COST_GRID_COLUMNS, GREEK_GRID_COLUMNS

#: bucket keys :func:`aggregate` accepts besides ``portfolio`` (columns of the backtest's assets table)
BUCKET_KEYS = ("class", "group", "subgroup", "asset")
#: the P&L columns summed per bucket and day
PNL_COLUMNS = ("pnl", "opnl", "hpnl")
#: summed too when the backtest has them (SPEC 17 attribution, SPEC 18 costs)
OPTIONAL_COLUMNS = GREEK_GRID_COLUMNS + COST_GRID_COLUMNS


def aggregate(asset_pnl: pa.Table, assets: pa.Table, by: str, multipliers: np.ndarray | None = None) -> pa.Table:
    """Sum ``asset_pnl`` (SPEC 13.3 per-asset rows) times each asset's multiplier by bucket and day.

    The columnar core of :func:`portfolio`: one ``bincount`` per column over (bucket, day) cells;
    ``multipliers`` follows the rows of ``assets`` (None means 1.0 for every asset). Assets with a
    zero multiplier are left out, including from ``n_assets``.
    """
    if by != "portfolio" and by not in BUCKET_KEYS:
        raise StraddlesError(f"portfolio: by must be one of {', '.join(BUCKET_KEYS + ('portfolio',))}, got {by!r}")
    if multipliers is None:
        multipliers = np.ones(assets.num_rows)
    asset_row = _asset_rows(asset_pnl["asset"], assets["asset"])
    if by == "portfolio":
        bucket_names, bucket_of_asset = np.array(["portfolio"], dtype=object), np.zeros(assets.num_rows, np.int64)
    else:
        keys = assets[by].cast(pa.string()).fill_null("").to_pylist()  # a null key is the bucket ""
        bucket_names, bucket_of_asset = np.unique(np.array(keys, dtype=object), return_inverse=True)
    row_multiplier = multipliers[asset_row]
    keep = row_multiplier != 0
    everything = bool(keep.all())  # the usual case: no row to drop, so no copies to make
    dates = _numbers(asset_pnl["date"].cast(pa.int32()), None if everything else keep)
    bucket = bucket_of_asset[asset_row if everything else asset_row[keep]]
    row_multiplier = row_multiplier if everything else row_multiplier[keep]
    unit = bool((row_multiplier == 1.0).all())
    day0 = int(dates.min()) if len(dates) else 0
    n_days = int(dates.max()) - day0 + 1 if len(dates) else 0
    cell = bucket * n_days + (dates - day0)
    size = len(bucket_names) * n_days

    def cell_sum(name: str, mask: np.ndarray | None = None) -> np.ndarray:
        values = _numbers(asset_pnl[name].cast(pa.float64()), None if everything else keep)
        if not unit:
            values = values * row_multiplier
        if mask is not None:
            values = np.where(mask, values, 0.0)
        return np.bincount(cell, weights=values, minlength=size)

    count = np.bincount(cell, minlength=size)
    present = np.flatnonzero(count)
    sums = {name: cell_sum(name) for name in PNL_COLUMNS}
    short = row_multiplier < 0
    sums["pnl_long"] = cell_sum("pnl", ~short) if short.any() else sums["pnl"]
    sums["pnl_short"] = cell_sum("pnl", short) if short.any() else np.zeros(size)
    sums.update({name: cell_sum(name) for name in OPTIONAL_COLUMNS if name in asset_pnl.column_names})
    columns = {}
    if by != "portfolio":
        columns[by] = pa.DictionaryArray.from_arrays(pa.array((present // max(n_days, 1)).astype(np.int32)),
                                                     pa.array(bucket_names.tolist(), pa.string()))
    columns["date"] = date_array(present % n_days + day0 if n_days else present)
    for name, values in sums.items():
        columns[name] = pa.array(values[present], pa.float64())
    columns["n_assets"] = pa.array(count[present].astype(np.int32))
    return pa.table(columns)


def _numbers(column: pa.ChunkedArray, keep: np.ndarray | None) -> np.ndarray:
    """A numeric column as NumPy (nulls as 0, without a copy when there are none), rows ``keep``."""
    if column.null_count:
        column = column.fill_null(0)
    values = column.to_numpy()
    return values if keep is None else values[keep]


def _asset_rows(asset_column: pa.ChunkedArray, asset_names: pa.ChunkedArray) -> np.ndarray:
    """The row of ``asset_names`` for each value of ``asset_column``, without a Python loop over rows."""
    column = asset_column.combine_chunks() if isinstance(asset_column, pa.ChunkedArray) else asset_column
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    lookup = pc.index_in(column.dictionary.cast(pa.string()), value_set=asset_names.cast(pa.string()))
    positions = lookup.fill_null(-1).to_numpy().astype(np.int64)
    indices = column.indices.to_numpy()
    # a filtered table keeps its whole dictionary: check only what is used
    used = np.flatnonzero(np.bincount(indices, minlength=len(positions)))
    unknown = used[positions[used] < 0]
    if len(unknown):
        missing = column.dictionary.take(pa.array(unknown)).to_pylist()
        raise StraddlesError(f"asset_pnl names assets missing from the assets table: {missing[:5]}")
    return positions[indices]
