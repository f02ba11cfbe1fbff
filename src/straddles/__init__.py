"""straddles: fast, columnar backtests of systematic delta-hedged option straddles.

The pipeline (see README, "Architecture"): an AMT file is expanded into every straddle it implies,
each straddle's price legs are resolved, a compiled kernel finds entry and expiry days, values the
straddle daily and computes its delta-hedged P&L, and the results are aggregated per asset, class
and portfolio.

>>> import straddles
>>> amt = straddles.load_amt(straddles.example_amt_path())
>>> straddles.expand(amt, 2024, 2024).num_rows
720

Submodules are imported on first use, so ``import straddles`` stays cheap for command-line use.
"""

from __future__ import annotations

import importlib
from pathlib import Path

__version__ = "0.1.0"

_EXPORTS = {
    "load_amt": "amt", "Amt": "amt", "Asset": "amt",
    "expand": "expand", "build_straddles": "expand",
    "load_overrides": "anchors", "Overrides": "anchors",
    "load_prices": "prices", "PriceStore": "prices", "write_prices": "prices",
    "synthesize": "synth",
    "backtest": "backtest", "Backtest": "backtest", "load_backtest": "backtest",
    "portfolio": "portfolio", "stats": "stats",
    "StraddlesError": "errors", "AmtError": "errors", "OverridesError": "errors", "PriceStoreError": "errors",
}
__all__ = sorted(_EXPORTS) + ["example_amt_path"]


def example_amt_path() -> Path:
    """Path of the example AMT bundled with the package (its overrides.csv lies beside it)."""
    return Path(__file__).parent / "data" / "example" / "amt.yml"


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'straddles' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
