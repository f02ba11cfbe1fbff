"""The opt-in run options of SPEC Part II, checked and turned into the kernel's terms.

``asof`` and ``expiry_basis`` (SPEC 16), ``greeks`` (SPEC 17) and ``costs`` (SPEC 18) are user
options of :func:`straddles.backtest` and :func:`straddles.results.explain.explain_straddle`; this
module validates them once and builds the :class:`~straddles.engine.kernel.KernelOptions` the
kernel consumes. Calendars (SPEC 6.5) act earlier, on the anchors: see
:mod:`straddles.engine.calendars`.
"""

from __future__ import annotations

import datetime as _dt

from .costs import cost_model
from .dates import day_number
from ..errors import StraddlesError

EXPIRY_BASES = ("realized", "anchor")
#: the optional day columns, after ``pnl``: SPEC 17 (greeks), then SPEC 18 (costs)
GREEK_DAY_COLUMNS = ("gamma", "vega", "theta", "gamma_pnl", "theta_pnl", "vega_pnl", "resid_pnl")
COST_DAY_COLUMNS = ("cost_option", "cost_hedge", "pnl_net")
#: the optional weighted sums of asset_pnl and the totals, greeks first when on
GREEK_GRID_COLUMNS = ("gamma_pnl", "theta_pnl", "vega_pnl", "resid_pnl")
COST_GRID_COLUMNS = COST_DAY_COLUMNS


def resolve_asof(asof, store) -> int | None:
    """``asof`` as a day number: None stays None; a date, an ISO ``YYYY-MM-DD`` string, or
    ``"last"`` = the largest date of any row of the price source (SPEC 16.1.1)."""
    if asof is None:
        return None
    if isinstance(asof, str) and asof == "last":
        if store.last_day is None:
            raise StraddlesError(f"{store.source}: asof='last' needs a price source with at least one row")
        return int(store.last_day)
    if isinstance(asof, _dt.datetime):
        asof = asof.date()
    if isinstance(asof, str):
        try:
            asof = _dt.date.fromisoformat(asof)
        except ValueError:
            raise StraddlesError(f"asof: expected YYYY-MM-DD or 'last', got {asof!r}") from None
    if not isinstance(asof, _dt.date):
        raise StraddlesError(f"asof: expected a date, an ISO string or 'last', got {type(asof).__name__}")
    return day_number(asof)


def kernel_options(frame, store, asof=None, expiry_basis: str = "realized", greeks: bool = False, costs=None):
    """The :class:`~straddles.engine.kernel.KernelOptions` of a run over ``frame``."""
    from .kernel import KernelOptions

    if expiry_basis not in EXPIRY_BASES:
        raise StraddlesError(f"expiry_basis: expected one of {', '.join(EXPIRY_BASES)}, got {expiry_basis!r}")
    model = cost_model(costs)
    spread = bps = None
    if model is not None:
        per_asset_spread, per_asset_bps = model.per_asset(frame.assets, frame.amt.path if frame.amt else None)
        spread, bps = per_asset_spread[frame.asset], per_asset_bps[frame.asset]
    return KernelOptions(asof=resolve_asof(asof, store), anchor_basis=expiry_basis == "anchor", greeks=bool(greeks),
                         option_spread=spread, hedge_bps=bps)
