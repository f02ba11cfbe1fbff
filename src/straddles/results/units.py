"""Units of P&L and how to print them: the one place the report, the CLI and summaries format money.

P&L comes in two units, and a number is never shown without knowing which:

* ``NOTIONAL`` -- the engine's unsized P&L (SPEC 1.2, 12): a long position of one unit of every
  straddle, so P&L is in units of notional, i.e. fractions of the strike for ES/CDS_ES straddles
  (per unit of swap notional for NS). Sums over straddles and assets are sums of positions, not
  returns on capital, so they are never formatted as percentages.
* ``BPS`` -- sized P&L of a strategy, in basis points of capital (the strategy layer).

>>> format_pnl(-6.9321)
'−6.93'
>>> format_pnl(-0.0004213)
'−0.000421'
>>> format_pnl(12.5, BPS)
'12.5 bp'
>>> format_pnl(None)
'—'
"""

from __future__ import annotations

import math

NOTIONAL = "notional"
BPS = "bps"
#: short unit label per unit (table headers, axis labels)
UNIT_LABELS = {NOTIONAL: "units of notional", BPS: "bp of capital"}
#: what the position and the unit are, in one sentence (report, CLI, summary.json)
UNIT_SENTENCES = {
    NOTIONAL: "Long one unit of every straddle (schedule weights, no sizing); P&L in units of notional: "
              "fractions of the strike (per unit of swap notional for NS straddles), summed over straddles, "
              "not a return on capital.",
    BPS: "Sized strategy positions; P&L in basis points of capital.",
}
MINUS = "−"


def unit_label(units: str = NOTIONAL) -> str:
    """The short label of ``units`` (``"units of notional"`` or ``"bp of capital"``)."""
    try:
        return UNIT_LABELS[units]
    except KeyError:
        raise ValueError(f"units must be one of {', '.join(UNIT_LABELS)}, got {units!r}") from None


def format_pnl(value: float | None, units: str = NOTIONAL, digits: int = 3) -> str:
    """A P&L number for people: ``units`` picks the form (see the module docstring).

    Units of notional are printed with about ``digits`` significant digits (at least two
    decimals, no exponent), thousands separated, with a true minus sign and no unit suffix (the
    header or label carries :func:`unit_label`); basis points get one decimal and ``" bp"``.
    None and NaN print as an em dash.
    """
    unit_label(units)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if units == BPS:
        text = f"{value:,.1f} bp"
    else:
        magnitude = abs(value)
        decimals = 2 if magnitude >= 1 or magnitude == 0 else max(2, digits - 1 - math.floor(math.log10(magnitude)))
        text = f"{value:,.{decimals}f}"
    return text.replace("-", MINUS)
