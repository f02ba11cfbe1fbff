"""Expand an AMT into its straddle table (SPEC sections 4-8).

One straddle per (expiry month, selected asset, schedule entry), in that row order. Everything
here is decided per asset and entry (a few hundred Python iterations) and then broadcast over the
expiry months with NumPy, so the full 2001-2026 universe (231,192 rows) expands in milliseconds.
No prices are read at this stage: the statuses it can already decide are the price-independent
ones (``unsupported_expiry``, ``no_legs``, ``unsupported_model``, ``no_override``, ``no_anchor``).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import status as st
from .amt import Amt, Asset, load_amt
from .anchors import NO_DAY, Overrides, default_overrides_paths, load_overrides, nth_business_day, nth_session, nth_weekday
from .calendars import Calendars, calendars_option
from .columns import date_array
from .dates import month_end, month_label, month_start
from ..errors import OverridesError, StraddlesError
from .legs import LEG_NAMES, NO_SERIES, LegBuilder, SeriesCatalog, has_legs
from .model_codes import MODEL_CODES, MODEL_UNSUPPORTED
from .schedules import RULE_OVERRIDE, RULE_UNSUPPORTED, RULE_WEEKDAY, ScheduleEntry


@dataclass
class StraddleFrame:
    """The straddle table as NumPy columns, the form the kernels consume.

    Rows are ordered by expiry month, then asset in file order, then schedule entry: row
    ``j*K + k`` is template ``k`` (an (asset, entry) pair) in the ``j``-th expiry month, so
    ``straddle_id`` is the row position (SPEC 4.3). Days are int32 day numbers, :data:`NO_DAY`
    where there is none; months are month indices.
    """

    amt: Amt
    assets: list[Asset]
    templates: list[tuple[int, ScheduleEntry]]
    months: np.ndarray
    catalog: SeriesCatalog
    overrides: Overrides | None
    asset: np.ndarray
    template: np.ndarray
    expiry_month: np.ndarray
    entry_month: np.ndarray
    entry_anchor: np.ndarray
    expiry_anchor: np.ndarray
    entry_offset: np.ndarray
    model: np.ndarray
    status: np.ndarray
    weight: np.ndarray
    legs: np.ndarray

    def __len__(self) -> int:
        return len(self.asset)

    @property
    def span_start(self) -> np.ndarray:
        """First day of each straddle's span: the 1st of its entry month (SPEC 5)."""
        return month_start(self.entry_month)

    @property
    def span_end(self) -> np.ndarray:
        """Last day of each straddle's span: the last day of its expiry month (SPEC 5)."""
        return month_end(self.expiry_month)

    def n_days(self) -> int:
        """Total straddle-days: calendar days over all spans."""
        return int((self.span_end.astype(np.int64) - self.span_start + 1).sum())

    def to_arrow(self) -> pa.Table:
        """The straddle table of SPEC 13.1 as far as the expand stage knows it, plus the legs as
        ``<leg>_ticker`` / ``<leg>_field`` dictionary columns (null where the straddle has no such
        leg)."""
        entries = [entry for _, entry in self.templates]
        month_lo = int(self.entry_month.min()) if len(self) else 0
        month_hi = int(self.expiry_month.max()) if len(self) else 0
        month_labels = pa.array([month_label(m) for m in range(month_lo, month_hi + 1)], pa.string())
        entry_month = pa.array(self.entry_month - month_lo)
        expiry_month = pa.array(self.expiry_month - month_lo)
        suffix = pc.take(pa.array([entry.suffix for entry in entries], pa.string()), pa.array(self.template))
        straddle = pc.binary_join_element_wise(pa.scalar("", pa.string()), pc.take(month_labels, entry_month),
                                               pc.take(month_labels, expiry_month), suffix, "|")

        def per_template(values):
            return _dictionary(self.template, values)

        def per_asset(values):
            return _dictionary(self.asset, values)

        columns = {
            "straddle_id": pa.array(np.arange(len(self), dtype=np.int64)),
            "asset": per_asset([a.underlying for a in self.assets]),
            "class": per_asset([a.asset_class for a in self.assets]),
            "group": per_asset([str(a.group) for a in self.assets]),
            "straddle": straddle,
            "schedule": per_asset([a.schedule for a in self.assets]),
            "schid": pa.array(np.array([e.schid for e in entries], dtype=np.int8)[self.template]),
            "entry_month": pa.DictionaryArray.from_arrays(entry_month, month_labels),
            "expiry_month": pa.DictionaryArray.from_arrays(expiry_month, month_labels),
            "ntrc": per_template([e.ntrc for e in entries]),
            "ntrv": per_template([e.ntrv for e in entries]),
            "xprc": per_template([e.xprc for e in entries]),
            "xprv": per_template([e.xprv for e in entries]),
            "wgt": per_template([e.wgt for e in entries]),
            "weight": pa.array(self.weight),
            "entry_anchor": date_array(self.entry_anchor),
            "expiry_anchor": date_array(self.expiry_anchor),
            "model": per_asset(["" if a.model is None else a.model for a in self.assets]),
            "status": st.status_array(self.status),
        }
        columns.update(self.leg_columns())
        return pa.table(columns)

    def leg_columns(self) -> dict[str, pa.Array]:
        """``<leg>_ticker`` and ``<leg>_field`` dictionary columns for every leg slot."""
        columns = {}
        for part, names, of_series in (("ticker", self.catalog.tickers, self.catalog.series_ticker),
                                       ("field", self.catalog.fields, self.catalog.series_field)):
            dictionary = pa.array(names, pa.string())
            # a trailing 0 serves the rows without the leg (series id -1); they are masked anyway
            index = np.append(np.asarray(of_series, dtype=np.int32), np.int32(0))
            for slot, name in enumerate(LEG_NAMES):
                ids = self.legs[slot]
                columns[f"{name}_{part}"] = pa.DictionaryArray.from_arrays(pa.array(index[ids], mask=ids < 0),
                                                                           dictionary)
        return {f"{name}_{part}": columns[f"{name}_{part}"] for name in LEG_NAMES for part in ("ticker", "field")}


def _dictionary(indices: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    """A dictionary-encoded string column: ``values[indices[i]]`` for each row.

    The dictionary must hold distinct values (pandas categoricals and Parquet readers rely on it),
    so repeated values are merged first.
    """
    distinct, position = np.unique(np.array(values, dtype=object), return_inverse=True)
    return pa.DictionaryArray.from_arrays(pa.array(position.astype(np.int32)[indices]),
                                          pa.array(distinct.tolist(), pa.string()))


def expand(amt: Amt | str | Path, start_year: int, end_year: int, pattern: str = ".", live_only: bool = True,
           overrides: Overrides | str | Path | None = None, calendars=None) -> pa.Table:
    """Every straddle the AMT implies for expiries from January ``start_year`` to December
    ``end_year``, as a pyarrow Table in SPEC 4.3 row order. ``calendars``: SPEC 6.5 holiday
    calendars for BD anchors, as for :func:`straddles.backtest`.

    >>> table = expand(load_amt("amt.yml"), 2024, 2024)              # doctest: +SKIP
    >>> table.num_rows, table["straddle"][0].as_py()                 # doctest: +SKIP
    (8892, '|2023-12|2024-01|N|0|OVERRIDE||33.3|')
    """
    return build_straddles(amt, start_year, end_year, pattern, live_only, overrides,
                           calendars=calendars_option(calendars)).to_arrow()


def build_straddles(amt: Amt | str | Path, start_year: int, end_year: int, pattern: str = ".",
                    live_only: bool = True, overrides: Overrides | str | Path | None = None,
                    timer=None, calendars: Calendars | None = None,
                    assets: Sequence[Asset] | None = None) -> StraddleFrame:
    """The straddle table as a :class:`StraddleFrame` (NumPy columns), for the kernels.

    ``timer``, a :class:`~straddles.engine.pipeline.StageTimer`, times the "expand straddles" and
    "resolve legs" stages. ``calendars`` (SPEC 6.5) makes BD anchors skip exchange holidays.
    ``assets``, an explicit list of already selected (validated) assets in file order, replaces the
    ``pattern``/``live_only`` selection: a partitioned run expands a slice of the selection this
    way (its rows are then numbered within the slice, see :mod:`straddles.scale.partition`).
    """
    timer = timer or _no_timer
    with timer("expand straddles"):
        frame = _expand(amt, start_year, end_year, pattern, live_only, overrides, calendars, assets)
    with timer("resolve legs"):
        frame.legs = _resolve_legs(frame)
    return frame


def _no_timer(stage: str):
    return nullcontext()


def _expand(amt, start_year: int, end_year: int, pattern: str, live_only: bool, overrides,
            calendars: Calendars | None = None, assets: Sequence[Asset] | None = None) -> StraddleFrame:
    """Every straddle with its months, anchors and price-independent status; legs come later."""
    if not isinstance(amt, Amt):
        amt = load_amt(amt)
    if end_year < start_year:
        raise StraddlesError(f"end year {end_year} is before start year {start_year}")
    assets = amt.select(pattern, live_only) if assets is None else list(assets)
    templates = [(index, entry) for index, asset in enumerate(assets) for entry in amt.entries(asset)]
    months = np.arange(start_year * 12, end_year * 12 + 12, dtype=np.int32)
    n_templates, n_months = len(templates), len(months)
    uses_override = any(entry.rule[0] == RULE_OVERRIDE for _, entry in templates)
    overrides = resolve_overrides(amt, overrides, required=uses_override)

    grid = (n_months, n_templates)
    entry_anchor = np.empty(grid, dtype=np.int32)
    expiry_anchor = np.empty(grid, dtype=np.int32)
    status = np.zeros(grid, dtype=np.int8)
    anchor_cache: dict[tuple, np.ndarray] = {}
    sessions = _Sessions(calendars, months)
    for k, (index, entry) in enumerate(templates):
        asset = assets[index]
        entry_months = months - entry.months_before_expiry
        entry_anchor[:, k] = _anchors(entry, asset, entry_months, overrides, anchor_cache, sessions)
        expiry_anchor[:, k] = _anchors(entry, asset, months, overrides, anchor_cache, sessions)
        status[:, k] = _early_status(entry, asset, entry_anchor[:, k], expiry_anchor[:, k])

    template_asset = np.array([index for index, _ in templates], dtype=np.int32)
    template_months_before = np.array([entry.months_before_expiry for _, entry in templates], dtype=np.int32)
    asset_model = np.array([MODEL_CODES.get(a.model, MODEL_UNSUPPORTED) for a in assets], dtype=np.int8)
    return StraddleFrame(
        amt=amt, assets=assets, templates=templates, months=months, catalog=SeriesCatalog(), overrides=overrides,
        asset=np.tile(template_asset, n_months),
        template=np.tile(np.arange(n_templates, dtype=np.int32), n_months),
        expiry_month=np.repeat(months, n_templates),
        entry_month=(months[:, None] - template_months_before[None, :]).ravel(),
        entry_anchor=entry_anchor.ravel(),
        expiry_anchor=expiry_anchor.ravel(),
        entry_offset=np.tile(np.array([e.entry_offset_days for _, e in templates], dtype=np.int32), n_months),
        model=np.tile(asset_model[template_asset], n_months),
        status=status.ravel(),
        weight=np.tile(np.array([e.weight for _, e in templates], dtype=np.float64), n_months),
        legs=np.full((len(LEG_NAMES), n_months * n_templates), NO_SERIES, dtype=np.int32),
    )


def _resolve_legs(frame: StraddleFrame) -> np.ndarray:
    """Leg series ids per straddle, ``int32[len(LEG_NAMES), n]``, filling ``frame.catalog`` (SPEC 8)."""
    builder = LegBuilder(frame.catalog, frame.months, frame.amt.path)
    by_asset_and_code = {(index, entry.ntrc): None for index, entry in frame.templates}
    for index, ntrc in by_asset_and_code:
        by_asset_and_code[index, ntrc] = builder.legs(frame.assets[index], ntrc)
    legs = np.full((len(LEG_NAMES), len(frame.months), len(frame.templates)), NO_SERIES, dtype=np.int32)
    for k, (index, entry) in enumerate(frame.templates):
        asset_legs = by_asset_and_code[index, entry.ntrc]
        if asset_legs is not None:
            legs[:, :, k] = asset_legs
    return legs.reshape(len(LEG_NAMES), -1)


class _Sessions:
    """Business days per exchange calendar, loaded once per run over every month it spans (SPEC 6.5)."""

    def __init__(self, calendars: Calendars | None, months: np.ndarray):
        self.calendars, self.by_name = calendars, {}
        if len(months):  # entry months start up to two months before the first expiry month
            self.first, self.last = month_start(int(months[0]) - 2), month_end(int(months[-1]))

    def calendar_of(self, asset: Asset) -> str | None:
        return self.calendars.name_for(asset.underlying) if self.calendars is not None else None

    def days(self, name: str) -> np.ndarray:
        if name not in self.by_name:
            self.by_name[name] = self.calendars.business_days(name, self.first, self.last)
        return self.by_name[name]


def _anchors(entry: ScheduleEntry, asset: Asset, months: np.ndarray, overrides: Overrides | None,
             cache: dict[tuple, np.ndarray], sessions: _Sessions) -> np.ndarray:
    """Anchor day of ``entry``'s rule in each month (SPEC 6.1; BD under a calendar: SPEC 6.5)."""
    kind, day_of_week, n = entry.rule
    if kind == RULE_OVERRIDE:
        return overrides.days(asset.underlying, months)
    if kind == RULE_UNSUPPORTED:
        return np.full(months.shape, NO_DAY, dtype=np.int32)
    calendar = sessions.calendar_of(asset) if kind != RULE_WEEKDAY else None
    key = (kind, day_of_week, n, int(months[0]) if len(months) else 0, len(months), calendar)
    if key not in cache:
        if kind == RULE_WEEKDAY:
            cache[key] = nth_weekday(months, day_of_week, n)
        elif calendar is not None:
            cache[key] = nth_session(months, n, sessions.days(calendar))
        else:
            cache[key] = nth_business_day(months, n)
    return cache[key]


def _early_status(entry: ScheduleEntry, asset: Asset, entry_anchor: np.ndarray,
                  expiry_anchor: np.ndarray) -> np.ndarray:
    """The first price-independent status that applies, per month (SPEC 13.1 rows 1-5)."""
    kind = entry.rule[0]
    if kind == RULE_UNSUPPORTED:
        return np.full(entry_anchor.shape, st.UNSUPPORTED_EXPIRY, dtype=np.int8)
    if not has_legs(asset, entry.ntrc):
        return np.full(entry_anchor.shape, st.NO_LEGS, dtype=np.int8)
    if MODEL_CODES.get(asset.model, MODEL_UNSUPPORTED) == MODEL_UNSUPPORTED:
        return np.full(entry_anchor.shape, st.UNSUPPORTED_MODEL, dtype=np.int8)
    missing = (entry_anchor == NO_DAY) | (expiry_anchor == NO_DAY)
    return np.where(missing, st.NO_OVERRIDE if kind == RULE_OVERRIDE else st.NO_ANCHOR, st.PENDING).astype(np.int8)


def resolve_overrides(amt: Amt, overrides: Overrides | str | Path | None, required: bool) -> Overrides | None:
    """The overrides to use: an explicit object or path, else the AMT's default files (SPEC 7).

    A missing file is an error only when a selected straddle uses OVERRIDE, or when the path was
    given explicitly.
    """
    if isinstance(overrides, Overrides):
        return overrides
    if overrides is not None:
        return load_overrides(overrides)
    candidates = default_overrides_paths(amt.path, amt.backtest)
    for candidate in candidates:
        if candidate.is_file():
            return load_overrides(candidate)
    if required:
        tried = ", ".join(str(c) for c in candidates)
        raise OverridesError(f"{amt.path}: selected straddles use OVERRIDE expiries but no overrides file was "
                             f"given (--overrides) or found (tried {tried})")
    return None
