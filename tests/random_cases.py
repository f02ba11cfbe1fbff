"""Random small AMTs and random price sets, for checking the kernel against the reference.

Each case is drawn from one integer seed: a handful of assets with random vol/hedge sources,
models and schedules (every expiry code, letters, offsets, weights), an overrides CSV with holes,
and prices for the series the straddles need with random gaps and month-long outages, weekend prints, missing legs,
whole missing series, non-finite rows (which count as missing) and bad values (0, negatives).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa

from straddles.engine.anchors import Overrides
from straddles.engine.straddle_table import build_straddles

EXPIRY_CODES = ["F1", "F3", "F5", "R2", "W3", "W5", "BD1", "BD7", "BDa", "BDb", "BD22", "OVERRIDE", "OVERRIDE15",
                "LBa", "X2", "F0"]
ENTRY_CODES = ["N0", "N5", "N28", "F0", "F10", "F15", "N", "Na", "Fb"]
MODELS = ["ES", "ES", "ES", "CDS_ES", "NS", "BS"]
SOURCES = [  # (Vol yaml, Hedge yaml, model hint)
    ("{{Source: BBG, Ticker: {t} Equity, Near: V30, Far: V60}}", "{{Source: nonfut, Ticker: {t} Equity, Field: PX_LAST}}"),
    ("{{Source: BBG, Ticker: {t}V1M Curncy, Near: PX_LAST, Far: PX_LAST}}", "{{Source: nonfut, Ticker: '{t} A:2024-03:{t} B', Field: PX_LAST}}"),
    ("{{Source: BBG, Ticker: {t}1 Comdty, Near: V1, Far: V2}}",
     "{{Source: fut, fut_code: {t}, fut_month_map: HHKKNNUUZZZH, min_year_offset: 0, market_code: Comdty}}"),
    ("{{Source: BBG_LMEVOL}}", "{{Source: fut, fut_code: {t}, fut_month_map: FGHJKMNQUVXZ, market_code: Comdty}}"),
    ("{{Source: CV, Near: CV.{t}.1M, Far: NONE}}", "{{Source: calc, ccy: USD, tenor: {tenor}}}"),
    ("{{Source: CV, Near: CR.{t}.1M}}", "{{Source: cds, hedge: {t} CBBT Curncy, hedge1: 'SW{t} A:2024-05:SW{t} B'}}"),
]


def random_case(seed: int, directory: Path, calendars=None) -> tuple[object, pa.Table]:
    """Write a random AMT (+ overrides) into ``directory``; return (StraddleFrame, long price table).

    ``calendars`` (SPEC 6.5) is passed to :func:`build_straddles`: BD anchors skip its holidays.
    """
    rng = np.random.default_rng(seed)
    n_assets = int(rng.integers(1, 4))
    schedules, assets = [], []
    for a in range(n_assets):
        entries = []
        for _ in range(int(rng.integers(1, 4))):
            entry = f"{rng.choice(ENTRY_CODES)}_{rng.choice(EXPIRY_CODES)}"
            if rng.random() < 0.8:
                entry += f"_{rng.choice(['25', '33.3', '12.5', '100', '0'])}"
            entries.append(entry)
        schedules.append(f"  s{a}: [{', '.join(entries)}]\n")
        vol, hedge = SOURCES[int(rng.integers(len(SOURCES)))]
        ticker = f"T{seed % 1000}X{a}"
        tenor = rng.choice(["10", "'2_2'"])
        model = rng.choice(MODELS) if rng.random() < 0.3 else _natural_model(hedge)
        assets.append(f"""  K{a}:
    Underlying: {ticker} Asset
    Class: Equity
    Vol: {vol.format(t=ticker)}
    Hedge: {hedge.format(t=ticker, tenor=tenor)}
    Options: s{a}
    WeightCap: 1
    Valuation: {{Model: {model}}}
""")
    (directory / "amt.yml").write_text("expiry_schedules:\n" + "".join(schedules) + "amt:\n" + "".join(assets))
    year = int(rng.integers(2023, 2025))
    frame = build_straddles(directory / "amt.yml", year, year + int(rng.integers(0, 2)), overrides=Overrides(None))
    _write_overrides(rng, frame, directory / "overrides.csv")
    frame = build_straddles(directory / "amt.yml", int(frame.months[0] // 12), int(frame.months[-1] // 12),
                            overrides=directory / "overrides.csv", calendars=calendars)
    return frame, _random_prices(rng, frame)


def _natural_model(hedge: str) -> str:
    if "calc" in hedge:
        return "NS"
    return "CDS_ES" if "cds" in hedge else "ES"


def _write_overrides(rng, frame, path: Path) -> None:
    rows = ["ticker,expiry"]
    months = np.arange(frame.months[0] - 2, frame.months[-1] + 1)
    for asset in frame.assets:
        for m in months:
            if rng.random() < 0.85:  # holes make no_override straddles
                first = dt.date(int(m // 12), int(m % 12) + 1, 1)
                rows.append(f"{asset.underlying},{first + dt.timedelta(days=int(rng.integers(0, 28)))}")
    path.write_text("\n".join(rows) + "\n")


def _random_prices(rng, frame) -> pa.Table:
    """Prices for every series the straddles use, over the union of their spans."""
    first, last = int(frame.span_start.min()) - 5, int(frame.span_end.max()) + 5
    days = np.arange(first, last + 1, dtype=np.int32)
    weekday = (days + 3) % 7
    used = np.unique(frame.legs[frame.legs >= 0])
    tickers, fields, dates, values = [], [], [], []
    for series in used:
        if rng.random() < 0.04:  # a series missing from the store altogether
            continue
        ticker, field = frame.catalog.pair(int(series))
        present = (weekday < 5) | (rng.random(len(days)) < 0.05)
        present &= rng.random(len(days)) > rng.choice([0.02, 0.1, 0.3])
        if rng.random() < 0.3:  # a long outage: whole entry months without good days
            gap_start = int(rng.integers(0, len(days)))
            present[gap_start:gap_start + int(rng.integers(20, 60))] = False
        n = int(present.sum())
        level = rng.choice([100.0, 20.0, 4.0, 8.5, 0.5])
        path = level * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
        bad = rng.random(n)
        path[bad < 0.01] = 0.0
        path[(bad >= 0.01) & (bad < 0.015)] *= -1
        path[(bad >= 0.015) & (bad < 0.02)] = np.nan
        path[(bad >= 0.02) & (bad < 0.022)] = np.inf
        tickers += [ticker] * n
        fields += [field] * n
        dates.append(days[present])
        values.append(path)
    return pa.table({
        "ticker": pa.array(tickers, pa.string()), "field": pa.array(fields, pa.string()),
        "date": pa.array(np.concatenate(dates) if dates else np.zeros(0, np.int32)).cast(pa.date32()),
        "value": pa.array(np.concatenate(values) if values else np.zeros(0)),
    })
