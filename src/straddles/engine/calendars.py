"""Optional exchange holiday calendars for BD anchors (SPEC 6.5, SPEC-E24).

By default BDn is the n-th Monday-Friday day of the month. With a calendar mapping, an asset whose
Underlying matches a regex gets that exchange's calendar and BDn becomes the n-th Monday-Friday
day that is not a holiday of it. Holiday rules come from the maintained ``exchange_calendars``
package (imported only when calendars are configured); this module only maps assets to calendar
names and turns sessions into day numbers.

A calendar covers the run's whole date range or the run fails: ``exchange_calendars`` raises for
dates outside a calendar's bounds, and the error names the calendar and the range.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dates import day_label, weekday
from ..errors import StraddlesError
from .settings_files import read_settings


@dataclass(frozen=True)
class Calendars:
    """``(Underlying regex, calendar name)`` rules; the first rule whose regex is found
    (``re.search``) in an asset's Underlying gives its calendar; no hit = Monday-Friday BD."""

    rules: tuple[tuple[str, str], ...]
    source: str = "calendars"

    def name_for(self, underlying: str) -> str | None:
        for pattern, name in self.rules:
            if re.search(pattern, underlying):
                return name
        return None

    def business_days(self, name: str, first_day: int, last_day: int) -> np.ndarray:
        """Sorted day numbers of the Monday-Friday sessions of calendar ``name`` in [first, last]."""
        import exchange_calendars as xc
        import pandas as pd

        first, last = day_label(first_day), day_label(last_day)
        try:
            with warnings.catch_warnings():  # exchange_calendars' own pandas deprecations, not the user's
                warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
                calendar = xc.get_calendar(name, start=first, end=last)
        except xc.errors.InvalidCalendarName:
            raise StraddlesError(f"{self.source}: unknown exchange calendar {name!r} "
                                 f"(exchange_calendars.get_calendar_names() lists them)") from None
        except (ValueError, xc.errors.CalendarError) as exc:
            raise StraddlesError(f"{self.source}: calendar {name!r} cannot cover {first} .. {last}: "
                                 f"{str(exc).splitlines()[0]}") from None
        sessions = calendar.sessions
        days = ((sessions - pd.Timestamp("1970-01-01")).days).to_numpy().astype(np.int32)
        return days[weekday(days) < 5]


def calendars_option(value) -> Calendars | None:
    """The ``calendars`` run option: None (Monday-Friday BD), a Calendars, a mapping
    ``{Underlying regex: calendar name}`` or the path of a YAML file holding that mapping."""
    if value is None or isinstance(value, Calendars):
        return value
    if isinstance(value, (str, Path)):
        return load_calendars(value)
    if isinstance(value, Mapping):
        return _from_mapping(value, "calendars")
    raise StraddlesError(f"calendars: expected a mapping regex -> calendar name or a YAML path, "
                         f"got {type(value).__name__}")


def load_calendars(path: str | Path) -> Calendars:
    """Read a calendars YAML file: a mapping ``"Underlying regex": CALENDAR`` (e.g. ``Curncy$: XNYS``)."""
    path = Path(path)
    return _from_mapping(read_settings(path, "calendars file", "a mapping 'Underlying regex: CALENDAR'"), str(path))


def _from_mapping(mapping: Mapping, source: str) -> Calendars:
    rules = []
    for pattern, name in mapping.items():
        if not isinstance(name, str) or not name:
            raise StraddlesError(f"{source}: the calendar of {pattern!r} must be a name like XNYS, got {name!r}")
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise StraddlesError(f"{source}: {pattern!r} is not a valid regex: {exc}") from None
        rules.append((str(pattern), name))
    return Calendars(tuple(rules), source)
