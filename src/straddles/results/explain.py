"""Explain one straddle day by day: what a user opens when a number looks wrong.

:func:`explain_straddle` runs the real pipeline (expand, legs, kernel) for the straddle's asset and
expiry year, then lays out for that one straddle: its legs, the anchors and entry target, every
day of its span with the legs that had a price, which days were good, the chosen entry and expiry
with the rule that chose them, the strike, and the daily valuation table. The SPEC Part II options
of :func:`straddles.backtest` apply the same way: a point-in-time view (``asof``), the expiry
basis, the attribution columns (``greeks``), costs and holiday calendars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..engine.amt import Amt, load_amt
from ..engine.anchors import NO_DAY
from ..engine.pipeline import days_table, straddle_table
from ..engine.dates import day_label, day_to_date, month_end, parse_month
from ..errors import StraddlesError
from ..engine.straddle_table import build_straddles
from ..engine.kernel import run_kernel
from ..engine.legs import LEG_NAMES

#: the SPEC 17/18 columns shown in the valuation table when the run has them (the Greeks
#: themselves stay in the day table: the attribution is what a user reads day by day)
ATTRIBUTION_COLUMNS = ("gamma_pnl", "theta_pnl", "vega_pnl", "resid_pnl", "cost_option", "cost_hedge", "pnl_net")


#: what the numbers of an explanation are in
UNITS_NOTE = ("vol and strike vol in vol points as the source quotes them (percent; basis points for CV rates "
              "normal vols); hedges as quoted; mv, opnl, hpnl and pnl in fractions of the "
              "strike (per unit of swap notional for NS).")


@dataclass
class Explanation:
    """Everything :func:`render` prints about one straddle."""

    straddle: dict
    start_year: int  #: first expiry year of the backtest whose straddle_id is shown
    legs: list[tuple[str, str, str]]
    calendar: pa.Table
    entry_rule: str
    expiry_rule: str
    days: pa.Table
    asof: int | None = None


def explain_straddle(amt: Amt | str, prices, asset: str, expiry_month: str, schid: int, overrides=None, *,
                     start_year: int | None = None, pattern: str = ".", live_only: bool = True, asof=None,
                     expiry_basis: str = "realized", greeks: bool = False, costs=None,
                     calendars=None) -> Explanation:
    """The straddle of ``asset`` expiring in ``expiry_month`` (``YYYY-MM``) from schedule entry
    ``schid`` (1-based), explained; ``asof``, ``expiry_basis``, ``greeks``, ``costs`` and
    ``calendars`` are the options of :func:`straddles.backtest`.

    Its ``straddle_id`` is the one it has in a backtest from ``start_year`` (default: the expiry
    year) with the same ``pattern`` and ``live_only`` (SPEC 4.3: the id is a row position, so it
    depends on the selection); it is None when that selection does not contain the straddle. The
    selection-independent identity is (``asset``, ``straddle``), as in the backtest's tables.
    """
    from ..engine.calendars import calendars_option
    from ..engine.options import kernel_options
    from ..engine.prices import load_prices

    if not isinstance(amt, Amt):
        amt = load_amt(amt)
    try:
        month = parse_month(expiry_month)
    except ValueError as exc:
        raise StraddlesError(str(exc)) from None
    frame = build_straddles(amt, month // 12, month // 12, pattern=f"^{re.escape(asset)}$", live_only=False,
                            overrides=overrides, calendars=calendars_option(calendars))
    if not frame.assets:
        raise StraddlesError(f"{amt.path}: no asset with Underlying {asset!r}")
    schids = np.array([entry.schid for _, entry in frame.templates])[frame.template]
    rows = np.flatnonzero((frame.expiry_month == month) & (schids == schid))
    if len(rows) == 0:
        raise StraddlesError(f"{asset} has {len(frame.templates)} schedule entries; there is no entry {schid}")
    i = int(rows[0])
    store = load_prices(prices)
    options = kernel_options(frame, store, asof, expiry_basis, greeks, costs)
    result = run_kernel(frame, store, days=True, options=options)
    straddle = straddle_table(frame, result).slice(i, 1).to_pylist()[0]
    days = days_table(result.days).filter(pa.compute.equal(pa.compute.field("straddle_id"), i))
    first_year = month // 12 if start_year is None else start_year
    straddle_id = backtest_straddle_id(amt, asset, month, schid, first_year, pattern, live_only, overrides)
    straddle["straddle_id"] = straddle_id
    days = days.set_column(0, "straddle_id", pa.array(np.full(days.num_rows, -1 if straddle_id is None else straddle_id,
                                                             dtype=np.int64), mask=np.full(days.num_rows, straddle_id is None)))
    legs = [(name, straddle[f"{name}_ticker"], straddle[f"{name}_field"])
            for name in LEG_NAMES if straddle[f"{name}_ticker"] is not None]
    span = np.arange(frame.span_start[i], frame.span_end[i] + 1, dtype=np.int32)
    if options.asof is not None:  # a point-in-time view shows only what was known at asof
        span = span[span <= options.asof]
    calendar = _calendar(store, legs, span)
    target = (int(frame.entry_anchor[i]) + int(frame.entry_offset[i])) if frame.entry_anchor[i] != NO_DAY else None
    return Explanation(straddle=straddle, start_year=first_year, legs=legs, calendar=calendar,
                       entry_rule=_entry_rule(result.entry_date[i], target, month_end(frame.entry_month[i]),
                                              options.asof),
                       expiry_rule=_expiry_rule(result.expiry_date[i], frame.expiry_anchor[i], options.asof,
                                                options.anchor_basis),
                       days=days, asof=options.asof)


def backtest_straddle_id(amt: Amt, asset: str, expiry_month: int, schid: int, start_year: int, pattern: str = ".",
                         live_only: bool = True, overrides=None) -> int | None:
    """The ``straddle_id`` of a straddle in a backtest of expiries from ``start_year`` with this
    selection, or None if the selection does not hold it or it expires before ``start_year``.

    SPEC 4.3: every expiry month holds the same templates (asset, schedule entry) in the same
    order, so the id is ``(months since January of start_year) * templates + template``.
    """
    year = expiry_month // 12
    if year < start_year:
        return None
    frame = build_straddles(amt, year, year, pattern, live_only, overrides)
    for position, (asset_index, entry) in enumerate(frame.templates):
        if frame.assets[asset_index].underlying == asset and entry.schid == schid:
            return (expiry_month - start_year * 12) * len(frame.templates) + position
    return None


def _calendar(store, legs, span: np.ndarray) -> pa.Table:
    """Per span day: the value of each leg (null where the store has no row) and whether it is good."""
    columns = {"date": pa.array(span).cast(pa.date32())}
    good = np.ones(len(span), dtype=bool)
    for name, ticker, field in legs:
        dates, values = store.series(ticker, field)
        position = np.clip(np.searchsorted(dates, span), 0, max(len(dates) - 1, 0))
        present = (dates[position] == span) if len(dates) else np.zeros(len(span), dtype=bool)
        good &= present
        columns[name] = pa.array(np.where(present, values[position] if len(dates) else 0.0, np.nan),
                                 mask=~present)
    columns["good"] = pa.array(good)
    return pa.table(columns)


def _entry_rule(entry: int, target: int | None, entry_month_end: int, asof: int | None = None) -> str:
    if target is None:
        return "no entry anchor, so no entry"
    if entry == NO_DAY and asof is not None and entry_month_end > asof:
        return (f"target {day_label(target)}: no good day from it to asof {day_label(asof)}, and the month "
                f"has not ended (open: not decided yet)")
    if entry == NO_DAY:
        return f"target {day_label(target)}: no good day in the entry month (no_entry)"
    if entry >= target:
        return f"target {day_label(target)}: first good day on or after it"
    if target > entry_month_end:
        return f"target {day_label(target)} is past the entry month: last good day of the month"
    return f"target {day_label(target)}: no good day from it to month end, so the month's last good day"


def _expiry_rule(expiry: int, anchor: int, asof: int | None = None, anchor_basis: bool = False) -> str:
    if anchor == NO_DAY:
        return "no expiry anchor, so no expiry"
    if anchor_basis and expiry != NO_DAY:
        return f"anchor {day_label(anchor)}: expiry basis 'anchor', the straddle expires on it"
    if expiry == NO_DAY and asof is not None and (anchor > asof or month_end(int(_month_of(anchor))) > asof):
        return (f"anchor {day_label(anchor)}: expiry not known by asof {day_label(asof)} (open: valued up to "
                f"asof with t measured to the anchor)")
    if expiry == NO_DAY:
        return f"anchor {day_label(anchor)}: no good day from it to the end of the expiry month (no_expiry)"
    return f"anchor {day_label(anchor)}: first good day on or after it"


def _month_of(day: int) -> int:
    date = day_to_date(day)
    return date.year * 12 + date.month - 1


def render(explanation: Explanation, console) -> None:
    """Print an :class:`Explanation` with rich."""
    from rich.table import Table

    s = explanation.straddle
    identity = (f"straddle_id {s['straddle_id']} in a backtest from {explanation.start_year} with the same "
                f"--pattern/--all" if s["straddle_id"] is not None else
                f"not in a backtest from {explanation.start_year} with this --pattern/--all")
    console.print(f"[bold]{s['asset']}[/] {s['straddle']}  ({identity}; model {s['model']}, weight {s['weight']:g})",
                  highlight=False)
    asof = f" (asof {day_label(explanation.asof)})" if explanation.asof is not None else ""
    console.print(f"status: [bold]{s['status']}[/]{asof}")
    console.print(f"position: long one unit of the straddle. Units: {UNITS_NOTE}", highlight=False)
    legs = Table(title="legs")
    for column in ("leg", "ticker", "field"):
        legs.add_column(column)
    for leg in explanation.legs:
        legs.add_row(*(repr(x) if x == "" else x for x in leg))
    console.print(legs)
    console.print(f"entry anchor {_iso(s['entry_anchor'])}, entry {_iso(s['entry_date'])}: {explanation.entry_rule}")
    console.print(f"expiry anchor {_iso(s['expiry_anchor'])}, expiry {_iso(s['expiry_date'])}: {explanation.expiry_rule}")
    if s["strike"] is not None:
        console.print(f"strike {s['strike']:.6g} (the hedge on the entry day), strike vol {s['strike_vol']:.6g} "
                      f"(vol points, as quoted)")

    marks = {s["entry_anchor"]: "entry anchor", s["expiry_anchor"]: "expiry anchor",
             s["entry_date"]: "ENTRY", s["expiry_date"]: "EXPIRY"}
    calendar = Table(title="span: prices per leg (blank = no row), good days")
    for column in ["date", "day"] + [leg for leg, _, _ in explanation.legs] + ["good", ""]:
        calendar.add_column(column, justify="right" if column not in ("date", "day", "") else "left")
    rows = explanation.calendar.to_pylist()
    blank = [all(row[leg] is None for leg, _, _ in explanation.legs) and row["date"] not in marks for row in rows]
    i = 0
    while i < len(rows):
        run = i
        while run < len(rows) and blank[run]:
            run += 1
        if run - i >= 3:  # condense long stretches without any price
            calendar.add_row(f"{rows[i]['date']} .. {rows[run - 1]['date']}", "", *[""] * len(explanation.legs),
                             "[red]no[/]", f"{run - i} days without prices")
            i = run
            continue
        row = rows[i]
        cells = [_number(row[leg]) for leg, _, _ in explanation.legs]
        calendar.add_row(row["date"].isoformat(), row["date"].strftime("%a"), *cells,
                         "yes" if row["good"] else "[red]no[/]", marks.get(row["date"], ""))
        i += 1
    console.print(calendar)

    if explanation.days.num_rows:
        value = Table(title="daily valuation (rolled inputs; P&L per SPEC 12)")
        names = ["date", "dte"] + [leg for leg, _, _ in explanation.legs] + ["mv", "delta", "opnl", "hpnl", "pnl"]
        _print_days(console, value, explanation.days, names)
        extra = [name for name in ATTRIBUTION_COLUMNS if name in explanation.days.column_names]
        if extra:
            title = "daily P&L attribution (SPEC 17) and costs (SPEC 18); gamma+theta+vega+resid = pnl"
            _print_days(console, Table(title=title), explanation.days, ["date", "dte", "pnl"] + extra)
        costs = (f", cost_sum {_number(s['cost_sum'])}, pnl_net_sum {_number(s['pnl_net_sum'])}"
                 if "cost_sum" in s else "")
        console.print(f"n_days {s['n_days']}, pnl_sum {_number(s['pnl_sum'])}{costs} (fraction of the strike)")


def _print_days(console, table, days: pa.Table, names: list[str]) -> None:
    for column in names:
        table.add_column(column, justify="right")
    for row in days.to_pylist():
        table.add_row(row["date"].isoformat(), str(row["dte"]), *(_number(row[c]) for c in names[2:]))
    console.print(table)


def _number(value) -> str:
    return "" if value is None else f"{value:.6g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.4e}"


def _iso(value) -> str:
    return value.isoformat() if value is not None else "none"

