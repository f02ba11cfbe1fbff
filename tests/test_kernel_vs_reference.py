"""The compiled kernel against the pure-Python reference on hundreds of random AMTs and price sets.

Every per-straddle output (status, dates, strike, strike_vol, n_days, pnl_sum) and every day row
must agree to 1e-12, nulls included (SPEC 6, 9-13), also with the SPEC 16-18 options (asof,
expiry basis, Greeks, costs) drawn at random per case.
"""

import math

import numpy as np
import pytest

from random_cases import random_case
from straddles.engine.pipeline import days_table, straddle_table
from straddles.engine import status as st
from straddles.engine.calendars import Calendars
from straddles.engine.dates import day_number, day_to_date
from straddles.engine.kernel import KernelOptions, run_kernel
from straddles.engine.prices import PriceStore
from straddles.engine.reference import price_lookup, reference_backtest

SEEDS = range(300)
TOLERANCE = 1e-12


def assert_columns_match(got, expected, columns, context):
    for name in columns:
        left, right = got[name].to_pylist(), expected[name].to_pylist()
        assert len(left) == len(right), f"{context}: {name} has {len(left)} rows, expected {len(right)}"
        for row, (a, b) in enumerate(zip(left, right)):
            if isinstance(a, float) and isinstance(b, float):
                ok = math.isclose(a, b, rel_tol=0, abs_tol=TOLERANCE) and math.copysign(1, a) == math.copysign(1, b)
            else:
                ok = a == b
            assert ok, f"{context}: {name} row {row}: kernel {a!r} != reference {b!r}"


@pytest.mark.parametrize("seed", SEEDS)
def test_kernel_matches_reference(seed, tmp_path):
    frame, prices = random_case(seed, tmp_path)
    result = run_kernel(frame, PriceStore.from_arrow(prices), days=True)
    kernel_straddles = straddle_table(frame, result)
    kernel_days = days_table(result.days)
    ref_straddles, ref_days = reference_backtest(frame.to_arrow(), price_lookup(prices))

    context = f"seed {seed}"
    assert_columns_match(kernel_straddles, ref_straddles,
                         ["straddle_id", "status", "entry_date", "expiry_date", "strike", "strike_vol", "n_days",
                          "pnl_sum"], context)
    assert_columns_match(kernel_days, ref_days, ref_days.column_names, context)


def test_random_cases_exercise_every_status(tmp_path):
    """The random cases are only a good check if they reach every status and some valued days."""
    seen = set()
    valued_days = 0
    for seed in range(60):
        directory = tmp_path / str(seed)
        directory.mkdir()
        frame, prices = random_case(seed, directory)
        result = run_kernel(frame, PriceStore.from_arrow(prices), days=False)
        seen |= set(np.unique(result.status).tolist())
        valued_days += int(result.n_days.sum())
    assert seen == set(range(1, 11)) and valued_days > 10_000


def test_days_false_gives_the_same_straddles(tmp_path):
    frame, prices = random_case(7, tmp_path)
    store = PriceStore.from_arrow(prices)
    with_days, without = run_kernel(frame, store, days=True), run_kernel(frame, store, days=False)
    for name in ("status", "entry_date", "expiry_date", "n_days"):
        assert np.array_equal(getattr(with_days, name), getattr(without, name))
    for name in ("strike", "pnl_sum"):
        assert np.array_equal(getattr(with_days, name), getattr(without, name), equal_nan=True)
    assert np.array_equal(with_days.grid_pnl, without.grid_pnl)


# ------------------------------------------------------------------------------------------------
# SPEC Part II options: asof, expiry basis, Greeks, costs (random draws per seed)
# ------------------------------------------------------------------------------------------------

OPTION_SEEDS = range(1000, 1080)


def random_options(seed: int, frame) -> dict:
    """asof (None or a day inside the case's spans), basis, greeks, costs (per-asset spreads, bps)."""
    rng = np.random.default_rng(seed + 7)
    first, last = int(frame.span_start.min()), int(frame.span_end.max())
    options = {"asof": None if rng.random() < 0.25 else day_to_date(int(rng.integers(first, last + 1))),
               "expiry_basis": str(rng.choice(["realized", "anchor"])), "greeks": bool(rng.random() < 0.7)}
    if rng.random() < 0.6:
        spread = rng.choice([0.0, 0.125, 0.6, 5.1], size=len(frame.assets))[frame.asset]
        bps = rng.choice([0.0, 2.0, 10.0], size=len(frame.assets))[frame.asset]
        options["costs"] = (spread, bps)
    return options


#: every fourth option case also takes its BD anchors from a holiday calendar (SPEC 6.5)
CALENDARS = Calendars(((".", "XNYS"),))


@pytest.mark.parametrize("seed", OPTION_SEEDS)
def test_kernel_matches_reference_with_options(seed, tmp_path):
    """SPEC 16-18: every option combination agrees, and attribution adds up to pnl to 1e-15."""
    frame, prices = random_case(seed, tmp_path, calendars=CALENDARS if seed % 4 == 0 else None)
    options = random_options(seed, frame)
    costs = options.pop("costs", None)
    kernel_options = KernelOptions(asof=None if options["asof"] is None else day_number(options["asof"]),
                                   anchor_basis=options["expiry_basis"] == "anchor", greeks=options["greeks"],
                                   option_spread=None if costs is None else costs[0],
                                   hedge_bps=None if costs is None else costs[1])
    result = run_kernel(frame, PriceStore.from_arrow(prices), days=True, options=kernel_options)
    kernel_straddles = straddle_table(frame, result)
    kernel_days = days_table(result.days)
    ref_costs = None if costs is None else {i: (float(costs[0][i]), float(costs[1][i])) for i in range(len(frame))}
    ref_straddles, ref_days = reference_backtest(frame.to_arrow(), price_lookup(prices), costs=ref_costs, **options)

    context = f"seed {seed}, options {options}, costs {costs is not None}"
    columns = ["straddle_id", "status", "entry_date", "expiry_date", "strike", "strike_vol", "n_days", "pnl_sum"]
    assert_columns_match(kernel_straddles, ref_straddles, columns + (["cost_sum", "pnl_net_sum"] if costs else []),
                         context)
    assert kernel_days.column_names == ref_days.column_names
    assert_columns_match(kernel_days, ref_days, ref_days.column_names, context)
    if options["greeks"] and kernel_days.num_rows:
        parts = {name: kernel_days[name].to_numpy(zero_copy_only=False)
                 for name in ("pnl", "gamma_pnl", "theta_pnl", "vega_pnl", "resid_pnl")}
        valued = ~np.isnan(parts["pnl"])
        total = (parts["gamma_pnl"] + parts["theta_pnl"]) + parts["vega_pnl"] + parts["resid_pnl"]
        # 1e-15 absolute for parts below 1 (all real rows); random prices jump 0 -> 100, where one
        # rounding of a part of size 100 alone is 1.4e-14, so the bound scales with the parts there
        size = np.maximum(1.0, np.abs(parts["gamma_pnl"]) + np.abs(parts["theta_pnl"]) + np.abs(parts["vega_pnl"])
                          + np.abs(parts["resid_pnl"]))
        assert np.all((np.abs(total - parts["pnl"]) <= 1e-15 * size)[valued])
        assert np.all(np.isnan(parts["resid_pnl"][~valued]))


def test_option_cases_reach_open_statuses_and_rows(tmp_path):
    """The option cases are a good check only if they produce open straddles with and without rows."""
    open_with_rows = open_without_rows = 0
    for seed in OPTION_SEEDS[:30]:
        directory = tmp_path / str(seed)
        directory.mkdir()
        frame, prices = random_case(seed, directory)
        options = random_options(seed, frame)
        if options["asof"] is None:
            continue
        result = run_kernel(frame, PriceStore.from_arrow(prices), options=KernelOptions(
            asof=day_number(options["asof"]), anchor_basis=options["expiry_basis"] == "anchor"))
        is_open = result.status == st.OPEN
        open_with_rows += int((is_open & (result.n_days > 0)).sum())
        open_without_rows += int((is_open & (result.n_days == 0)).sum())
    assert open_with_rows > 20 and open_without_rows > 20
