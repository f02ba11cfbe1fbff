"""Error types raised for bad user input.

Every error a user can cause names where the problem is: the file, then the asset and field (AMT),
or the row (CSV and price tables). The CLI prints ``str(error)`` and exits with status 2, so the
message must stand on its own without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class StraddlesError(Exception):
    """Base class of every error caused by user input (files, arguments, data)."""


class AmtError(StraddlesError):
    """An invalid AMT file: the message names the file, the asset and the field."""

    def __init__(self, path: str | Path | None, asset: str | None, field: str | None, problem: str):
        self.path = str(path) if path is not None else "<AMT>"
        self.asset = asset
        self.field = field
        self.problem = problem
        where = [self.path]
        if asset is not None:
            where.append(f"asset {asset!r}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {problem}")


class OverridesError(StraddlesError):
    """An invalid or missing expiry-overrides CSV: the message names the file and the row."""


class PriceStoreError(StraddlesError):
    """An invalid price source: the message names the source and the offending row or series."""


class OutputError(StraddlesError, OSError):
    """A file could not be written (disk full, no permission): names the file and the reason.

    It is also an :class:`OSError`, so code that tolerates failed writes (caches) still does.
    """


class StrategyError(StraddlesError):
    """An invalid strategy input, e.g. a signal_table row outside the grammar: the message names
    the file and the row (STRATEGY.md)."""
