"""Distributed sweeps (straddles.scale.sweep): the in-process sweep's table (STRATEGY S7), on the
two-worker LocalCluster of the other scale tests."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

import straddles
from straddles.cli import main
from straddles.errors import StraddlesError
from straddles.scale import sweep as scale_sweep
from straddles.strategies.sweep import sweep
from straddles.synth import synthesize

GRID = {"signals": ["mac.60.5", "srp.90", "sign.30"], "hedge": ["none", "gah"], "arp": ["none", "abs"]}


@pytest.fixture(scope="module")
def folder(tmp_path_factory, example_amt_path):
    prices = synthesize(example_amt_path, 2022, 2024, seed=4)
    out = tmp_path_factory.mktemp("sweep") / "results"
    straddles.backtest(example_amt_path, prices, 2022, 2024, out=out)
    return out


@pytest.fixture
def small_batches(monkeypatch):
    """Several tasks on a 12-strategy grid (the client sizes the batches)."""
    monkeypatch.setattr(scale_sweep, "TASK_STRATEGIES", 5)


def _without_ms(table):
    return table.drop_columns(["ms"])


@pytest.mark.parametrize("options", [{}, {"inception": "month_start", "lag": 1, "amt_multipliers": True}])
def test_distributed_sweep_equals_in_process_s7(dask_client, small_batches, folder, options):
    expected = sweep(folder, GRID, **options)
    done = []
    got = sweep(folder, GRID, scheduler=dask_client, progress=lambda d, t: done.append((d, t)), **options)
    assert got.num_rows == 12 and done[-1] == (3, 3)  # 12 strategies in batches of 5
    assert _without_ms(got).equals(_without_ms(expected))


def _context_ids(dask_client) -> dict:
    return dask_client.run(lambda: {key: id(ctx) for key, ctx in scale_sweep._contexts.items()})


def test_workers_load_the_context_once_per_folder_and_run(dask_client, small_batches, folder, tmp_path,
                                                         example_amt_path):
    sweep(folder, GRID, scheduler=dask_client)
    first = _context_ids(dask_client)
    run_id = scale_sweep.manifest_run_id(str(folder))
    assert any(first.values()) and all(set(keys) <= {(str(folder.resolve()), run_id)} for keys in first.values())
    sweep(folder, GRID, scheduler=dask_client)
    again = _context_ids(dask_client)
    assert all(again[w] == first[w] for w in first if first[w])  # the same objects: not loaded again
    # another folder (or this one rewritten: a new run id) replaces the worker's context
    other = tmp_path / "other"
    straddles.backtest(example_amt_path, synthesize(example_amt_path, 2023, 2024, seed=7), 2023, 2024, out=other)
    expected = sweep(other, GRID)
    assert _without_ms(sweep(other, GRID, scheduler=dask_client)).equals(_without_ms(expected))
    keys = {key for ids in _context_ids(dask_client).values() for key in ids}
    assert (str(other.resolve()), scale_sweep.manifest_run_id(str(other))) in keys
    assert (str(folder.resolve()), run_id) not in keys


def test_sweep_on_a_scheduler_needs_a_folder(dask_client, folder, tmp_path):
    with pytest.raises(StraddlesError, match="needs a results folder"):
        sweep(straddles.load_backtest(folder), GRID, scheduler=dask_client)
    with pytest.raises(StraddlesError, match="not a backtest results folder"):
        sweep(tmp_path, GRID, scheduler=dask_client)
    with pytest.raises(StraddlesError, match="inception"):
        sweep(folder, GRID, inception="later", scheduler=dask_client)


def test_sweep_command_on_a_scheduler_address(dask_client, folder, tmp_path, capsys):
    grid = tmp_path / "grid.yml"
    grid.write_text("signals: [mac.60.5, srp.90]\nhedge: [none, gah]\n")
    out = tmp_path / "sweep.parquet"
    assert main(["sweep", str(folder), "--grid", str(grid), "--out", str(out),
                 "--scheduler", dask_client.scheduler.address]) == 0
    expected = sweep(folder, {"signals": ["mac.60.5", "srp.90"], "hedge": ["none", "gah"]})
    assert _without_ms(pq.read_table(out)).equals(_without_ms(expected))
    assert "mac.60.5" in capsys.readouterr().out
