"""straddles.strategy / sweep (STRATEGY S1-S7): names, sizing, the lock, no look-ahead, hedges,
risk, own weights, folders, sweeps."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as hs

import straddles
from straddles.errors import StrategyError
from straddles.strategies import nb
from straddles.strategies import reference as ref
from straddles.strategies.api import strategy, strategy_weights
from straddles.strategies.batch import batch_held
from straddles.strategies.context import StrategyContext
from straddles.strategies.cube import Cohorts
from straddles.strategies.hedge import hedged
from straddles.strategies.inputs import compute_input
from straddles.strategies.risk import class_risk, risk_weighted
from straddles.strategies.spec import ARPS, CRPS, HEDGES, INPUTS, RANKS, StrategySpec, grid_specs
from straddles.strategies.sweep import SCHEMA, run_batch, sweep
from straddles.strategies.transforms import signal_weights
from straddles.synth import synthesize

SPECS = ["npnl:mac.180.30:rank:none:none:none", "wpnl:mac.60.5+srp.90:grank:ivol:abs:gah",
         "rnpnl:clm+vol+sign.30:raw:std:none:hg", "pnl:srp.90:rank:abs:none:h"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    prices = synthesize(straddles.example_amt_path(), 2022, 2024, seed=4)
    folder = tmp_path_factory.mktemp("strategy") / "results"
    straddles.backtest(straddles.example_amt_path(), prices, 2022, 2024, out=folder)
    return straddles.load_backtest(folder), folder


@pytest.fixture(scope="module")
def ctx(run):
    return StrategyContext(run[0])


# --- names -----------------------------------------------------------------------------------------

signal_texts = hs.one_of(
    hs.tuples(hs.integers(2, 400), hs.integers(1, 399)).filter(lambda p: p[0] > p[1]).map(lambda p: f"mac.{p[0]}.{p[1]}"),
    hs.integers(1, 999).map(lambda n: f"srp.{n}"), hs.integers(1, 999).map(lambda n: f"sign.{n}"),
    hs.sampled_from(["clm", "vol", "rsi", "sign", "mac", "my_row2"]))


@given(hs.sampled_from(INPUTS), hs.lists(signal_texts, min_size=1, max_size=3), hs.sampled_from(RANKS),
       hs.sampled_from(ARPS), hs.sampled_from(CRPS), hs.sampled_from(HEDGES))
def test_names_round_trip(input_, signals, rank, arp, crp, hedge):
    """S7: a name parses and prints back to itself."""
    name = ":".join([input_, "+".join(signals), rank, arp, crp, hedge])
    spec = StrategySpec.parse(name)
    assert str(spec) == name and StrategySpec.parse(str(spec)) == spec
    assert spec.signals == tuple(signals)


@pytest.mark.parametrize("name", ["npnl:mac.30.180:rank:none:none:none", "npnl:srp.0:rank:none:none:none",
                                  "npnl:srp.01:rank:none:none:none", "npnl:mac.180:rank:none:none:none",
                                  "npnl:srp.365:rank:none:none", "xpnl:srp.365:rank:none:none:none",
                                  "npnl::rank:none:none:none", "npnl:srp.365:rank:none:none:gh",
                                  "npnl:srp.365+:rank:none:none:none", "npnl:1x:rank:none:none:none"])
def test_bad_names_are_one_line_errors(name):
    with pytest.raises(StrategyError) as error:
        StrategySpec.parse(name)
    assert "\n" not in str(error.value)


def test_grid_mapping_is_a_cartesian_product_with_defaults():
    specs = grid_specs({"signals": ["srp.365", "clm+vol"], "hedge": ["none", "h", "gah"]})
    assert len(specs) == 6
    assert str(specs[0]) == "npnl:srp.365:rank:none:none:none"
    assert grid_specs(["pnl:clm:raw:none:none:none"])[0].input == "pnl"
    assert len(grid_specs(straddles.strategies.sweep.load_grid(straddles.example_grid_path()))) >= 300
    with pytest.raises(StrategyError):
        grid_specs({"signals": ["srp.365"], "bogus": [1]})


# --- inputs, transforms, sizing ----------------------------------------------------------------------

def test_inputs_spec_s2(ctx):
    P, V = ctx.P, ctx.V
    npnl = compute_input(ctx, "npnl")
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_array_equal(npnl, np.where(np.isfinite(P / V), P / V, np.nan))
    rnpnl = compute_input(ctx, "rnpnl")
    rows = ~np.isnan(rnpnl).all(axis=1)
    np.testing.assert_allclose(np.nanmean(rnpnl[rows], axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(compute_input(ctx, "wpnl"), ref.winsorize(npnl), rtol=0, atol=0)


def test_several_signals_are_summed_then_sumabs(ctx):
    """S4: sumabs(Σ s_i) with NaN as 0 in the sum."""
    one = [signal_weights(ctx, "npnl", (s,), "rank") for s in ("mac.60.5", "srp.90")]
    both = signal_weights(ctx, "npnl", ("mac.60.5", "srp.90"), "rank")
    np.testing.assert_allclose(both, ref.sumabs(np.nan_to_num(one[0]) + np.nan_to_num(one[1])), atol=1e-15)
    lagged = signal_weights(ctx, "npnl", ("srp.90",), "rank", lag=3)
    np.testing.assert_array_equal(lagged[3:], one[1][:-3])


@pytest.mark.parametrize("name", SPECS)
def test_weights_are_sized_to_unit_gross(ctx, name):
    """S1.6: each day Σ|W| = 1, or 0 where nothing is held."""
    W = strategy_weights(ctx, StrategySpec.parse(name))
    gross = np.abs(W).sum(axis=1)
    assert np.all((np.abs(gross - 1) < 1e-12) | (gross == 0)) and (gross > 0).mean() > 0.5


def test_leverage_scales_and_capital_converts(run):
    backtest, folder = run
    base = strategy(folder, SPECS[0], leverage=1.0, capital=1e6)
    double = strategy(folder, SPECS[0], leverage=2.0, capital=5.0)
    np.testing.assert_allclose(double.pnl["pnl"].to_numpy(), 2 * base.pnl["pnl"].to_numpy(), rtol=1e-14)
    assert double.capital == 5.0 and base.summary()["sharpe"] == pytest.approx(double.summary()["sharpe"])


def test_pnl_is_the_book_through_the_lock(run, ctx):
    """S1.4/S1.6: the strategy P&L is leverage · Σ_a of the direct day-row book of the sized W."""
    backtest, folder = run
    for inception in ("entry", "month_start"):
        result = strategy(backtest, SPECS[1], leverage=3.0, inception=inception, context=ctx)
        W = strategy_weights(ctx, StrategySpec.parse(SPECS[1]), inception)
        direct = ref.direct_books(backtest.straddles, backtest.days, ctx.assets, W, ctx.start, ctx.start, ctx.n_days,
                                  inception)
        expected = 3.0 * np.nan_to_num(np.nansum(direct, axis=1))
        np.testing.assert_allclose(result.pnl["pnl"].to_numpy(), expected, rtol=0, atol=1e-12)
        pnl = result.pnl
        np.testing.assert_allclose(pnl["pnl_long"].to_numpy() + pnl["pnl_short"].to_numpy(), pnl["pnl"].to_numpy(),
                                   atol=1e-14)
        np.testing.assert_allclose(pnl["opnl"].to_numpy() + pnl["hpnl"].to_numpy(), pnl["pnl"].to_numpy(), atol=1e-12)
        assert result.pnl.num_rows == ctx.n_days and result.weights.num_rows == ctx.n_days * len(ctx.assets)


# --- no look-ahead ------------------------------------------------------------------------------------

def _changed_after(cohorts: Cohorts, T: int, seed: int) -> Cohorts:
    """A copy of the cube whose every value after day T (cells and asset-days) is scrambled."""
    rng = np.random.default_rng(seed)
    day = np.repeat(cohorts.entry.astype(np.int64), cohorts.length) + (
        np.arange(cohorts.n_cells) - np.repeat(cohorts.offset[:-1], cohorts.length))
    later = day > T
    columns = {}
    for name, values in cohorts.columns.items():
        values = values.copy()
        values[later] = rng.normal(size=int(later.sum())) * 10
        columns[name] = values
    sizes = np.diff(cohorts.day_offset)
    day = np.repeat(cohorts.day_first.astype(np.int64), sizes) + (
        np.arange(int(cohorts.day_offset[-1])) - np.repeat(cohorts.day_offset[:-1], sizes))
    later = day > T
    days = {}
    for name, values in cohorts.days.items():
        values = values.copy()
        values[later] = rng.normal(size=int(later.sum())) * (10 if name == "pnl" else 1) + (0 if name == "pnl" else 20)
        days[name] = values
    return dataclasses.replace(cohorts, columns=columns, days=days)


@pytest.mark.parametrize("name, keywords", [
    (SPECS[0], {}), (SPECS[1], {}), (SPECS[2], {"amt_multipliers": True}), (SPECS[3], {"inception": "month_start"}),
    ("wpnl:mac.30.10+clm:grank:std:abs:gah", {"lag": 2}), ("npnl:vol+sign.20:rank:ivol:abs:hg", {}),
])
def test_no_look_ahead(run, name, keywords):
    """Changing every input after day T leaves the weights and the P&L up to T unchanged, and the
    weight each straddle holds when its lock day is at or before T."""
    backtest, _ = run
    base = StrategyContext(backtest)
    T = base.start + base.n_days // 2
    changed = StrategyContext(dataclasses.replace(backtest, cohorts=_changed_after(backtest.cohorts, T, 7)))
    spec = StrategySpec.parse(name)
    inception = keywords.get("inception", "entry")
    options = {k: v for k, v in keywords.items() if k != "inception"}
    W1, W2 = (strategy_weights(c, spec, inception, **options) for c in (base, changed))
    upto = T - base.start + 1
    np.testing.assert_array_equal(W1[:upto], W2[:upto])
    assert not np.array_equal(W1[upto:], W2[upto:])  # the change did reach the later weights
    lock = base.lock(inception)
    order = backtest.cohorts.lock_order()
    held1, held2 = (nb.cohort_weights(W, base.start, lock, backtest.cohorts.asset, order) for W in (W1, W2))
    np.testing.assert_array_equal(held1[lock <= T], held2[lock <= T])
    p1, p2 = (strategy(backtest, name, context=c, inception=inception, **options).pnl["pnl"].to_numpy()
              for c in (base, changed))
    np.testing.assert_array_equal(p1[:upto], p2[:upto])


# --- risk and hedge -------------------------------------------------------------------------------------

def test_hedges_scale_longs_by_beta_of_the_books(ctx, run):
    """S6: h multiplies long weights by β of the long and short books (reference β, direct books)."""
    backtest, _ = run
    W0 = risk_weighted(ctx, signal_weights(ctx, "npnl", ("srp.90",), "rank"), "ivol", "none", "entry", False)
    books = {side: ref.direct_books(backtest.straddles, backtest.days, ctx.assets, W0, ctx.start, ctx.start,
                                    ctx.n_days, "entry", side=side) for side in ("long", "short")}
    total = {side: np.where(np.isnan(b).all(axis=1), np.nan, np.nansum(b, axis=1)) for side, b in books.items()}
    beta = ref.beta(total["long"], total["short"])
    np.testing.assert_allclose(hedged(ctx, W0, "h", "entry"), np.where(W0 > 0, W0 * beta[:, None], W0), atol=1e-12)
    # hg: each group's longs by the β of the group's own books
    expected = W0.copy()
    for g in range(len(ctx.groups)):
        members = ctx.group == g
        long_, short = (np.where(np.isnan(b[:, members]).all(axis=1), np.nan, np.nansum(b[:, members], axis=1))
                        for b in (books["long"], books["short"]))
        beta_g = ref.beta(long_, short)
        expected[:, members] = np.where(W0[:, members] > 0, W0[:, members] * beta_g[:, None], W0[:, members])
    np.testing.assert_allclose(hedged(ctx, W0, "hg", "entry"), expected, atol=1e-12)


def test_class_risk_weights_groups_by_inverse_book_risk(ctx, run):
    """S5 crp=abs: group weight = sumabs over groups of 1/EMA_365(|group book|)."""
    backtest, _ = run
    W = signal_weights(ctx, "npnl", ("mac.60.5",), "rank")
    book = ref.direct_books(backtest.straddles, backtest.days, ctx.assets, W, ctx.start, ctx.start, ctx.n_days)
    groups = np.column_stack([np.where(np.isnan(book[:, ctx.group == g]).all(axis=1), np.nan,
                                       np.nansum(book[:, ctx.group == g], axis=1)) for g in range(len(ctx.groups))])
    with np.errstate(divide="ignore"):
        inverse = 1.0 / ref.ema(np.abs(groups), 365)
    expected = ref.sumabs(np.where(np.isfinite(inverse), inverse, np.nan))[:, ctx.group]
    np.testing.assert_allclose(class_risk(ctx, W, "entry"), expected, rtol=1e-10, atol=1e-14)


def test_amt_multipliers_are_a_last_combine(ctx):
    spec = StrategySpec.parse(SPECS[0])
    plain = risk_weighted(ctx, signal_weights(ctx, "npnl", spec.signals, "rank"), "none", "none", "entry", False)
    with_m = risk_weighted(ctx, signal_weights(ctx, "npnl", spec.signals, "rank"), "none", "none", "entry", True)
    np.testing.assert_allclose(with_m, ref.sumabs(plain * ctx.multipliers), atol=1e-15)


# --- own weights, folders, sweeps ------------------------------------------------------------------------

def test_own_weights_reproduce_a_strategy(run, ctx):
    """S7: the sized weights fed back as a table give the same P&L (no normalisation needed)."""
    backtest, folder = run
    result = strategy(backtest, SPECS[2], context=ctx)
    again = strategy(folder, weights=result.weights, leverage=result.leverage)
    np.testing.assert_allclose(again.pnl["pnl"].to_numpy(), result.pnl["pnl"].to_numpy(), atol=1e-15)
    frame = result.weights.to_pandas()
    frame["weight"] *= 3
    normalized = strategy(folder, weights=frame, normalize=True, leverage=result.leverage)
    np.testing.assert_allclose(normalized.pnl["pnl"].to_numpy(), result.pnl["pnl"].to_numpy(), atol=1e-14)
    with pytest.raises(StrategyError, match="unknown asset"):
        strategy(folder, weights=pa.table({"date": pa.array([19000], pa.date32()), "asset": ["nope"],
                                           "weight": [1.0]}))


def test_no_days_folder_and_wide_frames(run, tmp_path):
    backtest, folder = run
    prices = synthesize(straddles.example_amt_path(), 2022, 2024, seed=4)
    straddles.backtest(straddles.example_amt_path(), prices, 2022, 2024, out=tmp_path / "n", days=False)
    a, b = strategy(tmp_path / "n", SPECS[1]), straddles.strategy(folder, SPECS[1])
    assert a.pnl.equals(b.pnl) and a.weights.equals(b.weights)
    frames = a.to_pandas()
    assert frames["weights"].shape == (a.pnl.num_rows, backtest.assets.num_rows)
    assert str(frames["pnl"].index.dtype).startswith("datetime64")
    assert {p.name for p in a.write(tmp_path / "out")} == {"weights.parquet", "pnl.parquet", "asset_pnl.parquet",
                                                            "group_pnl.parquet"}


def test_sweep_rows_match_single_runs(run, ctx):
    backtest, folder = run
    table = sweep(folder, {"signals": ["mac.60.5", "srp.90"], "hedge": ["none", "gah"], "arp": ["none", "abs"]})
    assert table.schema == SCHEMA and table.num_rows == 8
    sharpe = table["sharpe"].to_numpy(zero_copy_only=False)
    assert np.all(np.diff(sharpe[~np.isnan(sharpe)]) <= 0)
    for row in table.slice(0, 3).to_pylist():
        numbers = strategy(backtest, row["name"], context=ctx).summary()
        for key, value in numbers.items():
            assert row[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    batch = run_batch(ctx, [SPECS[0], SPECS[3]])
    assert batch["name"].to_pylist() == [SPECS[0], SPECS[3]]


def test_missing_cube_and_unknown_amt_row_are_errors(run, ctx):
    backtest, _ = run
    with pytest.raises(StrategyError, match="cohort cube"):
        StrategyContext(dataclasses.replace(backtest, cohorts=None))
    with pytest.raises(StrategyError, match="no AMT signal_table row named 'nosuch'"):
        strategy(backtest, "npnl:nosuch:rank:none:none:none", context=ctx)


# --- AMT signal_table rows ---------------------------------------------------------------------------------

def test_amt_rows_are_signals(ctx):
    """S3: a bare name is a signal_table row of the AMT, run on the chosen input per asset."""
    from straddles.strategies.recursion import interpret_program, parse_signal_row
    from straddles.strategies.signals import compute_signal
    from straddles.strategies.spec import Signal

    assert set(ctx.signal_rows) >= {"rsi", "streak", "range"}
    for name in ("rsi", "streak"):
        row = ctx.signal_rows[name]
        expected = interpret_program(parse_signal_row(*row), compute_input(ctx, "wpnl"))
        np.testing.assert_allclose(compute_signal(ctx, "wpnl", Signal("amt", name=name)), expected,
                                   rtol=1e-12, atol=0)
    W = strategy_weights(ctx, StrategySpec.parse("npnl:rsi+streak+mac.60.5:grank:none:none:h"))
    assert (np.abs(W).sum(axis=1) > 0).any()


def test_bad_amt_row_is_a_one_line_error_naming_the_row(run):
    backtest, _ = run
    settings = dict(backtest.cohorts.settings, signal_table=[["bad", "x <- (update", ""]])
    broken = dataclasses.replace(backtest, cohorts=dataclasses.replace(backtest.cohorts, settings=settings))
    with pytest.raises(StrategyError) as error:
        strategy(broken, "npnl:bad:rank:none:none:none")
    message = str(error.value)
    assert "amt.yml: signal_table row 'bad'" in message and "\n" not in message


REAL_PRICES = "/work/data/prices_real_2001_2026.parquet"


@pytest.mark.slow
def test_real_amt_signal_table_and_a_sweep(real_amt_path, tmp_path):
    """On the real AMT 2001-2026 with synthetic prices (when present): the five signal_table rows
    run as signals, and a sweep over them finishes with numbers."""
    import os

    if not os.path.exists(REAL_PRICES):
        pytest.skip(f"{REAL_PRICES} not found")
    backtest = straddles.backtest(real_amt_path, REAL_PRICES, 2001, 2026, days=False)
    ctx = StrategyContext(backtest)
    assert set(ctx.signal_rows) == {"streak", "sign", "rsi", "calmar", "range"}
    assert ctx.default_leverage == 20.0 and ctx.default_capital == 800.0
    table = sweep(backtest, {"signals": sorted(ctx.signal_rows), "rank": ["grank"], "hedge": ["none", "gah"]},
                  amt_multipliers=True, context=ctx)
    assert table.num_rows == 10 and table["sharpe"].null_count == 0


@pytest.mark.parametrize("inception, amt_multipliers, lag", [("entry", False, 0), ("month_start", True, 2)])
def test_batch_held_equals_one_strategy_at_a_time(ctx, inception, amt_multipliers, lag):
    """SPEC-S7/S8: the sweep's batched steps give each strategy's held weights exactly as
    strategy_weights then the lock do, for every risk and hedge option, in any batch."""
    specs = [StrategySpec.parse(name) for name in SPECS] + grid_specs(
        {"input": ["npnl", "wpnl"], "signals": ["mac.60.5", "srp.90+sign.30"], "rank": ["rank", "grank"],
         "arp": ["none", "ivol"], "crp": ["none", "abs"], "hedge": list(HEDGES)})
    order = np.random.default_rng(lag).permutation(len(specs))
    batch = [specs[i] for i in order[:40]] + [specs[order[0]]]  # a spec twice in one batch
    held = batch_held(ctx, batch, inception, amt_multipliers, lag)
    for spec, got in zip(batch, held):
        expected = ctx.held(strategy_weights(ctx, spec, inception, amt_multipliers, lag), inception)
        np.testing.assert_array_equal(got, expected, err_msg=str(spec))
    assert batch_held(ctx, [], inception).shape == (0, len(ctx.cohorts))
