"""Issue 9: what a new user meets first -- every defect found by trying the README's commands.

Each defect ends either in success with empty tables or in one ``error:`` line with exit status 2,
never a traceback.
"""

import re

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import straddles
from straddles.cli import EXAMPLES, main, pnl_summary
from straddles.engine.pipeline import DAYS_SCHEMA
from straddles.engine.prices import write_prices
from straddles.engine.validate import validate_prices
from straddles.results.explain import explain_straddle
from straddles.synth import synthesize


@pytest.fixture(scope="module")
def prices(tmp_path_factory, example_amt_path):
    path = tmp_path_factory.mktemp("prices") / "prices.parquet"
    write_prices(synthesize(example_amt_path, 2023, 2024, seed=0), path)
    return path


def run(capsys, *args):
    """(exit status, stdout, stderr) of the CLI."""
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line_error(err: str, message: str) -> bool:
    return err.startswith("error:") and message in err and "Traceback" not in err and err.count("\n") == 1


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"straddles {straddles.__version__}"


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert "examples:" in top and "straddles validate amt.yml" in top and "long, one unit" in top
    for command, examples in EXAMPLES.items():
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert all(example in text for example in examples), command


@pytest.mark.parametrize("years", [("1995", "1996"), ("2030", "2030")])
@pytest.mark.parametrize("days", [True, False])
def test_a_backtest_without_valued_days_succeeds_with_empty_tables(example_amt_path, prices, tmp_path, capsys,
                                                                  years, days):
    out = tmp_path / "out"
    status, text, err = run(capsys, "backtest", example_amt_path, "--prices", prices, "--start", years[0],
                            "--end", years[1], "--out", out, *([] if days else ["--no-days"]))
    assert status == 0 and "Traceback" not in err
    assert "P&L: none" in text
    assert pq.read_table(out / "asset_pnl.parquet").num_rows == 0
    n_years = int(years[1]) - int(years[0]) + 1
    assert pq.read_table(out / "straddles.parquet").num_rows == 720 * n_years
    if days:
        day_table = pq.read_table(out / "days.parquet")
        assert day_table.num_rows == 0 and day_table.schema.equals(DAYS_SCHEMA)
    assert not list(out.glob(".*tmp"))


def test_a_single_asset_with_a_missing_vol_series(example_amt_path, prices, tmp_path, capsys):
    table = pq.read_table(prices)
    spy_vol = pc.and_(pc.equal(table["ticker"].cast(pa.string()), "SPY US Equity"),
                      pc.not_equal(table["field"].cast(pa.string()), "PX_LAST"))
    without = table.filter(pc.invert(spy_vol))
    partial = tmp_path / "partial.parquet"
    pq.write_table(without, partial)
    out = tmp_path / "out"
    status, text, err = run(capsys, "backtest", example_amt_path, "--prices", partial, "--start", "2024", "--end",
                            "2024", "--pattern", "^SPY US Equity$", "--out", out)
    assert status == 0 and pq.read_table(out / "days.parquet").num_rows == 0
    assert "warning:" in err and "SPY US Equity|30DAY_IMPVOL" in err and "(missing, 48 straddles)" in err


def test_out_naming_an_existing_file_is_a_user_error(example_amt_path, prices, tmp_path, capsys):
    existing = tmp_path / "results"
    existing.write_text("not a folder")
    status, _, err = run(capsys, "backtest", example_amt_path, "--prices", prices, "--start", "2024", "--end",
                         "2024", "--out", existing)
    assert status == 2 and one_line_error(err, "must be a folder")
    status, _, err = run(capsys, "demo", "--out", existing)
    assert status == 2 and one_line_error(err, "must be a folder")
    assert existing.read_text() == "not a folder"


@pytest.mark.parametrize("command", ["expand", "synth", "backtest", "validate", "assets"])
def test_a_pattern_matching_nothing_is_a_user_error(example_amt_path, prices, tmp_path, capsys, command):
    extra = {"expand": ["--start", "2024", "--end", "2024"],
             "synth": ["--start", "2024", "--end", "2024", "--out", tmp_path / "p.parquet"],
             "backtest": ["--start", "2024", "--end", "2024", "--prices", prices, "--out", tmp_path / "o"],
             "validate": ["--start", "2024", "--end", "2024", "--prices", prices], "assets": []}[command]
    status, _, err = run(capsys, command, example_amt_path, "--pattern", "^no such asset$", *extra)
    assert status == 2 and one_line_error(err, "selects no asset")
    assert not (tmp_path / "o").exists() and not (tmp_path / "p.parquet").exists()


def test_a_pattern_matching_only_dead_assets_says_so(example_amt_path, capsys):
    dead = next(a.underlying for a in straddles.load_amt(example_amt_path).assets if not a.live)
    status, _, err = run(capsys, "expand", example_amt_path, "--start", "2024", "--end", "2024",
                         "--pattern", f"^{re.escape(dead)}$")
    assert status == 2 and one_line_error(err, "add --all")


def test_validate_names_missing_series_by_asset_and_year(example_amt_path, prices, tmp_path, capsys):
    table = pq.read_table(prices)
    partial = tmp_path / "partial.parquet"
    pq.write_table(table.filter(pc.invert(pc.match_substring(table["ticker"].cast(pa.string()), "SPY"))), partial)
    found = validate_prices(example_amt_path, partial, 2023, 2024)
    spy = found.series.filter(pc.equal(found.series["assets"], "SPY US Equity")).to_pylist()
    assert {row["state"] for row in spy} == {"missing"} and all(row["rows"] == 0 for row in spy)
    assert {row["legs"] for row in spy} == {"vol", "hedge"}
    cells = found.by_asset_year.filter(pc.equal(found.by_asset_year["asset"], "SPY US Equity")).to_pylist()
    assert [(c["year"], c["no_prices"]) for c in cells] == [(2023, 48), (2024, 48)]
    assert found.status["no_prices"] == found.n_no_prices
    # the backtest agrees: the straddles validate calls no_prices are the backtest's no_prices
    result = straddles.backtest(example_amt_path, partial, 2023, 2024, days=False)
    assert result.status_counts()["no_prices"] == found.n_no_prices
    status, text, _ = run(capsys, "validate", example_amt_path, "--prices", partial, "--start", "2023", "--end", "2024")
    assert status == 0 and "SPY US Equity" in text and "missing" in text and "would be no_prices" in text
    assert found.series.num_rows == validate_prices(example_amt_path, prices, 2023, 2024).series.num_rows
    assert validate_prices(example_amt_path, prices, 2023, 2024).problems().num_rows == 0


def test_explain_shows_the_backtests_straddle_id(example_amt_path, prices, tmp_path, capsys):
    result = straddles.backtest(example_amt_path, prices, 2023, 2024, days=False)
    rows = result.straddles.filter(pc.and_(pc.equal(result.straddles["asset"].cast(pa.string()), "CL Comdty"),
                                           pc.equal(result.straddles["expiry_month"].cast(pa.string()), "2024-06")))
    expected = rows.filter(pc.equal(rows["schid"], 2)).to_pylist()[0]
    explanation = explain_straddle(example_amt_path, prices, "CL Comdty", "2024-06", 2, start_year=2023)
    assert explanation.straddle["straddle_id"] == expected["straddle_id"]
    assert explanation.straddle["straddle"] == expected["straddle"]
    assert explanation.straddle["pnl_sum"] == pytest.approx(expected["pnl_sum"], abs=1e-12)
    assert set(explanation.days["straddle_id"].to_pylist()) == {expected["straddle_id"]}
    status, text, _ = run(capsys, "explain", example_amt_path, "--prices", prices, "CL Comdty", "2024-06", "2",
                          "--start", "2023")
    assert status == 0 and f"straddle_id {expected['straddle_id']} in a backtest from 2023" in text
    assert "fractions of the strike" in text and "vol points" in text and "long one unit" in text
    excluded = explain_straddle(example_amt_path, prices, "CL Comdty", "2024-06", 2, start_year=2023, pattern="SPY")
    assert excluded.straddle["straddle_id"] is None


def test_backtest_prints_a_pnl_summary_with_position_and_units(example_amt_path, prices, tmp_path, capsys):
    status, text, _ = run(capsys, "backtest", example_amt_path, "--prices", prices, "--start", "2023", "--end", "2024",
                          "--out", tmp_path / "out", "--no-days")
    assert status == 0
    lines = pnl_summary(straddles.load_backtest(tmp_path / "out"))
    flat = " ".join(text.split())
    assert all(" ".join(line.split()) in flat for line in lines)
    assert "Long one unit of every straddle" in lines[0] and "units of notional" in lines[0]
    assert lines[1].lstrip().startswith("total ") and "a year" in lines[1] and "Sharpe" in lines[1]
    assert "worst drawdown" in lines[2] and "best class" in lines[3] and "worst class" in lines[3]
    assert "%" not in " ".join(lines[1:])


def test_to_pandas_wide_frames(example_amt_path, prices):
    pd = pytest.importorskip("pandas")
    result = straddles.backtest(example_amt_path, prices, 2023, 2024, days=False)
    by_asset = result.to_pandas()
    assert isinstance(by_asset.index, pd.DatetimeIndex) and by_asset.index.is_monotonic_increasing
    assert set(by_asset.columns) == set(result.asset_pnl["asset"].cast(pa.string()).unique().to_pylist())
    assert by_asset.sum().sum() == pytest.approx(pc.sum(result.asset_pnl["pnl"]).as_py())
    by_class = result.to_pandas("class")
    assert by_class.sum(axis=1).sum() == pytest.approx(by_asset.sum().sum())
    assert list(result.to_pandas("portfolio").columns) == ["portfolio"]
    summary = straddles.stats(result, "class")
    frame = summary.to_pandas()
    assert list(frame.columns) == summary.buckets and isinstance(frame.index, pd.DatetimeIndex)
    assert frame["total"].sum() == pytest.approx(by_asset.sum().sum())
    wide = straddles.wide_frame(straddles.portfolio(result, "group", weights={"SPY US Equity": -1.0}))
    assert isinstance(wide.index, pd.DatetimeIndex) and wide.columns.name == "group"


@pytest.mark.parametrize("command", ["expand", "backtest-under-a-file"])
def test_out_paths_that_cannot_be_written_are_user_errors(example_amt_path, prices, tmp_path, capsys, command):
    folder = tmp_path / "a folder"
    folder.mkdir()
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    if command == "expand":
        args, message = ["expand", example_amt_path, "--start", "2024", "--end", "2024", "--out", folder], "is a folder"
    else:
        args = ["backtest", example_amt_path, "--prices", prices, "--start", "2024", "--end", "2024",
                "--out", blocker / "out"]
        message = "a file is in the way"
    status, _, err = run(capsys, *args)
    assert status == 2 and one_line_error(err, message)
    assert sorted(p.name for p in folder.iterdir()) == [] and blocker.read_text() == "x"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_validate_predicts_the_kernels_no_prices_on_random_deletions(example_amt_path, prices, tmp_path, seed):
    """SPEC 13.1 status 6 as the backtest decides it, per (asset, expiry year), after deleting random
    whole series and random windows of rows from a complete store."""
    import numpy as np

    table = pq.read_table(prices)
    rng = np.random.default_rng(seed)
    series = pc.binary_join_element_wise(table["ticker"].cast(pa.string()), table["field"].cast(pa.string()), "|")
    names = series.unique().to_pylist()
    row_series = np.asarray(series.to_pylist(), dtype=object)
    dropped = rng.choice(names, size=len(names) // 10, replace=False)
    keep = ~np.isin(row_series, dropped)
    days = table["date"].cast(pa.int32()).to_numpy()
    for _ in range(20):  # 45-day holes in random series
        name = names[rng.integers(len(names))]
        start = rng.integers(days.min(), days.max())
        keep &= ~((row_series == name) & (days >= start) & (days < start + 45))
    partial = tmp_path / "partial.parquet"
    pq.write_table(table.filter(pa.array(keep)), partial)
    found = validate_prices(example_amt_path, partial, 2023, 2024)
    result = straddles.backtest(example_amt_path, partial, 2023, 2024, days=False)
    straddle_rows = result.straddles.to_pylist()
    actual = {}
    for row in straddle_rows:
        key = (row["asset"], int(row["expiry_month"][:4]))
        actual[key] = actual.get(key, 0) + (row["status"] == "no_prices")
    predicted = {(r["asset"], r["year"]): r["no_prices"] for r in found.by_asset_year.to_pylist()}
    assert predicted == actual
    assert found.n_no_prices == result.status_counts().get("no_prices", 0) > 0
