"""The report sections of the SPEC Part II options, present only when the backtest has them:

* ``open`` (open positions): a point-in-time run (``asof``) with open straddles; their P&L is
  marked to asof, and they are listed with their days so far;
* ``attribution``: the gamma / theta / vega / residual split of P&L (``greeks=True``) by class and
  by year;
* ``costs``: gross vs net P&L and the option / hedge costs (``costs=...``) by class and by year.

Each section is built from the backtest's tables alone (the asset P&L carries the weighted sums).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ...engine.options import COST_GRID_COLUMNS, GREEK_GRID_COLUMNS
from ..units import NOTIONAL, format_pnl

OPEN_STATUS = "open"
#: open straddles listed in the report, largest |P&L so far| first
N_OPEN_LISTED = 20


def sections(backtest, _table) -> list[tuple[str, str, str]]:
    """``(element id, title, inner HTML)`` of each Part II section the backtest calls for;
    ``_table(columns, rows)`` is the report's HTML table helper."""
    found = []
    open_html = _open_positions(backtest, _table)
    if open_html:
        found.append(("open", "Open positions", open_html))
    names = backtest.asset_pnl.column_names
    if all(name in names for name in GREEK_GRID_COLUMNS):
        found.append(("attribution", "P&L attribution: gamma, theta, vega",
                      _breakdown(backtest, ("pnl",) + GREEK_GRID_COLUMNS, _table, ATTRIBUTION_NOTE)))
    if all(name in names for name in COST_GRID_COLUMNS):
        found.append(("costs", "Costs: gross vs net P&L",
                      _breakdown(backtest, ("pnl",) + COST_GRID_COLUMNS, _table, COSTS_NOTE)))
    return found


def summary(backtest) -> dict:
    """The Part II numbers for summary.json: totals of the attribution / cost columns, open count."""
    out = {}
    names = [n for n in GREEK_GRID_COLUMNS + COST_GRID_COLUMNS if n in backtest.asset_pnl.column_names]
    if names:
        out["totals"] = {name: pc.sum(backtest.asset_pnl[name]).as_py() for name in ("pnl", *names)}
    n_open = pc.sum(pc.equal(backtest.straddles["status"].cast(pa.string()), OPEN_STATUS)).as_py() or 0
    if n_open:
        out["n_open"] = n_open
    return out


ATTRIBUTION_NOTE = ("<p class='note'>Each valued day's P&amp;L is split with the Greeks of the previous valued "
                    "day: gamma = ½·Γ·ΔS², theta = Θ·Δt (calendar days), vega = V·Δvol, and the residual is the "
                    "rest (higher-order terms, cross effects, the hedge's discrete re-balancing and the expiry "
                    "day, whose Greeks are 0). The four parts add up to the P&amp;L. Sums of asset P&amp;L "
                    "(schedule weights applied), in units of notional.</p>")
COSTS_NOTE = ("<p class='note'>Option cost = (Slippage × SlippageFactor + class spread) × the entry day's vega, "
              "charged once on entry (straddles are held to expiry and settle at intrinsic). Hedge cost = "
              "hedge_bps of the traded hedge notional on entry, on each re-hedge and on the expiry unwind. Net = "
              "gross P&amp;L − costs. Sums of asset P&amp;L (schedule weights applied), in units of "
              "notional.</p>")


def _breakdown(backtest, columns: tuple[str, ...], table, note: str) -> str:
    """Sums of ``columns`` by class and by year, each with a total row."""
    pnl = backtest.asset_pnl
    classes = dict(zip(backtest.assets["asset"].to_pylist(), backtest.assets["class"].to_pylist()))
    asset = pnl["asset"].combine_chunks()
    if not pa.types.is_dictionary(asset.type):
        asset = pc.dictionary_encode(asset)
    class_of = pa.array([classes.get(name) for name in asset.dictionary.cast(pa.string()).to_pylist()], pa.string())
    keys = {"class": class_of.take(asset.indices), "year": pc.year(pnl["date"]).cast(pa.string())}
    html = []
    for key, title in (("class", "By asset class"), ("year", "By year")):
        grouped = (pa.table({key: keys[key], **{name: pnl[name] for name in columns}})
                   .group_by(key).aggregate([(name, "sum") for name in columns]).sort_by(key))
        rows = [([row[key]] + [row[f"{name}_sum"] for name in columns], "") for row in grouped.to_pylist()]
        rows.append((["total"] + [pc.sum(pnl[name]).as_py() for name in columns], "total"))
        html.append(f"<h3>{title}</h3>" + table([(key, "text")] + [(name, "pnl") for name in columns], rows))
    return note + "".join(html)


def _open_positions(backtest, table) -> str:
    straddles = backtest.straddles
    is_open = pc.equal(straddles["status"].cast(pa.string()), OPEN_STATUS)
    n_open = pc.sum(is_open).as_py() or 0
    if not n_open:
        return ""
    opened = straddles.filter(is_open)
    with_rows = opened.filter(pc.greater(opened["n_days"], 0))
    pnl = with_rows["pnl_sum"].fill_null(0.0)
    order = pc.array_sort_indices(pc.abs(pnl), order="descending")
    listed = with_rows.take(order[:N_OPEN_LISTED]).to_pylist()
    last_day = pc.max(backtest.asset_pnl["date"]).as_py() if backtest.asset_pnl.num_rows else None
    intro = (f"<p>{n_open:,} straddles are open at the run's asof date"
             f"{f' (last P&amp;L day {last_day})' if last_day else ''}: {with_rows.num_rows:,} entered and marked "
             f"to market up to asof (t measured to their expiry anchor), {n_open - with_rows.num_rows:,} not entered "
             f"yet. Their P&amp;L so far, {_sum(with_rows['pnl_sum'])} in total (unweighted), is included in every "
             f"section above; in the realized expiry basis it may be re-measured once their expiry is known "
             f"(never in the anchor basis).</p>")
    columns = [("asset", "text"), ("straddle", "text"), ("entry", "date"), ("expiry anchor", "date"),
               ("days so far", "int"), ("P&L so far", "pnl")]
    rows = [([r["asset"], r["straddle"], r["entry_date"], r["expiry_anchor"], r["n_days"], r["pnl_sum"]], "")
            for r in listed]
    caption = f"<h3>The {len(listed)} open straddles with the largest P&amp;L so far (in absolute value)</h3>"
    return intro + (caption + table(columns, rows) if rows else "")


def _sum(column) -> str:
    return format_pnl(pc.sum(column).as_py() or 0.0, NOTIONAL)
