"""Large synthetic universes: an AMT's assets cloned under new names and tickers.

A universe ``factor`` times the real one keeps every asset of the source AMT and adds
``factor - 1`` clones of each: same class, schedule, model and rules, but a new ``Underlying``
(``"CL Comdty"`` -> ``"CL Comdty X2"``) and new price series (every vol and hedge ticker, futures
code, CV series name and calc currency gets the clone's tag), so that a synthetic price store for
it is ``factor`` times larger too and no two clones share a series. The overrides CSV is cloned
with the assets. Benchmarks use it to show how cost grows with the universe.

>>> from straddles.scale.universe import clone_universe                      # doctest: +SKIP
>>> amt_path = clone_universe("amt.yml", 10, "big/")                         # doctest: +SKIP
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import yaml

from ..engine.outputs import atomic_path


def clone_tag(copy_number: int) -> str:
    """The tag of clone ``copy_number`` (2, 3, ...): appended to names and tickers."""
    return f"X{copy_number}"


def clone_asset(asset: dict, copy_number: int) -> dict:
    """A deep copy of one ``amt:`` entry with a new Underlying and new price series."""
    tag = clone_tag(copy_number)
    clone = copy.deepcopy(asset)
    clone["Underlying"] = f"{asset['Underlying']} {tag}"
    vol = clone.get("Vol") or {}
    if vol.get("Source") == "BBG" and vol.get("Ticker"):
        vol["Ticker"] = f"{vol['Ticker']} {tag}"
    if vol.get("Source") == "CV":
        for key in ("Near", "Far"):
            if vol.get(key) and str(vol[key]).upper() != "NONE":
                vol[key] = f"{vol[key]}.{tag}"
    hedge = clone.get("Hedge") or {}
    source = hedge.get("Source")
    if source == "fut":
        hedge["fut_code"] = f"{hedge['fut_code']}{tag}"
    elif source == "nonfut":
        hedge["Ticker"] = _clone_ticker(hedge["Ticker"], tag)
    elif source == "cds":
        for key in ("hedge", "hedge1"):
            hedge[key] = _clone_ticker(hedge[key], tag)
    elif source == "calc":
        hedge["ccy"] = f"{hedge['ccy']}{tag}"
    return clone


def _clone_ticker(ticker, tag: str) -> str:
    """Tag a ticker; a split ticker ``A:YYYY-MM:B`` (SPEC 8.4) keeps its split and tags both sides."""
    parts = str(ticker).split(":", 2)
    if len(parts) == 3:
        return f"{parts[0]} {tag}:{parts[1]}:{parts[2]} {tag}"
    return f"{ticker} {tag}"


def clone_universe(amt_path: str | Path, factor: int, out_dir: str | Path,
                   overrides_path: str | Path | None = None) -> Path:
    """Write ``out_dir/amt.yml`` (and ``out_dir/overrides.csv``) with every asset of ``amt_path``
    plus ``factor - 1`` clones of each, clones after the originals; returns the AMT path.

    ``overrides_path`` defaults to ``overrides.csv`` beside the source AMT (skipped if absent).
    """
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    amt_path, out_dir = Path(amt_path), Path(out_dir)
    document = yaml.load(amt_path.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assets = document.get("amt") or {}
    cloned = dict(assets)
    for copy_number in range(2, factor + 1):
        for key, asset in assets.items():
            if isinstance(asset, dict) and asset.get("Underlying"):
                clone = clone_asset(asset, copy_number)
                cloned[f"{key} {clone_tag(copy_number)}"] = clone
    document = dict(document, amt=cloned)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "amt.yml"
    with atomic_path(target) as temporary:
        temporary.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    overrides_path = Path(overrides_path) if overrides_path else amt_path.parent / "overrides.csv"
    if overrides_path.is_file():
        _clone_overrides(overrides_path, out_dir / "overrides.csv", factor)
    return target


def _clone_overrides(source: Path, target: Path, factor: int) -> None:
    with open(source, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    with atomic_path(target) as temporary, open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(body)
        for copy_number in range(2, factor + 1):
            tag = clone_tag(copy_number)
            writer.writerows([[f"{row[0]} {tag}", *row[1:]] for row in body if row])
