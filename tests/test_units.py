"""The units-aware P&L formatter shared by the report and the CLI (issue 9)."""

import math

import pytest

from straddles.results.units import BPS, NOTIONAL, format_pnl, unit_label


@pytest.mark.parametrize("value, text", [
    (-6.9321, "−6.93"), (-42163.2, "−42,163.20"), (0.0, "0.00"), (0.05, "0.0500"), (-0.0004213, "−0.000421"),
    (1.0, "1.00"), (None, "—"), (math.nan, "—"),
])
def test_units_of_notional_are_plain_numbers(value, text):
    assert format_pnl(value) == text and "%" not in format_pnl(value, NOTIONAL)


def test_basis_points_and_labels():
    assert format_pnl(-12.345, BPS) == "−12.3 bp"
    assert unit_label(NOTIONAL) == "units of notional" and unit_label(BPS) == "bp of capital"
    with pytest.raises(ValueError, match="units must be one of"):
        format_pnl(1.0, "percent")
