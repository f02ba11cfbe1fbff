"""Cloned universes (straddles.scale.universe): every asset repeated under new names and series."""

import pyarrow.compute as pc

import straddles
from straddles.scale.universe import clone_asset, clone_universe


def test_clone_asset_renames_every_series():
    asset = {"Underlying": "IBOXUMAE Curncy", "Class": "Rate",
             "Vol": {"Source": "CV", "Near": "CREDIT.X", "Far": "NONE"},
             "Hedge": {"Source": "cds", "hedge": "IBOXUMAE CBBT Curncy",
                       "hedge1": "USSWAP5 CMPN Curncy:2023-06:USOSFR5 Curncy"}}
    clone = clone_asset(asset, 3)
    assert clone["Underlying"] == "IBOXUMAE Curncy X3"
    assert clone["Vol"] == {"Source": "CV", "Near": "CREDIT.X.X3", "Far": "NONE"}
    assert clone["Hedge"]["hedge1"] == "USSWAP5 CMPN Curncy X3:2023-06:USOSFR5 Curncy X3"
    assert asset["Underlying"] == "IBOXUMAE Curncy"  # the source is not modified


def test_cloned_example_has_factor_times_the_straddles_and_no_shared_series(tmp_path):
    amt_path = clone_universe(straddles.example_amt_path(), 3, tmp_path)
    original = straddles.expand(straddles.load_amt(straddles.example_amt_path()), 2024, 2024)
    cloned = straddles.expand(straddles.load_amt(amt_path), 2024, 2024)
    assert cloned.num_rows == 3 * original.num_rows
    assert (tmp_path / "overrides.csv").read_text().count("\n") == 3 * (
        (straddles.example_amt_path().parent / "overrides.csv").read_text().count("\n") - 1) + 1
    clones = cloned.filter(pc.match_substring(cloned["asset"].cast("string"), " X3"))
    assert clones.num_rows == original.num_rows
    tickers = set(clones["vol_ticker"].cast("string").drop_null().to_pylist())
    originals = set(original["vol_ticker"].cast("string").drop_null().to_pylist())
    assert tickers and not tickers & originals
