"""The strategy layer's compiled kernels (numba), one small loop per job.

Every kernel here has a plain-Python twin in :mod:`straddles.strategies.reference`, and the tests
compare them on random inputs. Matrices are ``float64[days, assets]``; NaN means "no value".
Cube arrays are described in :mod:`straddles.strategies.cube`.
"""

from __future__ import annotations

import numba
import numpy as np

from ..jit import njit, prange


# --- the cohort cube ---------------------------------------------------------------------------

@njit(cache=True, nogil=True, error_model="numpy")
def scatter_days(straddle_id, date, pnl, opnl, hpnl, vol, cohort_of, weight, first, offset, day_base,
                 out_pnl, out_opnl, out_hpnl, day_values, day_count):
    """Add each day row with a pnl into its cohort's cell (w·pnl, w·opnl, w·hpnl) and into its
    asset-day ``day_base[straddle] + date`` (w·pnl, w·vol, w into ``day_values``' rows; 1 into
    ``day_count``)."""
    for r in range(len(straddle_id)):
        p = pnl[r]
        if np.isnan(p):
            continue
        s = straddle_id[r]
        c = cohort_of[s]
        if c < 0:  # a straddle without a cohort (no day rows at layout): never written out of bounds
            continue
        i = offset[c] + date[r] - first[c]
        w = weight[s]
        out_pnl[i] += w * p
        out_opnl[i] += w * opnl[r]
        out_hpnl[i] += w * hpnl[r]
        a = day_base[s] + date[r]
        day_values[0, a] += w * p
        day_values[1, a] += w * vol[r]
        day_values[2, a] += w
        day_count[a] += 1


@njit(cache=True, nogil=True, error_model="numpy")
def scatter_column(straddle_id, date, pnl, x, cohort_of, weight, first, offset, out):
    """Add w·x of each day row with a pnl into its cohort's cell (an extra column, e.g. costs)."""
    for r in range(len(straddle_id)):
        if np.isnan(pnl[r]):
            continue
        s = straddle_id[r]
        c = cohort_of[s]
        if c >= 0:
            out[offset[c] + date[r] - first[c]] += weight[s] * x[r]


@njit(cache=True, nogil=True, error_model="numpy")
def cohort_weights(W, origin, lock, asset, order):
    """The weight each cohort holds: ``W[lock - origin, asset]``, 0 outside W or where NaN.

    Cohorts are visited in ``order`` (by lock day, then asset) so that W is read row by row.
    """
    n_days = W.shape[0]
    out = np.zeros(len(lock))
    for c in order:
        d = lock[c] - origin
        if 0 <= d < n_days:
            w = W[d, asset[c]]
            if np.isfinite(w):
                out[c] = w
    return out


def day_blocks() -> int:
    """How many day ranges :func:`cohort_books` cuts the grid into: one per thread. numba gives
    each thread an equal share of a ``prange``'s iterations up front, so more blocks would not
    balance a thread slowed by the rest of the machine; they would only add scans of the cohort
    table (each block visits every cohort to find its days): 4 per thread measured about 1 ms a
    pass slower on the real AMT, also with the other core busy (BENCHMARKS.md)."""
    return numba.get_num_threads()


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def cohort_books(values, bucket, start, length, offset, wc, out_long, out_short, n_blocks):
    """``out[m, k, bucket[c], d] += wc[c, m] · values[k, cell]`` over every cell of every cohort,
    for each weight vector ``m`` (a column of ``wc``, ``float64[cohorts, vectors]``: a cohort's
    weights side by side, read together), into ``out_long`` for a positive weight and
    ``out_short`` for a negative one (a zero or NaN weight holds nothing).

    Several weight vectors share one pass over the cube: a cohort's run of cells is read from
    memory once and added to every vector's book, each a contiguous run of days (``d`` is the
    last axis), a loop the compiler turns into vector instructions. Every output cell receives
    its terms in cohort order, so each book equals the book of that vector alone, bit for bit.
    ``start`` is each cohort's first day as a grid index; cells outside the grid are skipped. The
    outputs (``float64[vectors, n_cols, buckets, days]``) are zeroed by the caller.

    The grid's days are cut into ``n_blocks`` fixed ranges run in parallel: a thread owns its
    days' output cells and adds their terms in cohort order, so the books are the same bit for bit
    whatever the number of blocks or threads.
    """
    n_days = out_long.shape[3]
    n_blocks = max(1, min(n_blocks, n_days))
    for block in prange(n_blocks):
        _cohort_books_days(values, bucket, start, length, offset, wc, out_long, out_short,
                           block * n_days // n_blocks, (block + 1) * n_days // n_blocks)


@njit(cache=True, nogil=True, error_model="numpy")
def _cohort_books_days(values, bucket, start, length, offset, wc, out_long, out_short, first, last):
    """:func:`cohort_books` on the grid days ``first .. last - 1`` only.

    The run's indices are unsigned: numba then adds no negative-index test per cell, which would
    keep the loop from being vectorized."""
    n_vectors, n_cols = wc.shape[1], values.shape[0]
    for c in range(len(bucket)):
        b, s = bucket[c], start[c]
        lo, hi = max(0, first - s), min(length[c], last - s)
        if lo >= hi:
            continue
        n, cell, day = np.uint64(hi - lo), np.uint64(offset[c] + lo), np.uint64(s + lo)
        for k in range(n_cols):
            for m in range(n_vectors):
                w = wc[c, m]
                if not (w > 0.0 or w < 0.0):  # 0 or NaN: holds nothing
                    continue
                out = out_long if w > 0.0 else out_short
                for j in range(n):
                    out[m, k, b, day + j] += w * values[k, cell + j]


@njit(cache=True, nogil=True, error_model="numpy")
def scaled_held(held, factor, bucket, day):
    """:func:`scale_longs` at the cohorts' lock cells only: ``held[c] · factor[day[c], bucket[c]]``
    where positive (non-finite results 0, as :func:`cohort_weights` reads them); ``day`` is the
    lock day as a row of ``factor`` (out of range: 0)."""
    out = np.zeros(len(held))
    for c in range(len(held)):
        v = held[c]
        if v > 0.0:
            d = day[c]
            if 0 <= d < factor.shape[0]:
                v = v * factor[d, bucket[c]]
            else:
                v = 0.0
        out[c] = v if np.isfinite(v) else 0.0
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def lock_groups(lock, order):
    """Where each lock day's cohorts start in ``order`` (the cohorts by lock day), and the end:
    ``int64[n_lock_days + 1]``; what :func:`sized_held` walks, computed once per context."""
    first = np.empty(len(order) + 1, np.int64)
    n_groups = 0
    for i in range(len(order)):
        if i == 0 or lock[order[i]] != lock[order[i - 1]]:
            first[n_groups] = i
            n_groups += 1
    first[n_groups] = len(order)
    return first[:n_groups + 1].copy()


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def sized_held(W, origin, lock, asset, order, first, group_factor, group, use_group, total_factor, use_total, out):
    """``cohort_weights(normalize_gross(hedge(W)))`` without the matrices in between: the weight each
    cohort holds once W's longs are scaled by the hedge's steps (times the group's factor, then
    times the global one, each step scaling a weight only if it is positive then: :func:`scale_longs`
    in turn) and each day is sized to unit gross (S1.6). Only the rows of lock days are read; each
    row's gross is summed in asset order, as :func:`normalize_gross` does, and a weight not scaled
    is multiplied by 1 (itself): the same numbers bit for bit. ``order`` is the cohorts by lock day
    and ``first`` its :func:`lock_groups`. Written into ``out`` (``float64[cohorts]``, a row of the
    caller's batch), which is returned. A lock day's hedged weights are not kept: the gross sums
    them, then each of that day's cohorts computes its asset's again (the same operations), which
    spares a row buffer per lock day."""
    n_days, n_assets = W.shape
    out[:] = 0.0
    for g in prange(len(first) - 1):  # one lock day each: independent rows, independent cohorts
        d = lock[order[first[g]]] - origin
        if not 0 <= d < n_days:
            continue
        total = 0.0
        for a in range(n_assets):
            v = _hedged(W[d, a], group_factor[d, group[a]] if use_group else 1.0, use_group,
                        total_factor[d, 0] if use_total else 1.0, use_total)
            if np.isfinite(v):
                total += abs(v)
        if total > 0.0:
            for t in range(first[g], first[g + 1]):
                a = asset[order[t]]
                v = _hedged(W[d, a], group_factor[d, group[a]] if use_group else 1.0, use_group,
                            total_factor[d, 0] if use_total else 1.0, use_total)
                if np.isfinite(v):
                    out[order[t]] = v / total
    return out


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _hedged(v, group_factor, use_group, total_factor, use_total):
    """A weight after the hedge's steps (:func:`scale_longs` in turn): times the group's factor if
    positive, then times the global one if still positive."""
    if use_group:
        v = v * (group_factor if v > 0.0 else 1.0)  # selects, not branches: a sign is not predictable
    if use_total:
        v = v * (total_factor if v > 0.0 else 1.0)
    return v


# --- along time, per asset ---------------------------------------------------------------------

@njit(cache=True, nogil=True, error_model="numpy")
def ema(x, n):
    """EMA with α = 1/n per column: started at the first value, held where x has none (S3)."""
    alpha = 1.0 / n
    out = np.full(x.shape, np.nan)
    for a in range(x.shape[1]):
        started = False
        e = 0.0
        for d in range(x.shape[0]):
            v = x[d, a]
            if np.isfinite(v):
                e = (1.0 - alpha) * e + alpha * v if started else v
                started = True
            if started:
                out[d, a] = e
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def cumulative(x):
    """c: the running sum of x from its first value per column, days without a value adding 0."""
    out = np.full(x.shape, np.nan)
    for a in range(x.shape[1]):
        started = False
        c = 0.0
        for d in range(x.shape[0]):
            v = x[d, a]
            if np.isfinite(v):
                c += v
                started = True
            if started:
                out[d, a] = c
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def calmar(c):
    """c / MDD with MDD the maximum drawdown of c to date; NaN while MDD = 0 (S3 ``clm``)."""
    out = np.full(c.shape, np.nan)
    for a in range(c.shape[1]):
        peak = -np.inf
        mdd = 0.0
        for d in range(c.shape[0]):
            v = c[d, a]
            if np.isnan(v):
                continue
            peak = max(peak, v)
            mdd = max(mdd, peak - v)
            if mdd > 0.0:
                out[d, a] = v / mdd
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _fenwick_add(tree, i, delta):
    i += 1
    while i < len(tree):
        tree[i] += delta
        i += i & -i


@njit(cache=True, nogil=True, error_model="numpy")
def _fenwick_kth(tree, k, top):
    """Rank (0-based) of the k-th smallest (0-based) present value: binary lifting, O(log n)."""
    position = 0
    step = top
    while step > 0:
        nxt = position + step
        if nxt < len(tree) and tree[nxt] <= k:
            position = nxt
            k -= tree[nxt]
        step >>= 1
    return position


@njit(cache=True, nogil=True, error_model="numpy")
def winsorize(x, window, lo_q, hi_q, min_count):
    """Clip x per column to its ``lo_q``/``hi_q`` quantiles over the last ``window`` days (today
    included, values only); quantile = sorted[floor(q·(n−1))]; fewer than ``min_count`` values:
    pass through. An order-statistic Fenwick tree over the column's value ranks: O(log w) a day."""
    n_days = x.shape[0]
    out = np.full(x.shape, np.nan)
    for a in range(x.shape[1]):
        column = x[:, a]
        present = np.flatnonzero(np.isfinite(column))
        m = len(present)
        if m == 0:
            continue
        order = np.argsort(column[present], kind="mergesort")
        values = column[present][order]
        rank = np.full(n_days, -1, np.int64)
        for r in range(m):
            rank[present[order[r]]] = r
        tree = np.zeros(m + 1, np.int64)
        top = 1
        while top * 2 <= m:
            top *= 2
        count = 0
        for d in range(n_days):
            if rank[d] >= 0:
                _fenwick_add(tree, rank[d], 1)
                count += 1
            old = d - window
            if old >= 0 and rank[old] >= 0:
                _fenwick_add(tree, rank[old], -1)
                count -= 1
            v = column[d]
            if rank[d] < 0:
                continue
            if count < min_count:
                out[d, a] = v
                continue
            lo = values[_fenwick_kth(tree, int(np.floor(lo_q * (count - 1))), top)]
            hi = values[_fenwick_kth(tree, int(np.floor(hi_q * (count - 1))), top)]
            out[d, a] = min(max(v, lo), hi)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def beta(long_book, short_book, n, min_days):
    """The hedge ratio of S6 per day: −cov(L, S)/var(L) from EMA moments (α = 1/n) over the days
    both books have a value; NaN (then 1) until ``min_days`` such days and where var ≤ 0; floored
    at 0."""
    alpha = 1.0 / n
    out = np.ones(len(long_book))
    m_l = m_s = m_ls = m_ll = 0.0
    count = 0
    for d in range(len(long_book)):
        l, s = long_book[d], short_book[d]
        if np.isfinite(l) and np.isfinite(s):
            if count == 0:
                m_l, m_s, m_ls, m_ll = l, s, l * s, l * l
            else:
                m_l = (1.0 - alpha) * m_l + alpha * l
                m_s = (1.0 - alpha) * m_s + alpha * s
                m_ls = (1.0 - alpha) * m_ls + alpha * (l * s)
                m_ll = (1.0 - alpha) * m_ll + alpha * (l * l)
            count += 1
        if count >= min_days:
            v = m_ll - m_l * m_l
            if v > 0.0:
                b = -(m_ls - m_l * m_s) / v
                out[d] = max(b, 0.0) if np.isfinite(b) else 1.0
    return out


# --- across assets, per day --------------------------------------------------------------------

@njit(cache=True, nogil=True, error_model="numpy")
def _rank_into(row, members, out_row):
    """2·r/(n−1) − 1 with r the average 0-based rank of ties, over the members with a value."""
    idx = np.empty(len(members), np.int64)
    n = 0
    for m in members:
        if np.isfinite(row[m]):
            idx[n] = m
            n += 1
    if n < 2:
        return
    idx = idx[:n]
    vals = row[idx]
    order = np.argsort(vals, kind="mergesort")
    i = 0
    while i < n:
        j = i
        while j + 1 < n and vals[order[j + 1]] == vals[order[i]]:
            j += 1
        r = 0.5 * (i + j)
        for t in range(i, j + 1):
            out_row[idx[order[t]]] = 2.0 * r / (n - 1) - 1.0
        i = j + 1


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def rank(x, group_members, group_offsets):
    """Cross-sectional rank per day within each group (one group of every asset = ``rank``)."""
    out = np.full(x.shape, np.nan)
    for d in prange(x.shape[0]):
        row = x[d]
        for g in range(len(group_offsets) - 1):
            _rank_into(row, group_members[group_offsets[g]:group_offsets[g + 1]], out[d])
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def sumabs(x):
    """x / Σ|x| per day over the values; a day whose sum is 0 (or has no value) is all NaN."""
    return _divided_by_gross(x, np.full(x.shape, np.nan))


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def combine(x, y):
    """sumabs(x·y) in one pass per day: ``(x·y) / Σ|x·y|`` (S5); y broadcasts along days when it
    has one row."""
    out = np.empty(x.shape)  # every cell is written once below
    for d in prange(x.shape[0]):
        yd = y[0] if y.shape[0] == 1 else y[d]
        total = 0.0
        for a in range(x.shape[1]):
            v = x[d, a] * yd[a]
            if np.isfinite(v):
                total += abs(v)
        for a in range(x.shape[1]):  # the product again (the same operation): no row buffer
            v = x[d, a] * yd[a]
            out[d, a] = v / total if total > 0.0 and np.isfinite(v) else np.nan
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def scale_longs(W, factor, bucket):
    """W with each positive weight times ``factor[d, bucket[a]]`` (S6)."""
    out = W.copy()
    for d in range(W.shape[0]):
        for a in range(W.shape[1]):
            if W[d, a] > 0.0:
                out[d, a] = W[d, a] * factor[d, bucket[a]]
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def normalize_gross(x):
    """x / Σ|x| per day with NaN as 0; a day with Σ|x| = 0 holds nothing (S1.6)."""
    return _divided_by_gross(x, np.zeros(x.shape))


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _divided_by_gross(x, out):
    """Write x / Σ|x| (over the finite values of each day) into ``out``; cells without a finite
    value, and days whose sum is 0, keep what ``out`` holds (NaN for sumabs, 0 for sizing)."""
    for d in prange(x.shape[0]):
        total = 0.0
        for a in range(x.shape[1]):
            v = x[d, a]
            if np.isfinite(v):
                total += abs(v)
        if total > 0.0:
            for a in range(x.shape[1]):
                v = x[d, a]
                if np.isfinite(v):
                    out[d, a] = v / total
    return out
