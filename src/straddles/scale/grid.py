"""Variant grids: many backtests of one universe, each with its own AMT edits and options.

A variant is a name, a list of AMT edits and backtest options. Each variant runs as its own
backtest (one task on Dask, or one after the other in process) without a day table; the grid
keeps each variant's portfolio statistics (:func:`straddles.stats`, one row) and its per-asset
P&L. A variants file::

    variants:
      baseline: {}
      commodities_on_fridays:          # another schedule for a class
        amt:
          - {class: Commodity, schedule: schedule4}
      enter_5_days_later:              # every entry's offset (SPEC 3.2 ntrv) set to 5 days
        amt:
          - {entry_offset: 5}
      fx_two_entries:                  # an inline schedule for the assets an Underlying regex finds
        amt:
          - {pattern: "Curncy$", entries: ["N0_BD1_50", "N0_BD10_50"]}
      anchor_expiries:                 # keyword arguments of straddles.backtest (SPEC 16-18 options)
        backtest: {expiry_basis: anchor}

An AMT edit selects assets by ``class`` (exact Class) and/or ``pattern`` (a regex searched in
Underlying; none: every asset) and sets ``schedule`` (a name in ``expiry_schedules``) or
``entries`` (an inline list of schedule entries), and/or ``entry_offset`` (calendar days, replacing
the entry value of every entry of the asset's schedule). Edits apply in order. ``backtest``
options are any keyword arguments :func:`straddles.backtest` takes besides those the grid sets.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

from ..engine.amt import Amt, Asset, load_amt
from ..engine.outputs import parquet_writer, write_files
from ..engine.pipeline import backtest
from ..engine.prices import load_prices
from ..engine.straddle_table import resolve_overrides
from ..errors import StraddlesError
from .executor import KERNEL_LOCK, dask_client, run_tasks, warm_price_caches, worker_prices

SUMMARY_FILE, ASSET_PNL_FILE = "summary.parquet", "asset_pnl.parquet"
#: arguments of straddles.backtest the grid sets itself
_GRID_ARGUMENTS = {"amt", "prices", "start_year", "end_year", "pattern", "overrides", "days", "live_only", "out",
                   "scheduler", "cohorts"}
_EDIT_KEYS = {"class", "pattern", "schedule", "entries", "entry_offset"}


@dataclass(frozen=True)
class Variant:
    """One backtest of a grid: AMT edits (see the module docstring) and backtest options."""

    name: str
    amt: tuple[Mapping, ...] = ()
    backtest: Mapping = field(default_factory=dict)


@dataclass
class GridResult:
    """``summary``: one row per variant (``variant``, straddle counts, then the portfolio
    statistics of :func:`straddles.stats`); ``asset_pnl``: every variant's per-asset daily P&L
    (SPEC 13.3) with a ``variant`` column."""

    summary: pa.Table
    asset_pnl: pa.Table

    def write(self, directory: str | Path) -> list[Path]:
        """Write ``summary.parquet`` and ``asset_pnl.parquet`` into ``directory``, both or neither."""
        directory = Path(directory)
        return write_files({directory / SUMMARY_FILE: parquet_writer(self.summary),
                            directory / ASSET_PNL_FILE: parquet_writer(self.asset_pnl)})


def grid(amt: Amt | str | Path, prices, variants, start_year: int, end_year: int, pattern: str = ".",
         overrides=None, live_only: bool = True, scheduler=None,
         progress: Callable[[int, int], None] | None = None) -> GridResult:
    """Run every variant as its own backtest and collect their statistics and asset P&L.

    ``variants`` is a variants YAML path, its parsed mapping, or a list of :class:`Variant`.
    ``scheduler`` as for :func:`straddles.backtest` (one task per variant; ``prices`` must then
    be a path). ``progress(done, total)`` is called as variants complete.

    >>> result = grid("amt.yml", "prices.parquet", "variants.yml", 2001, 2026, scheduler="local:2")  # doctest: +SKIP
    >>> result.summary.select(["variant", "sharpe", "max_drawdown"])                                # doctest: +SKIP
    """
    variants = load_variants(variants)
    if not isinstance(amt, Amt):
        amt = load_amt(amt)
    for variant in variants:  # bad edits or options fail here, before any work is sent out
        apply_edits(amt, variant)
    overrides = resolve_overrides(amt, overrides, required=False)
    arguments = dict(start_year=start_year, end_year=end_year, pattern=pattern, overrides=overrides,
                     live_only=live_only)
    if scheduler is None:
        store = load_prices(prices)
        results = []
        for done, variant in enumerate(variants, 1):
            results.append(run_variant(variant, amt, store, **arguments))
            if progress is not None:
                progress(done, len(variants))
    else:
        path = worker_prices(prices)
        with dask_client(scheduler) as client:
            warm_price_caches(client, path)
            results = run_tasks(client, run_variant, variants, progress, amt=amt, prices=path, **arguments)
    return GridResult(summary=pa.concat_tables([summary for summary, _ in results]),
                      asset_pnl=pa.concat_tables([table for _, table in results], promote_options="permissive"))


def run_variant(variant: Variant, amt: Amt, prices, start_year: int, end_year: int, pattern: str,
                overrides, live_only: bool) -> tuple[pa.Table, pa.Table]:
    """One variant's backtest (no day table, no cohort cube): its summary row and its asset P&L."""
    from ..results.performance import stats

    with KERNEL_LOCK:
        result = backtest(apply_edits(amt, variant), prices, start_year, end_year, pattern, overrides, days=False,
                          live_only=live_only, cohorts=False, **variant.backtest)
    statuses = result.status_counts()
    counts = pa.table({"variant": [variant.name], "n_straddles": [result.straddles.num_rows],
                       "n_valued": [statuses.get("valued", 0)],
                       "n_valued_days": [int(result.straddles["n_days"].to_numpy().sum())]})
    summary = stats(result, "portfolio").summary.drop_columns(["bucket"])
    for name, column in zip(summary.column_names, summary.columns):
        counts = counts.append_column(name, column)
    name = pa.DictionaryArray.from_arrays(pa.array(np.zeros(result.asset_pnl.num_rows, np.int32)),
                                          pa.array([variant.name], pa.string()))
    return counts, result.asset_pnl.add_column(0, "variant", name)


def load_variants(source) -> list[Variant]:
    """Variants from a YAML file, its parsed mapping, or a list of :class:`Variant` (checked)."""
    if isinstance(source, (list, tuple)) and all(isinstance(v, Variant) for v in source):
        variants, where = list(source), "variants"
    else:
        where = str(source) if isinstance(source, (str, Path)) else "variants"
        document = source
        if isinstance(source, (str, Path)):
            try:
                document = yaml.safe_load(Path(source).read_text())
            except (OSError, yaml.YAMLError) as exc:
                raise StraddlesError(f"{source}: cannot read the variants file: {exc}") from None
        section = document.get("variants") if isinstance(document, Mapping) else None
        if not isinstance(section, Mapping) or not section:
            raise StraddlesError(f"{where}: expected a non-empty 'variants:' mapping of name -> variant")
        variants = [_variant(where, str(name), spec) for name, spec in section.items()]
    allowed = set(inspect.signature(backtest).parameters) - _GRID_ARGUMENTS
    for variant in variants:
        unknown = sorted(set(variant.backtest) - allowed)
        if unknown:
            raise StraddlesError(f"{where}: variant {variant.name!r}: backtest has no option {unknown[0]!r} "
                                 f"(options: {', '.join(sorted(allowed))})")
    return variants


def _variant(where: str, name: str, spec) -> Variant:
    spec = {} if spec is None else spec
    if not isinstance(spec, Mapping) or set(spec) - {"amt", "backtest"}:
        raise StraddlesError(f"{where}: variant {name!r}: expected a mapping with 'amt' and/or 'backtest'")
    edits = spec.get("amt") or []
    options = spec.get("backtest") or {}
    if not isinstance(edits, list) or not all(isinstance(edit, Mapping) for edit in edits):
        raise StraddlesError(f"{where}: variant {name!r}: 'amt' must be a list of edits")
    for edit in edits:
        unknown = sorted(set(edit) - _EDIT_KEYS)
        if unknown:
            raise StraddlesError(f"{where}: variant {name!r}: unknown AMT edit key {unknown[0]!r} "
                                 f"(keys: {', '.join(sorted(_EDIT_KEYS))})")
    if not isinstance(options, Mapping):
        raise StraddlesError(f"{where}: variant {name!r}: 'backtest' must be a mapping of options")
    return Variant(name, tuple(dict(edit) for edit in edits), dict(options))


def apply_edits(amt: Amt, variant: Variant) -> Amt:
    """The AMT with the variant's edits applied (a new :class:`Amt`; ``amt`` is unchanged)."""
    if not variant.amt:
        return amt
    assets, schedules = list(amt.assets), dict(amt.schedules)
    for number, edit in enumerate(variant.amt, 1):
        where = f"variant {variant.name!r}, AMT edit {number}"
        selected = _selector(edit, where)
        for index, asset in enumerate(assets):
            if selected(asset):
                assets[index] = dataclasses.replace(asset, schedule=_edited_schedule(asset, edit, schedules, where,
                                                                                     f"{variant.name}.{number}"))
    return dataclasses.replace(amt, assets=tuple(assets), schedules=schedules, _entries={})


def _selector(edit: Mapping, where: str) -> Callable[[Asset], bool]:
    asset_class = edit.get("class")
    try:
        regex = re.compile(str(edit.get("pattern", ".")))
    except re.error as exc:
        raise StraddlesError(f"{where}: invalid pattern {edit['pattern']!r}: {exc}") from None
    return lambda asset: (asset_class is None or asset.asset_class == asset_class) and bool(
        regex.search(asset.underlying))


def _edited_schedule(asset: Asset, edit: Mapping, schedules: dict, where: str, inline_name: str) -> str | None:
    """The schedule name the asset gets, adding new schedules to ``schedules`` as needed."""
    schedule = asset.schedule
    if "schedule" in edit and "entries" in edit:
        raise StraddlesError(f"{where}: give 'schedule' or 'entries', not both")
    if "schedule" in edit:
        schedule = str(edit["schedule"])
        if not isinstance(schedules.get(schedule), list):
            raise StraddlesError(f"{where}: no schedule {schedule!r} in expiry_schedules")
    if "entries" in edit:
        if not isinstance(edit["entries"], list) or not edit["entries"]:
            raise StraddlesError(f"{where}: 'entries' must be a non-empty list of schedule entries")
        schedule = inline_name
        schedules[schedule] = list(edit["entries"])
    if "entry_offset" in edit:
        offset = edit["entry_offset"]
        if not (isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0):
            raise StraddlesError(f"{where}: entry_offset must be a whole number of days >= 0, got {offset!r}")
        if not isinstance(schedules.get(schedule), list):
            return schedule  # the asset's own missing schedule is reported by the backtest
        shifted = f"{schedule}+{offset}d"
        schedules[shifted] = [_with_entry_offset(entry, offset) for entry in schedules[schedule]]
        schedule = shifted
    return schedule


def _with_entry_offset(entry, offset: int):
    """``N0_F3_33.3`` -> ``N5_F3_33.3`` for offset 5: the entry code keeps, its value is replaced
    (SPEC 3.1); anything not shaped like an entry is left for the AMT validation to report."""
    if not isinstance(entry, str):
        return entry
    head, sep, rest = entry.partition("_")
    code = re.match(r"[A-Z]*", head).group(0)
    return f"{code}{offset}{sep}{rest}" if code else entry
