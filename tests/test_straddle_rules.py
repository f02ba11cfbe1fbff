"""The per-straddle rules against the SPEC, for both implementations: every test taking the
``run`` fixture runs once on the pure-Python reference (straddles.engine.reference) and once on the
compiled kernel (straddles.engine.kernel, through tests/kernel_adapter.py).

Covers SPEC-E10 (entry/expiry cases #1-#22), SPEC-E19 (worked P&L with gaps), SPEC-E20 (worked P&L
with a rejected day), an NS straddle with SPEC-E18 numbers, status priority (SPEC 13.1), and the
SPEC 12 invariants on random data.
"""

from __future__ import annotations

import datetime as dt
import math
import random

import pyarrow as pa
import pytest

from kernel_adapter import kernel_value_straddle
from straddles.engine.reference import (DAY_COLUMNS, LEGS, RESULT_COLUMNS, price_lookup, reference_backtest,
                                 value_straddle)

YEAR = 2024
ES_LEGS = ("vol", "hedge")
CDS_LEGS = ("vol", "hedge", "hedge1")
CALC_LEGS = ("vol", "hedge1", "hedge2", "hedge3", "hedge4")


# ------------------------------------------------------------------------------------------------
# helpers: independent date arithmetic, hand-built rows, dict-backed prices
# ------------------------------------------------------------------------------------------------

def d(text: str, year: int = YEAR) -> dt.date:
    """``"MM-DD"`` -> date in ``year`` (2024 unless stated)."""
    month, day = text.split("-")
    return dt.date(year, int(month), int(day))


def days_between(first: str, last: str) -> list[dt.date]:
    a, b = d(first), d(last)
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date | None:
    """n-th given weekday (Monday = 0) of a month, or None (SPEC 6.1, F/R/W)."""
    hits = [dt.date(year, month, k) for k in range(1, 32) if _valid(year, month, k)
            and dt.date(year, month, k).weekday() == weekday]
    return hits[n - 1] if n <= len(hits) else None


def nth_bd(year: int, month: int, n: int) -> dt.date | None:
    """n-th Monday-Friday day of a month, or None (SPEC 6.1, BD)."""
    hits = [dt.date(year, month, k) for k in range(1, 32) if _valid(year, month, k)
            and dt.date(year, month, k).weekday() < 5]
    return hits[n - 1] if n <= len(hits) else None


def _valid(year, month, day):
    try:
        dt.date(year, month, day)
        return True
    except ValueError:
        return False


def anchor(rule: str, year: int, month: int) -> dt.date | None:
    code, n = rule.rstrip("0123456789"), int(rule.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    if code == "BD":
        return nth_bd(year, month, n)
    return nth_weekday(year, month, {"F": 4, "R": 3, "W": 2}[code], n)


def make_row(entry_month: int, expiry_month: int, *, rule: str | None = None, ntrv: int | str = 0,
             entry_anchor: dt.date | None = None, expiry_anchor: dt.date | None = None,
             legs=ES_LEGS, model: str = "ES", status: str | None = None, straddle_id: int = 0) -> dict:
    """A straddle-table row as ``expand(...).to_pylist()`` gives it. Leg tickers are the leg names
    (field ``"F"``), so prices can be keyed by leg name."""
    if rule is not None:
        entry_anchor = anchor(rule, YEAR, entry_month)
        expiry_anchor = anchor(rule, YEAR, expiry_month)
    row = {
        "straddle_id": straddle_id,
        "asset": "TEST Asset",
        "model": model,
        "straddle": f"|{YEAR}-{entry_month:02d}|{YEAR}-{expiry_month:02d}|N|{ntrv}|?|?|100|",
        "entry_month": f"{YEAR}-{entry_month:02d}",
        "expiry_month": f"{YEAR}-{expiry_month:02d}",
        "ntrc": "N" if expiry_month - entry_month == 1 else "F",
        "ntrv": str(ntrv),
        "entry_anchor": entry_anchor,
        "expiry_anchor": expiry_anchor,
        "status": status,
    }
    for leg in LEGS:
        row[f"{leg}_ticker"] = leg if leg in legs else None
        row[f"{leg}_field"] = "F" if leg in legs else None
    return row


def price_of(values: dict[tuple[str, dt.date], float]):
    """price(ticker, field, day) over {(leg, day): value}."""
    def price(ticker, field, day):
        assert field == "F"
        return values.get((ticker, day))
    return price


def full_data(days, legs=ES_LEGS, missing=(), base=100.0) -> dict:
    """Every leg present on every day of ``days`` except the (leg, day) pairs in ``missing``.
    Values: vol 20, others ``base`` (all valid model inputs)."""
    values = {}
    for day in days:
        for leg in legs:
            if (leg, day) not in missing:
                values[leg, day] = 20.0 if leg == "vol" else base
    return values


def long_table(values: dict[tuple[str, dt.date], float]) -> pa.Table:
    """The {(leg, day): value} prices as a long store table (ticker = leg name, field "F")."""
    keys = sorted(values)
    return pa.table({"ticker": pa.array([leg for leg, _ in keys], pa.string()),
                     "field": pa.array(["F"] * len(keys), pa.string()),
                     "date": pa.array([day for _, day in keys], pa.date32()),
                     "value": pa.array([values[k] for k in keys], pa.float64())})


@pytest.fixture(params=["reference", "kernel"])
def run(request):
    """``run(row, prices) -> (result, day_rows)`` on one engine; ``prices`` is a {(leg, day): value}
    dict or a long price table."""
    def run_reference(row, prices):
        return value_straddle(row, price_lookup(prices) if isinstance(prices, pa.Table) else price_of(prices))

    def run_kernel(row, prices):
        return kernel_value_straddle(row, prices if isinstance(prices, pa.Table) else long_table(prices))

    return run_reference if request.param == "reference" else run_kernel


# ------------------------------------------------------------------------------------------------
# SPEC-E10: entry / expiry cases (all 2024)
# ------------------------------------------------------------------------------------------------

def test_spec_e10_01_entry_after_anchor_plus_offset(run):
    """E10 #1: BD3, ntrv 2, data Jan 1-6 -> entry 01-05 (anchor 01-03)."""
    row = make_row(1, 2, rule="BD3", ntrv=2)
    assert row["entry_anchor"] == d("01-03")
    result, _ = run(row, full_data(days_between("01-01", "01-06")))
    assert result["entry_date"] == d("01-05")


def test_spec_e10_02_vol_missing_on_target(run):
    """E10 #2: BD2, ntrv 1; Jan 1-4, vol missing Jan 3 -> entry 01-04."""
    row = make_row(1, 2, rule="BD2", ntrv=1)
    result, _ = run(row, full_data(days_between("01-01", "01-04"), missing={("vol", d("01-03"))}))
    assert result["entry_date"] == d("01-04")


def test_spec_e10_03_every_hedge_leg_must_be_present(run):
    """E10 #3: BD2, 1; legs vol, hedge, hedge1; hedge1 missing Jan 3, hedge missing Jan 4 -> 01-05."""
    row = make_row(1, 2, rule="BD2", ntrv=1, legs=CDS_LEGS, model="CDS_ES")
    values = full_data(days_between("01-01", "01-05"), CDS_LEGS,
                       missing={("hedge1", d("01-03")), ("hedge", d("01-04"))})
    result, _ = run(row, values)
    assert result["entry_date"] == d("01-05")


def test_spec_e10_04_calc_legs_all_four_hedges_gate(run):
    """E10 #4: BD1, 1; calc legs; Jan 1-3; hedge2 missing Jan 2 -> entry 01-03."""
    row = make_row(1, 2, rule="BD1", ntrv=1, legs=CALC_LEGS, model="NS")
    values = full_data(days_between("01-01", "01-03"), CALC_LEGS, missing={("hedge2", d("01-02"))}, base=4.0)
    result, _ = run(row, values)
    assert result["entry_date"] == d("01-03")


def test_spec_e10_05_anchor_day_not_good(run):
    """E10 #5: BD1, 0; Jan 1-3, vol missing Jan 1 -> entry 01-02."""
    row = make_row(1, 2, rule="BD1", ntrv=0)
    result, _ = run(row, full_data(days_between("01-01", "01-03"), missing={("vol", d("01-01"))}))
    assert result["entry_date"] == d("01-02")


def test_spec_e10_06_entry_and_expiry(run):
    """E10 #6: BD3, 0; Jan 2, 3; Feb 1, 2, 5 -> entry 01-03, expiry 02-05."""
    row = make_row(1, 2, rule="BD3", ntrv=0)
    days = [d("01-02"), d("01-03"), d("02-01"), d("02-02"), d("02-05")]
    result, _ = run(row, full_data(days))
    assert (result["entry_date"], result["expiry_date"]) == (d("01-03"), d("02-05"))
    assert result["status"] == "valued"


def test_spec_e10_07_expiry_on_a_sunday(run):
    """E10 #7: BD2 expiry Feb; Feb 1-4, vol missing Feb 2, hedge missing Feb 3 (Sat) -> 02-04 (Sun)."""
    row = make_row(1, 2, rule="BD2")
    assert row["expiry_anchor"] == d("02-02")
    values = full_data(days_between("02-01", "02-04"), missing={("vol", d("02-02")), ("hedge", d("02-03"))})
    result, _ = run(row, values)
    assert result["expiry_date"] == d("02-04")
    assert d("02-04").weekday() == 6


def test_spec_e10_08_entry_and_expiry(run):
    """E10 #8: BD2, 1; Jan 1-3, Feb 1-2 -> entry 01-03, expiry 02-02."""
    row = make_row(1, 2, rule="BD2", ntrv=1)
    result, _ = run(row, full_data(days_between("01-01", "01-03") + days_between("02-01", "02-02")))
    assert (result["entry_date"], result["expiry_date"]) == (d("01-03"), d("02-02"))


def test_spec_e10_09_expiry_never_before_anchor(run):
    """E10 #9: BD1 expiry Feb; Jan 31, Feb 1-2; vol missing Feb 1 -> expiry 02-02."""
    row = make_row(1, 2, rule="BD1")
    values = full_data([d("01-31"), d("02-01"), d("02-02")], missing={("vol", d("02-01"))})
    result, _ = run(row, values)
    assert result["expiry_date"] == d("02-02")


def test_spec_e10_10_no_expiry(run):
    """E10 #10: BD1, 1; Jan 1-2 only -> entry 01-02, no expiry (no_expiry); strike still reported."""
    row = make_row(1, 2, rule="BD1", ntrv=1)
    result, days = run(row, full_data(days_between("01-01", "01-02")))
    assert result["entry_date"] == d("01-02")
    assert result["expiry_date"] is None
    assert result["status"] == "no_expiry"
    assert (result["strike"], result["strike_vol"]) == (100.0, 20.0)
    assert (result["n_days"], result["pnl_sum"], days) == (0, None, [])


def test_spec_e10_11_target_on_saturday_without_data(run):
    """E10 #11: R2, 2; May 8, 9, 10, 13 -> entry 05-13 (anchor 05-09, target 05-11)."""
    row = make_row(5, 6, rule="R2", ntrv=2)
    assert row["entry_anchor"] == d("05-09")
    result, _ = run(row, full_data([d("05-08"), d("05-09"), d("05-10"), d("05-13")]))
    assert result["entry_date"] == d("05-13")


def test_spec_e10_12_no_anchor_is_kept(run):
    """E10 #12: W5 May -> Jun: June has 4 Wednesdays -> no_anchor (status set by expand, kept here)."""
    row = make_row(5, 6, rule="W5", status="no_anchor")
    assert row["expiry_anchor"] is None and row["entry_anchor"] == d("05-29")
    result, days = run(row, full_data(days_between("05-01", "06-30")))
    assert result["status"] == "no_anchor"
    assert result["expiry_date"] is None
    # DECISION (SPEC 6.4): the entry date has its anchor, so it is still reported
    assert result["entry_date"] == d("05-29")
    assert (result["n_days"], result["pnl_sum"], days) == (0, None, [])


def test_spec_e10_13_weekend_entry(run):
    """E10 #13: F3, 1; May 15-18 (18 = Sat), Jun 19-21 -> entry 05-18, expiry 06-21."""
    row = make_row(5, 6, rule="F3", ntrv=1)
    result, _ = run(row, full_data(days_between("05-15", "05-18") + days_between("06-19", "06-21")))
    assert (result["entry_date"], result["expiry_date"]) == (d("05-18"), d("06-21"))


def test_spec_e10_14_saturday_with_data_is_good(run):
    """E10 #14: F2, 1; May 9, 10, 11 (Sat), 13 -> entry 05-11."""
    row = make_row(5, 6, rule="F2", ntrv=1)
    result, _ = run(row, full_data([d("05-09"), d("05-10"), d("05-11"), d("05-13")]))
    assert result["entry_date"] == d("05-11")


def test_spec_e10_15_no_spill_into_july(run):
    """E10 #15: F3, 0; Jun 21, 24, 28 with vol missing; Jul 1 good; no May data -> no entry, no
    expiry, no_prices."""
    row = make_row(5, 6, rule="F3", ntrv=0)
    june = [d("06-21"), d("06-24"), d("06-28")]
    values = full_data(june, missing={("vol", day) for day in june})
    values.update(full_data([d("07-01")]))
    result, days = run(row, values)
    assert (result["entry_date"], result["expiry_date"]) == (None, None)
    assert result["status"] == "no_prices"
    assert (result["strike"], result["n_days"], result["pnl_sum"], days) == (None, 0, None, [])


def test_spec_e10_16_override_anchor(run):
    """E10 #16: OVERRIDE, 0; CSV 2024-01-15, 2024-02-20; Jan 14-16 -> entry 01-15."""
    row = make_row(1, 2, ntrv=0, entry_anchor=d("01-15"), expiry_anchor=d("02-20"))
    result, _ = run(row, full_data(days_between("01-14", "01-16")))
    assert result["entry_date"] == d("01-15")


def test_spec_e10_17_override_with_offset(run):
    """E10 #17: OVERRIDE, 2; CSV 2024-01-15; Jan 15-18 -> entry 01-17."""
    row = make_row(1, 2, ntrv=2, entry_anchor=d("01-15"), expiry_anchor=None, status="no_override")
    result, _ = run(row, full_data(days_between("01-15", "01-18")))
    assert result["entry_date"] == d("01-17")
    assert result["status"] == "no_override"   # no February row in this CSV


def test_spec_e10_18_override_entry_and_expiry(run):
    """E10 #18: OVERRIDE, 0; CSV 2024-01-10, 2024-02-15; Jan 9-11, Feb 14-16 -> 01-10, 02-15."""
    row = make_row(1, 2, ntrv=0, entry_anchor=d("01-10"), expiry_anchor=d("02-15"))
    result, days = run(row, full_data(days_between("01-09", "01-11") + days_between("02-14", "02-16")))
    assert (result["entry_date"], result["expiry_date"]) == (d("01-10"), d("02-15"))
    assert result["status"] == "valued"
    assert len(days) == (d("02-15") - d("01-10")).days + 1


def test_spec_e10_19_no_override_is_kept(run):
    """E10 #19: OVERRIDE; CSV has only asset OTHER -> no_override (anchors none, nothing reported)."""
    row = make_row(1, 2, entry_anchor=None, expiry_anchor=None, status="no_override")
    result, days = run(row, full_data(days_between("01-01", "02-29")))
    assert result == {"status": "no_override", "entry_date": None, "expiry_date": None, "strike": None,
                      "strike_vol": None, "n_days": 0, "pnl_sum": None}
    assert days == []


def test_spec_e10_20_target_past_month_end_falls_back(run):
    """E10 #20: F3, 20; Jan 29-31, Feb 1 -> entry 01-31 (target 02-08; Feb 1 never counts)."""
    row = make_row(1, 2, rule="F3", ntrv=20)
    assert row["entry_anchor"] + dt.timedelta(days=20) == d("02-08")
    result, _ = run(row, full_data(days_between("01-29", "02-01")))
    assert result["entry_date"] == d("01-31")


def test_spec_e10_21_fallback_before_target(run):
    """E10 #21: BD21, 0; Jan 2-26 only -> entry 01-26 (target 01-29, fallback earlier)."""
    row = make_row(1, 2, rule="BD21", ntrv=0)
    assert row["entry_anchor"] == d("01-29")
    result, _ = run(row, full_data(days_between("01-02", "01-26")))
    assert result["entry_date"] == d("01-26")


def test_spec_e10_22_no_entry_but_expiry_reported(run):
    """E10 #22: BD1, 0; no January data; Feb 1-29 good -> no_entry, expiry 02-01 still reported."""
    row = make_row(1, 2, rule="BD1", ntrv=0)
    result, days = run(row, full_data(days_between("02-01", "02-29")))
    assert result["status"] == "no_entry"
    assert result["entry_date"] is None
    assert result["expiry_date"] == d("02-01")
    assert (result["strike"], result["strike_vol"], result["n_days"], result["pnl_sum"]) == (None, None, 0, None)
    assert days == []


# SPEC-E10 #12 and #19 end to end: the statuses come from expand on a tiny AMT and are kept.
TINY_AMT = """
expiry_schedules:
  wed5: [N0_W5, N0_W3]
  ovr: [N0_OVERRIDE]
amt:
  TEST Asset:
    Underlying: TEST Asset
    Class: Equity
    Vol: {Source: BBG, Ticker: TEST Asset, Near: V30, Far: V60}
    Options: wed5
    Hedge: {Source: nonfut, Ticker: TEST Asset, Field: PX_LAST}
    WeightCap: 0.05
    Valuation: {Model: ES}
  TEST Future:
    Underlying: TEST Future
    Class: Commodity
    Vol: {Source: BBG, Ticker: TEST Future, Near: V30, Far: V60}
    Options: ovr
    Hedge: {Source: nonfut, Ticker: TEST Future, Field: PX_LAST}
    WeightCap: 0.05
    Valuation: {Model: ES}
"""


def test_spec_e10_12_and_19_through_expand(tmp_path):
    from straddles.engine.straddle_table import expand

    (tmp_path / "amt.yml").write_text(TINY_AMT)
    (tmp_path / "overrides.csv").write_text("ticker,expiry\nOTHER,2024-01-15\nOTHER,2024-02-15\n")
    table = expand(tmp_path / "amt.yml", 2024, 2024, overrides=tmp_path / "overrides.csv")
    rows = table.to_pylist()
    jun_w5 = next(r for r in rows if r["asset"] == "TEST Asset" and r["expiry_month"] == "2024-06")
    feb_ovr = next(r for r in rows if r["asset"] == "TEST Future" and r["expiry_month"] == "2024-02")
    values = {}
    for day in [dt.date(2023, 12, 1) + dt.timedelta(days=i) for i in range(397)]:  # 2023-12 .. 2024-12
        for ticker, field, value in (("TEST Asset", "V30", 20.0), ("TEST Asset", "PX_LAST", 100.0),
                                     ("TEST Future", "V30", 20.0), ("TEST Future", "PX_LAST", 50.0)):
            values[ticker, field, day] = value
    price = lambda ticker, field, day: values.get((ticker, field, day))  # noqa: E731
    assert value_straddle(jun_w5, price)[0]["status"] == "no_anchor"       # E10 #12
    result, days = value_straddle(feb_ovr, price)
    assert result["status"] == "no_override"                                # E10 #19
    assert (result["entry_date"], result["expiry_date"], days) == (None, None, [])
    # the whole table: no consecutive 2024 months both have five Wednesdays, so every W5 straddle
    # is no_anchor, every W3 straddle (complete data) is valued, every OVERRIDE one no_override
    results, day_table = reference_backtest(table, price)
    statuses = dict(zip(results["straddle_id"].to_pylist(), results["status"].to_pylist()))
    for r in rows:
        expected = {"|W|5|": "no_anchor", "|W|3|": "valued", "|OVERRIDE|": "no_override"}
        assert statuses[r["straddle_id"]] == next(v for k, v in expected.items() if k in r["straddle"])
    assert sum(statuses[r["straddle_id"]] == "valued" for r in rows) == 12
    assert day_table["straddle_id"].to_pylist() == sorted(day_table["straddle_id"].to_pylist())


# ------------------------------------------------------------------------------------------------
# SPEC-E19: worked P&L with gaps
# ------------------------------------------------------------------------------------------------

E19_LISTED = {  # day: (S, v) raw prices on the listed days (02-21 has no hedge, 02-24 is a Saturday)
    "02-19": (95.35, 21.3), "02-20": (95.01, 21.4), "02-21": (None, 21.5), "02-23": (97.11, 21.7),
    "03-15": (95.27, 23.2),
}


def e19_data() -> dict:
    """Weekday prices 2024-02-01 .. 2024-03-29: the listed values where the table gives them, smooth
    filler elsewhere; vol missing 02-16, hedge missing 02-21."""
    values = {}
    for i, day in enumerate(days_between("02-01", "03-31")):
        if day.weekday() >= 5:
            continue
        key = f"{day.month:02d}-{day.day:02d}"
        S, v = E19_LISTED.get(key, (96.0 + 0.1 * (i % 7), 22.0 + 0.05 * (i % 5)))
        if key == "02-16":
            v = None
        if key == "02-21":
            S = None
        if S is not None:
            values["hedge", day] = S
        if v is not None:
            values["vol", day] = v
    return values


E19_ROWS = [  # date, S, v, t, mv, delta, opnl, hpnl, pnl (None: not checked)
    ("02-19", 95.35, 21.3, 25, 0.0444720356, 0.0222360178, 0, 0, 0),
    ("02-20", 95.01, 21.4, 24, 0.0437927478, -0.0300408809, -0.0006792878, 0.0000792894, -0.0005999984),
    ("02-21", 95.01, 21.5, 23, 0.0430742742, -0.0312710981, -0.0007184736, 0, -0.0007184736),
    ("02-23", 97.11, 21.7, 21, 0.0444690525, 0.2941360446, None, None, None),
    ("02-24", 97.11, 21.7, 20, 0.0435212184, 0.3001086537, -0.0009478342, 0, -0.0009478342),
    ("03-15", 95.27, 23.2, 0, 0.0008390142, -1, None, None, None),
]


def test_spec_e19_worked_pnl_with_gaps(run):
    row = make_row(2, 3, rule="F3", ntrv=0)
    assert (row["entry_anchor"], row["expiry_anchor"]) == (d("02-16"), d("03-15"))
    result, days = run(row, e19_data())
    assert result["status"] == "valued"
    assert (result["entry_date"], result["expiry_date"]) == (d("02-19"), d("03-15"))
    assert (result["strike"], result["strike_vol"]) == (95.35, 21.3)
    assert result["n_days"] == len(days) == 26
    assert [r["date"] for r in days] == days_between("02-19", "03-15")
    by_date = {r["date"]: r for r in days}
    for date, S, v, t, mv, delta, opnl, hpnl, pnl in E19_ROWS:
        r = by_date[d(date)]
        assert (r["hedge"], r["vol"], r["dte"]) == (S, v, t), date
        assert r["mv"] == pytest.approx(mv, abs=5e-11), date
        assert r["delta"] == pytest.approx(delta, abs=5e-11), date
        for name, expected in (("opnl", opnl), ("hpnl", hpnl), ("pnl", pnl)):
            if expected is not None:
                assert r[name] == pytest.approx(expected, abs=5e-11), (date, name)
    assert by_date[d("03-15")]["mv"] == pytest.approx(0.08 / 95.35, abs=1e-15)
    # SPEC 12.5: days without a price move give hpnl +0.0, never -0.0 (02-24: delta* > 0, S rolled)
    assert math.copysign(1.0, by_date[d("02-24")]["hpnl"]) == 1.0
    assert all(math.copysign(1.0, r["hpnl"]) == 1.0 for r in days if r["hpnl"] == 0.0)
    # the legs the straddle does not have are null; every day is valued
    assert all(r[leg] is None for r in days for leg in ("hedge1", "hedge2", "hedge3", "hedge4"))
    assert all(r["pnl"] is not None for r in days)
    assert result["pnl_sum"] == pytest.approx(math.fsum(r["pnl"] for r in days), abs=1e-15)


# ------------------------------------------------------------------------------------------------
# SPEC-E20: worked P&L with a rejected day (exact to 1e-12)
# ------------------------------------------------------------------------------------------------

E20_VOL = {"05-28": 19.0, "05-29": 20.0, "05-30": 0.0, "05-31": 21.0, "06-03": 22.0, "06-04": 22.5, "06-05": 22.0}
E20_HEDGE = {"05-28": 98.0, "05-29": 100.0, "05-30": 101.0, "05-31": 99.5, "06-04": 102.0, "06-05": 101.0}
E20_ROWS = [  # date, S, v, t, mv, delta, opnl, hpnl, pnl
    ("05-29", 100.0, 20.0, 6, 0.02045913894352236, 0.010229569471761124, 0.0, 0.0, 0.0),
    ("05-30", 101.0, 0.0, 5, None, None, None, None, None),
    ("05-31", 99.5, 21.0, 4, 0.017949162348225904, -0.17180627295806605, -0.002509976595296455,
     0.00005114784735880562, -0.0024588287479376495),
    ("06-01", 99.5, 21.0, 3, 0.015674485556689675, -0.20032270386560325, -0.0022746767915362287, 0.0,
     -0.0022746767915362287),
    ("06-02", 99.5, 21.0, 2, 0.013009572253804365, -0.246997888913997, -0.0026649133028853102, 0.0,
     -0.0026649133028853102),
    ("06-03", 99.5, 22.0, 1, 0.010019695368347214, -0.332466372907505, -0.002989876885457151, 0.0,
     -0.002989876885457151),
    ("06-04", 102.0, 22.5, 0, 0.02, 1.0, 0.009980304631652786, 0.008311659322687626, 0.018291963954340414),
]


def e20_long_table() -> pa.Table:
    """SPEC-E20 prices as a long store table, with the real tickers/fields."""
    rows = [("TST US Equity", "30DAY_IMPVOL_100.0%MNY_DF", d(k), v) for k, v in E20_VOL.items()]
    rows += [("TST US Equity", "PX_LAST", d(k), v) for k, v in E20_HEDGE.items()]
    rows += [("TST US Equity", "PX_LAST", d("06-03"), math.nan)]     # non-finite = missing (SPEC 9.3)
    rows += [("TST US Equity", "PX_LAST", d("05-29"), 100.0)]        # equal duplicate collapses
    ticker, field, date, value = zip(*rows)
    return pa.table({"ticker": list(ticker), "field": list(field), "date": pa.array(date, pa.date32()),
                     "value": pa.array(value, pa.float64())})


def e20_row(straddle_id: int = 0) -> dict:
    row = make_row(5, 6, rule="BD1", ntrv=28, straddle_id=straddle_id)
    row.update(vol_ticker="TST US Equity", vol_field="30DAY_IMPVOL_100.0%MNY_DF",
               hedge_ticker="TST US Equity", hedge_field="PX_LAST")
    return row


def test_spec_e20_worked_pnl_with_rejected_day(run):
    row = e20_row()
    assert (row["entry_anchor"], row["expiry_anchor"]) == (d("05-01"), d("06-03"))
    result, days = run(row, e20_long_table())
    assert result["status"] == "valued"
    assert (result["entry_date"], result["expiry_date"]) == (d("05-29"), d("06-04"))
    assert (result["strike"], result["strike_vol"]) == (100.0, 20.0)
    assert result["n_days"] == len(days) == 7
    assert result["pnl_sum"] == pytest.approx(0.007903668226524075, abs=1e-12)
    assert result["pnl_sum"] == pytest.approx(0.02 - 0.02045913894352236 + 0.00005114784735880562
                                              + 0.008311659322687626, abs=1e-12)
    for r, (date, S, v, t, *floats) in zip(days, E20_ROWS):
        assert (r["date"], r["hedge"], r["vol"], r["dte"]) == (d(date), S, v, t)
        for name, expected in zip(("mv", "delta", "opnl", "hpnl", "pnl"), floats):
            if expected is None:
                assert r[name] is None, (date, name)
            else:
                assert r[name] == pytest.approx(expected, abs=1e-12), (date, name)
    for r in days:
        if r["hpnl"] == 0.0:
            assert math.copysign(1.0, r["hpnl"]) == 1.0


def test_spec_e20_reference_backtest_tables():
    """reference_backtest on SPEC-E20 plus two other straddles: schemas, order, nulls."""
    rows = [e20_row(2), make_row(1, 2, rule="BD1", straddle_id=1, model="BS", status="unsupported_model"),
            e20_row(0)]
    rows[2]["model"] = "CDS_ES"  # ES and CDS_ES are the same model (SPEC 11.1)
    rows[0]["straddle_id"] = 2
    table = pa.Table.from_pylist(rows)
    results, day_table = reference_backtest(table, price_lookup(e20_long_table()))
    assert results.column_names == list(RESULT_COLUMNS)
    assert day_table.column_names == list(DAY_COLUMNS)
    assert str(results.schema.field("entry_date").type) == "date32[day]"
    assert str(results.schema.field("n_days").type) == "int32"
    assert str(day_table.schema.field("dte").type) == "int32"
    assert results["straddle_id"].to_pylist() == [0, 1, 2]
    assert results["status"].to_pylist() == ["valued", "unsupported_model", "valued"]
    assert results["n_days"].to_pylist() == [7, 0, 7]
    assert results["pnl_sum"].to_pylist()[1] is None
    assert day_table.num_rows == 14
    assert day_table["straddle_id"].to_pylist() == [0] * 7 + [2] * 7
    assert day_table["date"].to_pylist()[:7] == days_between("05-29", "06-04")
    assert day_table["mv"].null_count == 2 and day_table["hedge1"].null_count == 14


def test_price_lookup_conflicting_duplicate_is_an_error():
    table = pa.table({"ticker": ["A", "A"], "field": ["F", "F"], "date": pa.array([d("01-02")] * 2, pa.date32()),
                      "value": [1.0, 2.0]})
    with pytest.raises(ValueError, match="A"):
        price_lookup(table)


def test_price_lookup_drops_non_finite_keeps_zero_and_negative():
    table = pa.table({"ticker": ["A"] * 4, "field": ["F"] * 4,
                      "date": pa.array([d("01-01"), d("01-02"), d("01-03"), d("01-04")], pa.date32()),
                      "value": [math.inf, -math.inf, 0.0, -1.5]})
    price = price_lookup(table)
    assert [price("A", "F", d(x)) for x in ("01-01", "01-02", "01-03", "01-04", "01-05")] == \
        [None, None, 0.0, -1.5, None]


# ------------------------------------------------------------------------------------------------
# NS (SPEC 11.3, SPEC-E18): k = 1/100, A = rolled hedge3
# ------------------------------------------------------------------------------------------------

def test_ns_straddle_spec_e18_numbers(run):
    """Calc legs, NS: X = hedge1 on entry (4.00); on 01-29 (t = 31, expiry 02-29) S = 4.10, vol 100,
    A = 8.5 rolled from hedge3 (missing that day) -> SPEC-E18 mv/delta; on 01-30 S = 4.05 ->
    hpnl = -2.28227919947114 * (-0.05) / 100 = 0.00114113959973557. hedge2/hedge4 only gate good days."""
    row = make_row(1, 2, ntrv=2, entry_anchor=d("01-26"), expiry_anchor=d("02-29"), legs=CALC_LEGS, model="NS")
    values = {}

    def put(day, hedge1, vol, hedge3, hedge2=3.0, hedge4=99.0):
        for leg, value in (("hedge1", hedge1), ("vol", vol), ("hedge3", hedge3), ("hedge2", hedge2),
                           ("hedge4", hedge4)):
            if value is not None:
                values[leg, d(day)] = value

    put("01-28", 4.00, 100.0, 8.5)
    put("01-29", 4.10, 100.0, None)         # hedge3 missing: A rolled from 01-28
    put("01-30", 4.05, 100.0, 8.5, hedge2=-7.0, hedge4=-1.0)   # hedge2/hedge4 values do not matter
    put("02-29", 4.00, 100.0, 8.5)
    result, days = run(row, values)
    assert result["status"] == "valued"
    assert (result["entry_date"], result["expiry_date"]) == (d("01-28"), d("02-29"))
    assert (result["strike"], result["strike_vol"]) == (4.00, 100.0)
    by_date = {r["date"]: r for r in days}
    jan29, jan30 = by_date[d("01-29")], by_date[d("01-30")]
    assert (jan29["dte"], jan29["hedge1"], jan29["hedge3"], jan29["hedge"]) == (31, 4.10, 8.5, None)
    assert jan29["mv"] == pytest.approx(0.0209171362439232, abs=1e-12)
    assert jan29["delta"] == pytest.approx(2.28227919947114, abs=1e-12)
    assert jan30["hpnl"] == pytest.approx(0.00114113959973557, abs=1e-12)
    assert jan30["opnl"] == pytest.approx(jan30["mv"] - jan29["mv"], abs=0)
    assert jan30["hedge2"] == -7.0 and jan30["hedge4"] == -1.0
    # expiry at the money: intrinsic 0 (SPEC-E18 t = 0 row)
    assert by_date[d("02-29")]["mv"] == 0.0 and by_date[d("02-29")]["delta"] == 8.5
    # entry-day hpnl at the NS scale: 01-29 hedges with the entry delta (0 at the money)
    entry = by_date[d("01-28")]
    assert entry["delta"] == pytest.approx(0.0, abs=1e-15)
    assert jan29["hpnl"] == pytest.approx(-entry["delta"] * (4.10 - 4.00) / 100, abs=1e-15)
    assert jan29["hpnl"] == 0.0 and math.copysign(1.0, jan29["hpnl"]) == 1.0   # -(+0.0)*dS*k -> +0.0


def test_ns_negative_rates_are_valid_and_zero_annuity_rejects(run):
    """SPEC 11.3: S, X <= 0 are allowed for NS; A = 0 rejects -> bad_entry when it is the entry day."""
    row = make_row(1, 2, rule="BD1", legs=CALC_LEGS, model="NS")
    data = full_data(days_between("01-01", "02-29"), CALC_LEGS, base=-0.25)
    for key in list(data):
        if key[0] == "hedge3":
            data[key] = 9.8
        if key[0] == "vol":
            data[key] = 40.0
    result, days = run(row, data)
    assert result["status"] == "valued" and result["strike"] == -0.25
    data[("hedge3", d("01-01"))] = 0.0
    result, days = run(row, data)
    assert result["status"] == "bad_entry" and days == []
    assert result["strike"] == -0.25 and result["entry_date"] == d("01-01")


# ------------------------------------------------------------------------------------------------
# bad values, missing legs, statuses (SPEC 9.3, 11, 12.1, 13.1)
# ------------------------------------------------------------------------------------------------

def test_zero_vol_on_entry_day_is_bad_entry(run):
    """SPEC 9.3 + 12.1: a 0 vol is present (the day is good, so it is the entry day) but the model
    rejects it -> bad_entry; dates and strike are still reported, nothing valued."""
    row = make_row(1, 2, rule="BD1")
    data = full_data(days_between("01-01", "02-29"))
    data["vol", d("01-01")] = 0.0
    result, days = run(row, data)
    assert result == {"status": "bad_entry", "entry_date": d("01-01"), "expiry_date": d("02-01"),
                      "strike": 100.0, "strike_vol": 0.0, "n_days": 0, "pnl_sum": None}
    assert days == []


def test_negative_hedge_is_present_but_rejected_mid_life(run):
    """A negative hedge is a present value (good day); the ES model rejects it -> null P&L, state bridged."""
    row = make_row(1, 2, rule="BD1")
    data = full_data(days_between("01-01", "02-29"))
    data["hedge", d("01-10")] = -5.0
    data["hedge", d("01-11")] = 101.0
    result, days = run(row, data)
    assert result["status"] == "valued"
    by_date = {r["date"]: r for r in days}
    assert by_date[d("01-10")]["hedge"] == -5.0
    assert all(by_date[d("01-10")][k] is None for k in ("mv", "delta", "opnl", "hpnl", "pnl"))
    jan9, jan11 = by_date[d("01-09")], by_date[d("01-11")]
    assert jan11["opnl"] == jan11["mv"] - jan9["mv"]
    assert jan11["hpnl"] == -jan9["delta"] * (101.0 - 100.0) * (1.0 / 100.0) + 0.0
    assert result["n_days"] == 32 and sum(r["pnl"] is None for r in days) == 1


def test_no_prices_when_a_leg_never_has_a_value(run):
    """SPEC 13.1 #6: the hedge leg has no value anywhere in the span -> no_prices (before no_entry)."""
    row = make_row(1, 2, rule="BD1")
    data = {k: v for k, v in full_data(days_between("01-01", "02-29")).items() if k[0] == "vol"}
    result, _ = run(row, data)
    assert result["status"] == "no_prices"


def test_prices_outside_the_span_do_not_count(run):
    """SPEC 5: the span is 1st of entry month .. last day of expiry month; data elsewhere is ignored."""
    row = make_row(1, 2, rule="BD1")
    data = full_data(days_between("01-01", "01-31"))
    data.update({k: v for k, v in full_data(days_between("03-01", "03-31")).items()})
    result, _ = run(row, data)
    assert result["status"] == "no_expiry"


def test_unsupported_model_keeps_status_but_reports_dates_and_strike(run):
    """SPEC 11.1: unsupported_model straddles still report dates and strike; never valued."""
    row = make_row(1, 2, rule="BD1", model="BS", status="unsupported_model")
    result, days = run(row, full_data(days_between("01-01", "02-29")))
    assert result == {"status": "unsupported_model", "entry_date": d("01-01"), "expiry_date": d("02-01"),
                      "strike": 100.0, "strike_vol": 20.0, "n_days": 0, "pnl_sum": None}
    assert days == []
    # a hand-made row without a status gets unsupported_model first (SPEC 13.1 #3 before #6)
    row = make_row(1, 2, rule="BD1", model="BS")
    assert run(row, {})[0]["status"] == "unsupported_model"


def test_no_legs_and_unsupported_expiry(run):
    row = make_row(1, 3, rule="BD1", legs=(), status="no_legs")
    result, days = run(row, {})
    assert (result["status"], result["entry_date"], result["strike"], days) == ("no_legs", None, None, [])
    row = make_row(1, 2, entry_anchor=None, expiry_anchor=None, status="unsupported_expiry")
    result, days = run(row, full_data(days_between("01-01", "02-29")))
    assert (result["status"], result["entry_date"], result["expiry_date"], days) == \
        ("unsupported_expiry", None, None, [])


def test_no_override_with_entry_anchor_reports_entry_only(run):
    """DECISION (SPEC 6.4 'each reported when it exists'): an OVERRIDE straddle with a CSV row for its
    entry month but none for its expiry month reports entry date and strike, status no_override."""
    row = make_row(1, 2, entry_anchor=d("01-15"), expiry_anchor=None, status="no_override")
    result, days = run(row, full_data(days_between("01-01", "02-29")))
    assert result == {"status": "no_override", "entry_date": d("01-15"), "expiry_date": None,
                      "strike": 100.0, "strike_vol": 20.0, "n_days": 0, "pnl_sum": None}


def test_weekend_rows_roll_every_leg_and_have_zero_hpnl(run):
    """SPEC 10.2/12.5: weekdays-only data; weekend rows carry Friday's values, hpnl +0.0, theta opnl."""
    row = make_row(1, 2, rule="BD1", legs=CDS_LEGS, model="CDS_ES")
    data = {}
    for i, day in enumerate(days_between("01-01", "02-29")):
        if day.weekday() < 5:
            data["vol", day] = 20.0 + (i % 3)
            data["hedge", day] = 60.0 + (i % 4)
            data["hedge1", day] = 4.0 + 0.01 * i
    result, days = run(row, data)
    assert result["status"] == "valued"
    by_date = {r["date"]: r for r in days}
    fri, sat, sun = by_date[d("01-05")], by_date[d("01-06")], by_date[d("01-07")]
    for weekend in (sat, sun):
        assert (weekend["vol"], weekend["hedge"], weekend["hedge1"]) == (fri["vol"], fri["hedge"], fri["hedge1"])
        assert weekend["hpnl"] == 0.0 and math.copysign(1.0, weekend["hpnl"]) == 1.0
        assert weekend["opnl"] < 0  # theta only
    assert sun["hedge2"] is None and sun["hedge3"] is None


# ------------------------------------------------------------------------------------------------
# SPEC 12 invariants on random straddles
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(60))
def test_random_straddles_satisfy_spec_12_invariants(seed, run):
    rng = random.Random(seed)
    legs = rng.choice([ES_LEGS, CDS_LEGS, CALC_LEGS])
    model = "NS" if legs == CALC_LEGS else rng.choice(["ES", "CDS_ES"])
    entry_month = rng.randint(1, 10)
    expiry_month = entry_month + rng.choice([1, 2])
    rule = rng.choice(["BD1", "BD3", "BD10", "F1", "F3", "R2", "W3"])
    row = make_row(entry_month, expiry_month, rule=rule, ntrv=rng.choice([0, 5, 10, 15, 25]), legs=legs,
                   model=model, straddle_id=seed)
    density = rng.choice([0.5, 0.8, 0.97])
    bad = rng.choice([0.0, 0.05, 0.2])  # share of invalid model inputs (0 vol/annuity, S <= 0 for ES)
    data = {}
    first = dt.date(YEAR, entry_month, 1)
    for i in range(95):
        day = first + dt.timedelta(days=i)
        for leg in legs:
            if rng.random() < density:
                invalid = rng.random() < bad
                if leg == "vol":
                    value = 0.0 if invalid else rng.choice([10.0, 20.0, 35.0] if model != "NS" else [60.0, 100.0])
                elif leg == "hedge3":
                    value = 0.0 if invalid else rng.choice([4.6, 8.5])
                elif model == "NS":
                    value = rng.uniform(-1.0, 5.0)   # rates may be <= 0 (SPEC 11.3)
                else:
                    value = rng.choice([-1.0, 0.0]) if invalid else rng.choice([95.0, 100.0, 100.0, 105.0])
                data[leg, day] = value
    result, days = run(row, data)
    if result["status"] != "valued":
        assert days == [] and result["n_days"] == 0 and result["pnl_sum"] is None
        return
    entry, expiry = result["entry_date"], result["expiry_date"]
    assert entry.month == entry_month and expiry.month == expiry_month and entry < expiry
    assert len(days) == result["n_days"] == (expiry - entry).days + 1
    assert [r["dte"] for r in days] == list(range((expiry - entry).days, -1, -1))
    assert days[0]["opnl"] == days[0]["hpnl"] == days[0]["pnl"] == 0.0
    valued = [r for r in days if r["mv"] is not None]
    # SPEC 12.4: the opnl telescopes to mv(last valued day) - mv(entry)
    assert math.fsum(r["opnl"] for r in valued) == pytest.approx(valued[-1]["mv"] - valued[0]["mv"], abs=1e-12)
    for r in days:
        assert (r["mv"] is None) == (r["delta"] is None) == (r["opnl"] is None) == (r["hpnl"] is None) == \
            (r["pnl"] is None)
        if r["hpnl"] is not None:
            assert math.copysign(1.0, r["hpnl"]) == 1.0 or r["hpnl"] != 0.0   # never -0.0
            assert r["pnl"] == r["opnl"] + r["hpnl"]
        for leg in LEGS:
            assert (r[leg] is None) == (leg not in legs)
    assert result["pnl_sum"] == pytest.approx(sum(r["pnl"] for r in valued), abs=1e-12)
