"""straddles: fast, columnar backtests of systematic delta-hedged option straddles.

The pipeline (see README, "Architecture"): an AMT file is expanded into every straddle it implies,
each straddle's price legs are resolved, a compiled kernel finds entry and expiry days, values the
straddle daily and computes its delta-hedged P&L, and the results are aggregated per asset, class
and portfolio.

>>> import straddles
>>> amt = straddles.load_amt(straddles.example_amt_path())
>>> straddles.expand(amt, 2024, 2024).num_rows
720

``import straddles`` imports nothing heavy: every public name is loaded from its module on first
use (PEP 562), so ``import straddles`` costs a few milliseconds and ``straddles --help`` answers at
once; the kernel compiles (or loads its on-disk cache) on the first backtest.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from .errors import AmtError, OverridesError, PriceStoreError, StraddlesError

__version__ = "0.1.0"

#: public name -> module (relative to the package) that defines it, imported on first use
_LAZY = {
    "Amt": "engine.amt", "Asset": "engine.amt", "load_amt": "engine.amt",
    "Overrides": "engine.anchors", "load_overrides": "engine.anchors",
    "CostModel": "engine.costs", "load_cost_model": "engine.costs",
    "Backtest": "engine.pipeline", "backtest": "engine.pipeline", "load_backtest": "engine.pipeline",
    "PriceStore": "engine.prices", "load_prices": "engine.prices", "write_prices": "engine.prices",
    "build_straddles": "engine.straddle_table", "expand": "engine.straddle_table",
    "wide_frame": "engine.frames",
    "Coverage": "engine.validate", "validate_prices": "engine.validate",
    "portfolio": "results.aggregation",
    "Stats": "results.performance", "stats": "results.performance",
    "synthesize": "synth",
    "write_report": "results.report",
    "strategy": "strategies.api", "StrategyResult": "strategies.api", "StrategySpec": "strategies.spec",
    "sweep": "strategies.sweep",
    "grid": "scale.grid",
}
__all__ = sorted(["AmtError", "OverridesError", "PriceStoreError", "StraddlesError", "example_amt_path", "example_grid_path", *_LAZY])


def example_amt_path() -> Path:
    """Path of the example AMT bundled with the package (its overrides.csv lies beside it)."""
    return Path(__file__).parent / "data" / "example" / "amt.yml"


def example_grid_path() -> Path:
    """Path of the bundled sweep grid (STRATEGY S7), 384 strategies on the example AMT."""
    return Path(__file__).parent / "data" / "example" / "grid.yml"


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'straddles' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return __all__
