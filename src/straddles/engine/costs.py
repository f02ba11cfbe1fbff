"""Trading costs (SPEC 18): the per-asset option half-spread and hedge cost rate.

A :class:`CostModel` starts from the AMT's own numbers (``Slippage`` x ``SlippageFactor``, the
half-spread in the units of the asset's vol leg) and lets a user replace or add to them. It is
resolved here, per asset in Python, into two per-straddle arrays the kernel consumes: the option
half-spread in vol units (charged once, times the entry day's vega) and the hedge cost in basis
points of the traded hedge notional.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AmtError, StraddlesError
from .settings_files import read_settings

#: the YAML keys of a cost file (the fields of CostModel)
COST_FIELDS = ("slippage", "slippage_factor", "class_spread", "hedge_bps")


@dataclass(frozen=True)
class CostModel:
    """How to charge costs (SPEC 18); every field defaults to the AMT's values.

    * ``slippage``, ``slippage_factor``: ``{Underlying regex: value}`` replacing the AMT's
      ``Slippage`` / ``SlippageFactor`` for the assets the regex finds (``re.search``, first match
      in mapping order);
    * ``class_spread``: ``{Class: vol points}`` added to the half-spread;
    * ``hedge_bps``: a number, or ``{key: bps}`` where a key equal to a Class name is that Class and
      any other key an Underlying regex. Precedence: Underlying regex, then Class, then 0.
    """

    slippage: Mapping[str, float] | None = None
    slippage_factor: Mapping[str, float] | None = None
    class_spread: Mapping[str, float] | None = None
    hedge_bps: float | Mapping[str, float] = 0.0

    def per_asset(self, assets, amt_path=None) -> tuple[np.ndarray, np.ndarray]:
        """(option half-spread in vol units, hedge bps) for each asset of ``assets``."""
        classes = {asset.asset_class for asset in assets}
        spread, bps = np.zeros(len(assets)), np.zeros(len(assets))
        for k, asset in enumerate(assets):
            slippage = _by_regex(self.slippage, asset.underlying)
            if slippage is None:
                slippage = _amt_number(asset, "Slippage", 0.0, amt_path)
            factor = _by_regex(self.slippage_factor, asset.underlying)
            if factor is None:
                factor = _amt_number(asset, "SlippageFactor", 1.0, amt_path)
            spread[k] = slippage * factor + (self.class_spread or {}).get(asset.asset_class, 0.0)
            bps[k] = self._hedge_bps(asset, classes)
        return spread, bps

    def _hedge_bps(self, asset, classes) -> float:
        if not isinstance(self.hedge_bps, Mapping):
            return float(self.hedge_bps)
        by_regex = {key: value for key, value in self.hedge_bps.items() if key not in classes}
        found = _by_regex(by_regex, asset.underlying)
        if found is not None:
            return found
        return float(self.hedge_bps.get(asset.asset_class, 0.0))


def cost_model(costs) -> CostModel | None:
    """The CostModel of the ``costs`` run option: None/False (off), True (AMT defaults), a
    CostModel, or a path to a cost YAML file."""
    if costs is None or costs is False:
        return None
    if costs is True:
        return CostModel()
    if isinstance(costs, CostModel):
        _check(costs, "costs")
        return costs
    if isinstance(costs, (str, Path)):
        return load_cost_model(costs)
    raise StraddlesError(f"costs: expected True, a CostModel or a YAML path, got {type(costs).__name__}")


def load_cost_model(path: str | Path) -> CostModel:
    """Read a cost YAML file with the keys of :data:`COST_FIELDS` (all optional)."""
    path = Path(path)
    data = read_settings(path, "cost file", f"a mapping with keys {', '.join(COST_FIELDS)}", allow_empty=True)
    unknown = sorted(set(map(str, data)) - set(COST_FIELDS))
    if unknown:
        raise StraddlesError(f"{path}: unknown key {unknown[0]!r} (expected {', '.join(COST_FIELDS)})")
    model = CostModel(**{key: data[key] for key in COST_FIELDS if data.get(key) is not None})
    _check(model, str(path))
    return model


def _check(model: CostModel, where: str) -> None:
    """Every value a finite number, every mapping keyed by strings that compile as regexes."""
    for name in COST_FIELDS:
        value = getattr(model, name)
        if value is None:
            continue
        if name == "hedge_bps" and not isinstance(value, Mapping):
            if not _is_number(value):
                raise StraddlesError(f"{where}: hedge_bps must be a finite number or a mapping, got {value!r}")
            continue
        if not isinstance(value, Mapping):
            raise StraddlesError(f"{where}: {name} must be a mapping, got {value!r}")
        for key, number in value.items():
            if not _is_number(number):
                raise StraddlesError(f"{where}: {name}[{key!r}] must be a finite number, got {number!r}")
            if name != "class_spread":
                try:
                    re.compile(str(key))
                except re.error as exc:
                    raise StraddlesError(f"{where}: {name} key {key!r} is not a valid regex: {exc}") from None


def _by_regex(mapping: Mapping[str, float] | None, underlying: str) -> float | None:
    for pattern, value in (mapping or {}).items():
        if re.search(str(pattern), underlying):
            return float(value)
    return None


def _amt_number(asset, field: str, default: float, amt_path) -> float:
    """An AMT cost field: missing or null gives the default (SPEC 18), a non-number is an error."""
    value = asset.raw.get(field)
    if value is None:
        return default
    if not _is_number(value):
        raise AmtError(amt_path, asset.underlying, field, f"must be a number, got {value!r}")
    return float(value)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and bool(np.isfinite(value))
