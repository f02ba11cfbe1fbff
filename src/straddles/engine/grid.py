"""The kernel's flat per-asset grid compacted into the SPEC 13.3 rows: (asset, date) with P&L.

The grid holds a cell per calendar day of each asset's window, asset after asset (see
:mod:`~straddles.engine.kernel`); the rows are its cells with at least one straddle P&L, in grid
order, which is (asset, date) order. One compiled pass writes the row columns directly. The NumPy
way (``flatnonzero``, then repeats and gathers) builds three int64 temporaries as long as the
output: 0.8 GB of fresh memory at 20x the real universe, where fresh memory is what costs.
"""

from __future__ import annotations

import numpy as np

from ..jit import njit


def compact_grid(result) -> dict[str, np.ndarray]:
    """The rows of a :class:`~straddles.engine.kernel.KernelResult`'s grid: ``asset`` (int32 index),
    ``day`` (int32 day number), ``pnl``, ``opnl``, ``hpnl``, ``n_straddles`` (int32) and ``extra``
    (``float64[len(options.grid_columns()), rows]``, the SPEC 17/18 sums)."""
    count = result.grid_count
    n_rows = int(np.count_nonzero(count))
    n_extra = len(result.options.grid_columns())
    extra_source = result.grid_extra if n_extra else np.zeros((0, 0))
    rows = dict(asset=np.empty(n_rows, np.int32), day=np.empty(n_rows, np.int32), pnl=np.empty(n_rows),
                opnl=np.empty(n_rows), hpnl=np.empty(n_rows), n_straddles=np.empty(n_rows, np.int32),
                extra=np.empty((n_extra, n_rows)))
    _compact(count, result.grid_offsets, result.grid_first_day, result.grid_pnl, result.grid_opnl,
             result.grid_hpnl, extra_source, rows["asset"], rows["day"], rows["pnl"], rows["opnl"], rows["hpnl"],
             rows["n_straddles"], rows["extra"])
    return rows


@njit(cache=True, nogil=True, error_model="numpy")
def _compact(count, offsets, first_day, pnl, opnl, hpnl, extra, out_asset, out_day, out_pnl, out_opnl, out_hpnl,
             out_count, out_extra):
    r = 0
    for a in range(len(offsets) - 1):
        for cell in range(offsets[a], offsets[a + 1]):
            if count[cell] != 0:
                out_asset[r] = a
                out_day[r] = first_day[a] + (cell - offsets[a])
                out_pnl[r] = pnl[cell]
                out_opnl[r] = opnl[cell]
                out_hpnl[r] = hpnl[cell]
                out_count[r] = count[cell]
                for k in range(out_extra.shape[0]):
                    out_extra[k, r] = extra[k, cell]
                r += 1
