"""Load an asset master table (AMT) YAML file into :class:`Amt` (SPEC section 2).

The AMT says, per asset, where its implied vol comes from (``Vol``), what it is delta-hedged with
(``Hedge``), which roll schedule it follows (``Options`` -> ``expiry_schedules``) and how it is
valued (``Valuation.Model``). This module only reads and checks the file; turning schedules into
straddles is :mod:`straddles.engine.straddle_table`'s job.

Parsing is lenient and validation is lazy: an asset is checked only when it is selected
(:meth:`Amt.select`), because real files carry dead or half-edited assets that a run which does not
select them must not trip over (SPEC 2.7).
"""

from __future__ import annotations

import hashlib
import pickle
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import regex
import yaml

from .cache import cache_dir, checksum, sources_digest, touch
from ..errors import AmtError
from .outputs import atomic_path
from .schedules import ScheduleEntry, parse_schedule

VOL_KEYS = {"BBG": ("Ticker", "Near"), "CV": ("Near",), "BBG_LMEVOL": ()}
HEDGE_KEYS = {
    "fut": ("fut_code", "fut_month_map", "market_code"),
    "nonfut": ("Ticker", "Field"),
    "cds": ("hedge", "hedge1"),
    "calc": ("ccy", "tenor"),
}
#: rule tables read for reporting, with the default when no row hits (SPEC 2.6)
RULE_TABLES = {"group_table": "error", "subgroup_table": "", "liquidity_table": 1, "limit_overrides": ""}
_MONTH_MAP = re.compile(r"[A-Z]{12}")
#: a NAME of the signal language (STRATEGY S3): an ASCII letter, then ASCII letters, digits or _
SIGNAL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
#: built-in signals without a window: no signal_table row may take their names (STRATEGY S3, S7)
RESERVED_SIGNALS = ("clm", "vol")
#: the sections of the file this module reads (SPEC 2.1, STRATEGY S3); everything else is ignored
_SECTIONS = ("amt", "expiry_schedules", "backtest", "signal_table", "group_risk_multiplier_table", *RULE_TABLES)
#: seconds one user-supplied regex may take on one string before it is reported (see :func:`compile_pattern`)
REGEX_TIMEOUT_SECONDS = 1.0

try:  # libyaml is ~10x faster than the pure-Python loader and resolves YAML 1.1 the same way
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key, first_line: int, second_line: int):
        super().__init__(f"duplicate key {key!r} at lines {first_line} and {second_line}")
        self.key = key


class _SafeLoader(_BaseLoader):
    """The safe YAML 1.1 loader, except that a key repeated in one mapping is an error.

    Plain YAML loaders keep the last value, so a repeated asset key under ``amt:`` would silently
    drop the earlier asset (and dodge the duplicate-Underlying check). Keys merged in with ``<<``
    may be overridden, as YAML intends.
    """

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                line = key_node.start_mark.line + 1
                # a scalar key is compared as written with its resolved tag (cheap; `1` and `"1"`
                # differ, `CL` and `"CL"` do not); other keys by their constructed value
                if isinstance(key_node, yaml.ScalarNode):
                    key = (key_node.tag, key_node.value)
                else:
                    key = self.construct_object(key_node, deep=True)
                try:
                    if key in seen:
                        raise _DuplicateKey(key_node.value if isinstance(key, tuple) else key, seen[key], line)
                    seen[key] = line
                except TypeError:  # an unhashable key: the base class reports it
                    continue
        return super().construct_mapping(node, deep=deep)


def compile_pattern(pattern: str):
    """Compile a user-supplied regex with Python ``re`` semantics (the ``regex`` package's
    VERSION0 mode, SPEC 2.2/2.6), for matching under a time limit: :func:`search_within_limit`.

    Raises ``regex.error`` for an invalid pattern.
    """
    return regex.compile(pattern, flags=regex.VERSION0)


def search_within_limit(compiled, text: str, anchored: bool = False):
    """``compiled.search(text)`` (``.match`` when ``anchored``), stopped after
    :data:`REGEX_TIMEOUT_SECONDS`: a catastrophically backtracking pattern raises TimeoutError
    instead of hanging the run."""
    method = compiled.match if anchored else compiled.search
    return method(text, timeout=REGEX_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class Asset:
    """One asset of the AMT, identified by its ``Underlying`` (SPEC 2.2).

    ``vol``, ``hedge`` and ``valuation`` are the YAML mappings as written; ``group`` and the other
    rule-table values are resolved from the file's rule tables.
    """

    underlying: str
    key: str
    position: int
    asset_class: str
    weight_cap: Any
    schedule: str | None
    vol: Mapping[str, Any]
    hedge: Mapping[str, Any]
    model: str | None
    group: str
    subgroup: str
    liquidity: Any
    limit_override: Any
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def live(self) -> bool:
        """Live = ``WeightCap`` is a number > 0; WeightCap is used for nothing else (SPEC 2.2)."""
        return _is_number(self.weight_cap) and self.weight_cap > 0

    @property
    def vol_source(self) -> str | None:
        return self.vol.get("Source")

    @property
    def hedge_source(self) -> str | None:
        return self.hedge.get("Source")


@dataclass(frozen=True)
class Amt:
    """A loaded AMT file: assets in file order, schedules and rule tables.

    >>> amt = load_amt(example_amt_path())          # doctest: +SKIP
    >>> [a.underlying for a in amt.select("Comdty")]  # doctest: +SKIP
    """

    path: Path
    assets: tuple[Asset, ...]
    schedules: Mapping[str, list]
    backtest: Mapping[str, Any]
    #: the ``signal_table`` rows as ``(name, calc, init)`` strings, in file order (STRATEGY S3)
    signal_table: tuple[tuple[str, str, str], ...] = ()
    #: ``group_risk_multiplier_table`` as {group: multiplier} (STRATEGY S5 ``amt_multipliers``)
    group_risk_multipliers: Mapping[str, float] = field(default_factory=dict)
    duplicate_underlyings: frozenset[str] = frozenset()
    _entries: dict = field(default_factory=dict, compare=False, repr=False)

    def asset(self, underlying: str) -> Asset:
        """The asset whose ``Underlying`` is exactly ``underlying``."""
        for asset in self.assets:
            if asset.underlying == underlying:
                return asset
        raise KeyError(f"{self.path}: no asset with Underlying {underlying!r}")

    def select(self, pattern: str = ".", live_only: bool = True) -> list[Asset]:
        """Assets whose Underlying matches ``re.search(pattern)``, live ones only by default.

        Selection is an unanchored, case-sensitive search (SPEC 2.2): ``CL`` also selects
        ``USDCLP Curncy``. Every selected asset is validated (SPEC 2.7) and the first problem is
        raised as an :class:`AmtError` naming the file, asset and field.
        """
        try:
            compiled = compile_pattern(pattern)
        except (regex.error, TypeError, ValueError) as exc:
            raise AmtError(self.path, None, None, f"invalid selection pattern {pattern!r}: {exc}") from None
        chosen = []
        for asset in self.assets:
            try:
                if not search_within_limit(compiled, asset.underlying):
                    continue
            except TimeoutError:
                raise AmtError(self.path, asset.underlying, None,
                               f"selection pattern {pattern!r} took over {REGEX_TIMEOUT_SECONDS:g} s "
                               "(catastrophic backtracking); simplify it") from None
            if not (asset.weight_cap is None or _is_number(asset.weight_cap)):
                raise AmtError(self.path, asset.underlying, "WeightCap",
                               f"must be a number, got {asset.weight_cap!r}")
            if live_only and not asset.live:
                continue
            self.validate(asset)
            chosen.append(asset)
        return chosen

    def entries(self, asset: Asset) -> list[ScheduleEntry]:
        """The asset's schedule entries with letters fixed (SPEC section 3), parsed once per asset."""
        if asset.underlying not in self._entries:
            self._entries[asset.underlying] = parse_schedule(
                self.schedules[asset.schedule], asset.underlying,
                lambda problem, index: self._schedule_error(asset, index, problem))
        return self._entries[asset.underlying]

    def validate(self, asset: Asset) -> None:
        """Raise :class:`AmtError` for the first problem of ``asset`` (SPEC 2.7)."""
        if asset.underlying in self.duplicate_underlyings:
            keys = ", ".join(repr(a.key) for a in self.assets if a.underlying == asset.underlying)
            raise AmtError(self.path, asset.underlying, "Underlying", f"duplicate Underlying (keys {keys})")
        self._check_source(asset, "Vol", asset.vol, VOL_KEYS)
        self._check_source(asset, "Hedge", asset.hedge, HEDGE_KEYS)
        if asset.vol_source == "BBG_LMEVOL" and asset.hedge_source != "fut":
            raise AmtError(self.path, asset.underlying, "Vol.Source",
                           "BBG_LMEVOL builds its ticker from the futures hedge and needs Hedge.Source: fut")
        if asset.hedge_source == "fut":
            month_map = asset.hedge.get("fut_month_map")
            if not (isinstance(month_map, str) and _MONTH_MAP.fullmatch(month_map)):
                raise AmtError(self.path, asset.underlying, "Hedge.fut_month_map",
                               f"must be 12 uppercase letters (Jan..Dec), got {month_map!r}")
            offset = asset.hedge.get("min_year_offset", 0)
            if offset is not None and not (isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0):
                raise AmtError(self.path, asset.underlying, "Hedge.min_year_offset",
                               f"must be an integer >= 0, got {offset!r}")
        if asset.schedule is None:
            raise AmtError(self.path, asset.underlying, "Options", "missing")
        if not isinstance(self.schedules.get(asset.schedule), list):
            raise AmtError(self.path, asset.underlying, "Options",
                           f"names no list in expiry_schedules: {asset.schedule!r}")
        self.entries(asset)

    def _check_source(self, asset: Asset, name: str, spec: Mapping, required: Mapping[str, tuple]) -> None:
        source = spec.get("Source")
        if source not in required:
            problem = "missing" if source is None else f"unknown source {source!r}"
            raise AmtError(self.path, asset.underlying, f"{name}.Source",
                           f"{problem} (expected one of {', '.join(required)})")
        for key in required[source]:
            value = spec.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise AmtError(self.path, asset.underlying, f"{name}.{key}", f"required by {name}.Source {source}")

    def _schedule_error(self, asset: Asset, index: int | None, problem: str) -> AmtError:
        where = f"expiry_schedules.{asset.schedule}" + (f"[{index}]" if index is not None else "")
        return AmtError(self.path, asset.underlying, where, problem)


def load_amt(path: str | Path) -> Amt:
    """Read an AMT YAML file (SPEC 2.1).

    Anchors and aliases resolve to their values and scalars keep their YAML 1.1 types. Only the
    ``amt``, ``expiry_schedules``, ``backtest``, ``signal_table`` and rule-table sections are read.

    A file loaded before comes from the AMT cache: parsing (PyYAML type-resolves every scalar, even
    with libyaml) and resolving the rule tables take about 0.1 s on the real AMT, a noticeable
    share of a one-second backtest; the cached :class:`Amt` loads in milliseconds. The cache is
    keyed by a hash of the file's bytes and of this package's engine sources, so an edit of either
    is a miss.
    """
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise AmtError(path, None, None, f"cannot read: {exc.strerror or exc}") from None
    key = hashlib.sha256(f"{sources_digest(Path(__file__).parent)}|{yaml.__version__}|".encode() + text)
    cached = cache_dir("amt") / f"{key.hexdigest()[:32]}.pickle"
    amt = _read_cached(cached, path)
    if amt is not None:
        return replace(amt, path=path)
    amt = _build(path, text)
    try:
        payload = pickle.dumps(amt, protocol=pickle.HIGHEST_PROTOCOL)
        with atomic_path(cached, durable=True) as temporary:
            temporary.write_bytes(checksum(payload).encode() + b"\n" + payload)
    except (OSError, pickle.PicklingError, RecursionError):  # a read-only cache folder only costs speed
        pass
    return amt


def _build(path: Path, text: bytes) -> Amt:
    document = _parse(path, text)
    if not isinstance(document, dict):
        raise AmtError(path, None, None, "expected a YAML mapping at the top level")
    section = document.get("amt")
    if not isinstance(section, dict):
        raise AmtError(path, None, "amt", "missing or not a mapping of assets")
    schedules = document.get("expiry_schedules") or {}
    if not isinstance(schedules, dict):
        raise AmtError(path, None, "expiry_schedules", "must be a mapping of schedule name -> list")
    rules = {name: _compile_rules(path, name, document.get(name)) for name in RULE_TABLES}
    assets = []
    for key, record in section.items():
        if not isinstance(record, dict):
            continue
        underlying = record.get("Underlying")
        if underlying is None or str(underlying).strip() == "":
            continue
        assets.append(_make_asset(path, str(key), len(assets), record, rules, "group_table" in document))
    backtest = document.get("backtest")
    counts = Counter(asset.underlying for asset in assets)
    return Amt(path=path, assets=tuple(assets), schedules=schedules,
               backtest=backtest if isinstance(backtest, dict) else {},
               signal_table=_signal_rows(path, document.get("signal_table")),
               group_risk_multipliers=_group_multipliers(path, document.get("group_risk_multiplier_table")),
               duplicate_underlyings=frozenset(name for name, count in counts.items() if count > 1))


def _parse(path: Path, text: bytes):
    """The YAML document: only the sections this module reads."""
    try:
        document = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        raise AmtError(path, None, None, f"invalid YAML: {_yaml_problem(exc)}") from None
    except RecursionError:
        raise AmtError(path, None, None, "invalid YAML: nested too deeply") from None
    if isinstance(document, dict):
        document = {name: document[name] for name in _SECTIONS if name in document}
    return document


def _read_cached(cached: Path, path: Path) -> Amt | None:
    """The cached :class:`Amt`, or None when there is none or it fails its checksum (with a warning).

    The file is ``<xxh3 of the pickle>\n<pickle>``: a damaged pickle that still unpickles would
    otherwise be used silently.
    """
    try:
        data = cached.read_bytes()
    except OSError:
        return None
    stored, newline, payload = data.partition(b"\n")
    try:
        if not newline or stored.decode("ascii") != checksum(payload):
            raise ValueError("checksum mismatch")
        amt = pickle.loads(payload)
        if not isinstance(amt, Amt):
            raise ValueError(f"holds a {type(amt).__name__}")
    except Exception as exc:  # damaged in any way: load the file again
        warnings.warn(f"{path}: cached parse {cached} is damaged ({exc}); parsing the file again", stacklevel=3)
        return None
    touch(cached)
    return amt


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error on one line, with the line and column where it was found."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        context = getattr(exc, "context", None)
        text = f"line {mark.line + 1}, column {mark.column + 1}: {problem}" + (f" ({context})" if context else "")
    else:
        text = str(exc)
    return " ".join(text.split())


def _make_asset(path: Path, key: str, position: int, record: dict, rules: dict, has_group_table: bool) -> Asset:
    underlying = str(record["Underlying"])
    vol, hedge, valuation = (record.get(name) or {} for name in ("Vol", "Hedge", "Valuation"))
    for name, value in (("Vol", vol), ("Hedge", hedge), ("Valuation", valuation)):
        if not isinstance(value, dict):
            raise AmtError(path, underlying, name, f"must be a mapping, got {value!r}")
    model = valuation.get("Model")
    resolved = {name: _first_hit(path, underlying, rules[name], record, default)
                for name, default in RULE_TABLES.items()}
    asset_class = record.get("Class")
    group = resolved["group_table"] if has_group_table else str(asset_class)
    options = record.get("Options")
    return Asset(
        underlying=underlying, key=key, position=position,
        asset_class="" if asset_class is None else str(asset_class),
        weight_cap=record.get("WeightCap"),
        schedule=None if options is None else str(options),
        vol=vol, hedge=hedge, model=None if model is None else str(model),
        group=group, subgroup=resolved["subgroup_table"], liquidity=resolved["liquidity_table"],
        limit_override=resolved["limit_overrides"], raw=record,
    )


def _compile_rules(path: Path, name: str, table: Any) -> list[tuple[str, Any, Any, str]]:
    """Rows ``[field, rgx, value]`` of a rule table, regexes compiled once, each with where it is
    (``<table>.Rows[i]``) for messages."""
    if table is None:
        return []
    rows = table.get("Rows") if isinstance(table, dict) else None
    if not isinstance(rows, list):
        raise AmtError(path, None, name, "expected a mapping with a Rows list")
    compiled = []
    for index, row in enumerate(rows):
        if not (isinstance(row, list) and len(row) == 3):
            raise AmtError(path, None, f"{name}.Rows[{index}]", f"expected [field, rgx, value], got {row!r}")
        try:
            compiled.append((str(row[0]), compile_pattern(str(row[1])), row[2], f"{name}.Rows[{index}]"))
        except (regex.error, ValueError) as exc:
            raise AmtError(path, None, f"{name}.Rows[{index}]", f"invalid regex {row[1]!r}: {exc}") from None
    return compiled


def _group_multipliers(path: Path, table: Any) -> dict[str, float]:
    """Rows ``[group, multiplier]`` of ``group_risk_multiplier_table`` (multipliers are numbers)."""
    if table is None:
        return {}
    rows = table.get("Rows") if isinstance(table, dict) else None
    if not isinstance(rows, list):
        raise AmtError(path, None, "group_risk_multiplier_table", "expected a mapping with a Rows list")
    result = {}
    for index, row in enumerate(rows):
        if not (isinstance(row, list) and len(row) == 2 and _is_number(row[1])):
            raise AmtError(path, None, f"group_risk_multiplier_table.Rows[{index}]",
                           f"expected [group, number], got {row!r}")
        result[str(row[0])] = float(row[1])
    return result


def signal_name_problem(name: Any) -> str | None:
    """Why ``name`` cannot name a signal_table row, or None when it can (STRATEGY S3, S7)."""
    if not (isinstance(name, str) and SIGNAL_NAME.fullmatch(name)):
        return f"row name must be a NAME (an ASCII letter, then letters, digits or _), got {name!r}"
    if name in RESERVED_SIGNALS:
        return f"row name {name!r} is reserved for the built-in signal {name!r}"
    return None


def _signal_rows(path: Path, table: Any) -> tuple[tuple[str, str, str], ...]:
    """The ``[name, calc, init]`` rows of ``signal_table``, names checked (expressions are parsed
    by :mod:`straddles.strategies.recursion`); a missing ``init`` or a null one is empty."""
    if table is None:
        return ()
    rows = table.get("Rows") if isinstance(table, dict) else None
    if not isinstance(rows, list):
        raise AmtError(path, None, "signal_table", "expected a mapping with a Rows list")
    result, seen = [], set()
    for index, row in enumerate(rows):
        where = f"signal_table.Rows[{index}]"
        if not (isinstance(row, list) and len(row) in (2, 3)):
            raise AmtError(path, None, where, f"expected [name, calc, init], got {row!r}")
        name, calc, init = (*row, None)[:3]
        problem = signal_name_problem(name)
        if problem is None and name in seen:
            problem = f"duplicate row name {name!r}"
        if problem is None and not isinstance(calc, str):
            problem = f"row {name!r}: calc must be a string, got {calc!r}"
        if problem is None and not (init is None or isinstance(init, str)):
            problem = f"row {name!r}: init must be a string, got {init!r}"
        if problem is not None:
            raise AmtError(path, None, where, problem)
        seen.add(name)
        result.append((name, calc, init or ""))
    return tuple(result)


def _first_hit(path: Path, underlying: str, rules: list, record: dict, default: Any) -> Any:
    """First row whose regex matches (anchored at the start) ``str(record[field])`` (SPEC 2.6)."""
    for field_name, compiled, value, where in rules:
        if field_name not in record:
            continue
        try:
            if search_within_limit(compiled, str(record[field_name]), anchored=True):
                return value
        except TimeoutError:
            raise AmtError(path, underlying, where, f"regex {compiled.pattern!r} took over "
                           f"{REGEX_TIMEOUT_SECONDS:g} s on {str(record[field_name])!r} "
                           "(catastrophic backtracking); simplify it") from None
    return default


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
