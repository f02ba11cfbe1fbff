"""Run the compiled kernel on one hand-built straddle row, returning what the reference returns.

The SPEC example tests build straddle rows by hand (as ``expand(...).to_pylist()`` would give
them); this adapter turns such a row into a one-row StraddleFrame, runs :func:`run_kernel` on it
and reports ``(result, day_rows)`` in the reference's shape, so that every SPEC example checks both
implementations.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from straddles.engine import status as st
from straddles.engine.anchors import NO_DAY
from straddles.engine.pipeline import days_table
from straddles.engine.dates import day_number, day_to_date, parse_month
from straddles.engine.straddle_table import StraddleFrame
from straddles.engine.kernel import KernelOptions, run_kernel
from straddles.engine.legs import LEG_NAMES, SeriesCatalog
from straddles.engine.model_codes import MODEL_CODES, MODEL_UNSUPPORTED
from straddles.engine.prices import PriceStore


def kernel_value_straddle(row: dict, prices: pa.Table, asof=None, expiry_basis: str = "realized",
                          greeks: bool = False, costs: tuple[float, float] | None = None) -> tuple[dict, list[dict]]:
    """Value ``row`` against the long price table ``prices`` with the kernel; the options are those
    of :func:`straddles.engine.reference.value_straddle`."""
    catalog = SeriesCatalog()
    legs = np.full((len(LEG_NAMES), 1), -1, dtype=np.int32)
    for slot, name in enumerate(LEG_NAMES):
        if row.get(f"{name}_ticker") is not None:
            legs[slot, 0] = catalog.id(row[f"{name}_ticker"], row[f"{name}_field"])
    model = MODEL_CODES.get(row["model"], MODEL_UNSUPPORTED)
    if row["status"] is not None:
        status = st.code_of(row["status"])
    else:
        status = st.UNSUPPORTED_MODEL if model == MODEL_UNSUPPORTED else st.PENDING
    day = lambda date: NO_DAY if date is None else day_number(date)  # noqa: E731
    expiry_month = parse_month(row["expiry_month"])
    frame = StraddleFrame(
        amt=None, assets=[None], templates=[], months=np.array([expiry_month], np.int32), catalog=catalog,
        overrides=None, asset=np.zeros(1, np.int32), template=np.zeros(1, np.int32),
        expiry_month=np.array([expiry_month], np.int32),
        entry_month=np.array([parse_month(row["entry_month"])], np.int32),
        entry_anchor=np.array([day(row["entry_anchor"])], np.int32),
        expiry_anchor=np.array([day(row["expiry_anchor"])], np.int32),
        entry_offset=np.array([int(row["ntrv"] or 0)], np.int32), model=np.array([model], np.int8),
        status=np.array([status], np.int8), weight=np.ones(1), legs=legs,
    )
    options = KernelOptions(asof=None if asof is None else day_number(asof), anchor_basis=expiry_basis == "anchor",
                            greeks=greeks, option_spread=None if costs is None else np.array([costs[0]]),
                            hedge_bps=None if costs is None else np.array([costs[1]]))
    result = run_kernel(frame, PriceStore.from_arrow(prices), days=True, options=options)
    date = lambda value: None if value == NO_DAY else day_to_date(int(value))  # noqa: E731
    number = lambda value: None if np.isnan(value) else float(value)  # noqa: E731
    summary = {
        "status": st.CODE_NAMES[result.status[0] - 1],
        "entry_date": date(result.entry_date[0]), "expiry_date": date(result.expiry_date[0]),
        "strike": number(result.strike[0]), "strike_vol": number(result.strike_vol[0]),
        "n_days": int(result.n_days[0]), "pnl_sum": number(result.pnl_sum[0]),
    }
    if costs is not None:
        summary.update(cost_sum=number(result.cost_sums[0, 0]), pnl_net_sum=number(result.cost_sums[1, 0]))
    day_rows = days_table(result.days).to_pylist()
    for r in day_rows:
        r["straddle_id"] = row["straddle_id"]
    return summary, day_rows
