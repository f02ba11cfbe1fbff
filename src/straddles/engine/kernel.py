"""The compiled per-straddle pass: good days, entry/expiry, strike, roll-forward, value, P&L.

Everything per straddle or per straddle-day happens here, in numba, over flat arrays (SPEC sections
9-13). The Python wrapper :func:`run_kernel` maps the straddle legs to price-store series once,
plans the parallel work, calls the compiled loop and hands back NumPy arrays.

Parallel plan. Work is split into units of (asset, expiry year). A unit owns its straddles' rows
in every output and adds its P&L into its asset's window of the aggregation grid: one flat array
holding, asset after asset, a cell per calendar day from the first to the last day of the asset's
straddle spans (cell ``grid_offsets[a] + day - grid_first_day[a]``), so the grid grows with the
straddle-days, not with assets x the whole date range. Expiry years run one after the other (a
*phase* each) and the assets of a year run in parallel, so no two threads ever add into the same
grid cell. Inside a unit straddles run in ``straddle_id`` order, so every sum is taken in the same
order for any thread count: results are bit-for-bit reproducible.

Day rows. With days, a first pass (SELECT) decides how many day rows each straddle gets; a second
pass writes them straight into preallocated columns. Because a year's straddles are a contiguous
``straddle_id`` range, the second pass can also run a few years at a time into one reused buffer
that a *day sink* consumes (e.g. appends to a Parquet file): the day table is then never held in
memory whole. That matters: first-touching fresh memory costs more than computing the rows.

Options (SPEC 16-18, :class:`KernelOptions`, all off by default): ``asof`` cuts the prices each
straddle sees and adds the ``open`` status; the anchor expiry basis replaces the realized expiry
search; Greeks, attribution and costs add day columns, per-straddle cost sums and (asset x date)
sums in ``grid_extra``. Off, they leave every output bit-for-bit unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ..jit import njit, prange

from . import status as st
from .anchors import NO_DAY
from .dates import month_end
from .legs import HEDGE, HEDGE1, HEDGE3, LEG_NAMES, NO_SERIES, VOL
from .model_codes import MODEL_NS
from .options import COST_DAY_COLUMNS, COST_GRID_COLUMNS, GREEK_DAY_COLUMNS, GREEK_GRID_COLUMNS
from .models import es_greeks, es_value, ns_greeks, ns_value

N_LEGS = len(LEG_NAMES)
#: leg present in the straddle but absent from the price store (-1, NO_SERIES, means "no such leg")
ABSENT_SERIES = -2
#: ``cube_base`` of a straddle without a cohort in the cube (no day rows)
NO_CUBE = np.iinfo(np.int64).min
#: the cube's cell rows the kernel adds before the SPEC 17/18 ones (``grid_extra``'s slots follow)
CUBE_BASE_ROWS = ("pnl", "opnl", "hpnl")
#: the cube's asset-day rows (beside a count of the straddles with a pnl)
CUBE_DAY_ROWS = ("pnl", "vol", "weight")
#: what a kernel pass does: decide dates and status only; also value and aggregate; also write day rows
SELECT, VALUE, VALUE_AND_WRITE = 0, 1, 2


@njit(cache=True, nogil=True, error_model="numpy")
def _first_at_or_after(dates, lo, hi, day):
    """Index of the first of ``dates[lo:hi]`` that is >= day (hi if none): a binary search."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if dates[mid] < day:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True, error_model="numpy")
def _fill_span(i, leg_series, span_start, span_len, visible, offsets, dates, values, buf, present):
    """Scatter each leg's prices over the straddle's span into ``buf[leg, day]`` (NaN = no price).

    Only the first ``visible`` days of the span take prices (the days <= asof, SPEC 16.1); only the
    legs the straddle has are touched; their slots are listed in ``present[:n_legs]``.
    Returns (n_legs, True if some leg has no price on any visible day of the span).
    """
    n_legs = 0
    empty = False
    for leg in range(N_LEGS):
        series = leg_series[leg, i]
        if series == NO_SERIES:
            continue
        present[n_legs] = leg
        n_legs += 1
        buf[leg, :span_len] = np.nan
        if series == ABSENT_SERIES:
            empty = True
            continue
        row = _first_at_or_after(dates, offsets[series], offsets[series + 1], span_start)
        end = offsets[series + 1]
        last_day = span_start + visible
        found = False
        while row < end and dates[row] < last_day:
            buf[leg, dates[row] - span_start] = values[row]
            found = True
            row += 1
        if not found:
            empty = True
    return n_legs, empty


@njit(cache=True, nogil=True, error_model="numpy")
def _good_days(span_len, buf, present, n_legs, good):
    """good[d] = every leg the straddle has holds a price on day d (SPEC 9.5)."""
    for d in range(span_len):
        ok = True
        for k in range(n_legs):
            if np.isnan(buf[present[k], d]):
                ok = False
                break
        good[d] = ok


@njit(cache=True, nogil=True, error_model="numpy")
def _first_good(good, lo, end):
    """The first good day in [lo, end) (lo clipped at 0), -1 if none."""
    for d in range(max(lo, 0), end):
        if good[d]:
            return d
    return -1


@njit(cache=True, nogil=True, error_model="numpy")
def _entry_index(good, target, month_last):
    """SPEC 6.2: first good day in [target, end of entry month], else the month's last good day."""
    d = _first_good(good, target, month_last + 1)
    if d >= 0:
        return d
    for d in range(month_last, -1, -1):
        if good[d]:
            return d
    return -1


@njit(cache=True, nogil=True, error_model="numpy")
def _value(model, S, X, v, A, t):
    if model == MODEL_NS:
        return ns_value(S, X, v, A, t)
    return es_value(S, X, v, t)


@njit(cache=True, nogil=True, error_model="numpy")
def _greeks(model, S, X, v, A, t):
    if model == MODEL_NS:
        return ns_greeks(S, X, v, A, t)
    return es_greeks(S, X, v, t)


@njit(cache=True, nogil=True, error_model="numpy")
def _process(i, status, model, leg_series, span_start, span_end, entry_month_end, entry_anchor, expiry_anchor,
             entry_offset, offsets, dates, values, buf, good, rolled, present,
             entry_date, expiry_date, strike, strike_vol, n_days, pnl_sum,
             grid_pnl, grid_opnl, grid_hpnl, grid_count, grid_base, weight,
             mode, day_start, day_date, day_dte, day_legs, day_mv, day_delta, day_opnl, day_hpnl, day_pnl,
             asof, anchor_basis, greeks, costs, option_spread, hedge_bps, cost_sums, grid_extra, day_extra,
             cube, cube_base, cube_values, day_base, day_values, day_count):
    """One straddle, start to end. See the module docstring and SPEC 6, 9-12, 16-18."""
    ss = span_start[i]
    span_len = span_end[i] - ss + 1
    cut = asof - ss  # the last visible day of the span (SPEC 16.1); >= span_len - 1 without asof
    n_legs, empty = _fill_span(i, leg_series, ss, span_len, min(max(cut + 1, 0), span_len), offsets, dates,
                               values, buf, present)
    if n_legs == 0:
        return
    _good_days(span_len, buf, present, n_legs, good)
    primary = HEDGE if leg_series[HEDGE, i] != NO_SERIES else HEDGE1
    e = -1
    entry_open = False
    if entry_anchor[i] != NO_DAY:
        target = entry_anchor[i] + entry_offset[i] - ss
        month_last = entry_month_end[i] - ss
        if month_last <= cut:  # the entry month has ended (always, without asof)
            e = _entry_index(good, target, month_last)
        else:  # SPEC 16.1: the fallback waits for the month end
            e = _first_good(good, target, month_last + 1)
            entry_open = e < 0
    x = -1
    expiry_open = False
    anchor = expiry_anchor[i] - ss
    if expiry_anchor[i] != NO_DAY:
        if anchor_basis:  # SPEC 16.2: the straddle expires on its expiry anchor
            if anchor <= cut:
                x = anchor
            else:
                expiry_open = True
        else:
            x = _first_good(good, anchor, span_len)
            expiry_open = x < 0 and span_len - 1 > cut  # the expiry month has not ended
    if e >= 0:
        rolled[:] = np.nan  # the entry day's prices; legs the straddle does not have stay NaN
        for k in range(n_legs):
            rolled[present[k]] = buf[present[k], e]
        entry_date[i] = ss + e
        strike[i] = rolled[primary]
        strike_vol[i] = rolled[VOL]
    if x >= 0:
        expiry_date[i] = ss + x
    if status[i] != st.PENDING:
        return
    if entry_open:
        status[i] = st.OPEN
        return
    if empty:
        status[i] = st.NO_PRICES
        return
    if e < 0:
        status[i] = st.NO_ENTRY
        return
    if x < 0 and not expiry_open:
        status[i] = st.NO_EXPIRY
        return

    # an open straddle is valued up to asof with t measured to its expiry anchor (SPEC 16.1.3)
    last = x if x >= 0 else cut
    t_end = x if x >= 0 else anchor
    # the model's underlying: the primary hedge for ES/CDS_ES, the forward swap hedge1 for NS (SPEC 11)
    underlying = HEDGE1 if model[i] == MODEL_NS else primary
    X = rolled[underlying]
    mv0, delta0 = _value(model[i], rolled[underlying], X, rolled[VOL], rolled[HEDGE3], float(max(t_end - e, 0)))
    if np.isnan(mv0):
        status[i] = st.BAD_ENTRY
        return
    scale = 0.01 if model[i] == MODEL_NS else 1.0 / X  # hedge scale k of SPEC 12; ES accepted X > 0
    status[i] = st.VALUED if x >= 0 else st.OPEN
    n_days[i] = last - e + 1
    if mode == SELECT:
        return
    mv_state, delta_state, s_state = mv0, delta0, rolled[underlying]
    extra = greeks or costs
    v_state = t_state = gamma_state = vega_state = theta_state = 0.0
    spread = option_spread[i] if costs else 0.0
    bps = hedge_bps[i] * 1e-4 if costs else 0.0
    total = 0.0
    total_cost = 0.0
    total_net = 0.0
    w = weight[i]
    cost_slot = 4 if greeks else 0  # grid_extra's slots: GREEK_GRID_COLUMNS, then COST_GRID_COLUMNS
    gamma = vega = theta = gamma_pnl = theta_pnl = vega_pnl = resid_pnl = 0.0
    cost_option = cost_hedge = pnl_net = 0.0
    for d in range(e, last + 1):
        for k in range(n_legs):
            if not np.isnan(buf[present[k], d]):
                rolled[present[k]] = buf[present[k], d]
        S = rolled[underlying]
        t = float(max(t_end - d, 0))
        if d == e:
            mv, delta, opnl, hpnl = mv0, delta0, 0.0, 0.0
        else:
            mv, delta = _value(model[i], S, X, rolled[VOL], rolled[HEDGE3], t)
            if np.isnan(mv):
                opnl = hpnl = np.nan
            else:
                opnl = mv - mv_state
                hpnl = -delta_state * (S - s_state) * scale + 0.0  # + 0.0 turns -0.0 into +0.0 (SPEC 12.5)
        pnl = opnl + hpnl
        if extra:
            # SPEC 17 Greeks and attribution against the state day p; SPEC 18 costs
            gamma, vega, theta = _greeks(model[i], S, X, rolled[VOL], rolled[HEDGE3], t)
            if np.isnan(mv):  # SPEC 17: null where mv is null (also when mv alone overflowed)
                gamma = vega = theta = np.nan
            if np.isnan(pnl):
                gamma_pnl = theta_pnl = vega_pnl = resid_pnl = cost_option = cost_hedge = np.nan
            elif d == e:
                gamma_pnl = theta_pnl = vega_pnl = resid_pnl = 0.0
                cost_option = spread * vega
                cost_hedge = bps * abs(delta) * abs(S) * scale
            else:
                dS = S - s_state
                gamma_pnl = 0.5 * gamma_state * dS * dS
                theta_pnl = theta_state * (t_state - t)
                vega_pnl = vega_state * (rolled[VOL] - v_state)
                resid_pnl = pnl - ((gamma_pnl + theta_pnl) + vega_pnl)
                cost_option = 0.0
                if d == x:  # the expiry day: only the unwind of the last hedge
                    cost_hedge = bps * abs(delta_state) * abs(S) * scale
                else:
                    cost_hedge = bps * abs(delta - delta_state) * abs(S) * scale
            pnl_net = pnl - cost_option - cost_hedge
            if not np.isnan(pnl):
                v_state, t_state = rolled[VOL], t
                gamma_state, vega_state, theta_state = gamma, vega, theta
        if not np.isnan(mv) and d != e:
            mv_state, delta_state, s_state = mv, delta, S
        cell = grid_base[i] + ss + d
        if not np.isnan(pnl):
            total += pnl
            grid_pnl[cell] += pnl * w
            grid_opnl[cell] += opnl * w
            grid_hpnl[cell] += hpnl * w
            grid_count[cell] += 1
            if greeks:
                grid_extra[0, cell] += gamma_pnl * w
                grid_extra[1, cell] += theta_pnl * w
                grid_extra[2, cell] += vega_pnl * w
                grid_extra[3, cell] += resid_pnl * w
            if costs:
                total_cost += cost_option + cost_hedge
                total_net += pnl_net
                grid_extra[cost_slot, cell] += cost_option * w
                grid_extra[cost_slot + 1, cell] += cost_hedge * w
                grid_extra[cost_slot + 2, cell] += pnl_net * w
            if cube and cube_base[i] != NO_CUBE:  # the cohort cube (see run_kernel's ``cube``)
                c = cube_base[i] + ss + d
                cube_values[0, c] += pnl * w
                cube_values[1, c] += opnl * w
                cube_values[2, c] += hpnl * w
                if greeks:
                    cube_values[3, c] += gamma_pnl * w
                    cube_values[4, c] += theta_pnl * w
                    cube_values[5, c] += vega_pnl * w
                    cube_values[6, c] += resid_pnl * w
                if costs:
                    cube_values[3 + cost_slot, c] += cost_option * w
                    cube_values[4 + cost_slot, c] += cost_hedge * w
                    cube_values[5 + cost_slot, c] += pnl_net * w
                a = day_base[i] + ss + d  # the asset-day: P and V of STRATEGY S2
                day_values[0, a] += pnl * w
                day_values[1, a] += rolled[VOL] * w
                day_values[2, a] += w
                day_count[a] += 1
        if mode == VALUE_AND_WRITE:
            r = day_start[i] + d - e  # day_start is relative to the buffer's first row
            day_date[r] = ss + d
            day_dte[r] = int(t)
            for leg in range(N_LEGS):
                day_legs[leg, r] = rolled[leg]
            day_mv[r] = mv
            day_delta[r] = delta
            day_opnl[r] = opnl
            day_hpnl[r] = hpnl
            day_pnl[r] = pnl
            if extra:  # rows in GREEK_DAY_COLUMNS + COST_DAY_COLUMNS order
                day_extra[0, r] = gamma
                day_extra[1, r] = vega
                day_extra[2, r] = theta
                day_extra[3, r] = gamma_pnl
                day_extra[4, r] = theta_pnl
                day_extra[5, r] = vega_pnl
                day_extra[6, r] = resid_pnl
                day_extra[7, r] = cost_option
                day_extra[8, r] = cost_hedge
                day_extra[9, r] = pnl_net
    pnl_sum[i] = total
    if costs:
        cost_sums[0, i] = total_cost
        cost_sums[1, i] = total_net


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _run(unit_rows, unit_bounds, phase_bounds, phase_lo, phase_hi, max_span,
         status, model, leg_series, span_start, span_end, entry_month_end, entry_anchor, expiry_anchor,
         entry_offset, weight, grid_base, offsets, dates, values,
         entry_date, expiry_date, strike, strike_vol, n_days, pnl_sum,
         grid_pnl, grid_opnl, grid_hpnl, grid_count,
         mode, day_start, day_date, day_dte, day_legs, day_mv, day_delta, day_opnl, day_hpnl, day_pnl,
         asof, anchor_basis, greeks, costs, option_spread, hedge_bps, cost_sums, grid_extra, day_extra,
         cube, cube_base, cube_values, day_base, day_values, day_count):
    """Run :func:`_process` over the straddles of phases [phase_lo, phase_hi), one phase after the
    other, the units of a phase in parallel (see the module docstring)."""
    for phase in range(phase_lo, phase_hi):
        for u in prange(phase_bounds[phase], phase_bounds[phase + 1]):
            buf = np.empty((N_LEGS, max_span))
            good = np.empty(max_span, dtype=np.bool_)
            rolled = np.empty(N_LEGS)
            present = np.empty(N_LEGS, dtype=np.int64)
            for r in range(unit_bounds[u], unit_bounds[u + 1]):
                _process(unit_rows[r], status, model, leg_series, span_start, span_end, entry_month_end,
                         entry_anchor, expiry_anchor, entry_offset, offsets, dates, values, buf, good, rolled,
                         present,
                         entry_date, expiry_date, strike, strike_vol, n_days, pnl_sum,
                         grid_pnl, grid_opnl, grid_hpnl, grid_count, grid_base, weight,
                         mode, day_start, day_date, day_dte, day_legs, day_mv, day_delta, day_opnl,
                         day_hpnl, day_pnl,
                         asof, anchor_basis, greeks, costs, option_spread, hedge_bps, cost_sums, grid_extra,
                         day_extra, cube, cube_base, cube_values, day_base, day_values, day_count)


#: day rows per chunk when days stream to a sink (a chunk is whole expiry years, so about one
#: year of the real AMT): big enough for efficient Parquet row groups, small enough that the two
#: reused buffers (about 100 bytes a row) cost little to touch first: 2**21 rows spent a second
#: more of system time on the full universe, first-touching 400 MB (BENCHMARKS.md, issue 11)
DAY_CHUNK_ROWS = 1 << 19


#: asof when none is set: a day after every span, so every month has ended and every price is seen
NO_ASOF = np.iinfo(np.int32).max - 1


@dataclass(frozen=True)
class KernelOptions:
    """The opt-in extensions of SPEC 16-18, in the kernel's terms (all off by default).

    ``asof`` is a day number (None: no cut); ``anchor_basis`` selects ``expiry_basis="anchor"``;
    ``greeks`` adds the Greek and attribution columns; costs are on when ``option_spread`` (the
    per-straddle half-spread in vol units, Slippage x SlippageFactor + class spread) and
    ``hedge_bps`` (per straddle) are given.
    """

    asof: int | None = None
    anchor_basis: bool = False
    greeks: bool = False
    option_spread: np.ndarray | None = None
    hedge_bps: np.ndarray | None = None

    @property
    def costs(self) -> bool:
        return self.option_spread is not None

    def grid_columns(self) -> tuple[str, ...]:
        """Names of the extra (asset x date) sums, in slot order."""
        return (GREEK_GRID_COLUMNS if self.greeks else ()) + (COST_GRID_COLUMNS if self.costs else ())

    def day_columns(self) -> tuple[str, ...]:
        """Names of the extra day columns this run produces."""
        return (GREEK_DAY_COLUMNS if self.greeks else ()) + (COST_DAY_COLUMNS if self.costs else ())


@dataclass
class KernelResult:
    """Per-straddle outputs, the flat per-asset P&L grids and, when materialized, the day rows.

    Days are int32 day numbers (NO_DAY = none); missing floats are NaN (nulls in Arrow outputs).
    ``grid_extra`` holds the SPEC 17/18 sums named by ``options.grid_columns()``; ``cost_sums``
    the per-straddle ``cost_sum`` and ``pnl_net_sum`` (SPEC 18) when costs are on.
    Asset ``a``'s grid cells are ``grid_offsets[a]:grid_offsets[a + 1]``, one per day from
    ``grid_first_day[a]`` (see the module docstring).
    """

    status: np.ndarray
    entry_date: np.ndarray
    expiry_date: np.ndarray
    strike: np.ndarray
    strike_vol: np.ndarray
    n_days: np.ndarray
    pnl_sum: np.ndarray
    grid_offsets: np.ndarray
    grid_first_day: np.ndarray
    grid_pnl: np.ndarray
    grid_opnl: np.ndarray
    grid_hpnl: np.ndarray
    grid_count: np.ndarray
    days: dict[str, np.ndarray] | None
    grid_extra: np.ndarray | None = None
    cost_sums: np.ndarray | None = None
    options: KernelOptions = KernelOptions()

    @property
    def grid_origin(self) -> int:
        """The first day of any asset's grid window: column 0 of :meth:`dense`."""
        windows = np.diff(self.grid_offsets) > 0
        return int(self.grid_first_day[windows].min()) if windows.any() else 0

    def dense(self, flat: np.ndarray) -> np.ndarray:
        """A flat grid array (or a stack of them, such as ``grid_extra``) laid out as a dense
        ``[..., asset, day - grid_origin]`` array: for checks and tests, not for the pipeline."""
        origin, sizes = self.grid_origin, np.diff(self.grid_offsets)
        width = int((self.grid_first_day + sizes)[sizes > 0].max()) - origin if (sizes > 0).any() else 0
        out = np.zeros(flat.shape[:-1] + (len(sizes), width), flat.dtype)
        for asset, size in enumerate(sizes):
            start, first = int(self.grid_offsets[asset]), int(self.grid_first_day[asset]) - origin
            out[..., asset, first:first + size] = flat[..., start:start + size]
        return out


def grid_windows(asset: np.ndarray, span_start: np.ndarray, span_end: np.ndarray,
                 n_assets: int) -> tuple[np.ndarray, np.ndarray]:
    """Each asset's window of the flat grid: from the first to the last day of its straddles' spans.

    Returns (offsets (n_assets + 1) int64, first day per asset int64); an asset without straddles
    gets an empty window.
    """
    # in the spans' own integer dtype: ufunc.at is about 30x slower when it must cast every value
    first = np.full(n_assets, np.iinfo(span_start.dtype).max, span_start.dtype)
    last = np.full(n_assets, np.iinfo(span_end.dtype).min, span_end.dtype)
    np.minimum.at(first, asset, span_start)
    np.maximum.at(last, asset, span_end)
    first, last = first.astype(np.int64), last.astype(np.int64)
    empty = first > last
    first[empty], last[empty] = 0, -1
    offsets = np.zeros(n_assets + 1, np.int64)
    np.cumsum(last - first + 1, out=offsets[1:])
    return offsets, first


def plan_units(asset: np.ndarray, expiry_year: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group rows into (asset, expiry year) units, ordered by year, then asset.

    Returns (rows ordered by unit, unit start offsets into those rows, phase start offsets into
    the units); a phase is one expiry year.
    """
    if len(asset) == 0:
        return np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64)
    year = (expiry_year - expiry_year.min()).astype(np.int64)
    unit = year * (int(asset.max()) + 1) + asset
    rows = np.argsort(unit, kind="stable").astype(np.int64)
    sorted_units = unit[rows]
    starts = np.flatnonzero(np.r_[True, sorted_units[1:] != sorted_units[:-1]])
    unit_bounds = np.r_[starts, len(rows)].astype(np.int64)
    unit_year = year[rows[starts]]
    phase_bounds = np.r_[np.flatnonzero(np.r_[True, unit_year[1:] != unit_year[:-1]]), len(starts)]
    return rows, unit_bounds, phase_bounds.astype(np.int64)


def run_kernel(frame, store, days: bool = False, day_sink=None, chunk_rows: int = DAY_CHUNK_ROWS,
               options: KernelOptions | None = None, on_select=None, cube=None) -> KernelResult:
    """Value every straddle of a :class:`~straddles.engine.straddle_table.StraddleFrame` against a price store.

    ``days=True`` materializes the day rows in ``result.days``. A ``day_sink`` instead receives
    them a few expiry years at a time, as a dict of NumPy columns (``straddle_id``, ``date``,
    ``dte``, ``legs``, ``mv``, ``delta``, ``opnl``, ``hpnl``, ``pnl``, plus the SPEC 17/18 columns
    of ``options.day_columns()`` when those are on); ``result.days`` is then None. Two buffers
    alternate between chunks, so a chunk's arrays stay intact until the sink's next call returns: a
    sink may write a chunk in the background while the kernel computes the next one, provided it
    finishes with it before accepting another (and copies what it keeps). ``options`` turns on the
    SPEC 16-18 extensions.

    ``on_select``, when given with days, is called once after the SELECT pass and before any day
    row, with the per-straddle ``status``, ``entry_date`` and ``n_days`` arrays: what a sink needs
    to lay out its storage before the rows arrive.

    ``cube`` (the strategy layer's :class:`~straddles.strategies.cube.CohortBuilder`) is filled by
    the kernel itself, with or without day rows: its ``kernel_layout(selected)`` gets the same
    arrays after the SELECT pass (and the names of ``options.grid_columns()``) and returns
    ``(cube_base, values, day_base, day_values, day_count)``; the VALUE pass then adds every day
    with a pnl into cell ``cube_base[i] + day`` (``NO_CUBE``: none) of ``values`` (rows
    ``CUBE_BASE_ROWS``, then ``options.grid_columns()``: w·x of each) and into asset-day
    ``day_base[i] + day`` of ``day_values`` (rows ``CUBE_DAY_ROWS``: w·pnl, w·vol, w) and
    ``day_count`` (+1), beside the grid cell it adds to, so each sum is taken in ``straddle_id``
    order, as from day rows.
    """
    options = options or KernelOptions()
    n = len(frame)
    pairs = [frame.catalog.pair(i) for i in range(len(frame.catalog))]
    series_of = store.lookup([t for t, _ in pairs], [f for _, f in pairs])
    series_of = np.where(np.asarray(series_of) < 0, ABSENT_SERIES, series_of).astype(np.int32)
    legs = frame.legs
    leg_series = np.where(legs < 0, NO_SERIES, series_of[np.maximum(legs, 0)] if len(series_of) else NO_SERIES)
    leg_series = np.ascontiguousarray(leg_series, dtype=np.int32)
    span_start, span_end = frame.span_start, frame.span_end
    entry_month_end = month_end(frame.entry_month)
    grid_offsets, grid_first_day = grid_windows(frame.asset, span_start, span_end, len(frame.assets))
    grid_base = (grid_offsets[:-1] - grid_first_day)[frame.asset]  # straddle i's cell of day t: grid_base[i] + t
    rows, unit_bounds, phase_bounds = plan_units(frame.asset, frame.expiry_month // 12)  # phases: ascending years
    n_phases = len(phase_bounds) - 1
    max_span = int((span_end - span_start).max()) + 1 if n else 1
    asof = NO_ASOF if options.asof is None else int(options.asof)
    extra_days = options.greeks or options.costs
    option_spread = np.ascontiguousarray(options.option_spread if options.costs else np.zeros(0), dtype=np.float64)
    hedge_bps = np.ascontiguousarray(options.hedge_bps if options.costs else np.zeros(0), dtype=np.float64)

    def new_outputs(with_grids: bool):
        shape = int(grid_offsets[-1]) if with_grids else 0
        n_extra = len(options.grid_columns()) if with_grids else 0
        return dict(status=frame.status.copy(),
                    entry_date=np.full(n, NO_DAY, np.int32), expiry_date=np.full(n, NO_DAY, np.int32),
                    strike=np.full(n, np.nan), strike_vol=np.full(n, np.nan),
                    n_days=np.zeros(n, np.int32), pnl_sum=np.full(n, np.nan),
                    grid_pnl=np.zeros(shape), grid_opnl=np.zeros(shape), grid_hpnl=np.zeros(shape),
                    grid_count=np.zeros(shape, np.int32),
                    grid_extra=np.zeros((n_extra, shape) if n_extra else (0, 0)),
                    cost_sums=np.full((2, n if options.costs else 0), np.nan))

    def call(out, mode, first_phase, end_phase, day_start, day_arrays):
        _run(rows, unit_bounds, phase_bounds, first_phase, end_phase, max_span, out["status"], frame.model,
             leg_series, span_start, span_end, entry_month_end, frame.entry_anchor, frame.expiry_anchor,
             frame.entry_offset, frame.weight, grid_base, store.offsets, store.dates,
             store.values, out["entry_date"], out["expiry_date"], out["strike"], out["strike_vol"],
             out["n_days"], out["pnl_sum"], out["grid_pnl"], out["grid_opnl"], out["grid_hpnl"],
             out["grid_count"], mode, day_start, day_arrays["date"], day_arrays["dte"], day_arrays["legs"],
             day_arrays["mv"], day_arrays["delta"], day_arrays["opnl"], day_arrays["hpnl"], day_arrays["pnl"],
             asof, options.anchor_basis, options.greeks, options.costs, option_spread, hedge_bps,
             out["cost_sums"], out["grid_extra"], day_arrays["extra"], *cube_targets)

    def result(out, materialized):
        return KernelResult(grid_offsets=grid_offsets, grid_first_day=grid_first_day, days=materialized, options=options,
                            **{**out, "grid_extra": out["grid_extra"] if options.grid_columns() else None,
                               "cost_sums": out["cost_sums"] if options.costs else None})

    out = new_outputs(with_grids=True)
    no_base = np.zeros(0, np.int64)
    cube_targets = (False, no_base, np.zeros((0, 0)), no_base, np.zeros((0, 0)), np.zeros(0, np.int32))
    if not days and day_sink is None and cube is None:
        call(out, VALUE, 0, n_phases, np.zeros(n + 1, np.int64), _day_arrays(0, False))
        return result(out, None)

    selected = new_outputs(with_grids=False)
    call(selected, SELECT, 0, n_phases, np.zeros(n + 1, np.int64), _day_arrays(0, False))
    decided = {name: selected[name] for name in ("status", "entry_date", "n_days")}
    if on_select is not None:
        on_select(decided)
    if cube is not None:
        cube_targets = (True, *cube.kernel_layout(decided, options.grid_columns()))
    if not days and day_sink is None:
        call(out, VALUE, 0, n_phases, np.zeros(n + 1, np.int64), _day_arrays(0, False))
        return result(out, None)
    day_start = np.zeros(n + 1, np.int64)
    np.cumsum(selected["n_days"], out=day_start[1:])
    # a phase is one expiry year, and a year's straddles are a contiguous straddle_id range
    expiry_year = frame.expiry_month // 12
    phase_ids = np.r_[np.searchsorted(expiry_year, np.unique(expiry_year)), n]
    chunks = _chunks(day_start[phase_ids], chunk_rows if day_sink is not None else None)
    largest = max(day_start[phase_ids[hi]] - day_start[phase_ids[lo]] for lo, hi in chunks) if chunks else 0
    buffers = [_day_arrays(largest, extra_days) for _ in range(min(len(chunks), 2))]  # alternate (see the docstring)
    materialized = None
    for number, (lo, hi) in enumerate(chunks):
        first_id, end_id = phase_ids[lo], phase_ids[hi]
        base = day_start[first_id]
        call(out, VALUE_AND_WRITE, lo, hi, day_start - base, buffers[number % 2])
        size = int(day_start[end_id] - base)
        buffer = buffers[number % 2]
        chunk = {name: array[..., :size] for name, array in buffer.items() if name != "extra"}
        chunk["straddle_id"] = np.repeat(np.arange(first_id, end_id, dtype=np.int64), out["n_days"][first_id:end_id])
        if extra_days:
            for row, name in enumerate(GREEK_DAY_COLUMNS + COST_DAY_COLUMNS):
                if name in options.day_columns():
                    chunk[name] = buffer["extra"][row, :size]
        if day_sink is not None:
            day_sink(chunk)
        else:
            materialized = chunk
    return result(out, materialized)


def _chunks(phase_day_start: np.ndarray, chunk_rows: int | None) -> list[tuple[int, int]]:
    """Group consecutive phases into chunks of at most ``chunk_rows`` day rows (at least one phase
    each); a single chunk when ``chunk_rows`` is None."""
    n_phases = len(phase_day_start) - 1
    if n_phases <= 0:
        return []
    if chunk_rows is None:
        return [(0, n_phases)]
    chunks, lo = [], 0
    for hi in range(1, n_phases + 1):
        if hi < n_phases and phase_day_start[hi + 1] - phase_day_start[lo] > chunk_rows:
            chunks.append((lo, hi))
            lo = hi
    chunks.append((lo, n_phases))
    return chunks


def _day_arrays(n_rows: int, extra: bool) -> dict[str, np.ndarray]:
    n_extra = len(GREEK_DAY_COLUMNS + COST_DAY_COLUMNS) if extra else 0
    return dict(
        date=np.empty(n_rows, np.int32), dte=np.empty(n_rows, np.int32), legs=np.empty((N_LEGS, n_rows)),
        mv=np.empty(n_rows), delta=np.empty(n_rows), opnl=np.empty(n_rows), hpnl=np.empty(n_rows),
        pnl=np.empty(n_rows), extra=np.empty((n_extra, n_rows if extra else 0)),
    )
