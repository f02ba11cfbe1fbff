"""The public backtest: outputs (SPEC 13), aggregation (SPEC-E21), determinism and atomic writing."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import straddles
from conftest import write_amt
from straddles.engine import outputs
from straddles.engine.pipeline import ASSET_PNL_FILE, DAYS_FILE, STRADDLE_COLUMNS, STRADDLES_FILE, load_backtest
from straddles.errors import StraddlesError
from straddles.synth import synthesize


@pytest.fixture(scope="module")
def example_prices(example_amt_path):
    return synthesize(example_amt_path, 2023, 2024, seed=3)


@pytest.fixture(scope="module")
def example_run(example_amt_path, example_prices):
    return straddles.backtest(example_amt_path, example_prices, 2023, 2024)


def test_straddle_table_schema_spec_13_1(example_run):
    table = example_run.straddles
    assert table.column_names[:len(STRADDLE_COLUMNS)] == list(STRADDLE_COLUMNS)
    types = {f.name: f.type for f in table.schema}
    assert types["straddle_id"] == pa.int64() and types["schid"] == pa.int8() and types["n_days"] == pa.int32()
    for name in ("entry_anchor", "expiry_anchor", "entry_date", "expiry_date"):
        assert types[name] == pa.date32()
    for name in ("weight", "strike", "strike_vol", "pnl_sum"):
        assert types[name] == pa.float64()
    for name in ("asset", "class", "group", "status", "ntrc", "vol_ticker"):
        assert pa.types.is_dictionary(types[name])
    for name in ("strike", "pnl_sum"):  # missing is null, never NaN (SPEC 1.2)
        assert not pc.any(pc.is_nan(table[name])).as_py()


def test_status_and_dates_rules_spec_13_1(example_run):
    table = example_run.straddles
    valued = table.filter(pc.equal(table["status"], "valued"))
    assert valued.num_rows > 0
    assert valued["entry_date"].null_count == valued["expiry_date"].null_count == valued["pnl_sum"].null_count == 0
    assert pc.all(pc.less(valued["entry_date"], valued["expiry_date"])).as_py()  # SPEC 6.4
    not_valued = table.filter(pc.not_equal(table["status"], "valued"))
    assert pc.all(pc.equal(not_valued["n_days"], 0)).as_py() and not_valued["pnl_sum"].null_count == not_valued.num_rows
    model_rows = table.filter(pc.equal(table["status"], "unsupported_model"))
    assert model_rows["entry_date"].null_count < model_rows.num_rows  # dates still reported (SPEC 11.1)


def test_day_table_spec_13_2(example_run):
    days, table = example_run.days, example_run.straddles
    assert days.column_names == ["straddle_id", "date", "dte", "vol", "hedge", "hedge1", "hedge2", "hedge3", "hedge4",
                                 "mv", "delta", "opnl", "hpnl", "pnl"]
    assert days.num_rows == pc.sum(table["n_days"]).as_py()
    expected = pc.sum(pc.add(pc.subtract(table["expiry_date"].cast(pa.int32()), table["entry_date"].cast(pa.int32())),
                             1).filter(pc.equal(table["status"], "valued"))).as_py()
    assert days.num_rows == expected
    ids, dates = days["straddle_id"].to_numpy(), days["date"].cast(pa.int32()).to_numpy()
    assert np.all((np.diff(ids) > 0) | ((np.diff(ids) == 0) & (np.diff(dates) == 1)))  # sorted, consecutive days
    hpnl = days["hpnl"].to_numpy(zero_copy_only=False)
    assert not np.any((hpnl == 0) & np.signbit(hpnl))  # +0.0, never -0.0 (SPEC 12.5)
    per_straddle = days.group_by("straddle_id").aggregate([("pnl", "sum")])
    sums = dict(zip(per_straddle["straddle_id"].to_pylist(), per_straddle["pnl_sum"].to_pylist()))
    for sid, pnl_sum in zip(table["straddle_id"].to_pylist(), table["pnl_sum"].to_pylist()):
        if pnl_sum is not None:
            assert pnl_sum == pytest.approx(sums[sid], abs=1e-12)


def test_asset_pnl_is_weighted_sum_of_day_pnl_spec_13_3(example_run):
    days = example_run.days.filter(example_run.days["pnl"].is_valid())
    straddles_ = example_run.straddles
    weight = straddles_["weight"].to_numpy()[days["straddle_id"].to_numpy()]
    asset = straddles_["asset"].cast(pa.string()).to_numpy(zero_copy_only=False)[days["straddle_id"].to_numpy()]
    joined = pa.table({"asset": asset, "date": days["date"], "wpnl": days["pnl"].to_numpy() * weight,
                       "wopnl": days["opnl"].to_numpy() * weight})
    expected = joined.group_by(["asset", "date"]).aggregate([("wpnl", "sum"), ("wopnl", "sum"), ("wpnl", "count")])
    expected = {(a, d): (p, o, n) for a, d, p, o, n in zip(*(expected[c].to_pylist() for c in
                ("asset", "date", "wpnl_sum", "wopnl_sum", "wpnl_count")))}
    got = example_run.asset_pnl
    assert got.num_rows == len(expected)
    for a, d, p, o, h, n in zip(*(got[c].to_pylist() for c in ("asset", "date", "pnl", "opnl", "hpnl", "n_straddles"))):
        ep, eo, en = expected[a, d]
        assert (p, o, n) == (pytest.approx(ep, abs=1e-12), pytest.approx(eo, abs=1e-12), en)
        assert p == pytest.approx(o + h, abs=1e-12)


def test_grid_windows_span_each_assets_straddles_spec_13_3():
    """The aggregation grid holds, per asset, one cell per day of its straddles' spans; nothing else."""
    from straddles.engine.kernel import grid_windows

    offsets, first_day = grid_windows(np.array([2, 0, 2]), np.array([10, 5, 30]), np.array([20, 6, 40]), n_assets=4)
    assert offsets.tolist() == [0, 2, 2, 33, 33]  # assets 1 and 3 have no straddles: empty windows
    assert first_day[0] == 5 and first_day[2] == 10


def test_aggregation_weights_spec_e21(tmp_path):
    """SPEC-E21: asset pnl = 0.333*pnl1 + 0.125*pnl2 on a shared date; wgt "" counts as 1.0."""
    path = write_amt(tmp_path, """expiry_schedules:
  s: [N0_BD1_33.3, N5_BD1_12.5, N10_BD1]
amt:
  A:
    Underlying: A US Equity
    Class: SingleStock
    Vol: {Source: BBG, Ticker: A US Equity, Near: V30, Far: V60}
    Hedge: {Source: nonfut, Ticker: A US Equity, Field: PX_LAST}
    Options: s
    WeightCap: 1
    Valuation: {Model: ES}
""")
    result = straddles.backtest(path, synthesize(path, 2024, 2024, seed=1), 2024, 2024)
    days, asset_pnl = result.days, result.asset_pnl
    june = [sid for sid, m in zip(result.straddles["straddle_id"].to_pylist(),
                                  result.straddles["expiry_month"].to_pylist()) if m == "2024-06"]
    # the day after the last of the three entries: all three are alive, July's straddles not yet
    date = days.filter(pc.equal(days["straddle_id"], june[2]))["date"][1].as_py()
    pnl = {sid: days.filter(pc.and_(pc.equal(days["straddle_id"], sid), pc.equal(days["date"], date)))["pnl"][0].as_py()
           for sid in june}
    row = asset_pnl.filter(pc.equal(asset_pnl["date"], date)).to_pylist()[0]
    assert row["n_straddles"] == 3
    assert row["pnl"] == pytest.approx(0.333 * pnl[june[0]] + 0.125 * pnl[june[1]] + 1.0 * pnl[june[2]], abs=1e-15)
    assert result.straddles["weight"].to_pylist()[:3] == [float("33.3") / 100, 0.125, 1.0]  # SPEC 3.5


def test_totals_by_class_group_portfolio_spec_13_3(example_run):
    portfolio = example_run.totals("portfolio")
    by_class = example_run.totals("class")
    assert portfolio.column_names == ["date", "pnl", "opnl", "hpnl", "n_assets"]
    assert by_class.column_names == ["class", "date", "pnl", "opnl", "hpnl", "n_assets"]
    assert pc.sum(portfolio["pnl"]).as_py() == pytest.approx(pc.sum(example_run.asset_pnl["pnl"]).as_py(), abs=1e-10)
    assert pc.sum(by_class["pnl"]).as_py() == pytest.approx(pc.sum(portfolio["pnl"]).as_py(), abs=1e-10)
    assert pc.sum(portfolio["n_assets"]).as_py() == example_run.asset_pnl.num_rows
    with pytest.raises(ValueError, match="by must be one of"):
        example_run.totals("sector")


def test_days_false_keeps_straddles_and_asset_pnl(example_amt_path, example_prices, example_run):
    lean = straddles.backtest(example_amt_path, example_prices, 2023, 2024, days=False)
    assert lean.days is None
    assert lean.straddles.equals(example_run.straddles)
    assert lean.asset_pnl.equals(example_run.asset_pnl)


def test_results_do_not_depend_on_thread_count(example_amt_path, example_prices, example_run):
    """SPEC 4.3: same order and, by the unit plan in kernel.py, bit-identical sums for any thread count."""
    import numba
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        single = straddles.backtest(example_amt_path, example_prices, 2023, 2024)
    finally:
        numba.set_num_threads(threads)
    assert single.straddles.equals(example_run.straddles)
    assert single.days.equals(example_run.days)
    assert single.asset_pnl.equals(example_run.asset_pnl)


def test_write_and_load_roundtrip(example_run, tmp_path):
    written = example_run.write(tmp_path / "out")
    assert {p.name for p in written} == {STRADDLES_FILE, DAYS_FILE, ASSET_PNL_FILE, "assets.parquet", "cohorts.arrow"}
    loaded = load_backtest(tmp_path / "out")
    assert loaded.straddles.equals(example_run.straddles) and loaded.days.equals(example_run.days)
    assert loaded.cohorts.to_arrow().equals(example_run.cohorts.to_arrow())
    assert loaded.asset_pnl.equals(example_run.asset_pnl)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_failed_write_leaves_no_files(example_run, tmp_path, monkeypatch):
    calls = []

    def failing_writer(table):
        def write(target):
            calls.append(target)
            if len(calls) == 2:
                raise OSError("disk full")
            target.write_bytes(b"partial")
        return write

    monkeypatch.setattr("straddles.engine.pipeline.parquet_writer", failing_writer)
    with pytest.raises(OSError, match="disk full"):
        example_run.write(tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_writing_without_days_removes_a_stale_day_table(example_amt_path, example_prices, example_run, tmp_path):
    example_run.write(tmp_path)
    straddles.backtest(example_amt_path, example_prices, 2023, 2024, days=False).write(tmp_path)
    assert not (tmp_path / DAYS_FILE).exists()
    assert load_backtest(tmp_path).days is None


def test_load_backtest_names_missing_files(tmp_path):
    with pytest.raises(StraddlesError, match="not a backtest folder"):
        load_backtest(tmp_path)


def test_legs_table_spec_13_2(example_run):
    legs = example_run.legs()
    assert legs.column_names == ["straddle_id", "leg", "ticker", "field"]
    swap = example_run.straddles.filter(pc.equal(example_run.straddles["asset"], "USSWAP10 Curncy"))
    sid = swap["straddle_id"][0].as_py()
    rows = legs.filter(pc.equal(legs["straddle_id"], sid)).to_pylist()
    assert [r["leg"] for r in rows] == ["vol", "hedge1", "hedge2", "hedge3", "hedge4"]
    assert rows[1]["ticker"] == "USD_fsw0m_10" and rows[1]["field"] == ""


def test_csv_output_decodes_dictionaries(example_run, tmp_path):
    path = outputs.write_table(example_run.straddles.slice(0, 10), tmp_path / "s.csv")
    assert path.read_text().splitlines()[0].startswith('"straddle_id","asset"')


def test_real_amt_one_year_end_to_end(real_amt):
    """The real 189-asset file for one expiry year with synthetic prices: E23-type statuses hold and
    almost everything else is valued."""
    prices = synthesize(real_amt, 2024, 2024, seed=0)
    result = straddles.backtest(real_amt, prices, 2024, 2024, days=False)
    counts = result.status_counts()
    assert result.straddles.num_rows == 8_892
    assert counts["no_legs"] == 72
    assert counts["valued"] > 8_000
    assert result.asset_pnl["asset"].unique().to_pylist() and result.days is None


def test_streamed_day_table_equals_the_materialized_one(example_amt_path, example_prices, example_run, tmp_path):
    """backtest(out=...) streams days to Parquet chunk by chunk; the file holds the same table."""
    streamed = straddles.backtest(example_amt_path, example_prices, 2023, 2024, out=tmp_path)
    assert streamed.days is None and streamed.straddles.equals(example_run.straddles)
    assert load_backtest(tmp_path).days.equals(example_run.days)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_day_sink_chunks_reassemble_the_day_table(example_amt_path, example_prices, example_run):
    from straddles.engine.kernel import run_kernel
    from straddles.engine.pipeline import days_table
    from straddles.engine.prices import PriceStore

    frame = straddles.build_straddles(example_amt_path, 2023, 2024)
    chunks = []
    # a chunk's arrays are reused for the next chunk, so a sink that keeps them must copy
    keep = lambda chunk: chunks.append(days_table({name: array.copy() for name, array in chunk.items()}))  # noqa
    result = run_kernel(frame, PriceStore.from_arrow(example_prices), day_sink=keep, chunk_rows=1000)
    assert len(chunks) == 2  # one expiry year per chunk: each year alone exceeds 1,000 rows
    assert pa.concat_tables(chunks).equals(example_run.days)
    assert result.days is None


def test_day_sink_chunk_stays_intact_until_the_next_call(example_amt_path):
    """Two day buffers alternate: a sink may defer reading a chunk until its next call."""
    from straddles.engine.kernel import run_kernel
    from straddles.engine.pipeline import days_table
    from straddles.engine.prices import PriceStore

    frame = straddles.build_straddles(example_amt_path, 2022, 2024)
    store = PriceStore.from_arrow(synthesize(example_amt_path, 2022, 2024, seed=5))
    tables, previous = [], []

    def deferred(chunk):  # converts the previous chunk only now, as a writer thread would
        if previous:
            tables.append(days_table({name: array.copy() for name, array in previous.pop().items()}))
        previous.append(chunk)

    run_kernel(frame, store, day_sink=deferred, chunk_rows=1000)
    tables.append(days_table(previous.pop()))
    assert len(tables) == 3  # one chunk per expiry year: both buffers are reused
    assert pa.concat_tables(tables).equals(days_table(run_kernel(frame, store, days=True).days))


def test_failed_day_write_on_the_writer_thread_fails_the_run(example_amt_path, example_prices, tmp_path,
                                                             monkeypatch):
    """The day table is written on a writer thread; its error surfaces in the run and no file is left."""
    def broken(chunk):
        raise OSError("disk full")

    monkeypatch.setattr("straddles.engine.pipeline.days_table", broken)
    with pytest.raises(OSError, match="disk full"):
        straddles.backtest(example_amt_path, example_prices, 2023, 2024, out=tmp_path / "out")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_failed_streamed_run_leaves_no_files(example_amt_path, example_prices, tmp_path, monkeypatch):
    def broken(frame, result):
        raise RuntimeError("boom")

    monkeypatch.setattr("straddles.engine.pipeline.asset_pnl_table", broken)
    with pytest.raises(RuntimeError, match="boom"):
        straddles.backtest(example_amt_path, example_prices, 2023, 2024, out=tmp_path / "out")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
