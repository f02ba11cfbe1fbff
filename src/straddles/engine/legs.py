"""Price legs: which (ticker, field) series each straddle reads (SPEC section 8).

Legs are a pure function of (asset, expiry month, ntrc). They are computed here once per asset and
entry code as arrays over the expiry months of the run, holding ids into a :class:`SeriesCatalog`
of distinct (ticker, field) pairs, so the straddle table never stores a string per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .amt import Asset
from .dates import month_number, month_year, parse_month
from ..errors import AmtError

#: leg slots in table order; the kernel indexes legs by these positions
LEG_NAMES = ("vol", "hedge", "hedge1", "hedge2", "hedge3", "hedge4")
VOL, HEDGE, HEDGE1, HEDGE2, HEDGE3, HEDGE4 = range(len(LEG_NAMES))
NO_SERIES = -1
STANDARD_MONTH_CODES = "FGHJKMNQUVXZ"
#: fields of generated legs (SPEC 8.1/8.2): CV series use the literal field name "none"
PX_LAST, CV_FIELD, CALC_FIELD = "PX_LAST", "none", ""
#: calc hedge legs hedge1..hedge4: forward swap spot/6m-forward, annuity spot/6m-forward
CALC_SERIES = ("fsw0m", "fsw6m", "pva0m", "pva6m")


@dataclass
class SeriesCatalog:
    """Distinct (ticker, field) pairs, numbered in order of first use.

    Tickers and fields are kept in their own distinct lists, so that Arrow columns can be
    dictionary-encoded with unique dictionaries.
    """

    tickers: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    series_ticker: list[int] = field(default_factory=list)
    series_field: list[int] = field(default_factory=list)
    _series: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _ticker_ids: dict[str, int] = field(default_factory=dict, repr=False)
    _field_ids: dict[str, int] = field(default_factory=dict, repr=False)

    def id(self, ticker: str, field_name: str) -> int:
        """The id of (ticker, field), adding it on first use."""
        key = (ticker, field_name)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = len(self._series)
            self.series_ticker.append(_intern(self._ticker_ids, self.tickers, ticker))
            self.series_field.append(_intern(self._field_ids, self.fields, field_name))
        return found

    def __len__(self) -> int:
        return len(self._series)

    def pair(self, series_id: int) -> tuple[str, str]:
        return self.tickers[self.series_ticker[series_id]], self.fields[self.series_field[series_id]]


def _intern(index: dict[str, int], values: list[str], value: str) -> int:
    found = index.get(value)
    if found is None:
        found = index[value] = len(values)
        values.append(value)
    return found


def futures_ticker(hedge: dict, year: int, month: int, qualifier: str = "") -> str:
    """Futures ticker for a straddle expiring in (year, month) (SPEC 8.3, SPEC-E12).

    The contract letter comes from ``fut_month_map``; a letter earlier in the standard month code
    order than the option month's letter means next year's contract, and ``min_year_offset``
    sets a floor on the year offset.
    """
    letter = hedge["fut_month_map"][month - 1]
    offset = max(1 if letter < STANDARD_MONTH_CODES[month - 1] else 0, int(hedge.get("min_year_offset") or 0))
    return f"{hedge['fut_code']}{qualifier}{letter}{year + offset} {hedge['market_code']}"


def has_far_vol(vol: dict) -> bool:
    """True when ``Vol.Far`` names a distinct far series (SPEC 8.5)."""
    far = vol.get("Far")
    return not (far is None or str(far).strip() in ("", "NONE") or far == vol.get("Near"))


def has_legs(asset: Asset, ntrc: str) -> bool:
    """False for F straddles without a usable far vol: LME vols, absent or repeated Far (SPEC 8.5)."""
    if ntrc == "N":
        return True
    return asset.vol_source != "BBG_LMEVOL" and has_far_vol(asset.vol)


class LegBuilder:
    """Builds the leg ids of one asset for one entry code over the run's expiry months."""

    def __init__(self, catalog: SeriesCatalog, months: np.ndarray, amt_path):
        self.catalog = catalog
        self.months = np.asarray(months)
        self.amt_path = amt_path
        self._hedge_rows: dict[str, np.ndarray] = {}  # by Underlying: the same for every entry code

    def legs(self, asset: Asset, ntrc: str) -> np.ndarray | None:
        """``int32[len(LEG_NAMES), n_months]`` series ids (NO_SERIES where the asset has no such
        leg), or None when the straddles have no legs at all (F without a far vol, SPEC 8.5)."""
        if not has_legs(asset, ntrc):
            return None
        result = np.empty((len(LEG_NAMES), len(self.months)), dtype=np.int32)
        result[VOL] = self._vol(asset, ntrc)
        if asset.underlying not in self._hedge_rows:
            self._hedge_rows[asset.underlying] = self._hedges(asset)
        result[HEDGE:] = self._hedge_rows[asset.underlying]
        return result

    def _vol(self, asset: Asset, ntrc: str) -> np.ndarray | int:
        spec, source = asset.vol, asset.vol_source
        if source == "BBG_LMEVOL":
            return self._per_month(lambda y, m: (futures_ticker(asset.hedge, y, m, qualifier="R"), PX_LAST))
        name = str(spec["Near" if ntrc == "N" else "Far"])
        if source == "CV":
            return self.catalog.id(name, CV_FIELD)
        return self.catalog.id(str(spec["Ticker"]), name)

    def _hedges(self, asset: Asset) -> np.ndarray:
        """The hedge legs' rows (``HEDGE`` to ``HEDGE4``) of an asset, NO_SERIES where it has none."""
        result = np.full((len(LEG_NAMES), len(self.months)), NO_SERIES, dtype=np.int32)
        spec, source = asset.hedge, asset.hedge_source
        if source == "fut":
            result[HEDGE] = self._per_month(lambda y, m: (futures_ticker(spec, y, m), PX_LAST))
        elif source == "nonfut":
            result[HEDGE] = self._split(asset, "Hedge.Ticker", spec["Ticker"], str(spec["Field"]))
        elif source == "cds":
            result[HEDGE] = self._split(asset, "Hedge.hedge", spec["hedge"], PX_LAST)
            result[HEDGE1] = self._split(asset, "Hedge.hedge1", spec["hedge1"], PX_LAST)
        elif source == "calc":
            ccy, tenor = spec["ccy"], spec["tenor"]
            for slot, series in zip((HEDGE1, HEDGE2, HEDGE3, HEDGE4), CALC_SERIES):
                result[slot] = self.catalog.id(f"{ccy}_{series}_{tenor}", CALC_FIELD)
        return result[HEDGE:]

    def _per_month(self, pair_of) -> np.ndarray:
        years, numbers = month_year(self.months), month_number(self.months)
        return np.array([self.catalog.id(*pair_of(int(y), int(m))) for y, m in zip(years, numbers)],
                        dtype=np.int32)

    def _split(self, asset: Asset, field_name: str, ticker, leg_field: str) -> np.ndarray | int:
        """A split ticker ``A:YYYY-MM:B`` is A for expiries up to YYYY-MM, B after (SPEC 8.4)."""
        ticker = str(ticker)
        parts = ticker.split(":", 2)
        if len(parts) < 3:
            return self.catalog.id(ticker, leg_field)
        try:
            last_month_of_first = parse_month(parts[1])
        except ValueError:
            raise AmtError(self.amt_path, asset.underlying, field_name,
                           f"split ticker {ticker!r} must be 'OLD:YYYY-MM:NEW'") from None
        before = self.catalog.id(parts[0], leg_field)
        after = self.catalog.id(parts[2], leg_field)
        return np.where(self.months <= last_month_of_first, before, after).astype(np.int32)
