"""pandas views of the results: daily P&L as wide frames (dates down, assets or classes across).

pandas is optional (``pip install 'straddles[pandas]'``) and imported only here, only when a
``to_pandas`` function is called, so ``import straddles`` and the CLI never pay for it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..errors import StraddlesError
from .totals import BUCKET_KEYS


def pandas():
    """The pandas module, or a one-line error saying which extra installs it."""
    try:
        import pandas
    except ImportError:
        raise StraddlesError("to_pandas needs pandas: pip install 'straddles[pandas]' (or pip install pandas)") \
            from None
    return pandas


def wide_frame(table: pa.Table, value: str = "pnl"):
    """A long P&L table (a ``portfolio``/``totals`` table or the per-asset table) as a wide
    DataFrame: a DatetimeIndex named ``date``, one column per bucket (``portfolio`` when the table
    has no bucket column), ``value`` in the cells and NaN where a bucket has no row that day."""
    pd = pandas()
    if value not in table.column_names or "date" not in table.column_names:
        raise StraddlesError(f"to_pandas: the table has no {value!r} or 'date' column "
                             f"(it has {', '.join(table.column_names)})")
    keys = [name for name in BUCKET_KEYS if name in table.column_names]
    dates = table["date"].cast(pa.int32()).to_numpy()
    values = table[value].cast(pa.float64()).fill_null(np.nan).to_numpy()
    if keys:
        column = table[keys[0]].cast(pa.string()).fill_null("").to_numpy(zero_copy_only=False)
        names, bucket = np.unique(column, return_inverse=True)
    else:
        names, bucket = np.array(["portfolio"], dtype=object), np.zeros(len(dates), np.int64)
    days, day = np.unique(dates, return_inverse=True)
    matrix = np.full((len(days), len(names)), np.nan)
    matrix[day, bucket] = values
    index = pd.DatetimeIndex(days.astype("datetime64[D]").astype("datetime64[ns]"), name="date")
    return pd.DataFrame(matrix, index=index, columns=pd.Index([str(n) for n in names], name=keys[0] if keys else None))
