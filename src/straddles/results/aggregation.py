"""Portfolio aggregation: daily P&L per bucket of assets (class, group, asset or the portfolio).

The engine's per-asset table (SPEC 13.3) already holds, for each asset and calendar day, the sum of
``pnl * weight`` over the asset's straddles (``weight = wgt/100``, SPEC 3.5), with the option and
hedge parts (``opnl``, ``hpnl``) weighted the same way. :func:`portfolio` adds a sizing layer on
top and sums the assets into buckets:

* ``weights``: optional per-asset multipliers, a mapping ``{asset: multiplier}`` or a table with
  columns ``asset, weight``. Assets not named keep the multiplier 1.0; a multiplier of 0 drops the
  asset; a negative multiplier sells the asset's straddles instead of buying them.
* ``scale_by_weight_cap``: also multiply each asset by its AMT ``WeightCap`` (a missing WeightCap,
  which only dead assets have, counts as 0 and so drops the asset).

The effective multiplier ``m`` of an asset is the product of the two (1.0 when neither is given).
Every straddle is long by construction, so the **long leg** of a bucket is the P&L of its assets
with ``m > 0`` and the **short leg** that of its assets with ``m < 0``; without negative weights the
short leg is identically zero. Both are kept as ``pnl_long`` and ``pnl_short`` (their sum is
``pnl``), as are ``opnl`` and ``hpnl`` (their sum is ``pnl`` too, up to rounding).

With no weights and no WeightCap scaling the rows and values are exactly the SPEC 13.3 totals of
:meth:`straddles.Backtest.totals`, plus the ``pnl_long`` / ``pnl_short`` columns.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Union

import numpy as np
import pyarrow as pa

from ..engine.pipeline import as_backtest
from ..engine.totals import BUCKET_KEYS, aggregate
from ..errors import StraddlesError


Weights = Union[Mapping, pa.Table, None]


def portfolio(source, by: str = "class", weights: Weights = None, scale_by_weight_cap: bool = False) -> pa.Table:
    """Daily P&L per bucket: the sum over the bucket's assets of the asset's daily P&L times its
    multiplier (see the module docstring for ``weights`` and ``scale_by_weight_cap``).

    ``source`` is a :class:`~straddles.Backtest` or a backtest folder. ``by`` is ``"class"``,
    ``"group"`` (from the AMT's ``group_table``, SPEC 2.6), ``"subgroup"``, ``"asset"`` or
    ``"portfolio"`` (all assets in one bucket).

    Returns a table with columns ``<by>`` (dictionary-encoded strings, absent for ``portfolio``), ``date`` (calendar days,
    weekends included, as the engine produces them), ``pnl, opnl, hpnl, pnl_long, pnl_short``
    (float64) and ``n_assets`` (int32, assets with P&L that day), sorted by bucket name then date,
    with a row only where at least one asset of the bucket has P&L. The P&L is in the engine's
    units: fractions of notional (SPEC 1.2).

    >>> import straddles                                                    # doctest: +SKIP
    >>> result = straddles.load_backtest("straddles-demo")                  # doctest: +SKIP
    >>> by_class = straddles.portfolio(result, by="class")                  # doctest: +SKIP
    >>> sized = straddles.portfolio(result, "asset", weights={"SPY US Equity": -1.0},
    ...                             scale_by_weight_cap=True)                # doctest: +SKIP
    """
    backtest = as_backtest(source)
    multipliers = asset_multipliers(backtest.assets, weights, scale_by_weight_cap)
    return aggregate(backtest.asset_pnl, backtest.assets, by, multipliers)


def asset_multipliers(assets: pa.Table, weights: Weights = None, scale_by_weight_cap: bool = False) -> np.ndarray:
    """The multiplier of each row of ``assets`` (float64 array, in the table's order)."""
    names = assets["asset"].to_pylist()
    multipliers = np.ones(len(names))
    if weights is not None:
        given = _weights_mapping(weights)
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise StraddlesError(f"weights: unknown asset(s) {', '.join(map(repr, unknown[:5]))}"
                                 + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""))
        position = {name: i for i, name in enumerate(names)}
        for name, value in given.items():
            multipliers[position[name]] = value
    if scale_by_weight_cap:
        multipliers *= assets["weight_cap"].fill_null(0.0).to_numpy()
    return multipliers


def _weights_mapping(weights) -> dict[str, float]:
    if isinstance(weights, pa.Table):
        if not {"asset", "weight"} <= set(weights.column_names):
            raise StraddlesError("weights: a weights table needs the columns 'asset' and 'weight'")
        weights = dict(zip(weights["asset"].cast(pa.string()).to_pylist(), weights["weight"].to_pylist()))
    elif not isinstance(weights, Mapping):
        raise StraddlesError(f"weights: expected a mapping asset -> multiplier or a table, got {type(weights).__name__}")
    values = {}
    for name, value in weights.items():
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise StraddlesError(f"weights: the multiplier of {name!r} must be a finite number, got {value!r}")
        values[str(name)] = float(value)
    return values
