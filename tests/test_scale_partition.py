"""Partitioned backtests on Dask (straddles.scale): identical to in-process runs (SPEC 4.3, 13).

The cluster tests run on a LocalCluster of two single-threaded worker processes, as issue 12
asks; they are skipped when Dask distributed is not installed (it is in the ``test`` extra).
"""

from __future__ import annotations

import filecmp
import json
import functools
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import straddles
from straddles.engine.outputs import MANIFEST_FILE
from straddles.engine.pipeline import ASSET_PNL_FILE, ASSETS_FILE, COHORTS_FILE, DAYS_FILE, STRADDLES_FILE
from straddles.engine.prices import load_price_series, load_prices
from straddles.engine.straddle_table import build_straddles
from straddles.errors import StraddlesError
from straddles.scale import executor, partition
from straddles.strategies.cube import Cohorts
from straddles.synth import synthesize

OUTPUT_FILES = (STRADDLES_FILE, DAYS_FILE, ASSET_PNL_FILE, ASSETS_FILE, COHORTS_FILE)
REAL_SLICE = "Comdty|EURUSD|AUDCHF|SPY|KOSPI2|IBOXUMAE|EUR5Y5Y|USSW"


# -- without a cluster ---------------------------------------------------------------------------


def test_part_files_are_removed_while_a_cancelled_task_still_writes(tmp_path):
    """A task cancelled after another failed keeps running on its worker and may create part files
    while the folder is being removed: the removal must still leave nothing behind."""
    parts_dir = tmp_path / ".parts-x"
    parts_dir.mkdir()
    (parts_dir / "part-00000.parquet").write_bytes(b"x")
    stop = threading.Event()

    def late_task():
        number = 1
        while not stop.is_set():
            try:
                (parts_dir / f"part-{number:05d}.parquet").write_bytes(b"x")
            except FileNotFoundError:  # the folder is gone: nothing can be written any more
                return
            number += 1

    writer = threading.Thread(target=late_task)
    writer.start()
    try:
        time.sleep(0.02)
        partition._remove_parts(parts_dir)
    finally:
        stop.set()
        writer.join()
    assert list(tmp_path.iterdir()) == []



def test_slices_with_global_ids_reproduce_the_full_table_spec_4_3(real_amt):
    """Each slice's rows, numbered with global_ids, are exactly the full table's rows at those ids."""
    full_frame = build_straddles(real_amt, 2023, 2024, pattern=REAL_SLICE)
    full = full_frame.to_arrow()
    parts = partition.plan_parts(full_frame, 2023, 2024, days=False, parts_dir=None, target=50_000)
    assert len(parts) > 3
    assert sum(len(part.assets) for part in parts) == len(full_frame.assets)
    assert sum(part.templates for part in parts) == len(full_frame.templates)
    seen = []
    for part in parts:
        frame = build_straddles(real_amt, 2023, 2024, overrides=full_frame.overrides, assets=part.assets)
        ids = partition.global_ids(len(frame), part.templates, part.first_template, part.n_templates)
        local, expected = frame.to_arrow(), full.take(pa.array(ids))
        for name in ("asset", "straddle", "status", "entry_anchor", "expiry_anchor", "vol_ticker", "hedge_ticker"):
            assert _plain(local[name]).equals(_plain(expected[name])), name
        seen.append(ids)
    assert np.array_equal(np.sort(np.concatenate(seen)), np.arange(len(full_frame)))


def _plain(column):
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def test_price_series_hold_the_full_stores_series_spec_9(tmp_path, example_amt_path):
    path = straddles.write_prices(synthesize(example_amt_path, 2024, 2024, seed=2), tmp_path / "p.parquet")
    full = load_prices(path, cache=False)
    tickers = sorted(set(full.tickers))[::3]
    from_parquet = load_price_series(path, tickers, cache=False)
    assert set(from_parquet.tickers) == set(tickers)  # a filtered read: those tickers only
    assert load_price_series(full, tickers) is full
    load_prices(path)  # writes the memory-mapped cache
    from_cache = load_price_series(path, tickers)
    assert from_cache.cache_path is not None  # the memory-mapped store, not a copy
    for store in (from_parquet, from_cache):
        for ticker, field in zip(full.tickers, full.fields):
            if ticker in tickers:
                for got, expected in zip(store.series(ticker, field), full.series(ticker, field)):
                    assert np.array_equal(got, expected)


def test_missing_dask_names_the_extra(monkeypatch, example_amt_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(StraddlesError, match=r"pip install 'straddles\[dask\]'"):
        straddles.backtest(example_amt_path, "prices.parquet", 2024, 2024, scheduler="local:2")


@pytest.mark.parametrize("scheduler", ["local:0", "local:x", 3])
def test_bad_scheduler_is_a_user_error(scheduler):
    pytest.importorskip("distributed")
    with pytest.raises(StraddlesError, match="scheduler"):
        with executor.dask_client(scheduler):
            pass


# -- on a LocalCluster of two worker processes -------------------------------------------------


@pytest.fixture(scope="module")
def client(dask_client):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the killer task below runs on workers
    yield dask_client
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def example_prices(tmp_path_factory, example_amt_path):
    path = tmp_path_factory.mktemp("prices") / "example.parquet"
    return straddles.write_prices(synthesize(example_amt_path, 2021, 2024, seed=5), path)


@pytest.fixture
def small_tasks(monkeypatch):
    """Several tasks even on the small example universe."""
    monkeypatch.setattr(partition, "TASK_STRADDLE_DAYS", 20_000)
    monkeypatch.setattr(partition, "TASK_STRADDLE_DAYS_WITH_DAY_TABLE", 20_000)


def assert_same_folders(expected: Path, got: Path, files=OUTPUT_FILES) -> None:
    # no parts or temporary files left; the manifest differs only by its run id and time
    assert sorted(p.name for p in got.iterdir()) == sorted(p.name for p in expected.iterdir())
    assert sorted(json.loads((got / MANIFEST_FILE).read_text())["files"]) == sorted(files)
    for name in files:
        if name == COHORTS_FILE:
            assert Cohorts.read(got / name).to_arrow().equals(Cohorts.read(expected / name).to_arrow())
        else:
            assert pq.read_table(got / name).equals(pq.read_table(expected / name)), name
        assert filecmp.cmp(expected / name, got / name, shallow=False), f"{name} differs in bytes"


def test_partitioned_example_writes_the_same_files(client, small_tasks, example_amt_path, example_prices, tmp_path):
    expected = straddles.backtest(example_amt_path, example_prices, 2021, 2024, out=tmp_path / "one")
    got = straddles.backtest(example_amt_path, example_prices, 2021, 2024, out=tmp_path / "dask", scheduler=client)
    assert got.timings["tasks"] > 0
    assert_same_folders(tmp_path / "one", tmp_path / "dask")
    assert got.straddles.equals(expected.straddles) and got.asset_pnl.equals(expected.asset_pnl)
    assert_same_cohorts(expected.cohorts, got.cohorts)


def assert_same_cohorts(expected, got) -> None:
    """STRATEGY S1.5: the merged cube is the single-process cube, array for array, bit for bit."""
    assert len(got) == len(expected) > 0 and len(set(got.asset.tolist())) > 1
    for name in ("asset", "entry", "length", "offset", "day_offset", "day_first", "day_count"):
        assert np.array_equal(getattr(got, name), getattr(expected, name)), name
        assert getattr(got, name).dtype == getattr(expected, name).dtype, name
    assert list(got.columns) == list(expected.columns)
    for name, values in expected.columns.items():
        assert np.array_equal(got.columns[name].view(np.int64), values.view(np.int64)), name
    for name, values in expected.days.items():
        assert np.array_equal(got.days[name].view(np.int64), values.view(np.int64)), name
    assert got.settings == expected.settings and got.settings["signal_table"] is not None
    assert got.to_arrow().equals(expected.to_arrow())


def test_partitioned_example_in_memory_and_without_days(client, small_tasks, example_amt_path, example_prices,
                                                         tmp_path):
    expected = straddles.backtest(example_amt_path, example_prices, 2021, 2024)
    got = straddles.backtest(example_amt_path, example_prices, 2021, 2024, scheduler=client)
    for name in ("straddles", "days", "asset_pnl", "assets"):
        assert getattr(got, name).equals(getattr(expected, name)), name
    assert_same_cohorts(expected.cohorts, got.cohorts)
    straddles.backtest(example_amt_path, example_prices, 2021, 2024, days=False, out=tmp_path / "one")
    got = straddles.backtest(example_amt_path, example_prices, 2021, 2024, days=False, out=tmp_path / "dask",
                             scheduler=client)
    assert_same_folders(tmp_path / "one", tmp_path / "dask", (STRADDLES_FILE, ASSET_PNL_FILE, ASSETS_FILE,
                                                              COHORTS_FILE))
    assert_same_cohorts(expected.cohorts, got.cohorts)


def test_partitioned_without_cohorts_writes_no_cube(client, small_tasks, example_amt_path, example_prices, tmp_path):
    for days in (True, False):
        straddles.backtest(example_amt_path, example_prices, 2021, 2024, days=days, cohorts=False,
                           out=tmp_path / f"one{days}")
        got = straddles.backtest(example_amt_path, example_prices, 2021, 2024, days=days, cohorts=False,
                                 out=tmp_path / f"dask{days}", scheduler=client)
        assert got.cohorts is None
        files = (STRADDLES_FILE, ASSET_PNL_FILE, ASSETS_FILE) + ((DAYS_FILE,) if days else ())
        assert_same_folders(tmp_path / f"one{days}", tmp_path / f"dask{days}", files)
    got = straddles.backtest(example_amt_path, example_prices, 2021, 2024, cohorts=False, scheduler=client)
    assert got.cohorts is None and got.days is not None


def test_partitioned_real_amt_slice_writes_the_same_files(client, small_tasks, real_amt_path, tmp_path):
    prices = straddles.write_prices(synthesize(real_amt_path, 2022, 2024, seed=1, pattern=REAL_SLICE),
                                    tmp_path / "prices.parquet")
    straddles.backtest(real_amt_path, prices, 2022, 2024, pattern=REAL_SLICE, out=tmp_path / "one")
    got = straddles.backtest(real_amt_path, prices, 2022, 2024, pattern=REAL_SLICE, out=tmp_path / "dask",
                             scheduler=client)
    assert got.status_counts()["valued"] > 1000
    assert_same_folders(tmp_path / "one", tmp_path / "dask")


def _dies_once(part, marker: str, **kwargs):
    """A task that kills its own worker process the first time it runs part 1."""
    if part.number == 1 and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)
    return partition.run_part(part, **kwargs)


def test_killed_worker_is_retried_and_the_result_is_identical(client, small_tasks, monkeypatch, example_amt_path,
                                                              example_prices, tmp_path):
    marker = tmp_path / "killed"
    monkeypatch.setattr(partition, "run_part", functools.partial(_dies_once, marker=str(marker)))
    straddles.backtest(example_amt_path, example_prices, 2021, 2024, out=tmp_path / "one")
    straddles.backtest(example_amt_path, example_prices, 2021, 2024, out=tmp_path / "dask", scheduler=client)
    assert marker.exists()  # the worker did die once
    assert_same_folders(tmp_path / "one", tmp_path / "dask")


def _fails(part, **kwargs):
    if part.number == 1:
        raise StraddlesError("part 1 failed")
    return partition.run_part(part, **kwargs)


def test_failed_task_leaves_no_output_files(client, small_tasks, monkeypatch, example_amt_path, example_prices,
                                            tmp_path):
    monkeypatch.setattr(partition, "run_part", _fails)
    out = tmp_path / "dask"
    with pytest.raises(StraddlesError, match="part 1 failed"):
        straddles.backtest(example_amt_path, example_prices, 2021, 2024, out=out, scheduler=client)
    assert list(out.iterdir()) == []  # no output, no parts


def test_bad_prices_fail_with_the_price_error(client, example_amt_path, example_prices, tmp_path):
    table = pq.read_table(example_prices)  # a conflicting duplicate (SPEC 9.4)
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.concat_tables([table, table.slice(0, 1).set_column(3, "value", pa.array([-1.0]))]), path)
    with pytest.raises(StraddlesError, match="conflicting duplicate"):
        straddles.backtest(example_amt_path, path, 2021, 2024, out=tmp_path / "dask", scheduler=client)
    assert list((tmp_path / "dask").iterdir()) == []


def test_in_memory_prices_are_refused(client, example_amt_path):
    with pytest.raises(StraddlesError, match="prices must be a path"):
        straddles.backtest(example_amt_path, synthesize(example_amt_path, 2024, 2024), 2024, 2024, scheduler=client)


def test_local_scheduler_starts_and_closes_its_own_cluster(example_amt_path, example_prices):
    pytest.importorskip("distributed")
    expected = straddles.backtest(example_amt_path, example_prices, 2024, 2024, days=False)
    got = straddles.backtest(example_amt_path, example_prices, 2024, 2024, days=False, scheduler="local:1")
    assert got.straddles.equals(expected.straddles) and got.asset_pnl.equals(expected.asset_pnl)


def test_part2_options_are_refused_on_a_scheduler_until_partitioned(example_amt_path):
    with pytest.raises(StraddlesError, match="does not support expiry_basis, greeks yet"):
        partition.partitioned_backtest(None, example_amt_path, "prices.parquet", 2024, 2024,
                                       expiry_basis="anchor", greeks=True)
