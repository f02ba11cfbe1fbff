"""Variant grids (straddles.grid): AMT edits, per-variant statistics, identical on Dask."""

from __future__ import annotations

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import straddles
from straddles.cli import main
from straddles.errors import StraddlesError
from straddles.scale.grid import Variant, apply_edits
from straddles.synth import synthesize

VARIANTS = """
variants:
  baseline: {}
  equities_on_fridays:
    amt:
      - {class: Equity, schedule: weekly_fridays}
  later_entry:
    amt:
      - {entry_offset: 7}
  fx_inline:
    amt:
      - {pattern: "Curncy$", entries: ["N0_BD1_50", "N0_BD10_50"]}
"""


@pytest.fixture(scope="module")
def variants_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("grid") / "variants.yml"
    path.write_text(VARIANTS)
    return path


@pytest.fixture(scope="module")
def prices(tmp_path_factory, example_amt_path):
    path = tmp_path_factory.mktemp("grid") / "prices.parquet"
    return straddles.write_prices(synthesize(example_amt_path, 2022, 2024, seed=4), path)


def test_edits_change_schedules_and_entry_offsets_spec_3(example_amt):
    later = apply_edits(example_amt, Variant("later", ({"entry_offset": 7},)))
    for asset in later.select():
        assert [entry.entry_offset_days for entry in later.entries(asset)] == [7] * len(later.entries(asset))
    fx = apply_edits(example_amt, Variant("fx", ({"pattern": "Curncy$", "entries": ["N0_BD1_50", "N0_BD10_50"]},)))
    for asset, original in zip(fx.select(), example_amt.select()):
        if asset.underlying.endswith("Curncy"):
            assert [(e.xprc, e.xprv, e.weight) for e in fx.entries(asset)] == [("BD", "1", 0.5), ("BD", "10", 0.5)]
        else:
            assert fx.entries(asset) == example_amt.entries(original)
    assert example_amt.select()[0].schedule == apply_edits(example_amt, Variant("none")).select()[0].schedule


@pytest.mark.parametrize("text, message", [
    ("variants: {}", "non-empty 'variants:'"),
    ("variants: {a: {amt: [{colour: red}]}}", "variant 'a': unknown AMT edit key 'colour'"),
    ("variants: {a: {backtest: {speed: 2}}}", "variant 'a': backtest has no option 'speed'"),
    ("variants: {a: {amt: [{schedule: nowhere}]}}", "no schedule 'nowhere'"),
    ("variants: {a: {amt: [{entry_offset: -1}]}}", "entry_offset must be"),
])
def test_bad_variants_are_one_line_errors(example_amt_path, prices, tmp_path, text, message):
    path = tmp_path / "variants.yml"
    path.write_text(text)
    with pytest.raises(StraddlesError, match=message):
        straddles.grid(example_amt_path, prices, path, 2024, 2024)


def test_grid_rows_are_the_variants_backtests(example_amt_path, prices, variants_file):
    result = straddles.grid(example_amt_path, prices, variants_file, 2022, 2024)
    assert result.summary["variant"].to_pylist() == ["baseline", "equities_on_fridays", "later_entry", "fx_inline"]
    baseline = straddles.backtest(example_amt_path, prices, 2022, 2024, days=False)
    expected = straddles.stats(baseline, "portfolio").summary
    row = result.summary.slice(0, 1)
    for name in ("pnl", "sharpe", "max_drawdown"):
        assert row[name].to_pylist() == expected[name].to_pylist()
    assert row["n_straddles"][0].as_py() == baseline.straddles.num_rows
    is_baseline = pc.equal(result.asset_pnl["variant"].cast("string"), "baseline")
    mine = result.asset_pnl.filter(is_baseline).drop_columns(["variant"])
    assert mine.equals(baseline.asset_pnl)
    assert len(set(result.summary["pnl"].to_pylist())) == 4  # every edit changed the P&L


def test_grid_on_dask_equals_in_process(dask_client, example_amt_path, prices, variants_file):
    expected = straddles.grid(example_amt_path, prices, variants_file, 2022, 2024)
    done = []
    got = straddles.grid(example_amt_path, prices, variants_file, 2022, 2024, scheduler=dask_client,
                         progress=lambda n, total: done.append((n, total)))
    assert got.summary.equals(expected.summary)
    assert got.asset_pnl.equals(expected.asset_pnl)
    assert done[-1] == (4, 4)


def test_grid_and_backtest_commands_on_a_scheduler_address(dask_client, example_amt_path, prices, variants_file,
                                                          tmp_path, capsys):
    address = dask_client.scheduler.address
    assert main(["grid", str(example_amt_path), "--prices", str(prices), "--variants", str(variants_file),
                 "--start", "2022", "--end", "2024", "--out", str(tmp_path / "grid"), "--scheduler", address]) == 0
    assert pq.read_table(tmp_path / "grid" / "summary.parquet").num_rows == 4
    assert "later_entry" in capsys.readouterr().out
    assert main(["backtest", str(example_amt_path), "--prices", str(prices), "--start", "2022", "--end", "2024",
                 "--out", str(tmp_path / "bt"), "--scheduler", address]) == 0
    assert pq.read_table(tmp_path / "bt" / "days.parquet").num_rows > 0
