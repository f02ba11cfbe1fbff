"""The benchmark harness: its NumPy pricing floor computes the model, and a small run works."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from straddles.bench import es_value_numpy, norm_cdf_numpy, run_bench, write_json
from straddles.engine.models import es_value


@given(st.floats(-40, 40))
def test_numpy_norm_cdf_is_double_precision_spec_e15(x):
    assert norm_cdf_numpy(np.array([x]))[0] == pytest.approx(0.5 * math.erfc(-x / math.sqrt(2)), abs=1e-15)


@given(st.floats(1, 500), st.floats(1, 500), st.floats(1, 150), st.integers(0, 120))
def test_numpy_floor_values_what_the_kernel_values_spec_e16(S, X, v, t):
    mv, delta = es_value_numpy(*(np.array([value], dtype=float) for value in (S, X, v, t)))
    expected_mv, expected_delta = es_value(S, X, v, t)
    assert mv[0] == pytest.approx(expected_mv, abs=1e-12)
    assert delta[0] == pytest.approx(expected_delta, abs=1e-12)


def test_small_bench_run(example_amt_path, tmp_path):
    result = run_bench(example_amt_path, 2024, 2024, synth=True, days=True, processes=False)
    assert result.n_straddles == 720 and result.n_valued_days > 10_000
    for stage in ("load AMT", "expand straddles", "resolve legs", "kernel", "aggregation", "write outputs",
                  "load price store (cached)"):
        assert result.stages[stage] >= 0
    assert result.floor_seconds > 0 and result.kernel_over_floor > 0
    write_json(result, tmp_path / "bench.json")
    assert '"kernel_over_floor"' in (tmp_path / "bench.json").read_text()


def test_bench_processes_include_the_fixed_cost_of_one_asset(example_amt_path):
    result = run_bench(example_amt_path, 2024, 2024, synth=True)
    assert set(result.processes) == {"backtest --no-days --no-cohorts", "backtest --no-days", "backtest (days written)",
                                     "backtest --no-days --no-cohorts of one asset and year (the fixed cost)"}
    for run in result.processes.values():
        assert run["wall_seconds"] > 0 and run["cpu_seconds"] > 0 and run["peak_rss_mb"] > 0
