"""The cost model (SPEC 18): AMT defaults, overrides and precedence, files and errors, and the
cost columns of a whole backtest (straddle sums, asset and total sums, gross vs net)."""

from __future__ import annotations

import re

import numpy as np
import pyarrow.compute as pc
import pytest

import straddles
from conftest import write_amt
from straddles import CostModel, load_cost_model
from straddles.errors import AmtError, StraddlesError

AMT = """
expiry_schedules:
  s: [N0_F3_50]
amt:
  A:
    Underlying: AAA US Equity
    Class: Equity
    Vol: {Source: BBG, Ticker: AAA US Equity, Near: V1, Far: V2}
    Hedge: {Source: nonfut, Ticker: AAA US Equity, Field: PX_LAST}
    Options: s
    WeightCap: 1
    Slippage: 0.6
    SlippageFactor: 0.5
    Valuation: {Model: ES}
  B:
    Underlying: BBB Curncy
    Class: Currency
    Vol: {Source: BBG, Ticker: BBBV1M Curncy, Near: PX_LAST, Far: PX_LAST}
    Hedge: {Source: nonfut, Ticker: BBB Curncy, Field: PX_LAST}
    Options: s
    WeightCap: 1
    Slippage: 0.8
    Valuation: {Model: ES}
  C:
    Underlying: CCC Index
    Class: Equity
    Vol: {Source: BBG, Ticker: CCC Index, Near: V1, Far: V2}
    Hedge: {Source: nonfut, Ticker: CCC Index, Field: PX_LAST}
    Options: s
    WeightCap: 1
    Slippage: null
    Valuation: {Model: ES}
"""


@pytest.fixture
def assets(tmp_path):
    return straddles.load_amt(write_amt(tmp_path, AMT)).select()


def test_amt_defaults(assets):
    """Slippage x SlippageFactor; SlippageFactor missing = 1; Slippage null = 0; hedge_bps 0."""
    spread, bps = CostModel().per_asset(assets)
    assert spread.tolist() == [0.3, 0.8, 0.0] and bps.tolist() == [0.0, 0.0, 0.0]


def test_overrides_and_precedence(assets):
    model = CostModel(slippage={"^BBB": 1.0}, slippage_factor={"US Equity$": 2.0}, class_spread={"Equity": 0.25},
                      hedge_bps={"Equity": 3.0, "^CCC": 7.0, "Currency": 1.0})
    spread, bps = model.per_asset(assets)
    assert spread.tolist() == [0.6 * 2.0 + 0.25, 1.0, 0.0 + 0.25]
    assert bps.tolist() == [3.0, 1.0, 7.0]  # CCC: its Underlying regex wins over its Class
    assert CostModel(hedge_bps=5).per_asset(assets)[1].tolist() == [5.0, 5.0, 5.0]


def test_cost_file(tmp_path, assets):
    (tmp_path / "c.yml").write_text("slippage: {'^AAA': 1.5}\nhedge_bps: {Equity: 2}\n")
    spread, bps = load_cost_model(tmp_path / "c.yml").per_asset(assets)
    assert spread.tolist() == [0.75, 0.8, 0.0] and bps.tolist() == [2.0, 0.0, 2.0]


@pytest.mark.parametrize("text, message", [
    ("spread: 1\n", "unknown key 'spread'"),
    ("hedge_bps: lots\n", "hedge_bps must be a finite number or a mapping"),
    ("class_spread: {Equity: x}\n", "class_spread['Equity'] must be a finite number"),
    ("slippage: {'(': 1}\n", "not a valid regex"),
    ("- 1\n", "a cost file is a mapping"),
])
def test_cost_file_errors(tmp_path, text, message):
    (tmp_path / "c.yml").write_text(text)
    with pytest.raises(StraddlesError, match=re.escape(message)):
        load_cost_model(tmp_path / "c.yml")


def test_bad_amt_slippage_names_file_asset_and_field(tmp_path):
    path = write_amt(tmp_path, AMT.replace("Slippage: 0.8", "Slippage: wide"))
    with pytest.raises(AmtError, match="asset 'BBB Curncy', field 'Slippage'"):
        CostModel().per_asset(straddles.load_amt(path).select(), path)


def test_backtest_costs_gross_vs_net(example_amt_path, tmp_path):
    """Costs on the example AMT: every straddle's pnl_net_sum = pnl_sum - cost_sum, the asset and
    total sums carry cost_option, cost_hedge, pnl_net = pnl - costs; with costs off the columns are
    absent and the other columns equal."""
    from straddles.synth import synthesize

    prices = synthesize(example_amt_path, 2024, 2024, pattern="SPY|EURUSD")
    plain = straddles.backtest(example_amt_path, prices, 2024, 2024, pattern="SPY|EURUSD")
    costed = straddles.backtest(example_amt_path, prices, 2024, 2024, pattern="SPY|EURUSD",
                                costs=CostModel(slippage={".": 0.5}, hedge_bps=2.0))
    assert "cost_sum" not in plain.straddles.column_names and "pnl_net" not in plain.days.column_names
    assert costed.straddles.drop_columns(["cost_sum", "pnl_net_sum"]).equals(plain.straddles)
    assert costed.days.select(plain.days.column_names).equals(plain.days)
    valued = costed.straddles.filter(pc.greater(costed.straddles["n_days"], 0))
    net, gross, cost = (valued[name].to_numpy() for name in ("pnl_net_sum", "pnl_sum", "cost_sum"))
    assert np.all(cost > 0) and np.allclose(net, gross - cost, atol=1e-12)
    total = costed.totals("portfolio")
    assert np.allclose(total["pnl_net"].to_numpy(),
                       total["pnl"].to_numpy() - total["cost_option"].to_numpy() - total["cost_hedge"].to_numpy(),
                       atol=1e-12)
    assert plain.totals("portfolio").column_names == ["date", "pnl", "opnl", "hpnl", "n_assets"]
