"""SPEC Part II on one straddle, for both implementations (the ``engine`` fixture runs every test
on the pure-Python reference and on the compiled kernel): SPEC-E25 (Greeks), SPEC-E26
(attribution), SPEC-E27 (costs), SPEC-E28 (asof and the anchor basis), and the open-status rules
of SPEC 16.1.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kernel_adapter import kernel_value_straddle
from straddles.engine.reference import price_lookup, value_straddle
from test_straddle_rules import d, days_between, e20_long_table, e20_row, full_data, long_table, make_row

TOL = 1e-12


@pytest.fixture(params=["reference", "kernel"])
def engine(request):
    """``engine(row, prices, **options) -> (result, day_rows)``; ``prices`` a {(leg, day): value}
    dict or a long price table; options as :func:`straddles.engine.reference.value_straddle`."""
    def run(row, prices, **options):
        table = prices if not isinstance(prices, dict) else long_table(prices)
        if request.param == "reference":
            return value_straddle(row, price_lookup(table), **options)
        return kernel_value_straddle(row, table, **options)
    return run


def by_date(days):
    return {r["date"]: r for r in days}


# ------------------------------------------------------------------------------------------------
# SPEC-E25 / E26: Greeks and attribution on SPEC-E20
# ------------------------------------------------------------------------------------------------

def test_spec_e25_greeks_on_the_entry_day(engine):
    _, days = engine(e20_row(), e20_long_table(), greeks=True)
    entry = by_date(days)[d("05-29")]
    assert entry["gamma"] == pytest.approx(0.003111323558572969, abs=TOL)
    assert entry["vega"] == pytest.approx(0.0010229008959691953, abs=TOL)
    assert entry["theta"] == pytest.approx(-0.0017048348266153256, abs=TOL)
    assert (entry["gamma_pnl"], entry["theta_pnl"], entry["vega_pnl"], entry["resid_pnl"]) == (0.0, 0.0, 0.0, 0.0)


def test_spec_e26_attribution(engine):
    result, days = engine(e20_row(), e20_long_table(), greeks=True)
    rows = by_date(days)
    expected = {
        "05-31": (0.00038891544482162115, -0.003409669653230651, 0.0010229008959691953, -0.00046097543549781465),
        "06-01": (0.0, -0.0021308309645017847, 0.0, -0.00014384582703444405),
        "06-04": (0.019843895982297282, -0.0041681715331589935, 0.00018946234241631787, 0.002426777162785807),
    }
    assert rows[d("05-31")]["pnl"] == pytest.approx(-0.0024588287479376495, abs=TOL)
    for day, values in expected.items():
        for name, value in zip(("gamma_pnl", "theta_pnl", "vega_pnl", "resid_pnl"), values):
            assert rows[d(day)][name] == pytest.approx(value, abs=TOL), (day, name)
    rejected = rows[d("05-30")]  # SPEC 17: null Greeks and attribution where mv / pnl are null
    assert all(rejected[name] is None for name in ("gamma", "vega", "theta", "gamma_pnl", "resid_pnl"))
    expiry = rows[d("06-04")]  # t = 0: Greeks 0
    assert (expiry["gamma"], expiry["vega"], expiry["theta"]) == (0.0, 0.0, 0.0)
    for r in days:
        if r["pnl"] is not None:
            parts = (r["gamma_pnl"] + r["theta_pnl"]) + r["vega_pnl"]
            assert abs(parts + r["resid_pnl"] - r["pnl"]) <= 1e-15
    assert result["status"] == "valued"


def test_greeks_leave_the_spec_13_columns_unchanged(engine):
    plain_result, plain = engine(e20_row(), e20_long_table())
    result, days = engine(e20_row(), e20_long_table(), greeks=True, costs=(0.6, 2.0))
    assert {k: result[k] for k in plain_result} == plain_result
    assert [{k: r[k] for k in plain[0]} for r in days] == plain


# ------------------------------------------------------------------------------------------------
# SPEC-E27: costs
# ------------------------------------------------------------------------------------------------

def test_spec_e27_costs(engine):
    result, days = engine(e20_row(), e20_long_table(), costs=(0.6, 2.0))
    rows = by_date(days)
    entry = rows[d("05-29")]
    assert entry["cost_option"] == pytest.approx(0.0006137405375815172, abs=TOL)
    assert entry["cost_hedge"] == pytest.approx(2.045913894352225e-06, abs=TOL)
    assert entry["pnl_net"] == pytest.approx(-entry["cost_option"] - entry["cost_hedge"], abs=TOL)
    assert "gamma" not in entry  # costs need no greeks=True; the Greek columns come only with it
    rejected = rows[d("05-30")]
    assert (rejected["cost_option"], rejected["cost_hedge"], rejected["pnl_net"]) == (None, None, None)
    # 05-31 re-hedges from the state day's delta (05-29); the expiry day only unwinds 06-03's delta
    delta = {k: rows[d(k)]["delta"] for k in ("05-29", "05-31", "06-03")}
    assert rows[d("05-31")]["cost_hedge"] == pytest.approx(
        2e-4 * abs(delta["05-31"] - delta["05-29"]) * 99.5 / 100.0, abs=TOL)
    assert rows[d("06-04")]["cost_hedge"] == pytest.approx(2e-4 * abs(delta["06-03"]) * 102.0 / 100.0, abs=TOL)
    assert rows[d("06-04")]["cost_option"] == 0.0
    charged = [r for r in days if r["pnl"] is not None]
    assert result["cost_sum"] == pytest.approx(sum(r["cost_option"] + r["cost_hedge"] for r in charged), abs=TOL)
    assert result["pnl_net_sum"] == pytest.approx(result["pnl_sum"] - result["cost_sum"], abs=TOL)


# ------------------------------------------------------------------------------------------------
# SPEC-E28: asof and the anchor basis; SPEC 16.1 open statuses
# ------------------------------------------------------------------------------------------------

def test_spec_e28_asof_gives_an_open_straddle(engine):
    result, days = engine(e20_row(), e20_long_table(), asof=d("06-02"))
    assert result["status"] == "open"
    assert result["expiry_date"] is None
    assert [r["date"] for r in days] == days_between("05-29", "06-02")
    assert result["n_days"] == 5
    assert days[0]["dte"] == 5
    assert days[0]["mv"] != pytest.approx(0.02045913894352236, abs=1e-6)  # t 6 in SPEC-E20
    assert result["pnl_sum"] == pytest.approx(sum(r["pnl"] for r in days if r["pnl"] is not None), abs=TOL)


def test_spec_e28_anchor_basis(engine):
    result, days = engine(e20_row(), e20_long_table(), expiry_basis="anchor")
    assert result["status"] == "valued"
    assert result["expiry_date"] == d("06-03")
    assert [r["date"] for r in days] == days_between("05-29", "06-03")
    assert days[0]["dte"] == 5
    last = days[-1]
    assert (last["dte"], last["hedge"], last["vol"]) == (0, 99.5, 22.0)
    assert last["mv"] == pytest.approx(0.005, abs=TOL)
    assert last["delta"] == -1.0


def test_asof_on_the_realized_expiry_day_values_the_straddle(engine):
    result, days = engine(e20_row(), e20_long_table(), asof=d("06-04"))
    full, full_days = engine(e20_row(), e20_long_table())
    assert result == full and days == full_days


def test_open_after_the_anchor_uses_t_zero(engine):
    """Realized basis: anchor 06-03 passed without a good day, June not over -> open, t = 0 on 06-03."""
    result, days = engine(e20_row(), e20_long_table(), asof=d("06-03"))
    assert result["status"] == "open"
    assert [r["dte"] for r in days][-2:] == [1, 0]


def test_entry_not_decided_is_open_whatever_else(engine):
    """SPEC 16.1.2: entry month not over and no good day in [target, asof] -> open, no rows, no
    strike, even with no prices at all."""
    row = make_row(1, 2, rule="BD3", ntrv=2)
    values = full_data(days_between("01-01", "01-04"))  # target 01-05
    result, days = engine(row, values, asof=d("01-04"))
    assert (result["status"], result["entry_date"], result["strike"], days) == ("open", None, None, [])
    result, _ = engine(row, {}, asof=d("01-04"))
    assert result["status"] == "open"
    result, _ = engine(row, values, asof=d("01-31"))  # the month has ended: the fallback decides
    assert (result["status"], result["entry_date"]) == ("open", d("01-04"))


def test_no_expiry_only_once_the_expiry_month_has_ended(engine):
    row = make_row(1, 2, rule="BD1", ntrv=1)
    values = full_data(days_between("01-01", "01-02"))
    assert engine(row, values, asof=d("02-28"))[0]["status"] == "open"
    assert engine(row, values, asof=d("02-29"))[0]["status"] == "no_expiry"
    assert engine(row, values, asof=d("02-29"), expiry_basis="anchor")[0]["status"] == "valued"


def test_prices_after_asof_are_ignored(engine):
    row = make_row(1, 2, rule="BD1", ntrv=0)
    values = full_data(days_between("01-01", "02-29"))
    early = engine(row, values, asof=d("01-20"))
    values.update({(leg, day): 1e6 for leg in ("vol", "hedge") for day in days_between("01-21", "02-29")})
    assert engine(row, values, asof=d("01-20")) == early


def test_open_straddle_with_a_rejected_entry_is_bad_entry(engine):
    row = make_row(1, 2, rule="BD1", ntrv=0)
    values = full_data(days_between("01-01", "01-20"))
    values["vol", d("01-01")] = 0.0
    assert engine(row, values, asof=d("01-20"))[0]["status"] == "bad_entry"


def test_asof_before_the_span_is_open_without_rows(engine):
    row = make_row(3, 4, rule="BD1", ntrv=0)
    result, days = engine(row, full_data(days_between("01-01", "04-30")), asof=dt.date(2024, 1, 15))
    assert (result["status"], result["entry_date"], days) == ("open", None, [])
