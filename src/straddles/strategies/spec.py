"""A strategy's name (STRATEGY S7): ``input:signals:rank:arp:crp:hedge``, parsed and printed.

>>> spec = StrategySpec.parse("npnl:mac.180.30+srp.365:grank:ivol:none:gah")
>>> spec.signals, str(spec) == "npnl:mac.180.30+srp.365:grank:ivol:none:gah"
(('mac.180.30', 'srp.365'), True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product
from typing import Iterable, Mapping

from ..errors import StrategyError

INPUTS = ("pnl", "npnl", "rnpnl", "wpnl")
RANKS = ("rank", "grank", "raw")
ARPS = ("none", "ivol", "abs", "std")
CRPS = ("none", "abs")
HEDGES = ("none", "h", "hg", "gah")
#: the fields of a name, in order, with their allowed values (None: signals, checked on their own)
FIELDS = {"input": INPUTS, "signals": None, "rank": RANKS, "arp": ARPS, "crp": CRPS, "hedge": HEDGES}
#: defaults of a sweep grid's missing keys (S7); signals has none
GRID_DEFAULTS = {"input": "npnl", "rank": "rank", "arp": "none", "crp": "none", "hedge": "none"}
#: built-in signals without a window
PLAIN_SIGNALS = ("clm", "vol")

_INT = r"[1-9][0-9]*"
_WINDOWED = re.compile(rf"(?P<kind>mac)\.(?P<slow>{_INT})\.(?P<fast>{_INT})|(?P<kind1>srp|sign)\.(?P<n>{_INT})")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Signal:
    """One signal of a strategy: a built-in (``mac``, ``srp``, ``sign``, ``clm``, ``vol``) with its
    windows, or an AMT ``signal_table`` row (``kind == "amt"``, ``name`` the row)."""

    kind: str
    windows: tuple[int, ...] = ()
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> Signal:
        match = _WINDOWED.fullmatch(text)
        if match:
            if match["kind"] == "mac":
                slow, fast = int(match["slow"]), int(match["fast"])
                if not slow > fast >= 1:
                    raise StrategyError(f"strategy: signal {text!r}: mac.S.F needs S > F >= 1")
                return cls("mac", (slow, fast))
            return cls(match["kind1"], (int(match["n"]),))
        if text in PLAIN_SIGNALS:
            return cls(text)
        if _NAME.fullmatch(text):
            return cls("amt", name=text)
        raise StrategyError(f"strategy: {text!r} is not a signal (mac.S.F, srp.N, sign.N, clm, vol or an AMT "
                            "signal_table row name)")

    def __str__(self) -> str:
        if self.kind == "amt":
            return self.name
        return ".".join([self.kind, *map(str, self.windows)])


@dataclass(frozen=True)
class StrategySpec:
    """The six fields of a strategy name; ``str(spec)`` prints the name ``parse`` reads."""

    input: str
    signals: tuple[str, ...]
    rank: str = "rank"
    arp: str = "none"
    crp: str = "none"
    hedge: str = "none"

    def __post_init__(self):
        if isinstance(self.signals, str):
            object.__setattr__(self, "signals", tuple(self.signals.split("+")))
        if not self.signals:
            raise StrategyError("strategy: at least one signal is needed")
        object.__setattr__(self, "signals", tuple(str(Signal.parse(s)) for s in self.signals))
        for name, allowed in FIELDS.items():
            value = getattr(self, name)
            if allowed is not None and value not in allowed:
                raise StrategyError(f"strategy: {name} must be one of {', '.join(allowed)}, got {value!r}")

    @classmethod
    def parse(cls, name: str) -> StrategySpec:
        if isinstance(name, StrategySpec):
            return name
        parts = str(name).split(":")
        if len(parts) != len(FIELDS):
            raise StrategyError(f"strategy: {name!r} is not input:signals:rank:arp:crp:hedge "
                                f"(e.g. npnl:mac.180.30+srp.365:grank:ivol:none:gah)")
        return cls(**dict(zip(FIELDS, parts)))

    @property
    def parsed_signals(self) -> tuple[Signal, ...]:
        return tuple(Signal.parse(s) for s in self.signals)

    def __str__(self) -> str:
        return ":".join([self.input, "+".join(self.signals), self.rank, self.arp, self.crp, self.hedge])


def grid_specs(grid: Iterable[str] | Mapping) -> list[StrategySpec]:
    """The strategies of a sweep grid (S7): a list of names, or a mapping of field -> list of
    values (a ``signals`` item is a ``+``-joined list) whose Cartesian product is taken, missing
    keys at their default. Duplicates are dropped, the first kept."""
    if isinstance(grid, Mapping):
        unknown = sorted(set(grid) - set(FIELDS))
        if unknown:
            raise StrategyError(f"sweep: unknown grid key(s) {', '.join(map(repr, unknown))} "
                                f"(expected {', '.join(FIELDS)})")
        if not grid.get("signals"):
            raise StrategyError("sweep: the grid needs a non-empty 'signals' list")
        axes = []
        for key in FIELDS:
            values = grid.get(key, [GRID_DEFAULTS.get(key)])
            values = [values] if isinstance(values, str) else list(values)
            if not values:
                raise StrategyError(f"sweep: grid key {key!r} is an empty list")
            axes.append([str(v) for v in values])
        specs = [StrategySpec(*values) for values in product(*axes)]
    else:
        if isinstance(grid, str):
            raise StrategyError("sweep: grid must be a list of strategy names or a mapping, not a string")
        specs = [StrategySpec.parse(name) for name in grid]
    return list(dict.fromkeys(specs))
