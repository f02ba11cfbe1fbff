"""The cohort cube (STRATEGY S1.3-S1.5) against the direct sum over day rows, on random backtests."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import straddles
from random_cases import random_case
from straddles.engine import status as st
from straddles.engine.kernel import KernelOptions, run_kernel
from straddles.engine.legs import LEG_NAMES
from straddles.engine.pipeline import COHORTS_FILE, days_table, straddle_table
from straddles.engine.prices import PriceStore
from straddles.errors import StrategyError
from straddles.strategies import nb
from straddles.strategies import reference as ref
from straddles.strategies.context import StrategyContext
from straddles.strategies.cube import CohortBuilder, Cohorts, base_matrices, books, many_books
from straddles.synth import synthesize

TOLERANCE = 1e-12


def _spec_s1_cube() -> Cohorts:
    """Two straddles of one asset: w 0.25 entered day 2, w 0.5 entered day 4 (days 1..6 = 101..106)."""
    builder = CohortBuilder(asset=np.array([0, 0]), weight=np.array([0.25, 0.5]))
    builder.layout({"status": np.array([st.VALUED, st.VALUED]), "entry_date": np.array([102, 104]),
                    "n_days": np.array([5, 3])})
    pnl = np.array([0.0, 1, 2, 3, 4, 0, -1, -1])
    legs = np.full((len(LEG_NAMES), 8), np.nan)
    legs[0] = 20.0
    builder({"straddle_id": np.array([0] * 5 + [1] * 3), "date": np.array([102, 103, 104, 105, 106, 104, 105, 106]),
             "pnl": pnl, "opnl": pnl, "hpnl": np.zeros(8), "legs": legs})
    return builder.result()


def test_inception_lock_spec_s1():
    """SPEC-S1: straddle 1 holds W[day 1] = 1, straddle 2 W[day 3] = 3."""
    cube = _spec_s1_cube()
    W = np.arange(1.0, 7.0)[:, None]
    long_, short = books(cube, W, 101, cube.lock_days("entry"), 101, 6, cube.columns["pnl"][None, :])
    P, _ = base_matrices(cube, 101, 6, 1)
    got = np.where(np.isnan(P[:, 0]), np.nan, long_[0, 0] + short[0, 0])
    np.testing.assert_allclose(got, [np.nan, 0.0, 0.25, 0.5, -0.75, -0.5], rtol=0, atol=1e-15)


def test_month_start_lock_is_the_day_before_the_entry_month():
    """SPEC-S1.3 inception='month_start': 2024-03-15 entry locks on 2024-02-29."""
    cube = _spec_s1_cube()
    cube.entry = np.array([19797], np.int32)  # 2024-03-15
    assert cube.lock_days("month_start")[0] == 19782  # 2024-02-29
    assert cube.lock_days("entry")[0] == 19796


def _cube_grid(seed, directory):
    """A random backtest's cube and its grid (first day, days, assets); None when it has no cells."""
    frame, _, _, cube = _random_backtest(seed, directory)
    if not len(cube):
        return None
    start, end = cube.day_range()
    return cube, start, end - start + 1, len(frame.assets)


def _random_backtest(seed, directory, chunk_rows=None):
    frame, prices = random_case(seed, directory)
    store = PriceStore.from_arrow(prices)
    builder = CohortBuilder(frame.asset, frame.weight)
    if chunk_rows is None:
        result = run_kernel(frame, store, days=True, on_select=builder.layout)
        builder(result.days)
        days = days_table(result.days)
    else:  # streamed in small chunks: cohorts span chunks
        chunks = []

        def sink(chunk):
            chunks.append(days_table({k: v.copy() for k, v in chunk.items()}))
            builder(chunk)
        result = run_kernel(frame, store, day_sink=sink, chunk_rows=chunk_rows, on_select=builder.layout)
        days = pa.concat_tables(chunks) if chunks else None
    return frame, straddle_table(frame, result), days, builder.result()


@pytest.mark.parametrize("seed", range(40))
def test_cube_equals_direct_day_row_sums(seed, tmp_path):
    """SPEC-S1.5: every cube cell equals the direct sum over day rows (0 where no day row has a
    pnl), and every asset-day the direct Σ w·pnl, Σ w·vol, Σ w and count (S2)."""
    frame, straddles_, days, cube = _random_backtest(seed, tmp_path, chunk_rows=None if seed % 2 else 64)
    if days is None:
        assert len(cube) == 0
        return
    assets = [a.underlying for a in frame.assets]
    cells = ref.direct_cube(straddles_, days, assets)
    seen = 0
    for c in range(len(cube)):
        for j in range(cube.length[c]):
            i = cube.offset[c] + j
            key = (int(cube.asset[c]), int(cube.entry[c]), int(cube.entry[c]) + j)
            cell = cells.get(key, dict(pnl=0.0, opnl=0.0, hpnl=0.0))
            seen += key in cells
            for name in ("pnl", "opnl", "hpnl"):
                np.testing.assert_allclose(cube.columns[name][i], cell[name], rtol=0, atol=TOLERANCE)
    assert seen == len(cells)
    asset_days = ref.direct_asset_days(straddles_, days, assets)
    seen = 0
    for a in range(len(assets)):
        for i in range(cube.day_offset[a], cube.day_offset[a + 1]):
            key = (a, int(cube.day_first[a]) + i - int(cube.day_offset[a]))
            if cube.day_count[i] == 0:
                assert key not in asset_days and all(cube.days[name][i] == 0 for name in cube.days)
                continue
            seen += 1
            assert cube.day_count[i] == asset_days[key]["count"]
            for name in ("pnl", "vol", "weight"):
                np.testing.assert_allclose(cube.days[name][i], asset_days[key][name], rtol=0, atol=TOLERANCE)
    assert seen == len(asset_days)


@pytest.mark.parametrize("seed", range(40))
def test_books_equal_direct_sum_through_the_lock(seed, tmp_path):
    """SPEC-S1.4: per-asset books of a random weight matrix (NaN weights, both inceptions, all,
    long and short sides) equal the direct day-row sum Σ w_k·x_k(d)·W[lock_k, a_k]."""
    frame, straddles_, days, cube = _random_backtest(seed, tmp_path)
    if days is None or not len(cube):
        return
    assets = [a.underlying for a in frame.assets]
    start, end = cube.day_range()
    n_days, n_assets = end - start + 1, len(assets)
    rng = np.random.default_rng(seed)
    origin = start - int(rng.integers(0, 40))
    W = rng.normal(size=(n_days + 10, n_assets))
    W[rng.random(W.shape) < 0.2] = np.nan
    P, _ = base_matrices(cube, start, n_days, n_assets)
    columns = ("pnl", "opnl", "hpnl")
    values = np.stack([cube.columns[name] for name in columns])
    for inception in ("entry", "month_start"):
        long_, short = books(cube, W, origin, cube.lock_days(inception), start, n_days, values)
        for k, column in enumerate(columns):
            for side, got in (("long", long_[k]), ("short", short[k]), ("all", long_[k] + short[k])):
                expected = ref.direct_books(straddles_, days, assets, W, origin, start, n_days, inception, column, side)
                got = np.where(np.isnan(P), np.nan, got.T)
                np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE, err_msg=f"{inception} {side} {column}")


@pytest.mark.parametrize("seed", range(10))
def test_many_books_in_one_pass_equal_one_pass_each(seed, tmp_path):
    """SPEC-S7 (sweeps): the books of several weight matrices from one shared cube pass are
    exactly those of one pass per matrix, per asset and per bucket."""
    grid = _cube_grid(seed, tmp_path)
    if grid is None:
        return
    cube, start, n_days, n_assets = grid
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(n_days, n_assets)) for _ in range(3)]
    weights[1][rng.random(weights[1].shape) < 0.3] = np.nan
    values = np.stack([cube.columns[name] for name in ("pnl", "opnl")])
    lock, order = cube.lock_days("entry"), cube.lock_order()
    held = np.stack([nb.cohort_weights(W, start, lock, cube.asset, order) for W in weights])
    for bucket, n_buckets in ((cube.asset, n_assets), (np.zeros(len(cube), np.int64), 1)):
        long_, short = many_books(cube, held, start, n_days, values, bucket, n_buckets)
        for m, W in enumerate(weights):
            one_long, one_short = books(cube, W, start, lock, start, n_days, values, bucket, n_buckets)
            np.testing.assert_array_equal(long_[m], one_long)
            np.testing.assert_array_equal(short[m], one_short)


def _kernel_options(frame, rng):
    """Random SPEC 16-18 options: Greeks and attribution, costs, a point-in-time cut (or none)."""
    greeks, costs = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
    asof = None
    if rng.random() < 0.3 and len(frame):
        asof = int(rng.integers(frame.span_start.min(), frame.span_end.max() + 1))
    return KernelOptions(asof=asof, greeks=greeks,
                         option_spread=rng.uniform(0, 0.02, len(frame)) if costs else None,
                         hedge_bps=rng.uniform(0, 5, len(frame)) if costs else None)


@pytest.mark.parametrize("seed", range(24))
def test_kernel_filled_cube_equals_the_day_row_cube_bitwise(seed, tmp_path):
    """SPEC-S1.5: the cube the kernel fills in its VALUE pass (no day rows) is bit for bit the cube
    scattered from the day rows (the oracle above), with the SPEC 16-18 columns when on, and the
    run's other outputs (grids, straddle sums) are those of a run without a cube. Filled in its
    file (``path``), the file holds the bytes ``Cohorts.write`` writes and the arrays map it."""
    frame, prices = random_case(seed, tmp_path)
    store = PriceStore.from_arrow(prices)
    options = _kernel_options(frame, np.random.default_rng(seed))
    rows = CohortBuilder(frame.asset, frame.weight)
    with_days = run_kernel(frame, store, days=True, options=options, on_select=rows.layout)
    rows(with_days.days)
    for days, path in ((False, None), (True, None), (False, tmp_path / "filled.arrow")):
        builder = CohortBuilder(frame.asset, frame.weight, path=path)
        result = run_kernel(frame, store, days=days, options=options, cube=builder)
        got, expected = builder.result(), rows.result()
        if path is not None:
            expected.write(tmp_path / "written.arrow")
            assert path.read_bytes() == (tmp_path / "written.arrow").read_bytes()
            assert not got.columns["pnl"].flags.writeable and not got.day_count.flags.writeable
        assert list(got.columns) == list(expected.columns)  # the stored column order too
        for name in ("asset", "entry", "length", "offset", "day_offset", "day_first", "day_count"):
            np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)
        for name, values in expected.columns.items():  # bitwise: same bytes (NaN included)
            assert got.columns[name].tobytes() == values.tobytes(), name
        assert list(got.days) == list(expected.days)
        for name, values in expected.days.items():
            assert got.days[name].tobytes() == values.tobytes(), name
        # the asset-days' Σ w·pnl and count are the backtest's grid (SPEC 13.3), bit for bit
        for a in range(len(frame.assets)):
            lo, hi = got.day_offset[a], got.day_offset[a + 1]
            cell = result.grid_offsets[a] + got.day_first[a] - result.grid_first_day[a]
            assert got.days["pnl"][lo:hi].tobytes() == result.grid_pnl[cell:cell + hi - lo].tobytes()
            np.testing.assert_array_equal(got.day_count[lo:hi], result.grid_count[cell:cell + hi - lo])
        for name in ("grid_pnl", "grid_opnl", "grid_hpnl", "grid_count", "pnl_sum", "status", "n_days"):
            np.testing.assert_array_equal(getattr(result, name), getattr(with_days, name), err_msg=name)
        if options.grid_columns():
            np.testing.assert_array_equal(result.grid_extra, with_days.grid_extra)


def test_base_matrices_match_the_asset_pnl_table(tmp_path):
    """SPEC-S2: P is the SPEC 13.3 asset P&L; V the pnl-straddles' weighted mean vol."""
    prices = synthesize(straddles.example_amt_path(), 2023, 2024, seed=5)
    result = straddles.backtest(straddles.example_amt_path(), prices, 2023, 2024)
    cube = result.cohorts
    start, end = cube.day_range()
    assets = result.assets["asset"].to_pylist()
    P, V = base_matrices(cube, start, end - start + 1, len(assets))
    table = result.asset_pnl
    rows = table["date"].cast("int32").to_numpy() - start
    cols = np.array([assets.index(a) for a in table["asset"].cast("string").to_pylist()])
    np.testing.assert_array_equal(P[rows, cols], table["pnl"].to_numpy())  # the same sums: bit for bit
    assert np.isnan(P).sum() == P.size - len(rows)
    # V: the weighted mean over the straddles with a pnl, straight from the day rows
    days = result.days.filter(result.days["pnl"].is_valid())
    weight = dict(zip(result.straddles["straddle_id"].to_pylist(), result.straddles["weight"].to_pylist()))
    w = np.array([weight[i] for i in days["straddle_id"].to_pylist()])
    asset_of = dict(zip(result.straddles["straddle_id"].to_pylist(), result.straddles["asset"].cast("string").to_pylist()))
    a = np.array([assets.index(asset_of[i]) for i in days["straddle_id"].to_pylist()])
    d = days["date"].cast("int32").to_numpy() - start
    size = P.size
    num = np.bincount(d * len(assets) + a, weights=w * days["vol"].to_numpy(zero_copy_only=False), minlength=size)
    den = np.bincount(d * len(assets) + a, weights=w, minlength=size)
    with np.errstate(invalid="ignore"):
        expected = (num / den).reshape(P.shape)
    np.testing.assert_allclose(np.where(np.isnan(P), np.nan, V), np.where(np.isnan(P), np.nan, expected),
                               rtol=1e-12, atol=0)


def test_cube_round_trips_through_parquet_and_no_days_folders(tmp_path):
    """The cube is written to cohorts.arrow (also without the day table) and read back equal, as
    read-only views of the file."""
    prices = synthesize(straddles.example_amt_path(), 2024, 2024, seed=2)
    memory = straddles.backtest(straddles.example_amt_path(), prices, 2024, 2024, days=False)
    straddles.backtest(straddles.example_amt_path(), prices, 2024, 2024, days=False, out=tmp_path / "r")
    loaded = straddles.load_backtest(tmp_path / "r")
    assert loaded.days is None and loaded.cohorts is not None
    assert loaded.cohorts.to_arrow().equals(memory.cohorts.to_arrow())
    assert loaded.cohorts.settings == memory.cohorts.settings
    assert not loaded.cohorts.columns["pnl"].flags.writeable and not loaded.cohorts.days["vol"].flags.writeable
    streamed = straddles.backtest(straddles.example_amt_path(), prices, 2024, 2024, out=tmp_path / "s")
    assert streamed.cohorts.to_arrow().equals(memory.cohorts.to_arrow())
    straddles.backtest(straddles.example_amt_path(), prices, 2024, 2024, out=tmp_path / "s", cohorts=False)
    assert not (tmp_path / "s" / COHORTS_FILE).exists()


@settings(max_examples=150)
@given(hs.integers(0, 2**32 - 1), hs.sampled_from(["entry", "month_start"]))
def test_inception_lock_property(seed, inception):
    """S1.3/S1.4 on random straddles (several per cohort, chunks in any order, NaN pnl and weights):
    each straddle holds W at its lock day, 0 outside W; the cube's long and short books equal a
    direct loop over straddle-days."""
    rng = np.random.default_rng(seed)
    n, n_assets = int(rng.integers(1, 12)), int(rng.integers(1, 4))
    asset = rng.integers(0, n_assets, n)
    entry = rng.integers(100, 140, n)
    entry[rng.random(n) < 0.3] = entry[0]  # shared entries: cohorts of several straddles
    length = rng.integers(1, 25, n)
    weight = rng.choice([0.25, 0.5, 1.0, 0.0], n)
    builder = CohortBuilder(asset=asset, weight=weight)
    builder.layout({"status": np.full(n, st.VALUED), "entry_date": entry, "n_days": length})
    ids = np.repeat(np.arange(n), length)
    date = np.concatenate([np.arange(e, e + k) for e, k in zip(entry, length)])
    pnl = rng.normal(size=len(ids))
    pnl[rng.random(len(ids)) < 0.1] = np.nan
    legs = np.full((len(LEG_NAMES), len(ids)), 15.0)
    order = rng.permutation(len(ids))
    for part in np.array_split(order, 3):  # rows arrive in chunks, in any order
        builder({"straddle_id": ids[part], "date": date[part], "pnl": pnl[part], "opnl": pnl[part],
                 "hpnl": np.zeros(len(part)), "legs": legs[:, part]})
    cube = builder.result()
    origin, grid_start, n_days = 95 + int(rng.integers(0, 20)), 90, 80
    W = rng.normal(size=(int(rng.integers(1, 60)), n_assets))
    W[rng.random(W.shape) < 0.2] = np.nan
    long_, short = books(cube, W, origin, cube.lock_days(inception), grid_start, n_days, cube.columns["pnl"][None, :])
    expected = {"long": np.zeros((n_days, n_assets)), "short": np.zeros((n_days, n_assets))}
    lock = ref.lock_day(entry, inception)
    for r in range(len(ids)):
        s = ids[r]
        if np.isnan(pnl[r]):
            continue
        d = lock[s] - origin
        held = W[d, asset[s]] if 0 <= d < len(W) and np.isfinite(W[d, asset[s]]) else 0.0
        side = "long" if held > 0 else "short"
        expected[side][date[r] - grid_start, asset[s]] += weight[s] * pnl[r] * held
    np.testing.assert_allclose(long_[0].T, expected["long"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(short[0].T, expected["short"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_cube_pass_is_the_same_for_any_blocks_threads_and_values(seed, tmp_path):
    """SPEC-S7/S8: the parallel cube pass gives the same books bit for bit whatever the number of day
    blocks and threads, and several vectors in one pass equal one at a time, also where a cell's
    value is not finite (the vector path adds 0·x only for finite x)."""
    import numba

    grid = _cube_grid(seed, tmp_path)
    if grid is None:
        return
    cube, start, n_days, n_assets = grid
    rng = np.random.default_rng(seed)
    values = np.stack([cube.columns[name] for name in ("pnl", "opnl")])
    values[:, rng.random(values.shape[1]) < 0.05] = np.nan
    values[0, rng.random(values.shape[1]) < 0.02] = np.inf
    held = rng.normal(size=(4, len(cube)))
    held[rng.random(held.shape) < 0.3] = 0.0
    first = cube.entry.astype(np.int64) - start

    def run(vectors, n_blocks):
        out = [np.zeros((len(vectors), 2, n_assets, n_days)) for _ in range(2)]
        nb.cohort_books(values, cube.asset.astype(np.int64), first, cube.length, cube.offset,
                        np.ascontiguousarray(vectors.T), *out, n_blocks)
        return out

    expected = run(held, 1)
    threads = numba.get_num_threads()
    try:
        for n_threads, n_blocks in ((1, 5), (threads, 3), (threads, 64), (threads, 10**6)):
            numba.set_num_threads(n_threads)
            for got, want in zip(run(held, n_blocks), expected):
                np.testing.assert_array_equal(got, want)
    finally:
        numba.set_num_threads(threads)
    for m in range(held.shape[0]):
        for got, want in zip(run(held[m:m + 1], 2), expected):
            np.testing.assert_array_equal(got[0], want[m])


def test_folder_of_an_older_version_has_no_cube(tmp_path):
    """A folder whose cube is the former cohorts.parquet loads without a cube, and a strategy on it
    says, in one line, to run the backtest again."""
    prices = synthesize(straddles.example_amt_path(), 2024, 2024, seed=2)
    result = straddles.backtest(straddles.example_amt_path(), prices, 2024, 2024, days=False)
    result.cohorts = None
    result.write(tmp_path)
    pq.write_table(pa.table({"asset": [0]}), tmp_path / "cohorts.parquet")
    assert straddles.load_backtest(tmp_path).cohorts is None
    with pytest.raises(StrategyError, match="no cohort cube .*run it again") as error:
        StrategyContext(tmp_path)
    assert "\n" not in str(error.value)
