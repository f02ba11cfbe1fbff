"""Portfolio aggregation (SPEC 3.5, 13.3 and the sizing layer above it): SPEC-E21, SPEC-E22."""

import datetime as dt
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest

from straddles.engine.totals import aggregate
from straddles.results.aggregation import asset_multipliers, portfolio
from straddles.errors import StraddlesError
from straddles.engine.pipeline import Backtest

FRI, SAT, SUN, MON = (dt.date(2024, 1, 5) + dt.timedelta(days=i) for i in range(4))
ASSETS = [  # asset, class, group, WeightCap
    ("AAA Comdty", "Commodity", "commodity", 0.05),
    ("BBB Comdty", "Commodity", "commodity", 0.10),
    ("EURUSD Curncy", "Currency", "fx", 0.05),
    ("TY Comdty", "Rate", "rates", None),
    ("USSWAP10 Curncy", "Swap", "rates", 0.05),
]
#: straddle-day P&L: asset, wgt, date, pnl, opnl, hpnl
STRADDLE_DAYS = [
    ("AAA Comdty", "33.3", FRI, 0.001, 0.0015, -0.0005),   # with the next row: SPEC-E21
    ("AAA Comdty", "12.5", FRI, -0.002, -0.001, -0.001),
    ("AAA Comdty", "33.3", SAT, 0.004, 0.004, 0.0),
    ("BBB Comdty", "", FRI, 0.003, 0.002, 0.001),          # wgt "" -> weight 1.0
    ("BBB Comdty", "", MON, -0.001, -0.003, 0.002),
    ("EURUSD Curncy", "25", SAT, 0.008, 0.008, 0.0),
    ("TY Comdty", "25", SUN, 0.002, 0.002, 0.0),
    ("USSWAP10 Curncy", "25", MON, -0.004, -0.001, -0.003),
]


def weight(wgt: str) -> float:
    """SPEC 3.5: weight = wgt/100, "" -> 1.0."""
    return float(wgt) / 100 if wgt else 1.0


def hand_backtest(straddle_days=STRADDLE_DAYS, assets=ASSETS) -> Backtest:
    """A Backtest whose asset_pnl is the SPEC 13.3 weighted sum of the given straddle days."""
    cells = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    for asset, wgt, date, pnl, opnl, hpnl in straddle_days:
        cell = cells[asset, date]
        for i, value in enumerate((pnl, opnl, hpnl)):
            cell[i] += value * weight(wgt)
        cell[3] += 1
    keys = sorted(cells, key=lambda key: ([a[0] for a in assets].index(key[0]), key[1]))
    asset_pnl = pa.table({
        "asset": pa.array([k[0] for k in keys]).dictionary_encode(),
        "date": pa.array([k[1] for k in keys], pa.date32()),
        **{name: pa.array([cells[k][i] for k in keys], pa.float64()) for i, name in enumerate(("pnl", "opnl", "hpnl"))},
        "n_straddles": pa.array([cells[k][3] for k in keys], pa.int32()),
    })
    assets_table = pa.table({
        "asset": [a[0] for a in assets], "class": [a[1] for a in assets], "group": [a[2] for a in assets],
        "subgroup": [""] * len(assets), "liquidity": [1.0] * len(assets),
        "weight_cap": pa.array([a[3] for a in assets], pa.float64()),
        "model": ["ES"] * len(assets), "schedule": ["s"] * len(assets),
    })
    straddles_table = pa.table({"asset": pa.array([a for a, *_ in straddle_days], pa.string()),
                                "status": pa.array(["valued"] * len(straddle_days), pa.string())})
    return Backtest(straddles=straddles_table, days=None, asset_pnl=asset_pnl, assets=assets_table)


def rows(table: pa.Table, key: str | None = None) -> dict:
    """{(key, date): row dict} of a portfolio table."""
    result = {}
    for row in table.to_pylist():
        result[(row[key] if key else None, row["date"])] = row
    return result


def test_asset_aggregation_spec_e21():
    table = portfolio(hand_backtest(), by="asset")
    cell = rows(table, "asset")[("AAA Comdty", FRI)]
    assert cell["pnl"] == pytest.approx(0.333 * 0.001 + 0.125 * -0.002, abs=1e-15)
    assert cell["pnl"] == pytest.approx(0.000083, abs=1e-15)
    assert cell["n_assets"] == 1
    assert hand_backtest().asset_pnl["n_straddles"][0].as_py() == 2
    assert rows(table, "asset")[("BBB Comdty", FRI)]["pnl"] == pytest.approx(0.003, abs=1e-15)  # weight 1.0


def test_by_class():
    table = portfolio(hand_backtest(), by="class")
    assert table.column_names == ["class", "date", "pnl", "opnl", "hpnl", "pnl_long", "pnl_short", "n_assets"]
    got = {key: (row["pnl"], row["n_assets"]) for key, row in rows(table, "class").items()}
    expected = {
        ("Commodity", FRI): (0.333 * 0.001 + 0.125 * -0.002 + 0.003, 2),
        ("Commodity", SAT): (0.333 * 0.004, 1),
        ("Commodity", MON): (-0.001, 1),
        ("Currency", SAT): (0.25 * 0.008, 1),
        ("Rate", SUN): (0.25 * 0.002, 1),
        ("Swap", MON): (0.25 * -0.004, 1),
    }
    assert list(got) == list(expected)  # sorted by bucket, then date
    for key, (pnl, n_assets) in expected.items():
        assert got[key][0] == pytest.approx(pnl, abs=1e-15) and got[key][1] == n_assets


def test_by_group_uses_the_group_column():
    table = portfolio(hand_backtest(), by="group")
    got = {key: row["pnl"] for key, row in rows(table, "group").items()}
    assert got[("rates", SUN)] == pytest.approx(0.0005, abs=1e-15)
    assert got[("rates", MON)] == pytest.approx(-0.001, abs=1e-15)
    assert rows(table, "group")[("commodity", FRI)]["n_assets"] == 2
    assert sorted({g for g, _ in got}) == ["commodity", "fx", "rates"]


def test_portfolio_total_and_consistency_between_levels():
    backtest = hand_backtest()
    total = rows(portfolio(backtest, by="portfolio"))
    assert portfolio(backtest, by="portfolio").column_names[0] == "date"
    assert total[(None, FRI)]["pnl"] == pytest.approx(0.000083 + 0.003, abs=1e-15)
    assert total[(None, MON)]["n_assets"] == 2
    for by in ("class", "group", "asset", "subgroup"):
        sums = defaultdict(float)
        for (_, date), row in rows(portfolio(backtest, by=by), by).items():
            sums[date] += row["pnl"]
        assert sums == pytest.approx({date: row["pnl"] for (_, date), row in total.items()}, abs=1e-15)


def test_option_plus_hedge_equals_pnl():
    for by in ("class", "asset", "portfolio"):
        table = portfolio(hand_backtest(), by=by)
        np.testing.assert_allclose(table["opnl"].to_numpy() + table["hpnl"].to_numpy(), table["pnl"].to_numpy(),
                                   atol=1e-15)


def test_matches_backtest_totals_without_sizing():
    backtest = hand_backtest()
    for by in ("class", "group", "portfolio"):
        ours = portfolio(backtest, by=by).drop_columns(["pnl_long", "pnl_short"])
        if by != "portfolio":
            ours = ours.set_column(0, by, ours[by].cast(pa.string()))
        theirs = backtest.totals(by)
        assert ours.column_names == theirs.column_names
        for name in ours.column_names:
            if name in ("pnl", "opnl", "hpnl"):
                np.testing.assert_allclose(ours[name].to_numpy(), theirs[name].to_numpy(), atol=1e-15)
            else:
                assert ours[name].to_pylist() == theirs[name].to_pylist()


def test_weights_multiply_assets_and_split_long_short():
    backtest = hand_backtest()
    table = portfolio(backtest, by="class", weights={"AAA Comdty": -2.0, "EURUSD Curncy": 3.0})
    got = rows(table, "class")
    friday = got[("Commodity", FRI)]
    assert friday["pnl"] == pytest.approx(-2 * 0.000083 + 0.003, abs=1e-15)
    assert friday["pnl_short"] == pytest.approx(-2 * 0.000083, abs=1e-15)
    assert friday["pnl_long"] == pytest.approx(0.003, abs=1e-15)
    assert got[("Currency", SAT)]["pnl"] == pytest.approx(3 * 0.002, abs=1e-15)
    assert got[("Currency", SAT)]["pnl_short"] == 0.0
    np.testing.assert_allclose(table["pnl_long"].to_numpy() + table["pnl_short"].to_numpy(), table["pnl"].to_numpy(),
                               atol=1e-15)


def test_without_weights_the_short_leg_is_empty():
    table = portfolio(hand_backtest(), by="class")
    assert set(table["pnl_short"].to_pylist()) == {0.0}
    assert table["pnl_long"].to_pylist() == table["pnl"].to_pylist()


def test_weights_as_a_table_and_zero_weight_drops_the_asset():
    backtest = hand_backtest()
    weights = pa.table({"asset": ["BBB Comdty", "TY Comdty"], "weight": [0.0, 2.0]})
    got = rows(portfolio(backtest, by="class", weights=weights), "class")
    assert got[("Commodity", FRI)]["n_assets"] == 1
    assert got[("Commodity", FRI)]["pnl"] == pytest.approx(0.000083, abs=1e-15)
    assert ("Commodity", MON) not in got  # only BBB had P&L on Monday
    assert got[("Rate", SUN)]["pnl"] == pytest.approx(0.001, abs=1e-15)


def test_weight_cap_scaling():
    backtest = hand_backtest()
    got = rows(portfolio(backtest, by="asset", scale_by_weight_cap=True), "asset")
    assert got[("AAA Comdty", FRI)]["pnl"] == pytest.approx(0.05 * 0.000083, abs=1e-15)
    assert got[("BBB Comdty", FRI)]["pnl"] == pytest.approx(0.10 * 0.003, abs=1e-15)
    assert not any(asset == "TY Comdty" for asset, _ in got)  # no WeightCap: multiplier 0
    both = rows(portfolio(backtest, by="asset", weights={"AAA Comdty": -1}, scale_by_weight_cap=True), "asset")
    assert both[("AAA Comdty", FRI)]["pnl"] == pytest.approx(-0.05 * 0.000083, abs=1e-15)
    np.testing.assert_allclose(asset_multipliers(backtest.assets, {"BBB Comdty": 2}, True), [0.05, 0.2, 0.05, 0, 0.05])


@pytest.mark.parametrize("weights, message", [
    ({"NOPE Comdty": 1.0}, "unknown asset"),
    ({"AAA Comdty": float("nan")}, "finite number"),
    ({"AAA Comdty": "1"}, "finite number"),
    ([("AAA Comdty", 1.0)], "mapping"),
    (pa.table({"asset": ["AAA Comdty"]}), "'asset' and 'weight'"),
])
def test_bad_weights_are_user_errors(weights, message):
    with pytest.raises(StraddlesError, match=message):
        portfolio(hand_backtest(), weights=weights)


def test_bad_bucket_key():
    with pytest.raises(StraddlesError, match="by must be one of"):
        portfolio(hand_backtest(), by="model")


def test_empty_backtest():
    table = portfolio(hand_backtest(straddle_days=[]), by="class")
    assert table.num_rows == 0 and table.column_names[0] == "class"
    assert aggregate(hand_backtest(straddle_days=[]).asset_pnl, pa.table({"asset": ASSETS[0][:1]}),
                     "portfolio").num_rows == 0


def test_plain_string_asset_column_and_folder_source(tmp_path):
    backtest = hand_backtest()
    backtest.asset_pnl = backtest.asset_pnl.set_column(0, "asset", backtest.asset_pnl["asset"].cast(pa.string()))
    expected = portfolio(hand_backtest(), by="class")
    assert portfolio(backtest, by="class").equals(expected)
    backtest.write(tmp_path)
    assert portfolio(tmp_path, by="class").to_pylist() == expected.to_pylist()


def test_groups_of_the_real_amt_spec_e22(real_amt):
    assets = real_amt.select()
    table = pa.table({"asset": [a.underlying for a in assets], "class": [a.asset_class for a in assets],
                      "group": [str(a.group) for a in assets], "weight_cap": [float(a.weight_cap) for a in assets]})
    day = pa.array([dt.date(2024, 1, 2)] * len(assets), pa.date32())
    asset_pnl = pa.table({"asset": table["asset"], "date": day, "pnl": [1.0] * len(assets),
                          "opnl": [1.0] * len(assets), "hpnl": [0.0] * len(assets)})
    by_group = aggregate(asset_pnl, table, "group")
    counts = dict(zip(by_group["group"].to_pylist(), by_group["n_assets"].to_pylist()))
    assert counts == {"stonks": 68, "fx": 60, "rates": 29, "commodity": 16, "equity": 16}
    assert by_group["pnl"].to_pylist() == [16.0, 16.0, 60.0, 29.0, 68.0]


def test_filtered_tables_and_numpy_weights(tmp_path):
    """A consistently filtered backtest (one asset) aggregates; NumPy numbers are valid weights."""
    import pyarrow.compute as pc

    import straddles
    from straddles.synth import synthesize

    amt = straddles.example_amt_path()
    result = straddles.backtest(amt, synthesize(amt, 2024, 2024), 2024, 2024, days=False)
    one = Backtest(straddles=result.straddles, days=None,
                   asset_pnl=result.asset_pnl.filter(pc.equal(result.asset_pnl["asset"], "SPY US Equity")),
                   assets=result.assets.filter(pc.equal(result.assets["asset"], "SPY US Equity")))
    table = portfolio(one, by="asset", weights={"SPY US Equity": np.float32(2.0)})
    assert table["asset"].unique().to_pylist() == ["SPY US Equity"]
    expected = pc.sum(one.asset_pnl["pnl"]).as_py() * 2.0
    assert pc.sum(table["pnl"]).as_py() == pytest.approx(expected, rel=1e-12)
