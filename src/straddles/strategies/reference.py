"""Slow, obviously-correct twins of the strategy layer's fast paths, for the tests and benchmarks.

* :func:`direct_cube`, :func:`direct_asset_days` and :func:`direct_books`: straight from the day rows (the SPEC 13.2 day table
  and the straddle table), the reference of the cohort cube (STRATEGY S1.5);
* plain-Python loops for every kernel of :mod:`straddles.strategies.nb` (EMA, cumulative sum,
  calmar, rolling winsorisation, ranks, sumabs, β, the cube pass of several weight vectors).

Nothing here is used by :func:`straddles.strategy`.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from ..engine.dates import month_start


def _day_rows(straddles: pa.Table, days: pa.Table, assets: list[str]) -> dict[str, np.ndarray]:
    """The day rows with a pnl, joined with their straddle's asset index (in ``assets``), weight
    and entry."""
    names = straddles["asset"].cast(pa.string()).to_pylist()
    order = {name: i for i, name in enumerate(assets)}
    ids = days["straddle_id"].to_numpy()
    pnl = days["pnl"].to_numpy(zero_copy_only=False)
    keep = ~np.isnan(pnl)
    position = np.searchsorted(straddles["straddle_id"].to_numpy(), ids[keep])
    return {
        "asset": np.array([order[name] for name in names])[position] if len(position) else np.zeros(0, int),
        "weight": straddles["weight"].to_numpy(zero_copy_only=False)[position],
        "entry": straddles["entry_date"].cast(pa.int32()).to_numpy(zero_copy_only=False)[position],
        "date": days["date"].cast(pa.int32()).to_numpy()[keep],
        "pnl": pnl[keep],
        "opnl": days["opnl"].to_numpy(zero_copy_only=False)[keep],
        "hpnl": days["hpnl"].to_numpy(zero_copy_only=False)[keep],
        "vol": days["vol"].to_numpy(zero_copy_only=False)[keep],
    }


def direct_cube(straddles: pa.Table, days: pa.Table, assets: list[str]) -> dict[tuple[int, int, int], dict]:
    """{(asset index in ``assets``, entry day, day): {pnl, opnl, hpnl}} summed over the day rows
    with a pnl, one Python loop per row."""
    rows = _day_rows(straddles, days, assets)
    cells: dict = {}
    for i in range(len(rows["date"])):
        key = (int(rows["asset"][i]), int(rows["entry"][i]), int(rows["date"][i]))
        cell = cells.setdefault(key, dict(pnl=0.0, opnl=0.0, hpnl=0.0))
        w = float(rows["weight"][i])
        for name in ("pnl", "opnl", "hpnl"):
            cell[name] += w * float(rows[name][i])
    return cells


def direct_asset_days(straddles: pa.Table, days: pa.Table, assets: list[str]) -> dict[tuple[int, int], dict]:
    """{(asset index in ``assets``, day): {pnl, vol, weight, count}}: Σ w·pnl, Σ w·vol, Σ w and
    the number of day rows with a pnl, one Python loop per row."""
    rows = _day_rows(straddles, days, assets)
    cells: dict = {}
    for i in range(len(rows["date"])):
        cell = cells.setdefault((int(rows["asset"][i]), int(rows["date"][i])),
                                dict(pnl=0.0, vol=0.0, weight=0.0, count=0))
        w = float(rows["weight"][i])
        cell["pnl"] += w * float(rows["pnl"][i])
        cell["vol"] += w * float(rows["vol"][i])
        cell["weight"] += w
        cell["count"] += 1
    return cells


def lock_day(entry: np.ndarray, inception: str) -> np.ndarray:
    """Lock day of straddles entered on ``entry`` (S1.3)."""
    entry = np.asarray(entry, np.int64)
    if inception == "entry":
        return entry - 1
    months = entry.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
    return np.asarray(month_start(months), np.int64) - 1


def direct_books(straddles: pa.Table, days: pa.Table, assets: list[str], W: np.ndarray, origin: int,
                 grid_start: int, n_days: int, inception: str = "entry", column: str = "pnl",
                 side: str = "all") -> np.ndarray:
    """Per-asset book ``Σ_k w_k·x_k(d)·W[lock_k, a_k]`` straight from the day rows (S1.4): NumPy
    group-by sums (no cube); columns of W follow ``assets``. NaN where the asset has no straddle
    with a pnl that day."""
    rows = _day_rows(straddles, days, assets)
    lock = lock_day(rows["entry"], inception) - origin
    inside = (lock >= 0) & (lock < W.shape[0])
    held = np.zeros(len(lock))
    held[inside] = W[lock[inside], rows["asset"][inside]]
    held = np.where(np.isfinite(held), held, 0.0)
    if side == "long":
        held = np.maximum(held, 0.0)
    elif side == "short":
        held = np.minimum(held, 0.0)
    day = rows["date"] - grid_start
    cell = day * W.shape[1] + rows["asset"]
    size = n_days * W.shape[1]
    total = np.bincount(cell, weights=rows["weight"] * rows[column] * held, minlength=size)
    count = np.bincount(cell, minlength=size)
    return np.where(count > 0, total, np.nan).reshape(n_days, W.shape[1])


def direct_books_streamed(straddles: pa.Table, days_path, assets: list[str], W: np.ndarray, origin: int,
                          grid_start: int, n_days: int, inception: str = "entry") -> np.ndarray:
    """:func:`direct_books` of ``pnl`` reading ``days.parquet`` one row group at a time (the
    benchmark's direct day-row sum over a day table too large to hold)."""
    import pyarrow.parquet as pq

    total = np.zeros((n_days, W.shape[1]))
    seen = np.zeros((n_days, W.shape[1]), bool)
    source = pq.ParquetFile(days_path)
    for group in range(source.num_row_groups):
        part = source.read_row_group(group, columns=["straddle_id", "date", "opnl", "hpnl", "pnl", "vol"])
        book = direct_books(straddles, part, assets, W, origin, grid_start, n_days, inception)
        present = ~np.isnan(book)
        total[present] += book[present]
        seen |= present
    return np.where(seen, total, np.nan)


# --- per-asset series ----------------------------------------------------------------------------

def _finite(v: float) -> bool:
    return not (math.isnan(v) or math.isinf(v))


def ema(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    for a in range(x.shape[1]):
        e = None
        for d in range(x.shape[0]):
            if _finite(x[d, a]):
                e = x[d, a] if e is None else (1 - 1 / n) * e + (1 / n) * x[d, a]
            if e is not None:
                out[d, a] = e
    return out


def cumulative(x: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    for a in range(x.shape[1]):
        c = None
        for d in range(x.shape[0]):
            if _finite(x[d, a]):
                c = (c or 0.0) + x[d, a]
            if c is not None:
                out[d, a] = c
    return out


def calmar(c: np.ndarray) -> np.ndarray:
    out = np.full(c.shape, np.nan)
    for a in range(c.shape[1]):
        values = [(d, c[d, a]) for d in range(c.shape[0]) if not math.isnan(c[d, a])]
        for i, (d, v) in enumerate(values):
            mdd = max(max(u for _, u in values[:j + 1]) - values[j][1] for j in range(i + 1))
            if mdd > 0:
                out[d, a] = v / mdd
    return out


def winsorize(x: np.ndarray, window: int = 365, lo_q: float = 0.01, hi_q: float = 0.99,
              min_count: int = 20) -> np.ndarray:
    """A sort per day over the window (the slow way the fast path must match)."""
    out = np.full(x.shape, np.nan)
    for a in range(x.shape[1]):
        for d in range(x.shape[0]):
            v = x[d, a]
            if not _finite(v):
                continue
            past = sorted(u for u in x[max(0, d - window + 1):d + 1, a] if _finite(u))
            n = len(past)
            if n < min_count:
                out[d, a] = v
            else:
                out[d, a] = min(max(v, past[math.floor(lo_q * (n - 1))]), past[math.floor(hi_q * (n - 1))])
    return out


def beta(long_book: np.ndarray, short_book: np.ndarray, n: int = 365, min_days: int = 20) -> np.ndarray:
    alpha = 1 / n
    out = np.ones(len(long_book))
    moments, count = None, 0
    for d, (l, s) in enumerate(zip(long_book, short_book)):
        if _finite(l) and _finite(s):
            new = (l, s, l * s, l * l)
            moments = new if moments is None else tuple((1 - alpha) * m + alpha * v for m, v in zip(moments, new))
            count += 1
        if count >= min_days:
            m_l, m_s, m_ls, m_ll = moments
            v = m_ll - m_l * m_l
            if v > 0:
                b = -(m_ls - m_l * m_s) / v
                out[d] = max(b, 0.0) if _finite(b) else 1.0
    return out


def cohort_books(values: np.ndarray, bucket: np.ndarray, start: np.ndarray, length: np.ndarray,
                 offset: np.ndarray, held: np.ndarray, n_buckets: int, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """The long and short books of each held vector (``held[m, c]``), one vector, one cohort and
    one cell at a time in cohort order: ``float64[vectors, n_cols, n_buckets, n_days]`` each."""
    long_ = np.zeros((len(held), len(values), n_buckets, n_days))
    short = np.zeros_like(long_)
    for m in range(len(held)):
        for c in range(len(bucket)):
            w = float(held[m, c])
            if not (w > 0 or w < 0):
                continue
            out = long_ if w > 0 else short
            for j in range(int(length[c])):
                d = int(start[c]) + j
                if 0 <= d < n_days:
                    for k in range(len(values)):
                        with np.errstate(invalid="ignore"):  # inf + -inf: NaN, as in the kernel
                            out[m, k, bucket[c], d] += w * float(values[k, offset[c] + j])
    return long_, short


# --- across assets ---------------------------------------------------------------------------------

def rank(x: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Average-tie ranks mapped to [−1, 1] per day within each group (S4)."""
    groups = np.zeros(x.shape[1], int) if groups is None else np.asarray(groups)
    out = np.full(x.shape, np.nan)
    for d in range(x.shape[0]):
        for g in set(groups.tolist()):
            members = [a for a in range(x.shape[1]) if groups[a] == g and _finite(x[d, a])]
            n = len(members)
            if n < 2:
                continue
            for a in members:
                below = sum(1 for b in members if x[d, b] < x[d, a])
                ties = sum(1 for b in members if x[d, b] == x[d, a])
                r = below + (ties - 1) / 2
                out[d, a] = 2 * r / (n - 1) - 1
    return out


def sumabs(x: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    for d in range(x.shape[0]):
        total = sum(abs(v) for v in x[d] if _finite(v))
        if total > 0:
            out[d] = [v / total if _finite(v) else np.nan for v in x[d]]
    return out
