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
    # the `straddles` script enters through cli.run: pandas hidden, os._exit after the outputs are in place
    prices, out = tmp_path / "prices.parquet", tmp_path / "bt"
    assert main(["synth", str(example_amt_path), "--start", "2024", "--end", "2024", "--out", str(prices)]) == 0
    code = ("import sys; from straddles.cli import run; "
            "run(sys.argv[1:], before_exit=lambda: print('pandas imported:', 'pandas' in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, "backtest", str(example_amt_path), "--prices", str(prices),
                           "--start", "2024", "--end", "2024", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "pandas imported: False" in done.stdout and "valued straddle-days" in done.stdout
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
