"""Slow, literal, pure-Python reference implementation of the per-straddle rules (SPEC 5-13.2).

This module is the **test oracle** for the compiled kernel: one straddle at a time, one calendar day
at a time, with plain ``datetime.date`` objects, dicts and floats. It is written to be read next to
the SPEC, not to be fast; every rule cites its section. Only the model *formulas* are shared with the
kernel (:func:`straddles.engine.models.es_value` / :func:`straddles.engine.models.ns_value`, SPEC 11.2/11.3); all
control flow (good days, entry/expiry, strike, roll-forward, dispatch, P&L state, statuses) is
written out again here.

Inputs
------
``row``
    One row of the straddle table from :func:`straddles.expand` as a dict
    (``table.to_pylist()[i]``): ``straddle_id``, ``entry_month``/``expiry_month`` (``YYYY-MM``),
    ``ntrv`` (string after letter fixing; ``""`` = 0), ``entry_anchor``/``expiry_anchor``
    (``datetime.date`` or None), ``model`` (``Valuation.Model`` as written), ``status`` (None while
    undecided, else a price-independent status) and ``<leg>_ticker``/``<leg>_field`` for every leg
    in :data:`LEGS` (None where the straddle has no such leg).
``price(ticker, field, day)``
    The price store (SPEC 9.1/9.2): the value of the exact (ticker, field, day) row, or None when
    there is no row. A non-finite value is treated as missing as well (SPEC 9.3).

Choices made where the SPEC leaves room (each is also noted at the rule it concerns)
------------------------------------------------------------------------------------
* **Dates of straddles with a price-independent status** (SPEC 6.4, 11.1, 13.1): an already-set
  status is kept, but the entry and expiry dates are still computed whenever they *can* exist, i.e.
  whenever the straddle has legs and the corresponding anchor exists; each date is reported on its
  own ("computed independently and each is reported when it exists"). In practice:
  ``unsupported_model`` gets both dates and the strike (SPEC 11.1); ``unsupported_expiry`` has no
  anchors and ``no_legs`` no legs, so they get nothing; ``no_override``/``no_anchor`` lack at least
  one anchor, so that date is null, but the date whose anchor does exist is reported (e.g. an
  OVERRIDE straddle with a CSV row for its entry month but none for its expiry month still reports
  its entry date and strike). None of these is ever valued. SPEC-E10 #17 reads the same way: its
  CSV has only a January row (so the straddle is ``no_override``), yet entry 01-17 is expected.
* **Unknown model on a hand-made row without a status**: becomes ``unsupported_model`` (SPEC 13.1
  #3, so before ``no_prices``), dates and strike still reported.
* **A leg "the straddle has"** is a leg whose ``<leg>_ticker`` is not None (SPEC 9.5).
* **Primary hedge** (SPEC 8.2): ``hedge`` when the straddle has that leg, else ``hedge1``. The
  ``strike`` column is the primary hedge's raw value on the entry day (SPEC 10.1).
* **Model underlying**: ES and CDS_ES value on the primary hedge (SPEC 11.2); NS values on
  ``hedge1`` with X = raw ``hedge1`` on the entry day and A = rolled ``hedge3`` (SPEC 11.3). For calc
  legs (the only NS legs in practice) hedge1 *is* the primary hedge, so the two agree; in an odd
  AMT where an NS straddle lacks hedge1/hedge3 the model rejects every day, so it is ``bad_entry``.
  The hedge P&L uses the same S series the model sees.
* **Time to expiry** ``t`` = calendar days from the row date to the realized ``expiry_date``
  (SPEC 1.2); the day table's ``dte`` is that same number. With ``expiry_basis="anchor"`` the
  expiry date is the expiry anchor; an open straddle (SPEC 16.1) measures t to its expiry anchor,
  floored at 0.
* **Part II options** (SPEC 16-18): ``asof`` hides later prices and adds ``open``; Greeks come from
  :func:`~straddles.engine.models.es_greeks` / :func:`~straddles.engine.models.ns_greeks` (shared
  with the kernel, like the values); attribution and costs are written out again here.
* **pnl_sum** is ``math.fsum`` of the non-null pnl (correctly rounded; a left-to-right sum differs
  by far less than the 1e-12 tolerance).
* **+0.0 hedge P&L** (SPEC 12.5): ``hpnl`` is computed as ``-delta* * (S_d - S*) * k`` and then
  ``+ 0.0`` is added, which turns a ``-0.0`` (delta* > 0 and an unchanged S) into ``+0.0`` and
  leaves every other value unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Callable, Optional

import pyarrow as pa

from .models import es_greeks, es_value, ns_greeks, ns_value

#: leg slots, in straddle-table / day-table order (SPEC 8, 13.2)
LEGS = ("vol", "hedge", "hedge1", "hedge2", "hedge3", "hedge4")
#: statuses in SPEC 13.1 priority order
#: SPEC 11.1 dispatch: Valuation.Model -> model family; anything else is unsupported
MODEL_FAMILY = {"ES": "ES", "CDS_ES": "ES", "NS": "NS"}

RESULT_COLUMNS = ("straddle_id", "status", "entry_date", "expiry_date", "strike", "strike_vol", "n_days",
                  "pnl_sum")
DAY_COLUMNS = ("straddle_id", "date", "dte") + LEGS + ("mv", "delta", "opnl", "hpnl", "pnl")

Price = Callable[[str, str, dt.date], Optional[float]]


# --------------------------------------------------------------------------------------------------
# calendar helpers (SPEC 1.2: calendar days everywhere; months as YYYY-MM)
# --------------------------------------------------------------------------------------------------

def first_day_of_month(month: str) -> dt.date:
    """The 1st of a ``YYYY-MM`` month."""
    year, number = month.split("-")
    return dt.date(int(year), int(number), 1)


def last_day_of_month(month: str) -> dt.date:
    """The last calendar day of a ``YYYY-MM`` month."""
    first = first_day_of_month(month)
    first_of_next = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def calendar_days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every calendar day from ``first`` to ``last`` inclusive (weekends and holidays included)."""
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --------------------------------------------------------------------------------------------------
# legs and prices (SPEC 8, 9)
# --------------------------------------------------------------------------------------------------

def straddle_legs(row: dict) -> list[str]:
    """The legs this straddle has, in :data:`LEGS` order: those with a ticker (SPEC 8, 9.5)."""
    return [leg for leg in LEGS if row.get(f"{leg}_ticker") is not None]


def primary_hedge(legs: list[str]) -> str | None:
    """SPEC 8.2: ``hedge`` for fut/nonfut/cds (LME included), ``hedge1`` for calc."""
    if "hedge" in legs:
        return "hedge"
    if "hedge1" in legs:
        return "hedge1"
    return None


def leg_value(row: dict, leg: str, day: dt.date, price: Price) -> float | None:
    """The raw value of one leg on one day, None when missing (SPEC 9.2/9.3: exact lookup, no as-of;
    a non-finite value counts as missing; zero and negative values are present)."""
    value = price(row[f"{leg}_ticker"], row[f"{leg}_field"], day)
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return value


def is_good_day(raw: dict[str, float | None]) -> bool:
    """SPEC 9.5: a good day is a day on which the vol leg and every hedge leg have a value."""
    return all(value is not None for value in raw.values())


# --------------------------------------------------------------------------------------------------
# entry and expiry (SPEC 6.2, 6.3)
# --------------------------------------------------------------------------------------------------

def entry_date_of(entry_month: str, entry_anchor: dt.date | None, ntrv: int,
                  good: dict[dt.date, bool]) -> dt.date | None:
    """SPEC 6.2, literally.

    1. target = entry anchor + ntrv calendar days;
    2. entry = the first good day d with target <= d <= last day of the entry month;
    3. if there is none (also when target is after the month end), entry = the last good day of the
       entry month, which can be earlier than target;
    4. if the entry month has no good day there is no entry. Only days of the entry month count.
    """
    if entry_anchor is None:
        return None
    target = entry_anchor + dt.timedelta(days=ntrv)
    month_days = calendar_days(first_day_of_month(entry_month), last_day_of_month(entry_month))
    good_days = [d for d in month_days if good[d]]
    for d in good_days:                       # step 2 (days are in calendar order)
        if d >= target:
            return d
    if good_days:                             # step 3: the fallback
        return good_days[-1]
    return None                               # step 4


def expiry_date_of(expiry_month: str, expiry_anchor: dt.date | None,
                   good: dict[dt.date, bool]) -> dt.date | None:
    """SPEC 6.3: the first good day d with expiry anchor <= d <= last day of the expiry month; else
    none. No offset, no fallback to an earlier day, no spill into the next month."""
    if expiry_anchor is None:
        return None
    for d in calendar_days(first_day_of_month(expiry_month), last_day_of_month(expiry_month)):
        if d >= expiry_anchor and good[d]:
            return d
    return None


def _ntrv_days(ntrv) -> int:
    """``ntrv`` as calendar days; ``""``/None count as 0 (SPEC 3.1)."""
    if ntrv is None or ntrv == "":
        return 0
    return int(ntrv)


# --------------------------------------------------------------------------------------------------
# models (SPEC 11)
# --------------------------------------------------------------------------------------------------

def _value_day(family: str, rolled: dict[str, float | None], S: float | None, X: float | None,
               t: int) -> tuple[float | None, float | None]:
    """(mv, delta) of one day, None/None when the model rejects its inputs (SPEC 11.2/11.3).

    A missing input (a leg the straddle does not have) is a rejection.
    """
    if family == "ES":
        inputs = (S, X, rolled.get("vol"))
        if any(x is None for x in inputs):
            return None, None
        mv, delta = es_value(float(S), float(X), float(rolled["vol"]), float(t))
    else:  # NS
        inputs = (S, X, rolled.get("vol"), rolled.get("hedge3"))
        if any(x is None for x in inputs):
            return None, None
        mv, delta = ns_value(float(S), float(X), float(rolled["vol"]), float(rolled["hedge3"]), float(t))
    if math.isnan(mv) or math.isnan(delta):
        return None, None
    return mv, delta


# --------------------------------------------------------------------------------------------------
# one straddle
# --------------------------------------------------------------------------------------------------

def _greeks_day(family: str, rolled: dict[str, float | None], S: float | None, X: float | None,
                t: int) -> tuple[float | None, float | None, float | None]:
    """(gamma, vega, theta) of one day, Nones where the model rejects its inputs (SPEC 17)."""
    mv, _ = _value_day(family, rolled, S, X, t)
    if mv is None:
        return None, None, None
    if family == "ES":
        return es_greeks(float(S), float(X), float(rolled["vol"]), float(t))
    return ns_greeks(float(S), float(X), float(rolled["vol"]), float(rolled["hedge3"]), float(t))


def _month_has_ended(month: str, asof: dt.date | None) -> bool:
    """SPEC 16.1.1: a month has ended by asof when its last day is <= asof (always, without asof)."""
    return asof is None or last_day_of_month(month) <= asof


def value_straddle(row: dict, price: Price, asof: dt.date | None = None, expiry_basis: str = "realized",
                   greeks: bool = False, costs: tuple[float, float] | None = None) -> tuple[dict, list[dict]]:
    """One straddle: returns ``(result, day_rows)``.

    ``result`` keys: ``status``, ``entry_date``, ``expiry_date``, ``strike``, ``strike_vol``,
    ``n_days``, ``pnl_sum`` (and ``cost_sum``, ``pnl_net_sum`` with costs). ``day_rows`` (non-empty
    only for ``valued`` and ``open``): one dict per calendar day of [entry_date, expiry_date] (of
    [entry_date, asof] when open) with the keys of :func:`day_columns`.

    Status (SPEC 13.1, first that applies): an already-set status (1-5, decided by ``expand``) is
    kept; otherwise ``no_prices`` (6), ``no_entry`` (7), ``no_expiry`` (8), ``bad_entry`` (9),
    ``valued`` (10). Dates and strike are reported whenever they exist, even when the straddle is
    not valued (SPEC 6.4, 11.1, 13.1; see the module docstring for pre-set statuses).

    Options (SPEC 16-18, all off by default): ``asof`` hides prices dated after it and adds the
    status ``open``; ``expiry_basis="anchor"`` expires on the expiry anchor; ``greeks`` adds the
    Greek and attribution columns; ``costs = (option half-spread in vol units, hedge_bps)`` adds
    the cost columns.
    """
    preset_status = row.get("status")
    result = {"status": preset_status, "entry_date": None, "expiry_date": None, "strike": None,
              "strike_vol": None, "n_days": 0, "pnl_sum": None}
    if costs is not None:
        result.update(cost_sum=None, pnl_net_sum=None)

    legs = straddle_legs(row)
    if not legs:
        # no_legs (SPEC 8.5): nothing can be looked up, so there are no good days and no dates
        if result["status"] is None:
            result["status"] = "no_legs"
        return result, []

    # SPEC 5: the span is every calendar day, 1st of the entry month .. last day of the expiry month
    span = calendar_days(first_day_of_month(row["entry_month"]), last_day_of_month(row["expiry_month"]))

    # SPEC 9: raw values per leg and day (exact lookups), and good days (every leg present); SPEC
    # 16.1: prices dated after asof are ignored, as if absent
    raw: dict[dt.date, dict[str, float | None]] = {
        d: {leg: leg_value(row, leg, d, price) if asof is None or d <= asof else None for leg in legs}
        for d in span}
    good = {d: is_good_day(raw[d]) for d in span}

    # SPEC 6.2 / 6.3: each date computed on its own, from its anchor and the good days
    entry_anchor, expiry_anchor = row.get("entry_anchor"), row.get("expiry_anchor")
    entry_open = False
    if _month_has_ended(row["entry_month"], asof):
        entry = entry_date_of(row["entry_month"], entry_anchor, _ntrv_days(row.get("ntrv")), good)
    else:
        # SPEC 16.1.2: before the month end only step 2 can decide (the fallback waits for it)
        entry = None
        if entry_anchor is not None:
            target = entry_anchor + dt.timedelta(days=_ntrv_days(row.get("ntrv")))
            month = calendar_days(first_day_of_month(row["entry_month"]), last_day_of_month(row["entry_month"]))
            entry = next((d for d in month if d >= target and good[d]), None)
            entry_open = entry is None
    if expiry_basis == "anchor":
        # SPEC 16.2: the straddle expires on its expiry anchor, once asof has reached it
        reached = expiry_anchor is not None and (asof is None or expiry_anchor <= asof)
        expiry = expiry_anchor if reached else None
        expiry_open = expiry_anchor is not None and not reached
    else:
        expiry = expiry_date_of(row["expiry_month"], expiry_anchor, good)
        expiry_open = expiry is None and not _month_has_ended(row["expiry_month"], asof)
    result["entry_date"], result["expiry_date"] = entry, expiry

    # SPEC 10.1: strike = primary hedge on the entry day, strike_vol = vol on the entry day (raw
    # prices: the entry day is good, so both exist)
    primary = primary_hedge(legs)
    if entry is not None:
        result["strike"] = raw[entry][primary] if primary is not None else None
        result["strike_vol"] = raw[entry]["vol"] if "vol" in legs else None

    # SPEC 11.1 dispatch. expand already marks other models unsupported_model (SPEC 13.1 #3); a
    # hand-made row with an unknown model and no status gets that status here, before #6-#10.
    family = MODEL_FAMILY.get(row.get("model"))
    if result["status"] is None and family is None:
        result["status"] = "unsupported_model"
    if result["status"] is not None:
        return result, []  # a price-independent status (SPEC 13.1 #1-#5) is kept; never valued

    if entry_open:                           # SPEC 16.1.2: entry not decided by asof
        result["status"] = "open"
        return result, []
    # SPEC 13.1 #6: some leg has no value on any day of the span
    if any(all(raw[d][leg] is None for d in span) for leg in legs):
        result["status"] = "no_prices"
        return result, []
    if entry is None:                        # SPEC 13.1 #7
        result["status"] = "no_entry"
        return result, []
    if expiry is None and not expiry_open:   # SPEC 13.1 #8 (with asof: only once the month has ended)
        result["status"] = "no_expiry"
        return result, []

    # model underlying and hedge scale (SPEC 11.2, 11.3, 12)
    if family == "ES":
        s_leg = primary                       # S = rolled primary hedge (CDS_ES: the CDS index)
        X = result["strike"]
    else:
        s_leg = "hedge1" if "hedge1" in legs else None   # S = rolled hedge1 (fsw0m)
        X = raw[entry]["hedge1"] if s_leg is not None else None

    # SPEC 10.2 roll-forward + SPEC 11 valuation, on every calendar day of [entry, expiry]; an open
    # straddle on [entry, asof] with t measured to its expiry anchor (SPEC 16.1.3)
    last = expiry if expiry is not None else asof
    t_end = expiry if expiry is not None else expiry_anchor
    window = calendar_days(entry, last)
    rolled: dict[str, float | None] = {}
    day_rows = []
    for d in window:
        for leg in legs:                      # each leg on its own: today's value, else last since entry
            if raw[d][leg] is not None:
                rolled[leg] = raw[d][leg]
        t = max((t_end - d).days, 0)          # SPEC 1.2 / 16: calendar days to the expiry the run uses
        S = rolled.get(s_leg) if s_leg is not None else None
        mv, delta = _value_day(family, rolled, S, X, t)
        day = {"straddle_id": row.get("straddle_id"), "date": d, "dte": t}
        for leg in LEGS:
            day[leg] = rolled.get(leg) if leg in legs else None
        day.update({"mv": mv, "delta": delta, "opnl": None, "hpnl": None, "pnl": None, "_S": S,
                    "_v": rolled.get("vol")})
        if greeks or costs is not None:
            day["gamma"], day["vega"], day["theta"] = _greeks_day(family, rolled, S, X, t)
        day_rows.append(day)

    # SPEC 12.1: the entry day's mv must be present, else bad_entry (not valued)
    if day_rows[0]["mv"] is None:
        result["status"] = "bad_entry"
        return result, []

    # SPEC 12: hedge scale k = 1/X for ES and CDS_ES, 1/100 for NS (X > 0 here: ES rejects X <= 0)
    k = 1.0 / X if family == "ES" else 1.0 / 100.0

    # SPEC 12.1-12.3: P&L with the state of the last valued day
    first = day_rows[0]
    first["opnl"] = first["hpnl"] = first["pnl"] = 0.0
    state = first
    for day in day_rows[1:]:
        if day["mv"] is None:
            continue                          # rejected day: P&L missing, state unchanged (bridging)
        opnl = day["mv"] - state["mv"]
        hpnl = -state["delta"] * (day["_S"] - state["_S"]) * k + 0.0   # "+ 0.0": never -0.0 (SPEC 12.5)
        day["opnl"], day["hpnl"], day["pnl"] = opnl, hpnl, opnl + hpnl
        if greeks:
            _attribute(day, state)
        if costs is not None:
            _charge(day, state, costs, k, is_expiry=day["date"] == expiry)
        state = day
    if greeks:
        first.update(gamma_pnl=0.0, theta_pnl=0.0, vega_pnl=0.0, resid_pnl=0.0)  # SPEC 17: 0 on the entry day
    if costs is not None:
        spread, hedge_bps = costs             # SPEC 18: the option cost and the first hedge, on the entry day
        first["cost_option"] = spread * first["vega"]
        first["cost_hedge"] = hedge_bps / 1e4 * abs(first["delta"]) * abs(first["_S"]) * k
        first["pnl_net"] = 0.0 - first["cost_option"] - first["cost_hedge"]
    columns = day_columns(greeks, costs is not None)
    day_rows = [{name: day.get(name) for name in columns} for day in day_rows]

    result["status"] = "valued" if expiry is not None else "open"
    result["n_days"] = len(day_rows)
    result["pnl_sum"] = math.fsum(day["pnl"] for day in day_rows if day["pnl"] is not None)
    if costs is not None:
        charged = [day for day in day_rows if day["pnl"] is not None]
        result["cost_sum"] = math.fsum(day["cost_option"] + day["cost_hedge"] for day in charged)
        result["pnl_net_sum"] = math.fsum(day["pnl_net"] for day in charged)
    return result, day_rows


def _attribute(day: dict, state: dict) -> None:
    """SPEC 17: split a valued day's pnl against the state day p's Greeks."""
    day["gamma_pnl"] = 0.5 * state["gamma"] * (day["_S"] - state["_S"]) ** 2
    day["theta_pnl"] = state["theta"] * (state["dte"] - day["dte"])
    day["vega_pnl"] = state["vega"] * (day["_v"] - state["_v"])
    day["resid_pnl"] = day["pnl"] - ((day["gamma_pnl"] + day["theta_pnl"]) + day["vega_pnl"])


def _charge(day: dict, state: dict, costs: tuple[float, float], k: float, is_expiry: bool) -> None:
    """SPEC 18 on a valued day after entry: no option cost; the re-hedge, or on the expiry day the
    unwind of the state day's hedge."""
    hedge_rate = costs[1] / 1e4
    traded = abs(state["delta"]) if is_expiry else abs(day["delta"] - state["delta"])
    day["cost_option"] = 0.0
    day["cost_hedge"] = hedge_rate * traded * abs(day["_S"]) * k
    day["pnl_net"] = day["pnl"] - day["cost_option"] - day["cost_hedge"]


GREEK_COLUMNS = ("gamma", "vega", "theta", "gamma_pnl", "theta_pnl", "vega_pnl", "resid_pnl")
COST_COLUMNS = ("cost_option", "cost_hedge", "pnl_net")


def day_columns(greeks: bool = False, costs: bool = False) -> tuple[str, ...]:
    """The day-table columns of a run: SPEC 13.2, then SPEC 17 and 18 columns when on."""
    return DAY_COLUMNS + (GREEK_COLUMNS if greeks else ()) + (COST_COLUMNS if costs else ())


# --------------------------------------------------------------------------------------------------
# whole tables
# --------------------------------------------------------------------------------------------------

RESULT_SCHEMA = pa.schema([
    ("straddle_id", pa.int64()), ("status", pa.string()), ("entry_date", pa.date32()),
    ("expiry_date", pa.date32()), ("strike", pa.float64()), ("strike_vol", pa.float64()),
    ("n_days", pa.int32()), ("pnl_sum", pa.float64()),
])
DAY_SCHEMA = pa.schema([("straddle_id", pa.int64()), ("date", pa.date32()), ("dte", pa.int32())]
                       + [(name, pa.float64()) for name in LEGS + ("mv", "delta", "opnl", "hpnl", "pnl")])


def reference_backtest(straddles: pa.Table, price: Price, asof: dt.date | None = None,
                       expiry_basis: str = "realized", greeks: bool = False,
                       costs: dict[int, tuple[float, float]] | None = None) -> tuple[pa.Table, pa.Table]:
    """Apply :func:`value_straddle` to every row of a straddle table.

    Returns ``(results, days)``: the results table (columns :data:`RESULT_COLUMNS`, plus
    ``cost_sum, pnl_net_sum`` with costs; one row per straddle, sorted by straddle_id) and the day
    table (columns :func:`day_columns`, sorted by (straddle_id, date)), with Arrow nulls for
    missing values (SPEC 1.2, 13.1, 13.2). ``costs`` maps straddle_id to (option half-spread,
    hedge_bps); the other options are those of :func:`value_straddle`.
    """
    rows = sorted(straddles.to_pylist(), key=lambda r: r["straddle_id"])
    results, days = [], []
    for row in rows:
        cost = costs[row["straddle_id"]] if costs is not None else None
        result, day_rows = value_straddle(row, price, asof, expiry_basis, greeks, cost)
        results.append({"straddle_id": row["straddle_id"], **result})
        days.extend(day_rows)  # already in date order within a straddle
    result_schema, day_schema = RESULT_SCHEMA, DAY_SCHEMA
    if costs is not None:
        result_schema = pa.schema(list(RESULT_SCHEMA) + [("cost_sum", pa.float64()), ("pnl_net_sum", pa.float64())])
    extra = day_columns(greeks, costs is not None)[len(DAY_COLUMNS):]
    day_schema = pa.schema(list(DAY_SCHEMA) + [(name, pa.float64()) for name in extra])
    return (pa.Table.from_pylist(results, schema=result_schema),
            pa.Table.from_pylist(days, schema=day_schema))


def price_lookup(long_table: pa.Table) -> Price:
    """A ``price(ticker, field, day)`` callable over a long ``ticker, field, date, value`` table.

    Backed by a plain dict. Non-finite values are dropped (missing, SPEC 9.3); duplicate rows with
    equal values collapse, conflicting duplicates raise ValueError naming the first such key
    (SPEC 9.4).
    """
    store: dict[tuple[str, str, dt.date], float] = {}
    columns = [long_table.column(name).to_pylist() for name in ("ticker", "field", "date", "value")]
    for ticker, field, day, value in zip(*columns):
        if value is None:
            continue
        value = float(value)
        if not math.isfinite(value):
            continue
        if isinstance(day, dt.datetime):
            day = day.date()
        key = (ticker, field, day)
        if key in store and store[key] != value:
            raise ValueError(f"conflicting duplicate price rows for {key!r}: {store[key]!r} and {value!r}")
        store[key] = value

    def price(ticker: str, field: str, day: dt.date) -> float | None:
        return store.get((ticker, field, day))

    return price
