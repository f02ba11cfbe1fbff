"""Price legs (SPEC section 8): futures tickers SPEC-E12, legs SPEC-E13, split tickers SPEC-E14."""

import pyarrow.compute as pc
import pytest

from straddles import expand
from straddles.engine.legs import futures_ticker, has_far_vol

LEGS = ("vol", "hedge", "hedge1", "hedge2", "hedge3", "hedge4")


@pytest.mark.parametrize("code, month_map, tickers", [
    ("LA", "FGHJKMNQUVXZ", ["LAF2024", "LAM2024", "LAZ2024"]),
    ("CL", "GHJKMNQUVXZF", ["CLG2024", "CLN2024", "CLF2025"]),
    ("CO", "HJKMNQUVXZFG", ["COH2024", "COQ2024", "COG2025"]),
    ("GC", "GJJMMQQVVZZG", ["GCG2024", "GCQ2024", "GCG2025"]),
    ("C", "HHKKNNUUZZZH", ["CH2024", "CN2024", "CH2025"]),
    ("S", "HHKKNNQUXXFF", ["SH2024", "SN2024", "SF2025"]),
    ("SB", "HHKKNNVVVHHH", ["SBH2024", "SBN2024", "SBH2025"]),
    ("RX", "HHMMMUUUZZZH", ["RXH2024", "RXU2024", "RXH2025"]),
])
def test_futures_tickers_spec_e12(code, month_map, tickers):
    hedge = {"fut_code": code, "fut_month_map": month_map, "min_year_offset": 0, "market_code": "Comdty"}
    assert [futures_ticker(hedge, 2024, m) for m in (1, 6, 12)] == [f"{t} Comdty" for t in tickers]


def test_futures_qualifier_offset_and_odd_maps_spec_e12():
    hedge = {"fut_code": "CL", "fut_month_map": "FGHJKMNQUVXZ", "min_year_offset": 0, "market_code": "Comdty"}
    assert [futures_ticker(hedge, 2024, m) for m in (1, 6, 12)] == ["CLF2024 Comdty", "CLM2024 Comdty",
                                                                    "CLZ2024 Comdty"]
    assert futures_ticker(hedge, 2024, 6, qualifier="R") == "CLRM2024 Comdty"
    assert futures_ticker({**hedge, "min_year_offset": 1}, 2024, 1) == "CLF2025 Comdty"
    assert futures_ticker({**hedge, "fut_month_map": "AAAAAAZZZZZZ"}, 2024, 1) == "CLA2025 Comdty"
    assert futures_ticker({**hedge, "min_year_offset": None}, 2024, 1) == "CLF2024 Comdty"


@pytest.mark.parametrize("vol, expected", [
    ({"Near": "A", "Far": "B"}, True), ({"Near": "A"}, False), ({"Near": "A", "Far": None}, False),
    ({"Near": "A", "Far": ""}, False), ({"Near": "A", "Far": "NONE"}, False), ({"Near": "A", "Far": "A"}, False),
])
def test_far_vol_rule_spec_8_5(vol, expected):
    assert has_far_vol(vol) is expected


def legs_of(table, asset, expiry_month, ntrc):
    rows = table.filter(pc.and_(pc.and_(pc.equal(table["asset"], asset), pc.equal(table["expiry_month"], expiry_month)),
                                pc.equal(table["ntrc"], ntrc)))
    row = rows.slice(0, 1).to_pylist()[0]
    return {leg: (row[f"{leg}_ticker"], row[f"{leg}_field"]) for leg in LEGS if row[f"{leg}_ticker"] is not None}, row


@pytest.fixture(scope="module")
def real_2023_2024(real_amt):
    return expand(real_amt, 2023, 2024)


@pytest.mark.parametrize("asset, month, ntrc, legs", [
    ("CL Comdty", "2024-06", "N", {"vol": ("CL1 Comdty", "1ST_MTH_IMPVOL_100.0%MNY_DF"),
                                   "hedge": ("CLN2024 Comdty", "PX_LAST")}),
    ("C Comdty", "2024-12", "F", {"vol": ("C 1 Comdty", "2ND_MTH_IMPVOL_100.0%MNY_DF"),
                                  "hedge": ("CH2025 Comdty", "PX_LAST")}),
    ("LA Comdty TKRZ", "2024-06", "N", {"vol": ("LARM2024 Comdty", "PX_LAST"), "hedge": ("LAM2024 Comdty", "PX_LAST")}),
    ("AAPL US Equity", "2024-06", "N", {"vol": ("AAPL US Equity", "30DAY_IMPVOL_100.0%MNY_DF"),
                                        "hedge": ("AAPL US Equity", "PX_LAST")}),
    ("AAPL US Equity", "2024-06", "F", {"vol": ("AAPL US Equity", "60DAY_IMPVOL_100.0%MNY_DF"),
                                        "hedge": ("AAPL US Equity", "PX_LAST")}),
    ("EURUSD Curncy", "2024-06", "N", {"vol": ("EURUSDV1M CMPN Curncy", "PX_LAST"),
                                       "hedge": ("EURUSD Curncy", "PX_LAST")}),
    ("USSWAP10 Curncy", "2024-06", "N", {"vol": ("RATES.VOL.USD.ATM.NORMAL.ANNUAL.1M.10Y", "none"),
                                         "hedge1": ("USD_fsw0m_10", ""), "hedge2": ("USD_fsw6m_10", ""),
                                         "hedge3": ("USD_pva0m_10", ""), "hedge4": ("USD_pva6m_10", "")}),
    ("USD2Y2Y", "2024-06", "N", {"vol": ("RATES.MIDCURVES.USD.OPT_STR.VOL.1M.2Y2Y", "none"),
                                 "hedge1": ("USD_fsw0m_2_2", ""), "hedge2": ("USD_fsw6m_2_2", ""),
                                 "hedge3": ("USD_pva0m_2_2", ""), "hedge4": ("USD_pva6m_2_2", "")}),
    ("IBOXUMAE Curncy", "2024-06", "N", {"vol": ("CREDIT.CVOL.CDX_NA_IG.1M.CVOL_ATM.CVOL_VOL.CVOL_ROLLING_MAT", "none"),
                                         "hedge": ("IBOXUMAE CBBT Curncy", "PX_LAST"),
                                         "hedge1": ("USOSFR5 Curncy", "PX_LAST")}),
    ("ITRXEBE Curncy", "2024-06", "N", {"vol": ("CREDIT.CVOL.ITRAXX_EUROPE.1M.CVOL_ATM.CVOL_VOL.CVOL_ROLLING_MAT", "none"),
                                        "hedge": ("ITRXEBE CBBT Curncy", "PX_LAST"), "hedge1": ("EUSA5 Curncy", "PX_LAST")}),
    ("NIFTY Index", "2024-06", "N", {"vol": ("NIFTY Index", "1ST_MTH_IMPVOL_100.0%MNY_DF"),
                                     "hedge": ("NIFTY Index", "PX_LAST")}),
])
def test_real_legs_spec_e13(real_2023_2024, asset, month, ntrc, legs):
    assert legs_of(real_2023_2024, asset, month, ntrc)[0] == legs


@pytest.mark.parametrize("asset", ["LA Comdty TKRZ", "EURUSD Curncy", "USSWAP10 Curncy"])
def test_f_without_far_vol_has_no_legs_spec_e13(real_amt, asset):
    table = expand(real_amt, 2024, 2024, pattern=f"^{asset}$")
    f_rows = table.filter(pc.equal(table["ntrc"], "F"))
    if asset == "LA Comdty TKRZ":
        assert f_rows.num_rows > 0
        assert set(f_rows["status"].to_pylist()) == {"no_legs"}
        assert all(f_rows[f"{leg}_ticker"].null_count == f_rows.num_rows for leg in LEGS)
    else:  # schedule1 has only N entries
        assert f_rows.num_rows == 0


def test_split_tickers_spec_e14(real_amt):
    table = expand(real_amt, 2023, 2023, pattern="^IBOXUMAE")
    assert legs_of(table, "IBOXUMAE Curncy", "2023-06", "N")[0]["hedge1"] == ("USSWAP5 CMPN Curncy", "PX_LAST")
    assert legs_of(table, "IBOXUMAE Curncy", "2023-07", "N")[0]["hedge1"] == ("USOSFR5 Curncy", "PX_LAST")


def test_split_boundary_example_spec_e14(example_amt):
    table = expand(example_amt, 2022, 2022, pattern="^FB ")
    hedge = lambda month: legs_of(table, "FB US Equity", month, "N")[0]["hedge"][0]
    assert (hedge("2022-05"), hedge("2022-06"), hedge("2022-07")) == ("FB US Equity", "FB US Equity",
                                                                      "META US Equity")
