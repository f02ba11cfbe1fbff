"""straddles: fast, columnar backtests of systematic delta-hedged option straddles.

The pipeline (see README, "Architecture"): an AMT file is expanded into every straddle it implies,
each straddle's price legs are resolved, a compiled kernel finds entry and expiry days, values the
straddle daily and computes its delta-hedged P&L, and the results are aggregated per asset, class
and portfolio.

>>> import straddles
>>> amt = straddles.load_amt(straddles.example_amt_path())
>>> straddles.expand(amt, 2024, 2024).num_rows
720

``import straddles`` does not import numba; the kernel compiles (or loads its on-disk cache) on
the first backtest.
"""

from __future__ import annotations

import importlib
from pathlib import Path

# The light stages are imported here (none of them imports numba); the rest on first use.
from .results.aggregation import portfolio
from .engine.amt import Amt, Asset, load_amt
from .engine.anchors import Overrides, load_overrides
from .engine.costs import CostModel, load_cost_model
from .errors import AmtError, OverridesError, PriceStoreError, StraddlesError
from .results.performance import Stats, stats
from .engine.pipeline import Backtest, backtest, load_backtest
from .engine.prices import PriceStore, load_prices, write_prices
from .engine.straddle_table import build_straddles, expand
from .engine.frames import wide_frame
from .engine.validate import Coverage, validate_prices

__version__ = "0.1.0"

#: public names whose modules import numba or matplotlib, loaded on first use
_LAZY = {"synthesize": "synth", "write_report": "results.report", "grid": "scale.grid"}
__all__ = sorted(["Amt", "Asset", "load_amt", "Overrides", "load_overrides", "CostModel", "load_cost_model", "Backtest", "backtest", "load_backtest",
                  "AmtError", "OverridesError", "PriceStoreError", "StraddlesError", "build_straddles", "expand",
                  "PriceStore", "load_prices", "write_prices", "portfolio", "Stats", "stats", "example_amt_path",
                  "wide_frame", "Coverage", "validate_prices",
                  *_LAZY])


def example_amt_path() -> Path:
    """Path of the example AMT bundled with the package (its overrides.csv lies beside it)."""
    return Path(__file__).parent / "data" / "example" / "amt.yml"


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'straddles' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


def __dir__():
    return __all__
