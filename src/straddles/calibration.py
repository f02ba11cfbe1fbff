"""Calibration statistics of a market: does a price store (synthetic or real) look like one?

Two families of numbers, both measured on outputs only (a price store and a backtest), so that
they apply to real data as well as to :func:`straddles.synthesize`'s:

* :func:`vol_premium` -- per asset, the implied vol minus the realized vol of the hedge over the
  next month (``HORIZON`` = 21 business days of log returns, annualized with 252), in vol points.
  It is measured where one vol series and one hedge series stand for the asset throughout: assets
  whose hedge is a plain ticker (``nonfut``: equity indices and ETFs, single stocks, FX) and whose
  vol is quoted in percent (BBG, CV credit).
* :func:`pnl_profile` -- the long-straddle book of a backtest (one unit of every straddle, schedule
  weights, no sizing): its Sharpe ratio, the share of (asset, calendar year) pairs that make money,
  and the P&L per calendar year.

``benchmarks/synth_calibration.py`` prints both for the real AMT; ``tests/test_calibration.py``
checks the synthetic market against the targets of the README's "Synthetic data" section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .engine.legs import HEDGE, VOL
from .engine.straddle_table import StraddleFrame

#: business days of the realized-vol window ("next month")
HORIZON = 21
#: annualization of daily log-return variance
PERIODS_PER_YEAR = 252
#: calendar years of the volatility crises the synthetic market reproduces (see synth.CRISES)
CRISIS_YEARS = (2008, 2011, 2020, 2022)


def vol_premium(frame: StraddleFrame, store) -> pa.Table:
    """Per measurable asset: ``asset, class, n_days, implied, realized, premium, positive``.

    ``implied`` and ``realized`` are means over the days where both the vol and the next
    ``HORIZON`` hedge returns exist (vol points, percent); ``premium`` is the mean of their daily
    difference and ``positive`` the share of days on which it is > 0.
    """
    rows = []
    for index, asset in enumerate(frame.assets):
        if asset.hedge_source != "nonfut" or asset.vol_source not in ("BBG", "CV") or asset.hedge_source == "calc":
            continue
        mine = np.flatnonzero((frame.asset == index) & (frame.legs[VOL] >= 0) & (frame.legs[HEDGE] >= 0))
        if not len(mine):
            continue
        vol_id = np.bincount(frame.legs[VOL][mine]).argmax()
        hedge_id = np.bincount(frame.legs[HEDGE][mine]).argmax()
        measured = _premium_series(store, frame.catalog.pair(int(vol_id)), frame.catalog.pair(int(hedge_id)))
        if measured is None:
            continue
        implied, realized = measured
        rows.append({"asset": asset.underlying, "class": asset.asset_class, "n_days": len(implied),
                     "implied": float(implied.mean()), "realized": float(realized.mean()),
                     "premium": float((implied - realized).mean()),
                     "positive": float((implied > realized).mean())})
    schema = pa.schema([("asset", pa.string()), ("class", pa.string()), ("n_days", pa.int64()),
                        ("implied", pa.float64()), ("realized", pa.float64()), ("premium", pa.float64()),
                        ("positive", pa.float64())])
    return pa.Table.from_pylist(rows, schema=schema)


def _premium_series(store, vol: tuple[str, str], hedge: tuple[str, str]):
    """(implied, next-month realized) on the days both are defined, or None."""
    vol_days, vol_values = store.series(*vol)
    hedge_days, hedge_values = store.series(*hedge)
    if len(hedge_days) <= HORIZON + 1 or not len(vol_days):
        return None
    returns = np.diff(np.log(hedge_values))
    squares = np.concatenate([[0.0], np.cumsum(returns**2)])
    # realized over the returns hedge_days[i] -> hedge_days[i + HORIZON]
    realized = np.sqrt((squares[HORIZON:] - squares[:-HORIZON]) / HORIZON * PERIODS_PER_YEAR) * 100.0
    start_days = hedge_days[:len(realized)]
    position = np.searchsorted(start_days, vol_days)
    inside = position < len(start_days)
    found = inside & (start_days[np.minimum(position, len(start_days) - 1)] == vol_days) & (vol_values > 0)
    if not found.any():
        return None
    return vol_values[found], realized[position[found]]


@dataclass
class PnlProfile:
    """The long-straddle book of a backtest, one unit of every straddle (see module docstring)."""

    sharpe: float
    ann_pnl: float
    positive_asset_years: float
    n_asset_years: int
    annual: dict[int, float]
    class_sharpe: dict[str, float]

    def lines(self) -> list[str]:
        """The profile as printable lines."""
        years = " ".join(f"{year}:{pnl:+.2f}" for year, pnl in self.annual.items())
        classes = " ".join(f"{name}:{sharpe:+.2f}" for name, sharpe in self.class_sharpe.items())
        return [f"portfolio Sharpe {self.sharpe:.2f}, P&L {self.ann_pnl:+.3f} a year (fractions of strike)",
                f"asset-years making money: {self.positive_asset_years:.1%} of {self.n_asset_years}",
                f"P&L per year: {years}", f"Sharpe by class: {classes}"]


def pnl_profile(backtest) -> PnlProfile:
    """Sharpe, share of positive asset-years and annual P&L of ``backtest``'s unsized book."""
    from .results.performance import stats

    by_class = stats(backtest, "class")
    summary = {row["bucket"]: row for row in by_class.summary.to_pylist()}
    total = summary.pop("total")
    annual = {row["year"]: row["pnl"] for row in by_class.annual.to_pylist() if row["bucket"] == "total"}
    asset_pnl = backtest.asset_pnl
    asset = asset_pnl["asset"].combine_chunks()
    asset = asset.indices.to_numpy() if pa.types.is_dictionary(asset.type) else \
        np.unique(asset.to_numpy(zero_copy_only=False), return_inverse=True)[1]
    year = asset_pnl["date"].cast(pa.int32()).to_numpy().astype("datetime64[D]").astype("datetime64[Y]").astype(int)
    key = asset.astype(np.int64) * 1000 + year
    cells, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse, weights=asset_pnl["pnl"].to_numpy())
    return PnlProfile(sharpe=total["sharpe"] if total["sharpe"] is not None else math.nan,
                      ann_pnl=total["ann_return"], positive_asset_years=float((sums > 0).mean()) if len(sums) else 0.0,
                      n_asset_years=len(cells), annual=annual,
                      class_sharpe={name: row["sharpe"] for name, row in summary.items()})
