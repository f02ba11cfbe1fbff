"""The explorer's data layer (straddles.explore.data, days) and its Dash views, without a browser.

The browser test is tests/test_explore_browser.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import straddles
from straddles.cli import main
from straddles.engine.dates import weekday_index
from straddles.errors import StraddlesError
from straddles.explore import require_dash
from straddles.explore.data import (Filters, Results, calendar_bounds, cluster_order, column_max_drawdown,
                                    column_sharpe)
from straddles.results.explain import explain_straddle
from straddles.results.performance import daily_series, max_drawdown, sharpe_ratio
from straddles.synth import synthesize

pytest.importorskip("dash")


@pytest.fixture(scope="module")
def prices(example_amt_path):
    return synthesize(example_amt_path, 2023, 2024, seed=0)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, example_amt_path, prices):
    """A results folder with the day table, as `straddles backtest --out` writes it."""
    folder = tmp_path_factory.mktemp("explore-days")
    straddles.backtest(example_amt_path, prices, 2023, 2024, out=folder)
    return folder


@pytest.fixture(scope="module")
def folder_without_days(tmp_path_factory, example_amt_path, prices):
    folder = tmp_path_factory.mktemp("explore-nodays")
    straddles.backtest(example_amt_path, prices, 2023, 2024, days=False).write(folder)
    return folder


@pytest.fixture(scope="module")
def results(folder):
    return Results(folder)


FILTERS = [Filters(), Filters(pattern="Comdty"), Filters(pattern="^(CL|SPX)"), Filters(classes=("Rate",)),
           Filters(pattern="Index|Curncy", groups=("fx",)),
           Filters(start=dt.date(2023, 3, 4), end=dt.date(2023, 11, 19)),  # a Saturday and a Sunday
           Filters(pattern="o", start=dt.date(2023, 6, 5))]


@pytest.mark.parametrize("filters", FILTERS, ids=repr)
def test_filtered_numbers_are_the_python_apis(results, folder, filters):
    """A filtered view's numbers are straddles.stats with the unselected assets weighted 0,
    restricted to the range's weekday cells: bit for bit."""
    view = results.view(filters)
    backtest = straddles.load_backtest(folder, days=False)
    low, high = calendar_bounds(filters)
    days = backtest.asset_pnl["date"].cast(pa.int32())
    keep = pc.and_(pc.greater_equal(days, low if low is not None else -10**6),
                   pc.less_equal(days, high if high is not None else 10**6))
    backtest.asset_pnl = backtest.asset_pnl.filter(keep)
    expected = straddles.stats(backtest, "class", weights=results.weights(filters))
    assert view.has_pnl
    assert view.classes.summary.equals(expected.summary)
    assert view.summary["pnl"] == expected.summary["pnl"][-1].as_py()
    assert view.summary["sharpe"] == expected.summary["sharpe"][-1].as_py()
    assert view.summary["max_drawdown"] == expected.summary["max_drawdown"][-1].as_py()
    np.testing.assert_array_equal(view.cumulative["series"]["total"], expected.cumulative("pnl")[:, -1])
    assert sorted(view.backtest.assets["asset"].to_pylist()) == sorted(
        set(results.asset_names) - set(results.weights(filters)))


@pytest.mark.parametrize("filters", FILTERS, ids=repr)
def test_class_portfolio_reuses_whole_classes_bit_for_bit(results, filters):
    expected = straddles.portfolio(results.subset(filters), "class")
    shown = results.class_portfolio(filters)
    assert shown["class"].to_pylist() == expected["class"].cast(pa.string()).to_pylist()
    for name in expected.column_names[1:]:
        assert shown[name].to_pylist() == expected[name].to_pylist(), name


@pytest.mark.parametrize("filters", FILTERS, ids=repr)
def test_asset_window_is_the_daily_series_of_the_subset(results, filters):
    """The per-asset table slices one precomputed matrix; it must equal daily_series of the subset."""
    names, window = results.asset_series.window(results.selected(filters), *calendar_bounds(filters))
    expected_names, _, expected = daily_series(results.subset(filters).asset_pnl, "asset")
    assert names == expected_names
    for key, values in expected.items():
        np.testing.assert_allclose(window[key], values, rtol=1e-12, atol=1e-15, equal_nan=True)


def test_asset_table_adds_up(results):
    view = results.view(Filters(pattern="Comdty"))
    table = view.assets
    assert table.num_rows == view.backtest.assets.num_rows
    assert sum(table["pnl"].to_pylist()) == pytest.approx(view.summary["pnl"], rel=1e-12)
    assert sum(table["share_of_pnl"].to_pylist()) == pytest.approx(1.0)
    assert sum(table["share_of_risk"].to_pylist()) == pytest.approx(1.0)
    pnl = table["pnl"].to_numpy()
    assert np.all(np.diff(pnl) <= 0)  # largest contribution first
    classes = dict(zip(results.asset_names, results.asset_class))
    assert table["class"].to_pylist() == [classes[name] for name in table["asset"].to_pylist()]
    counts = results.backtest.straddles.filter(pc.is_in(results.backtest.straddles["asset"].cast(pa.string()),
                                                        table["asset"]))
    assert sum(table["straddles"].to_pylist()) == counts.num_rows


def test_column_statistics_are_the_single_series_ones():
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(300, 6))
    matrix[:40, 1] = np.nan        # active ranges of different lengths
    matrix[250:, 2] = np.nan
    matrix[:, 3] = np.abs(matrix[:, 3])  # never in drawdown
    matrix[1:, 4] = np.nan         # a single day: no Sharpe
    matrix[:, 5] = 0.25            # flat: no volatility
    sharpe, drawdown = column_sharpe(matrix), column_max_drawdown(matrix)
    for column in range(matrix.shape[1]):
        x = matrix[~np.isnan(matrix[:, column]), column]
        np.testing.assert_allclose(sharpe[column], sharpe_ratio(x), rtol=1e-12, equal_nan=True)
        assert drawdown[column] == pytest.approx(max_drawdown(x).value, rel=1e-12, abs=1e-15)


def test_date_range_keeps_whole_weekday_cells():
    saturday, sunday, monday = dt.date(2023, 3, 4), dt.date(2023, 3, 5), dt.date(2023, 3, 6)
    for start in (saturday, sunday, monday):  # each keeps the weekend before Monday 6 March
        low, _ = calendar_bounds(Filters(start=start))
        assert low == (saturday - dt.date(1970, 1, 1)).days
    friday = dt.date(2023, 3, 3)
    for end in (friday, saturday, sunday):  # the weekend belongs to the Monday after: dropped
        _, high = calendar_bounds(Filters(end=end))
        assert high == (friday - dt.date(1970, 1, 1)).days
    low, high = calendar_bounds(Filters(start=dt.date(2023, 3, 8), end=dt.date(2023, 3, 8)))
    assert low == high and weekday_index(low) == weekday_index((dt.date(2023, 3, 8) - dt.date(1970, 1, 1)).days)


def test_regex_and_match_count(results):
    assert len(results.match("")) == len(results.asset_names)
    assert all("Comdty" in results.asset_names[i] for i in results.match("Comdty"))
    with pytest.raises(StraddlesError, match="invalid regex"):
        results.match("CL(")


def test_empty_selection(results):
    view = results.view(Filters(pattern="no such asset"))
    assert not view.has_pnl and view.summary["straddles"] == 0 and view.summary["pnl"] is None
    assert view.assets.num_rows == 0 and view.monthly["years"] == [] and view.correlation["names"] == []


def test_status_counts_and_monthly(results):
    view = results.view(Filters())
    counts = {name: n for name, n, _ in view.status_counts}
    assert counts == results.backtest.status_counts()
    monthly = view.monthly
    assert np.nansum(monthly["pnl"]) == pytest.approx(view.summary["pnl"], rel=1e-12)
    assert monthly["pnl"].shape == (len(monthly["years"]), 12)


def test_cluster_order_puts_correlated_rows_together():
    matrix = np.array([[1.0, 0.0, 0.9, 0.1], [0.0, 1.0, 0.1, 0.8], [0.9, 0.1, 1.0, 0.0], [0.1, 0.8, 0.0, 1.0]])
    order = cluster_order(matrix)
    assert sorted(order) == [0, 1, 2, 3]
    assert abs(order.index(0) - order.index(2)) == 1 and abs(order.index(1) - order.index(3)) == 1
    assert cluster_order(np.full((2, 2), np.nan)) == [0, 1]


def test_drill_down_matches_the_day_table_and_explain(results, folder, example_amt_path, prices):
    """The day-by-day view is the day table's rows; its entry/expiry rules are explain's."""
    days = straddles.load_backtest(folder).days
    valued = results.asset_straddles("CL Comdty", Filters()).filter(
        pc.equal(results.backtest.straddles.filter(pc.equal(results.backtest.straddles["asset"].cast(pa.string()),
                                                            "CL Comdty"))["status"].cast(pa.string()), "valued"))
    straddle = valued.slice(3, 1).to_pylist()[0]
    expected = days.filter(pc.equal(days["straddle_id"], straddle["straddle_id"]))
    for prepared in (False, True):  # the Parquet fallback, then the memory-mapped copy
        if prepared:
            results.days.prepare()
            assert results.days.ready
        detail = results.explain(straddle["straddle_id"])
        assert detail.days.num_rows == straddle["n_days"] == expected.num_rows
        for name in ("date", "mv", "delta", "pnl"):
            assert detail.days[name].to_pylist() == expected[name].to_pylist()
    reference = explain_straddle(example_amt_path, prices, "CL Comdty", straddle["expiry_month"], straddle["schid"])
    assert (detail.entry_rule, detail.expiry_rule) == (reference.entry_rule, reference.expiry_rule)
    assert [leg for leg, _, _ in detail.legs] == [leg for leg, _, _ in reference.legs]


def test_without_a_day_table(folder_without_days):
    results = Results(folder_without_days)
    assert results.days is None
    straddle_id = results.asset_straddles("CL Comdty", Filters())["straddle_id"][0].as_py()
    detail = results.explain(straddle_id)
    assert detail.days is None and detail.entry_rule


def test_day_table_copy_is_a_checked_cache_entry(results):
    """The memory-mapped copy is keyed by content, carries its checksum, and a damaged copy is rebuilt."""
    from straddles.engine.cache import cache_dir
    from straddles.explore.days import DayTable

    results.days.prepare()
    entries = sorted(cache_dir("days").glob("*.arrow"))
    assert entries and all(entry.with_suffix(".xxh3").is_file() for entry in entries)
    straddle_id = next(row["straddle_id"] for row in results.asset_straddles("CL Comdty", Filters()).to_pylist()
                       if row["status"] == "valued")
    expected = results.days.rows(straddle_id)
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:-100] + bytes(100))  # damage every copy
    fresh = DayTable(results.days.path, results.backtest.straddles["straddle_id"].to_numpy(),
                     results.backtest.straddles["n_days"].to_numpy())
    with pytest.warns(UserWarning, match="damaged day-table cache entry"):
        fresh.prepare()
    assert fresh.ready and fresh.rows(straddle_id).equals(expected)


def test_not_a_results_folder(tmp_path, capsys):
    with pytest.raises(StraddlesError, match="not a backtest folder"):
        Results(tmp_path)
    assert main(["explore", str(tmp_path / "missing")]) == 2
    assert "not a backtest folder" in capsys.readouterr().err


def test_missing_extra_is_one_clear_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "dash", None)  # makes `import dash` raise ImportError
    with pytest.raises(StraddlesError, match=r"pip install 'straddles\[explore\]'"):
        require_dash()


def test_views_render_the_python_numbers(results):
    from straddles.explore.app import Views, build_app
    from straddles.results.units import format_pnl

    views = Views(results)
    assert views.match_count("Comdty") == f"{len(results.match('Comdty'))} of {len(results.asset_names)} assets match"
    assert "invalid regex" in views.match_count("(")
    strip, cumulative, heatmap, assets, correlation, status, status_rows = views.overview(
        "Comdty", None, None, None, None, None)
    view = results.view(Filters(pattern="Comdty"))
    values = {card.children[1].id: card.children[1].children for card in strip}
    assert values["summary-pnl"] == format_pnl(view.summary["pnl"])
    total = next(trace for trace in cumulative["data"] if trace["name"] == "total")
    np.testing.assert_array_equal(np.frombuffer(base64.b64decode(total["y"]["bdata"]), "<f8"),
                                  view.cumulative["series"]["total"])
    assert [row["asset"] for row in assets] == view.assets["asset"].to_pylist()
    title, rows = views.asset_straddles({"rowId": "CL Comdty"}, "", None, None, None, None, None)
    assert "CL Comdty" in title and rows and all(row["id"] == str(row["straddle_id"]) for row in rows)
    detail = views.straddle_detail({"rowId": rows[0]["id"]})
    assert detail and build_app(results).layout is not None


def test_the_app_never_writes_into_the_folder(folder):
    before = sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir())
    results = Results(folder)
    results.days.prepare()
    from straddles.explore.app import Views
    views = Views(results)
    views.overview("CL", None, None, None, "2023-02-01", "2024-06-30")
    views.straddle_detail({"rowId": "5"})
    after = sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir())
    assert after == before


def test_attribution_columns_are_shown_when_present(folder, tmp_path):
    """A folder from a --greeks run (SPEC 17) carries gamma_pnl, ... in asset_pnl and the day
    table: the asset table sums them per asset and the drill-down lists them."""
    import shutil

    import pyarrow.parquet as pq

    from straddles.explore.app import Views

    copy = tmp_path / "greeks"
    shutil.copytree(folder, copy)
    (copy / "manifest.json").unlink()  # files edited by hand: a folder without a manifest is taken as it is
    for name in ("asset_pnl.parquet", "days.parquet"):
        table = pq.read_table(copy / name)
        pnl = table["pnl"].to_numpy(zero_copy_only=False)
        for column, share in (("gamma_pnl", 0.5), ("theta_pnl", -0.25), ("vega_pnl", 0.5), ("resid_pnl", 0.25)):
            table = table.append_column(column, pa.array(pnl * share))
        pq.write_table(table, copy / name)
    results = Results(copy)
    assert results.extra_columns == ("gamma_pnl", "theta_pnl", "vega_pnl", "resid_pnl")
    assets = results.view(Filters(pattern="Comdty")).assets
    np.testing.assert_allclose(assets["gamma_pnl"].to_numpy(), assets["pnl"].to_numpy() * 0.5, rtol=1e-9, atol=1e-15)
    straddle_id = next(row["straddle_id"] for row in results.asset_straddles("CL Comdty", Filters()).to_pylist()
                       if row["status"] == "valued")
    detail = Views(results).straddle_detail({"rowId": str(straddle_id)})
    days_table = next(part for part in detail if getattr(part, "id", None) == "days-table")
    assert {"gamma_pnl", "resid_pnl"} <= {column["field"] for column in days_table.columnDefs}


def test_schedule_entry_filter_sums_the_day_table(results):
    """All entries selected gives asset_pnl back (summed in another order); one entry keeps only
    its straddles' weighted day P&L (SPEC 13.3 restricted to them)."""
    every = results.subset(Filters(entries=tuple(results.entries())), straddles=False).asset_pnl
    plain = results.backtest.asset_pnl
    assert every.num_rows == plain.num_rows
    assert every["asset"].cast(pa.string()).to_pylist() == plain["asset"].cast(pa.string()).to_pylist()
    assert every["date"].to_pylist() == plain["date"].to_pylist()
    assert every["n_straddles"].to_pylist() == plain["n_straddles"].to_pylist()
    for name in ("pnl", "opnl", "hpnl"):
        np.testing.assert_allclose(every[name].to_numpy(), plain[name].to_numpy(), rtol=1e-9, atol=1e-15)

    filters = Filters(pattern="^CL Comdty$", entries=(1,))
    view = results.view(filters)
    straddles_ = results.backtest.straddles
    chosen = straddles_.filter(pc.and_(pc.equal(straddles_["asset"].cast(pa.string()), "CL Comdty"),
                                       pc.equal(straddles_["schid"], 1)))
    expected = float(np.nansum(chosen["pnl_sum"].to_numpy(zero_copy_only=False) * chosen["weight"].to_numpy()))
    assert view.summary["pnl"] == pytest.approx(expected, rel=1e-9)
    assert view.summary["straddles"] == chosen.num_rows
    assert set(results.asset_straddles("CL Comdty", filters)["schid"].to_pylist()) == {1}


def test_schedule_entry_filter_needs_the_day_table(folder_without_days):
    with pytest.raises(StraddlesError, match="needs the day table"):
        Results(folder_without_days).view(Filters(entries=(1,)))


def test_asset_pnl_in_any_row_order(folder, tmp_path):
    """A folder written by another tool may order asset_pnl differently: the views are the same."""
    import shutil

    import pyarrow.parquet as pq

    copy = tmp_path / "shuffled"
    shutil.copytree(folder, copy)
    (copy / "manifest.json").unlink()  # files edited by hand: a folder without a manifest is taken as it is
    table = pq.read_table(copy / "asset_pnl.parquet")
    pq.write_table(table.take(np.random.default_rng(0).permutation(table.num_rows)), copy / "asset_pnl.parquet")
    filters = Filters(pattern="Comdty", start=dt.date(2023, 5, 1))
    shuffled, original = Results(copy).view(filters), Results(folder).view(filters)
    assert shuffled.summary == original.summary
    assert shuffled.assets.equals(original.assets)


def test_cli_binds_to_this_machine_by_default():
    from straddles.cli import build_parser

    args = build_parser().parse_args(["explore", "results"])
    assert (args.host, args.port) == ("127.0.0.1", 8050)


# --- the strategy tab (STRATEGY S7 names through one StrategyContext) --------------------------

import dash  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from straddles.explore.app import STRATEGY_NUMBERS, Views, build_app  # noqa: E402
from straddles.explore.strategy import DEFAULT_SPEC, NO_CUBE, Strategies, read_sweep, sweep_for  # noqa: E402

SPECS = [DEFAULT_SPEC, "wpnl:rsi+streak:rank:std:abs:h", "npnl:mac.180.30:grank:none:none:gah"]


@pytest.fixture(scope="module")
def strategies(results):
    return Strategies(results.backtest)


@pytest.mark.parametrize("spec", SPECS)
def test_strategy_view_equals_the_python_api(strategies, folder, spec):
    """SPEC-S7: the tab's numbers are straddles.strategy(folder, spec)'s, through the shared context."""
    view = strategies.run(spec)
    expected = straddles.strategy(folder, spec)
    assert view.name == expected.name
    assert view.summary == pytest.approx(expected.summary(), rel=1e-12, abs=1e-12, nan_ok=True)
    np.testing.assert_array_equal(view.dates, expected.pnl["date"].cast(pa.int32()).to_numpy())
    for column in ("pnl", "pnl_long", "pnl_short"):
        np.testing.assert_allclose(view.cumulative_bps[column], np.cumsum(expected.pnl[column].to_numpy()) * 1e4,
                                   rtol=1e-12, atol=1e-9)
    assert view.cumulative_bps["pnl"][-1] != 0


def test_strategy_options_reach_the_strategy(strategies, folder):
    """Inception, AMT multipliers, lag and leverage are passed as straddles.strategy's arguments (S1.6, S5)."""
    options = dict(inception="month_start", amt_multipliers=True, lag=2, leverage=3.0)
    view = strategies.run(DEFAULT_SPEC, **options)
    expected = straddles.strategy(folder, DEFAULT_SPEC, **options)
    assert view.summary == pytest.approx(expected.summary(), rel=1e-12, abs=1e-12, nan_ok=True)
    assert view.summary != strategies.run(DEFAULT_SPEC).summary


def test_strategy_tab_shows_a_bad_spec_as_one_line(results, strategies):
    views = Views(results, strategies)
    for spec, lag in (("garbage", 0), ("npnl:nosuch:rank:ivol:none:h", 0), (DEFAULT_SPEC, -1), (DEFAULT_SPEC, 1.5)):
        error, cards, figure = views.strategy(spec, "entry", [], lag, None)
        assert error.startswith("strategy: ") and "\n" not in error
        assert cards is dash.no_update and figure is dash.no_update
    error, cards, figure = views.strategy(DEFAULT_SPEC, "entry", [], None, "")
    summary = strategies.run(DEFAULT_SPEC).summary
    assert error == ""
    assert [card.children[1].children for card in cards] == [fmt(summary[key]) for key, _, fmt in STRATEGY_NUMBERS]
    book = next(trace for trace in figure["data"] if trace["name"] == "book")
    assert np.frombuffer(base64.b64decode(book["y"]["bdata"]))[-1] == pytest.approx(
        strategies.run(DEFAULT_SPEC).cumulative_bps["pnl"][-1], rel=1e-15)


def test_sweep_table_default_and_override(results, folder, tmp_path):
    """The folder's sweep.parquet by default, --sweep FILE instead; a row click opens its strategy."""
    assert sweep_for(folder, None) is None
    table = straddles.sweep(folder, ["npnl:mac.180.30:rank:ivol:none:h", "npnl:rsi:rank:ivol:none:h"])
    path = tmp_path / "mine.parquet"
    pq.write_table(table, path)
    strategies = Strategies(results.backtest, sweep_for(folder, path))
    best = table["name"][int(np.argmax(table["sharpe"].to_numpy()))].as_py()
    assert strategies.default_spec() == best
    views = Views(results, strategies)
    assert views.sweep_pick({"rowId": best}) == best
    assert "sweep-table" in str(build_app(results, strategies).layout)
    pq.write_table(pa.table({"x": [1]}), tmp_path / "bad.parquet")
    with pytest.raises(StraddlesError, match="bad.parquet: a sweep file needs a 'name' column"):
        read_sweep(tmp_path / "bad.parquet")


def test_folder_without_cube_says_so(example_amt_path, prices, tmp_path):
    straddles.backtest(example_amt_path, prices, 2023, 2024, days=False, cohorts=False).write(tmp_path)
    assert not (tmp_path / "cohorts.arrow").exists()
    results = Results(tmp_path)
    strategies = Strategies(results.backtest)
    assert strategies.unavailable == NO_CUBE
    with pytest.raises(StraddlesError, match="cohorts.arrow"):
        strategies.run(DEFAULT_SPEC)
    layout = str(build_app(results).layout)
    assert "strategy-unavailable" in layout and "strategy-spec" not in layout
