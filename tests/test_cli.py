"""The ``straddles`` command line: each command end to end, and errors as one clear line."""

import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from straddles.cli import main


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("STRADDLES_CACHE_DIR", str(tmp_path / "cache"))


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("expand", "assets", "synth", "backtest", "explain", "demo"):
        assert command in out


def test_expand_writes_parquet_and_csv(example_amt_path, tmp_path, capsys):
    assert main(["expand", str(example_amt_path), "--start", "2024", "--end", "2024", "--out",
                 str(tmp_path / "s.parquet")]) == 0
    assert pq.read_table(tmp_path / "s.parquet").num_rows == 720
    assert "720 straddles" in capsys.readouterr().out
    assert main(["expand", str(example_amt_path), "--start", "2024", "--end", "2024", "--pattern", "SPY",
                 "--out", str(tmp_path / "s.csv")]) == 0
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 49


def test_assets_table(example_amt_path, capsys):
    assert main(["assets", str(example_amt_path), "--all"]) == 0
    out = capsys.readouterr().out
    assert "HO Comdty" in out and "BBG_LMEVOL" in out and "N0_BD1_25" in out


def test_synth_backtest_explain(example_amt_path, tmp_path, capsys, cache_dir):
    prices = tmp_path / "prices.parquet"
    assert main(["synth", str(example_amt_path), "--start", "2024", "--end", "2024", "--out", str(prices)]) == 0
    out = tmp_path / "bt"
    assert main(["backtest", str(example_amt_path), "--prices", str(prices), "--start", "2024", "--end", "2024",
                 "--out", str(out), "--no-days"]) == 0
    assert (out / "straddles.parquet").exists() and not (out / "days.parquet").exists()
    text = capsys.readouterr().out
    assert "valued" in text and "kernel" in text
    assert main(["explain", str(example_amt_path), "--prices", str(prices), "SPY US Equity", "2024-06", "3"]) == 0
    text = capsys.readouterr().out
    assert "|2024-05|2024-06|N|0|F|3|25|" in text and "ENTRY" in text and "daily valuation" in text


def test_script_process_runs_without_pandas_and_leaves_complete_outputs(example_amt_path, tmp_path, cache_dir):
    # the `straddles` script enters through cli.run: pandas and SciPy hidden (both installed by the
    # test extra), the cached kernels loaded without numba's compiler (straddles.jit.QuickLoadCache),
    # os._exit after the outputs are in place
    prices, out = tmp_path / "prices.parquet", tmp_path / "bt"
    assert main(["synth", str(example_amt_path), "--start", "2024", "--end", "2024", "--out", str(prices)]) == 0
    code = ("import sys; from straddles.cli import run; "
            "run(sys.argv[1:], before_exit=lambda: print('imported:', *(name in sys.modules for name in ('pandas', 'scipy', 'numba.np.arraymath'))))")
    done = subprocess.run([sys.executable, "-c", code, "backtest", str(example_amt_path), "--prices", str(prices),
                           "--start", "2024", "--end", "2024", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "imported: False False False" in done.stdout and "valued straddle-days" in done.stdout
    assert pq.read_table(out / "days.parquet").num_rows == pq.read_table(out / "straddles.parquet")["n_days"].to_numpy().sum()
    names = {path.name for path in out.iterdir()}
    assert {"asset_pnl.parquet", "assets.parquet", "days.parquet", "straddles.parquet"} <= names
    assert not [name for name in names if name.startswith(".")]  # every temporary file renamed into place


@pytest.mark.parametrize("args, message", [
    (["expand", "missing.yml", "--start", "2024", "--end", "2024"], "missing.yml: cannot read"),
    (["backtest", "{amt}", "--prices", "nope.parquet", "--start", "2024", "--end", "2024", "--out", "x"], "nope.parquet"),
    (["explain", "{amt}", "--prices", "p.parquet", "NOT AN ASSET", "2024-06", "1"], "no asset with Underlying"),
    (["explain", "{amt}", "--prices", "p.parquet", "SPY US Equity", "June", "1"], "not a YYYY-MM month"),
])
def test_user_errors_are_one_line_with_exit_2(example_amt_path, args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [a.replace("{amt}", str(example_amt_path)) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.startswith("error:")


def test_strategy_and_sweep_commands(example_amt_path, tmp_path, capsys, cache_dir):
    """STRATEGY S7: ``straddles strategy`` writes weights and P&L, ``straddles sweep`` the ranked grid."""
    prices = tmp_path / "prices.parquet"
    assert main(["synth", str(example_amt_path), "--start", "2023", "--end", "2024", "--out", str(prices)]) == 0
    results = tmp_path / "bt"
    assert main(["backtest", str(example_amt_path), "--prices", str(prices), "--start", "2023", "--end", "2024",
                 "--out", str(results), "--no-days"]) == 0
    capsys.readouterr()
    assert main(["strategy", str(results), "npnl:mac.60.5+srp.90:grank:ivol:none:h", "--out", str(tmp_path / "s"),
                 "--leverage", "2", "--report", str(tmp_path / "r.html")]) == 0
    text = capsys.readouterr().out
    assert "sharpe" in text and "bps of capital" in text and "leverage 2" in text
    assert pq.read_table(tmp_path / "s" / "pnl.parquet").num_rows > 300
    assert "Strategy: the traded book" in (tmp_path / "r.html").read_text()
    grid = tmp_path / "grid.yml"
    grid.write_text("signals: [mac.60.5, srp.90, clm]\nhedge: [none, h]\nrank: [rank, grank]\n")
    assert main(["sweep", str(results), "--grid", str(grid), "--out", str(tmp_path / "sweep.parquet")]) == 0
    assert "top 10 of 12 strategies" in capsys.readouterr().out
    assert pq.read_table(tmp_path / "sweep.parquet").num_rows == 12
    grid.write_text("signals: [mac.5.60]\n")
    assert main(["sweep", str(results), "--grid", str(grid)]) == 2
    error = capsys.readouterr().err
    assert "grid.yml" in error and "mac.S.F needs S > F" in error and "Traceback" not in error
    assert main(["strategy", str(results), "npnl:srp.90:rank"]) == 2
    assert main(["strategy", str(tmp_path / "nowhere"), "npnl:srp.90:rank:none:none:none"]) == 2


def test_backtest_and_explain_with_part2_options(example_amt_path, tmp_path, capsys, cache_dir):
    """SPEC 16-18 and 6.5 from the command line: --asof, --expiry-basis, --greeks, --costs FILE,
    --calendars FILE on backtest and explain."""
    prices = tmp_path / "prices.parquet"
    assert main(["synth", str(example_amt_path), "--start", "2024", "--end", "2024", "--out", str(prices)]) == 0
    (tmp_path / "costs.yml").write_text("hedge_bps: 2\nclass_spread: {Equity: 0.5}\n")
    (tmp_path / "cal.yml").write_text("'Curncy$': XNYS\n")
    out = tmp_path / "bt"
    options = ["--asof", "2024-06-12", "--expiry-basis", "anchor", "--greeks", "--costs", str(tmp_path / "costs.yml"),
               "--calendars", str(tmp_path / "cal.yml")]
    assert main(["backtest", str(example_amt_path), "--prices", str(prices), "--start", "2024", "--end", "2024",
                 "--out", str(out), *options]) == 0
    assert "open" in capsys.readouterr().out
    days = pq.read_table(out / "days.parquet")
    assert days.column_names[-10:] == ["gamma", "vega", "theta", "gamma_pnl", "theta_pnl", "vega_pnl", "resid_pnl",
                                       "cost_option", "cost_hedge", "pnl_net"]
    assert days["date"].cast("int32").to_numpy().max() == 19886  # 2024-06-12
    straddles = pq.read_table(out / "straddles.parquet")
    assert {"cost_sum", "pnl_net_sum"} <= set(straddles.column_names)
    assert main(["explain", str(example_amt_path), "--prices", str(prices), "SPY US Equity", "2024-06", "3",
                 *options]) == 0
    text = capsys.readouterr().out
    assert "status: open (asof 2024-06-12)" in text and "attribution" in text and "pnl_net_sum" in text
    assert main(["backtest", str(example_amt_path), "--prices", str(prices), "--start", "2024", "--end", "2024",
                 "--out", str(out), "--asof", "last", "--costs"]) == 0


@pytest.mark.parametrize("option, message", [
    (["--asof", "June"], "asof: expected YYYY-MM-DD or 'last'"),
    (["--costs", "missing.yml"], "missing.yml: cannot read cost file"),
    (["--calendars", "missing.yml"], "missing.yml: cannot read calendars file"),
])
def test_part2_option_errors(example_amt_path, option, message, capsys, tmp_path, monkeypatch, cache_dir):
    monkeypatch.chdir(tmp_path)
    from straddles.synth import synthesize
    from straddles.engine.prices import write_prices
    write_prices(synthesize(example_amt_path, 2024, 2024, pattern="SPY"), tmp_path / "p.parquet")
    assert main(["backtest", str(example_amt_path), "--prices", "p.parquet", "--start", "2024", "--end", "2024",
                 "--pattern", "SPY", "--out", "x", *option]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_expand_with_calendars_spec_e24(tmp_path, capsys):
    """SPEC-E24 from the command line: --calendars moves AUDCHF's BD5 of 2010-01 to 01-08."""
    amt = tmp_path / "amt.yml"
    amt.write_text("""expiry_schedules:
  bd: [N0_BD5_50]
amt:
  AUD:
    Underlying: AUDCHF Curncy
    Class: Currency
    Vol: {Source: BBG, Ticker: AUDCHFV1M CMPN Curncy, Near: PX_LAST, Far: PX_LAST}
    Hedge: {Source: nonfut, Ticker: AUDCHF Curncy, Field: PX_LAST}
    Options: bd
    WeightCap: 1
    Valuation: {Model: ES}
""")
    (tmp_path / "cal.yml").write_text("'Curncy$': XNYS\n")
    for extra, expected in (([], "2010-01-07"), (["--calendars", str(tmp_path / "cal.yml")], "2010-01-08")):
        assert main(["expand", str(amt), "--start", "2010", "--end", "2010", "--out", str(tmp_path / "s.parquet"),
                     *extra]) == 0
        rows = pq.read_table(tmp_path / "s.parquet").to_pylist()
        assert str(next(r for r in rows if r["expiry_month"] == "2010-01")["expiry_anchor"]) == expected
