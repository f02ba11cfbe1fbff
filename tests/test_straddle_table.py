"""The straddle table (SPEC sections 4-7, 13.1 rows 1-5): SPEC-E3, E4, E5, E9, E23."""

import datetime as dt
import shutil

import numpy as np
import pyarrow.compute as pc
import pytest

from conftest import REAL_DATA, write_amt
from straddles import expand
from straddles.errors import OverridesError, StraddlesError
from straddles.engine.straddle_table import build_straddles

REQUIRED = ("straddle_id", "asset", "straddle", "entry_month", "expiry_month", "ntrc", "ntrv", "xprc", "xprv", "wgt",
            "entry_anchor", "expiry_anchor", "status")


@pytest.fixture(scope="module")
def real_full(real_amt):
    return build_straddles(real_amt, 2001, 2026)


@pytest.fixture(scope="module")
def real_full_table(real_full):
    return real_full.to_arrow()


def test_real_counts_spec_e4(real_full, real_full_table):
    table = real_full_table
    assert table.num_rows == 231_192 and len(real_full) == 231_192
    assert pc.sum(pc.equal(table["ntrc"], "N")).as_py() == 167_544
    assert pc.sum(pc.equal(table["ntrc"], "F")).as_py() == 63_648
    assert real_full.n_days() == 16_010_256
    assert (real_full.span_start.min(), real_full.span_end.max()) == (
        (dt.date(2000, 11, 1) - dt.date(1970, 1, 1)).days, (dt.date(2026, 12, 31) - dt.date(1970, 1, 1)).days)
    assert set(REQUIRED) <= set(table.column_names)
    assert table["straddle_id"].to_pylist() == list(range(table.num_rows))


def test_one_month_and_one_year_spec_e4(real_amt):
    month = expand(real_amt, 2024, 2024).filter(pc.equal(expand(real_amt, 2024, 2024)["expiry_month"], "2024-06"))
    assert month.num_rows == 741
    assert pc.sum(pc.equal(month["ntrc"], "N")).as_py() == 537
    year = build_straddles(real_amt, 2024, 2024)
    assert (len(year), year.n_days()) == (8_892, 617_076)
    la = build_straddles(real_amt, 2001, 2024, pattern="^LA Comdty")
    assert (len(la), la.n_days()) == (2_304, 175_320)


def test_row_order_spec_e5(real_full_table):
    row = lambda i: (real_full_table["asset"][i].as_py(), real_full_table["straddle"][i].as_py())
    assert row(0) == ("LA Comdty", "|2000-12|2001-01|N|0|OVERRIDE||33.3|")
    assert row(740) == ("LOW US Equity", "|2000-11|2001-01|F|15|F|3|12.5|")
    assert row(741) == ("LA Comdty", "|2001-01|2001-02|N|0|OVERRIDE||33.3|")


def test_order_is_expiry_then_asset_then_entry_spec_4_3(real_full):
    key = real_full.expiry_month.astype(np.int64) * 10**6 + real_full.template
    assert np.all(np.diff(key) > 0)
    templates = real_full.templates
    assert all(templates[k][0] <= templates[k + 1][0] for k in range(len(templates) - 1))


def test_identity_strings_spec_e3(real_full_table):
    june = real_full_table.filter(pc.equal(real_full_table["expiry_month"], "2024-06"))
    strings = {(a, s) for a, s in zip(june["asset"].to_pylist(), june["straddle"].to_pylist())}
    for expected in [
        ("CL Comdty", "|2024-05|2024-06|N|0|OVERRIDE||33.3|"), ("CL Comdty", "|2024-04|2024-06|F|10|OVERRIDE||12.5|"),
        ("AAPL US Equity", "|2024-05|2024-06|N|5|F|3|33.3|"), ("AAPL US Equity", "|2024-04|2024-06|F|15|F|3|12.5|"),
        ("SPY US Equity", "|2024-05|2024-06|N|0|F|4|25|"), ("NKY Index", "|2024-04|2024-06|F|10|F|2|12.5|"),
        ("KOSPI2 Index", "|2024-05|2024-06|N|0|R|2|33.3|"), ("IBOXUMAE Curncy", "|2024-05|2024-06|N|0|W|3|100|"),
        ("EURUSD Curncy", "|2024-05|2024-06|N|0|BD|1|25|"), ("EURUSD Curncy", "|2024-05|2024-06|N|0|BD|13|25|"),
    ]:
        assert expected in strings
    audchf = [s for a, s in strings if a == "AUDCHF Curncy"]
    assert sorted(audchf) == sorted(f"|2024-05|2024-06|N|0|BD|{v}|25|" for v in (5, 9, 13, 17))
    s = "|2023-12|2024-01|N|0|OVERRIDE|15|33.3|"
    assert (s[1:5], s[6:8], s[9:13], s[14:16], s[17]) == ("2023", "12", "2024", "01", "N")


def test_two_entry_schedule_spec_e3(tmp_path):
    path = write_amt(tmp_path, """expiry_schedules:
  s: [N1_OVERRIDE15, Fa_OVERRIDEb_0.5]
amt:
  CL:
    Underlying: CL Comdty
    Class: Commodity
    Vol: {Source: BBG, Ticker: CL1 Comdty, Near: A, Far: B}
    Hedge: {Source: fut, fut_code: CL, fut_month_map: GHJKMNQUVXZF, market_code: Comdty}
    Options: s
    WeightCap: 1
    Valuation: {Model: ES}
""", overrides="ticker,expiry\n")
    table = expand(path, 2024, 2024)
    june = table.filter(pc.equal(table["expiry_month"], "2024-06"))
    assert june["straddle"].to_pylist() == ["|2024-05|2024-06|N|1|OVERRIDE|15||", "|2024-04|2024-06|F|10|OVERRIDE|10|0.5|"]
    assert june["weight"].to_pylist() == [1.0, 0.005]
    assert set(table["status"].to_pylist()) == {"no_override"}


def anchors(table, asset, straddle):
    rows = table.filter(pc.and_(pc.equal(table["asset"], asset), pc.equal(table["straddle"], straddle)))
    row = rows.to_pylist()[0]
    iso = lambda d: d.isoformat() if d else None
    return iso(row["entry_anchor"]), iso(row["expiry_anchor"]), row["status"]


@pytest.mark.parametrize("asset, straddle, entry_anchor, expiry_anchor, status", [
    ("AAPL US Equity", "|2024-04|2024-06|F|15|F|3|12.5|", "2024-04-19", "2024-06-21", None),
    ("AAPL US Equity", "|2024-05|2024-06|N|5|F|3|33.3|", "2024-05-17", "2024-06-21", None),
    ("CL Comdty", "|2024-05|2024-06|N|5|OVERRIDE||33.3|", "2024-05-16", "2024-06-14", None),
    ("CL Comdty", "|2024-04|2024-06|F|10|OVERRIDE||12.5|", "2024-04-17", "2024-06-14", None),
    ("EURUSD Curncy", "|2024-05|2024-06|N|0|BD|1|25|", "2024-05-01", "2024-06-03", None),
    ("AUDCHF Curncy", "|2024-05|2024-06|N|0|BD|17|25|", "2024-05-23", "2024-06-25", None),
    ("IBOXUMAE Curncy", "|2024-05|2024-06|N|0|W|3|100|", "2024-05-15", "2024-06-19", None),
    ("SPY US Equity", "|2024-05|2024-06|N|0|F|4|25|", "2024-05-24", "2024-06-28", None),
    ("LA Comdty TKRZ", "|2024-05|2024-06|N|0|OVERRIDE||33.3|", None, None, "no_override"),
    ("CL Comdty", "|2005-05|2005-06|N|0|OVERRIDE||33.3|", None, None, "no_override"),
])
def test_real_anchors_spec_e9(real_full_table, asset, straddle, entry_anchor, expiry_anchor, status):
    assert anchors(real_full_table, asset, straddle) == (entry_anchor, expiry_anchor, status)


def test_price_independent_statuses_spec_e23(real_full_table):
    counts = {v["values"].as_py(): v["counts"].as_py() for v in real_full_table["status"].value_counts()}
    assert counts == {"no_legs": 1_872, "no_override": 7_294, None: 222_026}
    pending = real_full_table.filter(real_full_table["status"].is_null())
    assert pending["entry_anchor"].null_count == 0 and pending["expiry_anchor"].null_count == 0


def test_example_statuses_spec_13_1(example_amt):
    table = expand(example_amt, 2020, 2024)
    by_asset = table.group_by(["asset", "status"]).aggregate([([], "count_all")]).to_pylist()
    found = {(r["asset"], r["status"]) for r in by_asset}
    assert ("GBPUSD Curncy", "unsupported_expiry") in found  # LB code
    assert ("XAU Curncy", "unsupported_model") in found  # Model BS
    assert ("LP Comdty", "no_legs") in found  # BBG_LMEVOL F entries
    assert ("LP Comdty", "no_override") in found  # overrides start 2021-01
    assert ("IBOXUMAE Curncy", "no_anchor") in found  # W5 missing in some months
    assert "HO Comdty" not in table["asset"].to_pylist()  # dead
    assert len(expand(example_amt, 2020, 2024, live_only=False)) > table.num_rows


def test_status_priority_unsupported_expiry_before_no_legs_spec_13_1(tmp_path):
    path = write_amt(tmp_path, """expiry_schedules:
  s: [F0_X1, F0_F3, N0_F5]
amt:
  A:
    Underlying: A
    Class: Currency
    Vol: {Source: BBG, Ticker: AV, Near: PX_LAST, Far: PX_LAST}
    Hedge: {Source: nonfut, Ticker: A, Field: PX_LAST}
    Options: s
    WeightCap: 1
    Valuation: {Model: Heston}
""")
    table = expand(path, 2024, 2024)
    statuses = table["status"].to_pylist()
    assert statuses[:3] == ["unsupported_expiry", "no_legs", "unsupported_model"]


def test_overrides_default_lookup_spec_7(tmp_path, example_amt_path):
    shutil.copy(example_amt_path, tmp_path / "amt.yml")
    with pytest.raises(OverridesError, match="no overrides file was given"):
        expand(tmp_path / "amt.yml", 2024, 2024)
    assert expand(tmp_path / "amt.yml", 2024, 2024, pattern="SPY").num_rows == 48  # no OVERRIDE used: fine
    shutil.copy(example_amt_path.parent / "overrides.csv", tmp_path / "overrides.csv")
    assert expand(tmp_path / "amt.yml", 2024, 2024).num_rows == 720
    with pytest.raises(OverridesError, match="cannot read"):
        expand(tmp_path / "amt.yml", 2024, 2024, overrides=tmp_path / "missing.csv")


def test_real_overrides_resolution_falls_back_to_overrides_csv(real_amt):
    # backtest.expiry_overrides names expiry_overrides.csv, which is absent: overrides.csv beside it is used
    frame = build_straddles(real_amt, 2024, 2024, pattern="^CL Comdty$")
    assert frame.overrides.path == REAL_DATA / "overrides.csv"


def test_bad_year_range(example_amt):
    with pytest.raises(StraddlesError, match="before start year"):
        expand(example_amt, 2025, 2024)


def test_empty_selection_gives_empty_table(example_amt):
    table = expand(example_amt, 2024, 2024, pattern="NOTHING")
    assert table.num_rows == 0 and "straddle" in table.column_names
