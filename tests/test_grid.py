"""SPEC 13.3: the compiled grid compaction against the NumPy twin it replaced, on random grids."""

from types import SimpleNamespace

import numpy as np
import pytest

from straddles.engine.grid import compact_grid


def numpy_rows(result) -> dict:
    """The slow, obvious version: nonzero cells, then repeats and gathers."""
    cells = np.flatnonzero(result.grid_count)
    per_asset = np.diff(np.searchsorted(cells, result.grid_offsets))
    asset = np.repeat(np.arange(len(per_asset), dtype=np.int32), per_asset)
    days = cells - np.repeat(result.grid_offsets[:-1] - result.grid_first_day, per_asset)
    extra = result.grid_extra[:, cells] if result.options.grid_columns() else np.zeros((0, len(cells)))
    return dict(asset=asset, day=days.astype(np.int32), pnl=result.grid_pnl[cells], opnl=result.grid_opnl[cells],
                hpnl=result.grid_hpnl[cells], n_straddles=result.grid_count[cells], extra=extra)


def random_result(seed: int):
    rng = np.random.default_rng(seed)
    n_assets = int(rng.integers(0, 12))
    sizes = rng.integers(0, 60, n_assets) * (rng.random(n_assets) < 0.8)  # some assets without a window
    offsets = np.zeros(n_assets + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    n_cells = int(offsets[-1])
    count = (rng.integers(0, 4, n_cells) * (rng.random(n_cells) < 0.6)).astype(np.int32)
    n_extra = int(rng.choice([0, 4, 3, 7]))
    values = rng.normal(size=(3 + n_extra, n_cells))
    values[:, rng.random(n_cells) < 0.1] = np.nan
    columns = tuple(f"x{k}" for k in range(n_extra))
    return SimpleNamespace(grid_count=count, grid_offsets=offsets,
                           grid_first_day=rng.integers(10_000, 20_000, n_assets).astype(np.int64),
                           grid_pnl=values[0], grid_opnl=values[1], grid_hpnl=values[2],
                           grid_extra=values[3:] if n_extra else np.zeros((0, 0)),
                           options=SimpleNamespace(grid_columns=lambda: columns))


@pytest.mark.parametrize("seed", range(60))
def test_compact_grid_equals_the_numpy_rows_spec_13_3(seed):
    result = random_result(seed)
    got, expected = compact_grid(result), numpy_rows(result)
    assert got.keys() == expected.keys()
    for name, values in expected.items():
        assert got[name].dtype == values.dtype, name
        np.testing.assert_array_equal(got[name], values, err_msg=name)
