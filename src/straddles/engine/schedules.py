"""Schedule entries: the ``<entry>_<expiry>[_<weight>]`` grammar and letter fixing (SPEC section 3).

A schedule entry such as ``N5_F3_33.3`` says: enter in the month before expiry (``N``), 5 calendar
days after the anchor; the anchor is the 3rd Friday (``F3``); the straddle carries 33.3 % weight.
This module turns entry strings into :class:`ScheduleEntry` records once per asset; anchors are
computed per month by :mod:`straddles.engine.anchors`.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Callable

from .dates import FRIDAY, THURSDAY, WEDNESDAY

#: expiry codes that name the n-th weekday of a month (SPEC 3.3)
WEEKDAY_CODES = {"F": FRIDAY, "R": THURSDAY, "W": WEDNESDAY}
#: anchor rule kinds, as stored in the straddle table and read by the kernels
RULE_UNSUPPORTED, RULE_WEEKDAY, RULE_BD, RULE_OVERRIDE = 0, 1, 2, 3
#: months between the entry month and the expiry month, by entry code (SPEC 3.2)
ENTRY_MONTHS_BEFORE = {"N": 1, "F": 2}
FIXED_LETTERS = frozenset("abcd")
#: largest ntrv and F/R/W/BD xprv accepted: a month has at most 31 days, so a larger entry offset
#: or n-th day means nothing more (an offset past the month end already falls back to its last
#: good day, SPEC 6.2, and a 32nd weekday never exists, SPEC 6.1); larger values are rejected
#: rather than overflowing the int32 day arithmetic
MAX_DAY_VALUE = 31
#: most entries in one schedule: ``schid`` is an int8 column (SPEC 13.1)
MAX_ENTRIES = 127
_LEADING_UPPER = re.compile(r"[A-Z]+")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class ScheduleEntry:
    """One fixed schedule entry of one asset.

    ``ntrv`` and ``xprv`` hold the values after letter fixing; ``wgt`` is verbatim. The identity
    string of a straddle is built from these five strings (SPEC 4.2).
    """

    schid: int
    ntrc: str
    ntrv: str
    xprc: str
    xprv: str
    wgt: str

    @property
    def months_before_expiry(self) -> int:
        """1 for N (near) entries, 2 for F (far) entries."""
        return ENTRY_MONTHS_BEFORE[self.ntrc]

    @property
    def entry_offset_days(self) -> int:
        """``ntrv`` as calendar days added to the entry anchor; ``""`` counts as 0."""
        return int(self.ntrv) if self.ntrv else 0

    @property
    def weight(self) -> float:
        """Aggregation weight: ``float(wgt)/100``, or 1.0 when wgt is empty (SPEC 3.5)."""
        return float(self.wgt) / 100.0 if self.wgt else 1.0

    @property
    def rule(self) -> tuple[int, int, int]:
        """``(kind, weekday, n)`` of the anchor rule; kind is one of the ``RULE_*`` codes.

        F/R/W/BD need a positive integer ``xprv``; any other code or value is unsupported
        (SPEC 3.3) and OVERRIDE ignores its value.
        """
        if self.xprc == "OVERRIDE":
            return RULE_OVERRIDE, -1, 0
        if self.xprc in WEEKDAY_CODES or self.xprc == "BD":
            n = int(self.xprv) if _DIGITS.fullmatch(self.xprv) else 0
            if n > 0:
                if self.xprc == "BD":
                    return RULE_BD, -1, n
                return RULE_WEEKDAY, WEEKDAY_CODES[self.xprc], n
        return RULE_UNSUPPORTED, -1, 0

    @property
    def fixed_text(self) -> str:
        """The entry as written but with its letters fixed, e.g. ``N0_BD5_25`` for ``N0_BDa_25``."""
        return f"{self.ntrc}{self.ntrv}_{self.xprc}{self.xprv}" + (f"_{self.wgt}" if self.wgt else "")

    @property
    def suffix(self) -> str:
        """The identity string after the two months: ``ntrc|ntrv|xprc|xprv|wgt|``."""
        return f"{self.ntrc}|{self.ntrv}|{self.xprc}|{self.xprv}|{self.wgt}|"


def split_code(part: str) -> tuple[str, str]:
    """Split ``N0``/``BDa``/``OVERRIDE15`` into (code, value) (SPEC 3.1, SPEC-E2).

    The code is the longest leading run of ASCII uppercase letters and the value the rest; with no
    leading uppercase letter the whole string is the code and the value is empty.
    """
    match = _LEADING_UPPER.match(part)
    if match is None:
        return part, ""
    return match.group(), part[match.end():]


def asset_id(underlying: str) -> int:
    """``int(md5(underlying)[0:8], 16) mod 1_000_000`` (SPEC 3.4)."""
    return int(hashlib.md5(underlying.encode("utf-8")).hexdigest()[:8], 16) % 1_000_000


def fix_letter(value: str, underlying: str, schid: int, schcnt: int) -> str:
    """Replace a value that is exactly ``a``/``b``/``c``/``d`` by its day number (SPEC 3.4).

    Only the entry's position matters, not the letter: the values are spread over the month with
    stride ``floor(20/(schcnt+1))`` and an asset-specific offset in 1..5.
    """
    if value not in FIXED_LETTERS:
        return value
    return str((schid - 1) * (20 // (schcnt + 1)) + asset_id(underlying) % 5 + 1)


def parse_entry(text: str, underlying: str, schid: int, schcnt: int) -> ScheduleEntry:
    """Parse and letter-fix one entry string; raises ValueError describing a grammar breach."""
    if not isinstance(text, str):
        raise ValueError(f"entry must be a string like 'N0_F3_33.3', got {text!r}")
    parts = text.split("_")
    if not 2 <= len(parts) <= 3:
        raise ValueError(f"entry {text!r} must be <entry>_<expiry>[_<weight>]")
    ntrc, ntrv = split_code(parts[0])
    xprc, xprv = split_code(parts[1])
    wgt = parts[2] if len(parts) == 3 else ""
    if ntrc not in ENTRY_MONTHS_BEFORE:
        raise ValueError(f"entry {text!r}: entry code must be N or F, got {ntrc!r}")
    ntrv = fix_letter(ntrv, underlying, schid, schcnt)
    xprv = fix_letter(xprv, underlying, schid, schcnt)
    if ntrv and not _DIGITS.fullmatch(ntrv):
        raise ValueError(f"entry {text!r}: entry value must be digits or empty, got {ntrv!r}")
    if ntrv and _too_large(ntrv):
        raise ValueError(f"entry {text!r}: entry offset {ntrv} is more than {MAX_DAY_VALUE} days "
                         "(an offset past the month end means its last good day; write at most 31)")
    if (xprc in WEEKDAY_CODES or xprc == "BD") and _DIGITS.fullmatch(xprv) and _too_large(xprv):
        raise ValueError(f"entry {text!r}: expiry value {xprv} is more than {MAX_DAY_VALUE} "
                         f"(no month has a {xprv}th {'business day' if xprc == 'BD' else 'weekday'})")
    if wgt:
        try:
            number = float(wgt)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number >= 0):
            raise ValueError(f"entry {text!r}: weight must be a number >= 0 or empty, got {wgt!r}")
    return ScheduleEntry(schid=schid, ntrc=ntrc, ntrv=ntrv, xprc=xprc, xprv=xprv, wgt=wgt)


def _too_large(digits: str) -> bool:
    """Whether a digit string exceeds :data:`MAX_DAY_VALUE` (without int() on thousands of digits)."""
    significant = digits.lstrip("0")
    return len(significant) > 2 or (significant != "" and int(significant) > MAX_DAY_VALUE)


def parse_schedule(entries: list, underlying: str,
                   error: Callable[[str, int | None], Exception]) -> list[ScheduleEntry]:
    """Parse every entry of a schedule list for one asset.

    ``error(problem, index)`` builds the exception to raise, so the caller can name its file,
    asset and schedule in the message.
    """
    if not entries:
        raise error("schedule is empty", None)
    if len(entries) > MAX_ENTRIES:
        raise error(f"schedule has {len(entries)} entries; at most {MAX_ENTRIES} are supported "
                    "(schid is an int8, SPEC 13.1)", None)
    parsed = []
    for index, text in enumerate(entries):
        try:
            parsed.append(parse_entry(text, underlying, index + 1, len(entries)))
        except ValueError as exc:
            raise error(str(exc), index) from None
    return parsed
