"""Synthetic price store: realistic, deterministic prices for every series an AMT's straddles read.

:func:`synthesize` expands the AMT (SPEC sections 4 and 8), finds every (ticker, field) leg of every
straddle that has legs, simulates the markets behind them and returns the long price table of SPEC
9.1 (``ticker``, ``field``, ``date``, ``value``), sorted by (ticker, field, date). It exists so that
the engine can be run, tested and demonstrated end to end without market data. Levels are rough;
the volatility dynamics (crises, premium, lags, correlation) are calibrated so that backtest results
look like real ones (see "Dynamics").

Markets
-------
Series are generated per *market*, the thing an asset hedges with, not per asset, so that series
shared by several assets come out once and consistently:

* ``fut`` -- key ``fut|<fut_code>|<market_code>``: one contract per futures ticker, the BBG vol
  ticker (near and far) and the LME ``R`` contract vols;
* ``nonfut`` -- key ``nonfut|<Ticker>|<Field>``: the price (both parts of a split ticker come from
  one path) and the BBG vol (near and far);
* ``cds`` -- key ``cds|<hedge>``: the index level and the CV credit vol; its ``hedge1`` swap rate
  (percent) comes from the market ``rate|<hedge1>``;
* ``calc`` -- key ``calc|<ccy without the s>|<tenor>``: fsw0m, fsw6m, pva0m and pva6m of both the
  plain and the ``s`` (SOFR/SONIA) curve, and the CV normal vol.

Every random stream is seeded from ``(seed, md5 of the market key and the stream's name)``, and
each array (vol shocks, price shocks, jumps, ...) has its own stream. Hence a market's series do not
depend on which other assets are selected, and because paths always start at the fixed grid origin
(1990-01-01, or January of ``start_year - 1`` if earlier) and streams are consumed day by day, a
series has the same value on a given day whatever ``end_year`` is, and whatever ``start_year`` is
from 1991 on. Market parameters (level, mean vol, carry) come from the representative asset, the
one with the smallest ``Underlying`` among those trading the market. When two *different* markets
claim the same series (in the real AMT ``GBPSEK Curncy`` uses ``GBPAUDV1M CMPN Curncy`` as its vol),
the market with the smallest key provides it; only such shared series can change with the
selection.

Dynamics (time step: one weekday, ``DT = 1/261`` year)
------------------------------------------------------
The market is built so that a long, delta-hedged straddle book behaves as real ones do: it loses
the volatility premium slowly in calm years and makes money in crises (calibration targets and
the statistics reached: README, "Synthetic data"; :mod:`straddles.calibration` measures them).

* **Crises and the common factor** (:class:`_Common`, shared by every market of a seed): a crisis
  intensity ``c_k(t)`` per profile ``k``, the sum over the historical episodes of :data:`CRISES`
  (2001, 2002, 2007, 2008-09, 2010, 2011, 2015-16, 2016, 2018, 2020, 2022, 2025) and over random
  seed-dependent stress episodes (0.25 a year) of ``a * m_k * (1 - exp(-t/3 days)) * exp(-t/decay)``:
  a fast onset and a slow decay, with class multipliers ``m_k`` (2008 hits credit hardest, 2022
  rates, bonds and commodities); a common log-vol OU ``G`` (sd 0.12, mean reversion 2/yr); and a
  common daily return shock ``M``.
* **Realized vol**: ``sigma = base * exp(Y)``, ``Y = X + beta_k * (c_k + G)`` clipped to
  ``[-0.9, 1.8]``, with ``X`` the market's own log-vol OU (sd 0.2, mean reversion 5/yr) that also
  jumps up on the days the hedge jumps (bigger moves, bigger vol spikes), and ``beta_k`` the
  profile's crisis strength (equity indices 1.25, single stocks 0.85, credit 0.8-0.9, commodities
  0.6, FX 0.55, rates 0.5, bond futures 0.45). ``base = vbar / (1 + premium_k)``.
* **Implied vol** follows realized vol with a lag and carries a premium: ``near = base *
  exp(L) * (1 + p_t)``, ``L`` the exponentially smoothed ``Y`` (time constant 4 weekdays), ``p_t =
  premium_k * exp(P) - 0.45 c_k`` with ``P`` a slow OU (sd 0.35, mean reversion 1/yr): the premium
  varies by class (equity indices 20 %, single stocks 14 %, commodities 15 %, bond futures 14 %,
  rates 13 %, credit 10-15 %, FX 10 % of the realized level) and over time, and turns negative in
  crises (floored at -50 %). At a crisis onset realized vol outruns implied vol; implied catches
  up within a few weeks. The far vol (``2ND_MTH`` / ``60DAY`` fields, CV ``Far``) is ``1.03 *
  vbar * (near / vbar)**0.7`` times a small independent OU: slightly higher and less reactive, so
  the term structure inverts in stress.
* **Prices** (every hedge except swap rates): log price with the stochastic vol ``sigma``; the
  daily shock is ``w M + sqrt(1 - w^2) e``, where ``e`` is correlated with the own vol shocks
  (equities -0.7, single stocks -0.5, CDS spreads +0.5, ...) and ``w = loading_k * sqrt(rho(c))``
  loads on the common shock with ``rho`` rising from 0.3 in calm markets to 0.8 at crisis peaks
  (loadings: equities 1, single stocks 0.8, credit +-0.6-0.8, commodities and rates 0.4, FX +-0.4
  by market, bond futures -0.4), so cross-asset correlation rises in crises. On top come
  compensated Poisson jumps of 2.5 daily standard deviations (2-4 a year), a drift for equities
  and mean reversion towards the starting level elsewhere (FX, commodities, bond futures, CDS).
* **Futures**: one front process per market; contract ``c`` is
  ``front * exp((carry + k_t) * tau_c + e_c)`` with ``tau_c`` the years to the contract month, a
  per-market carry, a slowly moving carry factor ``k_t`` and a small contract-specific OU noise
  ``e_c`` (sd 0.15 %). A contract is listed from the 1st of the month 15 months before its contract
  month to the end of its contract month (extended only if a straddle needs it outside that life).
  LME vol tickers (qualifier ``R``) are that contract's implied vol in percent, over the same life:
  ``vbar * exp(Y * exp(-tau/0.75)) * (1 + 0.03 tau)`` times a 3 % contract noise.
* **Swap rates** (calc and the CDS ``hedge1`` rate): a normal model in percent,
  ``rate = anchor + X``, where the anchor is a rough historical curve per currency (yearly 2y and
  10y knots 1999-2026, held flat outside; EUR and JPY go negative around 2015-2021) and ``X`` an OU
  (mean reversion 0.6/yr) whose daily shocks have sd ``0.8 * normalvol_bp / 100 * sqrt(DT)``.
  ``fsw0m`` is the forward rate of the ``start x tenor`` swap (tenor ``10`` is ``0 x 10``, ``2_2`` is
  ``2 x 2``), ``fsw6m`` the same swap starting 6 months later (the curve's roll plus a 2 bp OU
  noise). ``pva0m`` / ``pva6m`` are annual-pay annuities in years per unit notional at the swap's
  own rate, discounted to today over the forward start (10y about 8-9, 30y about 17-22, 2y 1.9).
  The ``s`` currencies (``sUSD``, ``sGBP``) are the same curve minus a small OU basis (15 bp USD,
  10 bp otherwise). Rates may be negative: NS allows it (SPEC 11.3).
* **CDS indices**: lognormal spreads quoted in basis points (``IG``-type 50-150, crossover
  ``ITRXEXE`` 220-400) with 35-55 % credit vol; tickers containing ``HY`` are quoted as a price
  near 100 with a 5-9 % vol. Both stay positive, as ES needs (SPEC 11.2).

Mean calm implied vol ``vbar`` per market is drawn uniformly: FX 6-12 %, equity indices and ETFs
13-21 %, single stocks 25-45 %, commodities 20-42 %, bond futures 5-8 %, credit ETFs 5-10 %; normal
vols USD 70-110 bp, GBP 60-100, EUR 45-80, JPY 30-50, others 50-100. Units follow SPEC 1.2: BBG and
CV credit vols in percent, CV rates vols in basis points per annum, FX vol tickers hold the 1M vol
in percent in ``PX_LAST``.

Calendars and gaps
------------------
Rows exist on Monday-Friday days that are not holidays of the market's region; weekends are
absent. Holidays (weekend holidays are moved to the nearest weekday in the US, to the next free
weekday in UK/JP/AU, and not moved elsewhere):

* GLOBAL (FX, ``Curncy`` hedges, unknown places): Jan 1, Dec 25 -- FX trades through local holidays
* US: New Year, MLK, Presidents, Good Friday, Memorial, Juneteenth (2022+), Jul 4, Labor,
  Thanksgiving, Christmas
* UK: New Year, Good Friday, Easter Monday, early May, spring and summer bank holidays, Dec 25-26
* EU (TARGET): Jan 1, Good Friday, Easter Monday, May 1, Dec 25-26
* JP: Jan 1-3, Coming of Age, Feb 11, Apr 29, May 3-5, Nov 3, Nov 23, Dec 25, Dec 31
* KR: Jan 1, Mar 1, May 5, Jun 6, Aug 15, Oct 3, Oct 9, Dec 25, Dec 31
* AU: Jan 1, Jan 26, Good Friday, Easter Monday, Apr 25, King's birthday (2nd Mon Jun), Dec 25-26
* IN: Jan 1, Jan 26, Aug 15, Oct 2, Dec 25

The region: rates by currency (USD US, GBP UK, EUR EU, JPY JP); CDS ``ITRX*`` EU, other CDS US;
Currency-class assets and ``... Curncy`` hedges GLOBAL; futures by code (LME ``LA LP LX LN LL LT``
and ICE ``CO QS`` UK, Eurex ``RX OE DU UB FVS`` EU, ``JB`` JP, others US); equities by the exchange
code before ``Equity`` (``US``, ``LN``, ``FP``/``GR``/``IM``/``NA``/``SM``/``SW``..., ``JT``, ``KS``,
``AU``, ``IN``) and indices by name (``UKX``, ``SX5E``, ``DAX``, ``NKY``, ``KOSPI2``, ``AS51``,
``NIFTY``, ...); anything else GLOBAL.

On top of holidays each series independently loses rows, so that good-day selection and
roll-forward are exercised (a leg is regularly missing on a day the others have): single missing
days with probability 0.6 % (prices) or 1.5 % (vols), and multi-day gaps of 2-6 weekdays starting
0.3 times a year. Vol series also carry, very rarely (probability 2e-5 a row: a few dozen rows in the
full real universe), a bad value of exactly 0.0, which the models reject (SPEC 11.2) -- the engine
must survive it.

Windows: every non-futures series covers the union of the spans of the straddles that read it, plus
14 days on each side; futures contracts and LME contract vols cover their listed life.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
from .jit import njit

from .engine.amt import Amt, Asset, load_amt
from .engine.anchors import Overrides
from .engine.columns import date_array, repeated_dictionary
from .engine.dates import day_number, day_to_date, month_end, month_index, month_start, weekday
from .engine.legs import CALC_SERIES, HEDGE1, LEG_NAMES, STANDARD_MONTH_CODES, VOL
from .engine.straddle_table import StraddleFrame, build_straddles

#: schema of the returned table (SPEC 9.1)
SCHEMA = pa.schema([("ticker", pa.dictionary(pa.int32(), pa.string())), ("field", pa.dictionary(pa.int32(), pa.string())),
                    ("date", pa.date32()), ("value", pa.float64())])

# time grid
GRID_ORIGIN_YEAR = 1990
STEPS_PER_YEAR = 261.0
DT = 1.0 / STEPS_PER_YEAR
MARGIN_DAYS = 14
LISTED_MONTHS_BEFORE = 15

# volatility: realized log-vol Y = crisis + common factor + own OU + jumps; implied follows it
VOL_KAPPA, VOL_SD = 5.0, 0.2  # own log-vol OU: mean reversion per year, stationary sd
COMMON_KAPPA, COMMON_SD = 2.0, 0.12  # common log-vol OU, shared by every market
LOG_VOL_BOUNDS = (-0.9, 1.8)
IMPLIED_LAG = 4.0  # business days: time constant with which implied vol follows realized vol
PREMIUM_KAPPA, PREMIUM_SD = 1.0, 0.35  # slow OU of the log premium multiplier (premium varies over time)
CRISIS_DISCOUNT = 0.45  # premium at crisis intensity c: premium * exp(P) - CRISIS_DISCOUNT * c
FAR_PREMIUM, FAR_BETA, FAR_SD, FAR_KAPPA = 1.03, 0.7, 0.06, 12.0
JUMP_SIZE = 2.5  # price jumps, in daily standard deviations at the mean vol
JUMP_VOL = 0.12  # log-vol jump per daily standard deviation of the price jump
# cross-asset correlation of returns: rho = CALM + (CRISIS - CALM) * min(c, 1), times loading^2
CORRELATION_CALM, CORRELATION_CRISIS = 0.3, 0.8
# random (seed-dependent) stress episodes on top of the historical ones
STRESS_PER_YEAR, STRESS_AMPLITUDE, STRESS_DECAY = 0.25, (0.15, 0.45), (0.04, 0.2)
CRISIS_RISE = 3.0  # business days: time constant of a crisis' onset

#: Historical volatility crises: (onset, amplitude in log-vol, decay time in years, class multipliers).
#: The intensity of one crisis is ``amplitude * m * (1 - exp(-t/rise)) * exp(-t/decay)`` for a
#: profile with multiplier ``m`` (default 1); a market's log-vol rises by ``crisis_beta`` times it.
CRISES = (
    ("2001-09-11", 0.55, 0.12, {}),
    ("2002-07-01", 0.6, 0.3, {"credit_etf": 1.3, "cds_spread": 1.3, "cds_xover": 1.3, "cds_price": 1.3}),
    ("2007-08-01", 0.4, 0.2, {"credit_etf": 1.5, "cds_spread": 1.5, "cds_xover": 1.5, "cds_price": 1.5, "fx": 1.3}),
    ("2008-09-15", 1.15, 0.45, {"credit_etf": 1.2, "cds_spread": 1.2, "cds_xover": 1.2, "cds_price": 1.2}),
    ("2010-05-06", 0.45, 0.12, {"fx": 1.2}),
    ("2011-08-01", 0.95, 0.3, {}),
    ("2015-08-20", 0.8, 0.12, {"commodity": 1.3, "fx": 1.2}),
    ("2016-01-04", 0.65, 0.15, {"commodity": 1.4}),
    ("2016-06-24", 0.4, 0.05, {"fx": 1.5}),
    ("2018-02-05", 0.85, 0.08, {}),
    ("2018-10-10", 0.55, 0.2, {}),
    ("2020-02-24", 1.25, 0.22, {}),
    ("2022-02-24", 0.5, 0.4, {"rates": 2.0, "bond": 2.0, "fx": 1.4, "commodity": 1.8}),
    ("2022-09-23", 0.35, 0.12, {"rates": 2.0, "bond": 2.0, "fx": 1.3}),
    ("2025-04-03", 0.6, 0.08, {}),
)

# futures curves
CARRY_SD, CARRY_KAPPA = 0.02, 1.0
CONTRACT_SD, CONTRACT_KAPPA = 0.0015, 15.0
CONTRACT_VOL_SD, CONTRACT_VOL_KAPPA, CONTRACT_VOL_DECAY, CONTRACT_VOL_SLOPE = 0.03, 10.0, 0.75, 0.03

# rates (percent)
RATE_KAPPA = 0.6
FORWARD_NOISE_SD, FORWARD_NOISE_KAPPA = 0.02, 20.0
BASIS_SD, BASIS_KAPPA = 0.04, 1.0
BASIS = {"USD": 0.15}
DEFAULT_BASIS = 0.10

# gaps and bad values
MISSING_PRICE, MISSING_VOL = 0.006, 0.015
GAPS_PER_YEAR, GAP_DAYS = 0.3, (2, 6)
ZERO_VOL = 2e-5


@dataclass(frozen=True)
class Profile:
    """Dynamics of one kind of market; ranges are drawn uniformly once per market."""

    kind: str  #: name of the profile (keys CRISES' class multipliers)
    log10_level: tuple[float, float]  #: starting (and, with mean reversion, long-run) price level
    vol: tuple[float, float]  #: mean calm implied vol: percent, or bp per annum for rates
    rho: float  #: correlation of hedge shocks with own log-vol shocks (leverage effect)
    jumps: float  #: jumps per year
    jump_bias: float  #: mean of the jump's standard-normal factor (sign = usual direction)
    drift: float  #: annual drift of the log price
    level_kappa: float  #: mean reversion of the log price (or of the rate) per year; 0 = none
    carry: tuple[float, float] = (0.0, 0.0)  #: futures carry per year of time to contract month
    premium: float = 0.1  #: mean calm implied / realized vol - 1 (the volatility premium)
    crisis_beta: float = 0.7  #: log-vol response to the crisis intensity and the common factor
    loading: float = 0.0  #: loading on the common market return shock (sign: direction in a sell-off)


def _profile(kind, level, vol, rho, jumps, jump_bias, drift, level_kappa, carry=(0.0, 0.0), *, premium, beta,
             loading) -> Profile:
    return Profile(kind, level, vol, rho, jumps, jump_bias, drift, level_kappa, carry, premium, beta, loading)


PROFILES = {
    "fx": _profile("fx", (-0.3, 2.0), (6, 12), -0.1, 2, 0.0, 0.0, 0.1, (-0.03, 0.03),
                   premium=0.1, beta=0.55, loading=0.4),
    "equity": _profile("equity", (1.7, 3.7), (13, 21), -0.7, 3, -0.5, 0.05, 0.0, (-0.01, 0.03),
                       premium=0.2, beta=1.25, loading=1.0),
    "stock": _profile("stock", (0.8, 2.3), (25, 45), -0.5, 4, -0.2, 0.06, 0.0, (-0.01, 0.03),
                      premium=0.14, beta=0.85, loading=0.8),
    "commodity": _profile("commodity", (0.5, 3.3), (20, 42), 0.1, 3, 0.0, 0.0, 0.15, (-0.06, 0.08),
                          premium=0.15, beta=0.6, loading=0.4),
    "bond": _profile("bond", (2.0, 2.1), (5, 8), 0.0, 2, 0.0, 0.0, 0.3, (-0.02, 0.02),
                     premium=0.14, beta=0.45, loading=-0.4),
    "credit_etf": _profile("credit_etf", (1.9, 2.05), (5, 10), -0.5, 2, -0.3, 0.0, 0.3,
                           premium=0.15, beta=0.9, loading=0.6),
    "cds_spread": _profile("cds_spread", (1.7, 2.18), (35, 55), 0.5, 3, 0.5, 0.0, 0.5,
                           premium=0.1, beta=0.8, loading=-0.8),
    "cds_xover": _profile("cds_xover", (2.35, 2.6), (35, 55), 0.5, 3, 0.5, 0.0, 0.5,
                          premium=0.1, beta=0.8, loading=-0.8),
    "cds_price": _profile("cds_price", (2.0, 2.03), (5, 9), -0.5, 3, -0.5, 0.0, 1.0,
                          premium=0.12, beta=0.8, loading=0.8),
    "rates": _profile("rates", (0.0, 0.0), (50, 100), 0.0, 2, 0.0, 0.0, RATE_KAPPA,
                      premium=0.13, beta=0.5, loading=0.4),
}
_CLASS_PROFILE = {"Currency": "fx", "SingleStock": "stock", "Equity": "equity", "Commodity": "commodity",
                  "Swap": "bond"}
RATE_VOL = {"USD": (70, 110), "GBP": (60, 100), "EUR": (45, 80), "JPY": (30, 50)}

# Rough anchor curves per currency, percent: 2y and 10y swap levels at mid-year 1999..2026.
_ANCHOR_YEARS = np.arange(1999, 2027) + 0.5
_ANCHORS = {
    "USD": ([5.5, 6.5, 3.5, 2.5, 1.8, 3.0, 4.3, 5.0, 4.0, 1.5, 1.2, 0.8, 0.6, 0.4,
             0.5, 0.8, 1.1, 1.2, 1.9, 2.8, 1.7, 0.2, 0.6, 4.5, 4.6, 4.0, 3.6, 3.5],
            [6.0, 6.5, 5.5, 4.8, 4.5, 4.7, 4.8, 5.2, 5.0, 3.0, 3.7, 3.0, 2.2, 1.8,
             2.9, 2.4, 2.2, 1.9, 2.3, 2.9, 1.8, 0.8, 1.5, 3.9, 3.9, 3.8, 3.9, 4.0]),
    "EUR": ([3.5, 5.0, 3.5, 3.3, 2.3, 2.6, 2.9, 3.9, 4.5, 2.8, 1.8, 1.4, 1.3, 0.4,
             0.5, 0.2, -0.1, -0.2, -0.15, -0.15, -0.35, -0.5, -0.4, 2.7, 3.4, 2.6, 2.0, 2.2],
            [5.0, 5.5, 5.0, 4.8, 4.3, 3.9, 3.4, 4.0, 4.6, 3.8, 3.6, 3.0, 2.5, 1.7,
             2.0, 0.8, 0.9, 0.4, 0.9, 0.8, 0.2, -0.3, 0.2, 3.2, 3.0, 2.6, 2.6, 2.7]),
    "GBP": ([6.0, 6.5, 5.0, 4.5, 4.3, 5.0, 4.5, 5.2, 5.5, 2.5, 1.5, 1.3, 1.1, 0.9,
             1.0, 1.1, 1.0, 0.5, 0.8, 1.2, 0.8, 0.1, 1.0, 4.3, 4.8, 4.3, 3.9, 3.6],
            [5.5, 5.8, 5.2, 5.0, 4.8, 5.0, 4.5, 4.9, 5.1, 3.8, 3.8, 3.3, 2.4, 2.0,
             2.9, 2.0, 1.9, 1.2, 1.3, 1.5, 0.8, 0.4, 1.0, 3.7, 3.8, 3.9, 3.9, 3.8]),
    "JPY": ([0.4, 0.5, 0.2, 0.1, 0.1, 0.2, 0.3, 0.8, 1.0, 0.8, 0.5, 0.4, 0.4, 0.3,
             0.2, 0.2, 0.1, -0.1, 0.0, 0.0, -0.1, 0.0, 0.0, 0.1, 0.2, 0.4, 0.7, 0.8],
            [1.8, 1.8, 1.5, 1.3, 1.2, 1.6, 1.5, 1.9, 1.8, 1.5, 1.4, 1.1, 1.1, 0.9,
             0.8, 0.6, 0.4, 0.1, 0.25, 0.2, 0.0, 0.1, 0.15, 0.4, 0.7, 1.0, 1.4, 1.5]),
}
_RATE_PREFIX_CCY = {"US": "USD", "EU": "EUR", "BP": "GBP", "JY": "JPY"}

# calendars
GLOBAL, US, UK, EU, JP, KR, AU, IN = "GLOBAL", "US", "UK", "EU", "JP", "KR", "AU", "IN"
_CCY_REGION = {"USD": US, "GBP": UK, "EUR": EU, "JPY": JP}
_FUTURES_REGION = {**dict.fromkeys(("LA", "LP", "LX", "LN", "LL", "LT", "CO", "QS"), UK),
                   **dict.fromkeys(("RX", "OE", "DU", "UB", "FVS"), EU), "JB": JP}
_EXCHANGE_REGION = {"US": US, "UN": US, "UW": US, "LN": UK, "JT": JP, "KS": KR, "AU": AU, "AT": AU, "IN": IN,
                    "IS": IN, **dict.fromkeys(("FP", "GR", "GY", "IM", "NA", "SM", "SQ", "SW", "SE", "BB"), EU)}
_INDEX_REGION = {"UKX": UK, "NKY": JP, "KOSPI2": KR, "AS51": AU, "NIFTY": IN, "SPX": US, "NDX": US, "RTY": US,
                 "INDU": US, **dict.fromkeys(("SX5E", "DAX", "CAC", "SMI", "FTSEMIB", "AEX", "IBEX"), EU)}


def synthesize(amt: Amt | str | Path, start_year: int, end_year: int, *, seed: int = 0, pattern: str = ".",
               live_only: bool = True, progress: Callable[[int, int], None] | None = None) -> pa.Table:
    """Synthetic prices for every series the selected straddles read, as a sorted long table.

    Straddles are those of :func:`straddles.build_straddles` for expiries January
    ``start_year`` .. December ``end_year`` (no overrides file is needed: windows come from the
    months, not the anchors). The table has the schema :data:`SCHEMA` and is sorted by (ticker,
    field, date); values follow SPEC 1.2 units (see the module docstring for the model). The same
    arguments give a byte-identical table; ``seed`` (an int >= 0) picks another realisation.
    ``progress(done, total)``, when given, is called after each market with the number of assets
    generated so far.

    >>> table = synthesize(example_amt_path(), 2024, 2024, seed=7)      # doctest: +SKIP
    >>> write_prices(table, "prices.parquet")                           # doctest: +SKIP
    """
    if not isinstance(amt, Amt):
        amt = load_amt(amt)
    frame = build_straddles(amt, start_year, end_year, pattern, live_only, overrides=Overrides(path=None))
    grid = _weekdays(day_number(_dt.date(min(GRID_ORIGIN_YEAR, start_year - 1), 1, 1)),
                     day_number(_dt.date(end_year + 2, 12, 31)))
    need_lo, need_hi = _needed_windows(frame)
    markets = _plan(frame)
    open_days: dict[str, np.ndarray] = {}
    common = _Common(seed, grid)
    results: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    done, total = 0, len(frame.assets)
    for key in sorted(markets):
        market = markets[key]
        if market.requests:
            if market.region not in open_days:
                open_days[market.region] = ~np.isin(grid, _holidays(market.region, grid))
            generator = _RatesMarket if market.kind == "rates" else _PriceMarket
            results.update(generator(market, seed, grid, common).emit(
                frame.catalog, need_lo, need_hi, open_days[market.region]))
        done += market.n_assets
        if progress is not None:
            progress(done, total)
    return _table(frame.catalog, results)


# ----------------------------------------------------------------------------------------------
# planning: which market produces which series, in which role


@dataclass
class _Market:
    """A simulated market and the series requested from it (series id -> role tuple)."""

    key: str
    kind: str  # "price" or "rates"
    profile: Profile
    region: str
    ccy: str = ""  # rates: base currency
    start: float = 0.0  # rates: forward start in years
    tenor: float = 0.0  # rates: swap tenor in years
    n_assets: int = 0
    requests: dict[int, tuple] = field(default_factory=dict)


def _plan(frame: StraddleFrame) -> dict[str, _Market]:
    """Markets of the selected assets, each with the series it must produce.

    A series claimed by several markets goes to the smallest market key (module docstring).
    """
    markets: dict[str, _Market] = {}
    for asset in sorted(frame.assets, key=lambda a: a.underlying):  # first asset = representative
        key = _market_key(asset)
        if key not in markets:
            markets[key] = _new_market(key, asset)
        markets[key].n_assets += 1
        if asset.hedge_source == "cds":
            rate_key = _rate_key(asset)
            if rate_key not in markets:
                markets[rate_key] = _rate_market(rate_key, str(asset.hedge["hedge1"]))
    claims: dict[int, tuple[str, tuple]] = {}
    n_series = max(len(frame.catalog), 1)
    slots = np.repeat(np.arange(len(LEG_NAMES), dtype=np.int64), len(frame))
    ids = frame.legs.reshape(-1).astype(np.int64)
    used = ids >= 0
    triples = np.unique((np.tile(frame.asset.astype(np.int64), len(LEG_NAMES))[used] * len(LEG_NAMES)
                         + slots[used]) * n_series + ids[used])
    for triple in triples.tolist():
        series_id, rest = triple % n_series, triple // n_series
        asset, slot = frame.assets[rest // len(LEG_NAMES)], rest % len(LEG_NAMES)
        key = _rate_key(asset) if asset.hedge_source == "cds" and slot == HEDGE1 else _market_key(asset)
        claim = (key, _role(asset, slot, *frame.catalog.pair(series_id)))
        claims[series_id] = min(claims.get(series_id, claim), claim)
    for series_id, (key, role) in claims.items():
        markets[key].requests[series_id] = role
    return markets


def _market_key(asset: Asset) -> str:
    """The market an asset trades: what its hedge is, independent of the asset's name."""
    hedge, source = asset.hedge, asset.hedge_source
    if source == "fut":
        return f"fut|{str(hedge['fut_code']).strip()}|{hedge['market_code']}"
    if source == "cds":
        return f"cds|{hedge['hedge']}"
    if source == "calc":
        return f"calc|{_base_ccy(hedge['ccy'])}|{hedge['tenor']}"
    return f"nonfut|{hedge['Ticker']}|{hedge['Field']}"


def _rate_key(asset: Asset) -> str:
    return f"rate|{asset.hedge['hedge1']}"


def _base_ccy(ccy) -> str:
    """``sUSD`` -> ``USD``: the s currencies are the same curve minus a basis."""
    ccy = str(ccy)
    return ccy[1:] if ccy.startswith("s") else ccy


def _new_market(key: str, asset: Asset) -> _Market:
    source = asset.hedge_source
    if source == "calc":
        ccy = _base_ccy(asset.hedge["ccy"])
        start, tenor = _swap_tenor(asset.hedge["tenor"])
        return _Market(key, "rates", _rates_profile(ccy), _CCY_REGION.get(ccy, GLOBAL), ccy=ccy, start=start,
                       tenor=tenor)
    return _Market(key, "price", _price_profile(asset), _region(asset))


def _rate_market(key: str, spec: str) -> _Market:
    """The swap-rate market of a CDS ``hedge1`` ticker (``USSWAP5 CMPN Curncy``, ``EUSA5 Curncy``)."""
    first = spec.split(":", 1)[0].split()[0] if spec.strip() else ""
    ccy = _RATE_PREFIX_CCY.get(first[:2], "USD")
    digits = re.search(r"\d+", first)
    return _Market(key, "rates", _rates_profile(ccy), _CCY_REGION[ccy], ccy=ccy,
                   tenor=float(digits.group()) if digits else 5.0)


def _swap_tenor(tenor) -> tuple[float, float]:
    """``10`` -> (0, 10); ``"2_2"`` -> (2, 2): forward start and tenor in years."""
    parts = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", str(tenor))] or [10.0]
    return (parts[0], parts[1]) if len(parts) > 1 else (0.0, parts[0])


def _price_profile(asset: Asset) -> Profile:
    if asset.hedge_source == "cds":
        ticker = str(asset.hedge["hedge"])
        if "HY" in ticker:
            return PROFILES["cds_price"]
        return PROFILES["cds_xover" if "EXE" in ticker or "XOVER" in ticker else "cds_spread"]
    if asset.asset_class == "Rate":
        return PROFILES["bond" if asset.hedge_source == "fut" else "credit_etf"]
    return PROFILES[_CLASS_PROFILE.get(asset.asset_class, "equity")]


def _rates_profile(ccy: str) -> Profile:
    return dataclasses.replace(PROFILES["rates"], vol=RATE_VOL.get(ccy, PROFILES["rates"].vol))


def _region(asset: Asset) -> str:
    """Holiday region of a price market (module docstring)."""
    hedge = asset.hedge
    if asset.hedge_source == "fut":
        return _FUTURES_REGION.get(str(hedge["fut_code"]).strip(), US)
    if asset.hedge_source == "cds":
        return EU if "ITRX" in str(hedge["hedge"]) else US
    parts = str(hedge["Ticker"]).split(":", 1)[0].split() or [""]
    if asset.asset_class == "Currency" or parts[-1] == "Curncy":
        return GLOBAL
    if parts[-1] == "Equity" and len(parts) >= 3:
        return _EXCHANGE_REGION.get(parts[-2], GLOBAL)
    if parts[-1] == "Index":
        return _INDEX_REGION.get(parts[0], GLOBAL)
    return GLOBAL


def _role(asset: Asset, slot: int, ticker: str, field_name: str) -> tuple:
    """What a leg is, in terms of its market: ``("near",)``, ``("contract", month)``, ..."""
    source = asset.hedge_source
    if slot == VOL:
        if asset.vol_source == "BBG_LMEVOL":
            return ("contract_vol", _contract_month(ticker, asset.hedge))
        name = ticker if asset.vol_source == "CV" else field_name
        return ("near",) if name == str(asset.vol.get("Near")) else ("far",)
    if source == "fut":
        return ("contract", _contract_month(ticker, asset.hedge))
    if source == "calc":
        return (CALC_SERIES[slot - HEDGE1], str(asset.hedge["ccy"]).startswith("s"))
    if source == "cds" and slot == HEDGE1:
        return ("rate",)
    return ("price",)


def _contract_month(ticker: str, hedge) -> int:
    """Month index of a futures ticker ``<code><qualifier><letter><yyyy> <market>`` (SPEC 8.3)."""
    body = ticker[: len(ticker) - len(str(hedge["market_code"])) - 1]
    return int(body[-4:]) * 12 + STANDARD_MONTH_CODES.index(body[-5])


def _needed_windows(frame: StraddleFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per series id: first and last day of the union of the spans of the straddles reading it."""
    n = len(frame.catalog)
    lo = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    ids = frame.legs.reshape(-1)
    used = ids >= 0
    np.minimum.at(lo, ids[used], np.tile(frame.span_start.astype(np.int64), len(LEG_NAMES))[used])
    np.maximum.at(hi, ids[used], np.tile(frame.span_end.astype(np.int64), len(LEG_NAMES))[used])
    return lo, hi


# ----------------------------------------------------------------------------------------------
# random streams and processes


def _stream(seed: int, *names: str) -> np.random.Generator:
    """An independent generator for (seed, names): md5 of the names, so it is stable across runs."""
    digest = hashlib.md5("\x1f".join(names).encode("utf-8")).digest()
    return np.random.default_rng(np.random.SeedSequence([seed, *np.frombuffer(digest, dtype="<u4").tolist()]))


@njit(cache=True, nogil=True)
def _ar1(a: float, u: np.ndarray) -> np.ndarray:
    """``y[i] = a*y[i-1] + u[i]`` with ``y[-1] = 0``: a discretised OU (or random walk, a = 1)."""
    y = np.empty_like(u)
    acc = 0.0
    for i in range(u.shape[0]):
        acc = a * acc + u[i]
        y[i] = acc
    return y


def _ou(rng: np.random.Generator, n: int, sd: float, kappa: float) -> np.ndarray:
    """A stationary OU path of ``n`` weekdays with stationary sd ``sd`` and mean reversion ``kappa``/yr."""
    a = math.exp(-kappa * DT)
    u = rng.standard_normal(n) * (sd * math.sqrt(1.0 - a * a))
    if n:
        u[0] /= math.sqrt(1.0 - a * a)
    return _ar1(a, u)


@dataclass
class _Driver:
    """Implied vols and the hedge's daily shocks of one market."""

    log_vol: np.ndarray  #: Y, the log-vol deviation
    near: np.ndarray  #: near implied vol (percent or bp)
    far: np.ndarray  #: far implied vol
    sigma: np.ndarray  #: realized annual vol of the hedge (decimal, or percent for rates)
    shock: np.ndarray  #: daily shock of the log price (or of the rate in percent); shock[0] = 0


class _Common:
    """What every market shares, per seed: crisis intensities, a common log-vol factor and a
    common return shock (module docstring, "Volatility").

    All are functions of the grid from its origin, consumed day by day, so a day's values do not
    depend on the grid's end (nor on which markets are selected).
    """

    def __init__(self, seed: int, grid: np.ndarray):
        self.grid = grid
        n = len(grid)
        self.log_vol = _ou(_stream(seed, "common", "log vol"), n, COMMON_SD, COMMON_KAPPA)
        self.market = _stream(seed, "common", "market").standard_normal(n)
        hit = _stream(seed, "common", "stress").random(n) < STRESS_PER_YEAR * DT
        amplitude = _stream(seed, "common", "stress amplitude").uniform(*STRESS_AMPLITUDE, n)
        decay = _stream(seed, "common", "stress decay").uniform(*STRESS_DECAY, n)
        self._stress = [(i, float(amplitude[i]), float(decay[i])) for i in np.flatnonzero(hit).tolist()]
        self._intensity: dict[str, np.ndarray] = {}

    def intensity(self, kind: str) -> np.ndarray:
        """Crisis intensity (>= 0, about 1 at the peak of 2008) for markets of profile ``kind``."""
        if kind not in self._intensity:
            out = np.zeros(len(self.grid))
            episodes = [(int(np.searchsorted(self.grid, day_number(_dt.date.fromisoformat(onset)))),
                         amplitude * multipliers.get(kind, 1.0), decay) for onset, amplitude, decay, multipliers in CRISES]
            for first, amplitude, decay in episodes + self._stress:
                steps = np.arange(len(self.grid) - first, dtype=np.float64)
                out[first:] += (amplitude * (1.0 - np.exp(-(steps + 1.0) / CRISIS_RISE))
                                * np.exp(-steps * DT / decay))
            self._intensity[kind] = out
        return self._intensity[kind]


def _driver(seed: int, key: str, n: int, profile: Profile, vbar: float, common: _Common) -> _Driver:
    """Vol state and hedge shocks of a market with mean calm implied vol ``vbar`` (module docstring)."""
    params = _stream(seed, key, "driver params")
    loading = profile.loading * (1.0 if profile.kind != "fx" or params.random() < 0.5 else -1.0)
    z = _stream(seed, key, "vol").standard_normal(n)
    own = _stream(seed, key, "shock").standard_normal(n)
    hit = _stream(seed, key, "jump").random(n) < profile.jumps * DT
    size = np.where(hit, JUMP_SIZE * (_stream(seed, key, "jump size").standard_normal(n) + profile.jump_bias), 0.0)
    a = math.exp(-VOL_KAPPA * DT)
    u = VOL_SD * math.sqrt(1.0 - a * a) * z + JUMP_VOL * np.abs(size)
    if n:
        u[0] = VOL_SD * z[0]
    crisis = common.intensity(profile.kind)[:n]
    realized_log_vol = np.clip(_ar1(a, u) + profile.crisis_beta * (crisis + common.log_vol[:n]), *LOG_VOL_BOUNDS)
    base = vbar / (1.0 + profile.premium)  # calm realized vol level
    realized = base * np.exp(realized_log_vol)  # percent (bp for rates)
    followed = _ar1(math.exp(-1.0 / IMPLIED_LAG), realized_log_vol * (1.0 - math.exp(-1.0 / IMPLIED_LAG)))
    premium = (profile.premium * np.exp(_ou(_stream(seed, key, "premium"), n, PREMIUM_SD, PREMIUM_KAPPA)
                                        - PREMIUM_SD ** 2 / 2) - CRISIS_DISCOUNT * crisis)
    near = base * np.exp(followed) * np.maximum(1.0 + premium, 0.5)
    log_vol = np.log(near / vbar)
    far_noise = _ou(_stream(seed, key, "far"), n, FAR_SD, FAR_KAPPA)
    far = FAR_PREMIUM * vbar * np.exp(FAR_BETA * log_vol + far_noise)
    sigma = realized / 100.0
    correlation = CORRELATION_CALM + (CORRELATION_CRISIS - CORRELATION_CALM) * np.minimum(crisis, 1.0)
    weight = loading * np.sqrt(correlation)
    eps = weight * common.market[:n] + np.sqrt(1.0 - weight ** 2) * (
        profile.rho * z + math.sqrt(1.0 - profile.rho ** 2) * own)
    jump_mean = profile.jumps * DT * JUMP_SIZE * profile.jump_bias
    shock = np.zeros(n)
    shock[1:] = math.sqrt(DT) * (sigma[:-1] * eps[1:] + (size[1:] - jump_mean) * base / 100.0)
    return _Driver(log_vol, near, far, sigma, shock)


class _MarketPaths:
    """Common part of the market generators: windows, calendars, gaps and emission.

    Subclasses build the market's paths over the whole grid and provide ``values(role, i0, i1)``,
    the values of a role over the grid slice ``[i0, i1)``.
    """

    def __init__(self, market: _Market, seed: int, grid: np.ndarray, common: _Common):
        self.market, self.seed, self.grid, self.common = market, seed, grid, common
        self.params = _stream(seed, market.key, "params")

    def life(self, role: tuple) -> tuple[int, int] | None:
        """Grid slice of a futures contract's listed life, None for other roles."""
        if role[0] not in ("contract", "contract_vol"):
            return None
        first = month_start(role[1] - LISTED_MONTHS_BEFORE)
        last = month_end(role[1])
        return int(np.searchsorted(self.grid, first)), int(np.searchsorted(self.grid, last, "right"))

    def emit(self, catalog, need_lo: np.ndarray, need_hi: np.ndarray,
             open_days: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Series id -> (days, values) of every requested series: its window, minus holidays and
        gaps, with the rare bad zeros of vol series."""
        out = {}
        for series_id, role in sorted(self.market.requests.items()):
            ticker, field_name = catalog.pair(series_id)
            life = self.life(role)
            if life is None:
                i0 = int(np.searchsorted(self.grid, need_lo[series_id] - MARGIN_DAYS))
                i1 = int(np.searchsorted(self.grid, need_hi[series_id] + MARGIN_DAYS, "right"))
                domain = (0, len(self.grid))
            else:
                i0 = min(life[0], int(np.searchsorted(self.grid, need_lo[series_id])))
                i1 = max(life[1], int(np.searchsorted(self.grid, need_hi[series_id], "right")))
                domain = life
            is_vol = role[0] in ("near", "far", "contract_vol")
            missing, zero = _gaps(self.seed, ticker, field_name, domain, i0, i1, is_vol)
            values = self.values(role, i0, i1)
            keep = open_days[i0:i1] & ~missing
            out[series_id] = (self.grid[i0:i1][keep], np.where(zero, 0.0, values)[keep])
        return out


class _PriceMarket(_MarketPaths):
    """Lognormal hedge with stochastic vol: spot-like prices, futures curves and CDS indices."""

    def __init__(self, market: _Market, seed: int, grid: np.ndarray, common: _Common):
        super().__init__(market, seed, grid, common)
        p = market.profile
        self.level = 10.0 ** self.params.uniform(*p.log10_level)
        self.vbar = self.params.uniform(*p.vol)
        self.carry = self.params.uniform(*p.carry)
        self.d = _driver(seed, market.key, len(grid), p, self.vbar, common)
        increments = self.d.shock.copy()
        increments[1:] += (p.drift - 0.5 * self.d.sigma[:-1] ** 2) * DT
        self.price = self.level * np.exp(_ar1(math.exp(-p.level_kappa * DT), increments))
        self.carry_path = self.carry + _ou(_stream(seed, market.key, "carry"), len(grid), CARRY_SD, CARRY_KAPPA)

    def values(self, role: tuple, i0: int, i1: int) -> np.ndarray:
        kind = role[0]
        if kind == "price":
            return self.price[i0:i1]
        if kind in ("near", "far"):
            return getattr(self.d, kind)[i0:i1]
        month = role[1]
        tau = (month_start(month) - self.grid[i0:i1]) / 365.25
        if kind == "contract":
            noise = self._contract_noise("contract", month, i0, i1, CONTRACT_SD, CONTRACT_KAPPA)
            return self.price[i0:i1] * np.exp(self.carry_path[i0:i1] * tau + noise)
        ahead = np.maximum(tau, 0.0)
        noise = self._contract_noise("contract vol", month, i0, i1, CONTRACT_VOL_SD, CONTRACT_VOL_KAPPA)
        return (self.vbar * np.exp(self.d.log_vol[i0:i1] * np.exp(-ahead / CONTRACT_VOL_DECAY))
                * (1.0 + CONTRACT_VOL_SLOPE * ahead) * np.exp(noise))

    def _contract_noise(self, name: str, month: int, i0: int, i1: int, sd: float, kappa: float) -> np.ndarray:
        """Contract-specific OU noise over the contract's life (zero outside it)."""
        l0, l1 = self.life(("contract", month))
        noise = np.zeros(i1 - i0)
        noise[l0 - i0:l1 - i0] = _ou(_stream(self.seed, self.market.key, name, str(month)), l1 - l0, sd, kappa)
        return noise


class _RatesMarket(_MarketPaths):
    """Normal-model swap rates (percent), annuities (years) and normal vols (bp) of one swap."""

    def __init__(self, market: _Market, seed: int, grid: np.ndarray, common: _Common):
        super().__init__(market, seed, grid, common)
        p, n = market.profile, len(grid)
        self.d = _driver(seed, market.key, n, p, self.params.uniform(*p.vol), common)
        x = _ar1(math.exp(-p.level_kappa * DT), self.d.shock)
        years = 1970.0 + grid / 365.2425
        start, tenor, ccy = market.start, market.tenor, market.ccy
        self.fsw0m = _anchor_forward(ccy, years, start, tenor) + x
        self.fsw6m = (_anchor_forward(ccy, years, start + 0.5, tenor) + x
                      + _ou(_stream(seed, market.key, "fsw6m"), n, FORWARD_NOISE_SD, FORWARD_NOISE_KAPPA))
        self.disc0 = _discount(_anchor_rate(ccy, years, start) + x, start)
        self.disc6 = _discount(_anchor_rate(ccy, years, start + 0.5) + x, start + 0.5)
        self.basis = BASIS.get(ccy, DEFAULT_BASIS) + _ou(_stream(seed, market.key, "basis"), n, BASIS_SD, BASIS_KAPPA)

    def values(self, role: tuple, i0: int, i1: int) -> np.ndarray:
        kind = role[0]
        if kind in ("near", "far"):
            return getattr(self.d, kind)[i0:i1]
        if kind == "rate":
            return self.fsw0m[i0:i1]
        basis = self.basis[i0:i1] if role[1] else 0.0
        if kind.startswith("fsw"):
            return getattr(self, kind)[i0:i1] - basis
        forward = (self.fsw0m if kind == "pva0m" else self.fsw6m)[i0:i1] - basis
        discount = (self.disc0 if kind == "pva0m" else self.disc6)[i0:i1]
        return discount * _annuity(forward, self.market.tenor)


def _anchor_rate(ccy: str, years: np.ndarray, maturity: float) -> np.ndarray:
    """Anchor par rate (percent) for a maturity in years: 2y/10y knots, log-maturity shape.

    Linear in log maturity between 2y and 10y (extrapolated down to 6 months, the floor), flatter
    beyond 10y; the knots are interpolated linearly in time and held flat outside 1999-2026.
    """
    two, ten = _ANCHORS.get(ccy, _ANCHORS["USD"])
    r2, r10 = np.interp(years, _ANCHOR_YEARS, two), np.interp(years, _ANCHOR_YEARS, ten)
    maturity = max(maturity, 0.5)
    if maturity <= 10:
        shape = math.log(maturity / 2) / math.log(5)
    else:
        shape = 1.0 + 0.3 * math.log(maturity / 10) / math.log(3)
    return r2 + (r10 - r2) * shape


def _anchor_forward(ccy: str, years: np.ndarray, start: float, tenor: float) -> np.ndarray:
    """Anchor forward rate (percent) of a ``start x tenor`` swap."""
    end = _anchor_rate(ccy, years, start + tenor) * (start + tenor)
    return (end - _anchor_rate(ccy, years, start) * start) / tenor


def _discount(rate: np.ndarray, years: float) -> np.ndarray:
    """Discount factor over ``years`` at an annual rate in percent."""
    return (1.0 + rate / 100.0) ** -years


def _annuity(rate: np.ndarray, tenor: float) -> np.ndarray:
    """Annual-pay annuity in years per unit notional at a flat rate in percent."""
    y = rate / 100.0
    flat = np.abs(y) < 1e-9
    y = np.where(flat, 1.0, y)
    return np.where(flat, tenor, (1.0 - (1.0 + y) ** -tenor) / y)


def _gaps(seed: int, ticker: str, field_name: str, domain: tuple[int, int], i0: int, i1: int,
          is_vol: bool) -> tuple[np.ndarray, np.ndarray]:
    """Missing rows and (vols only) bad zero values of one series over grid slice ``[i0, i1)``.

    Drawn over a fixed ``domain`` of grid positions (the whole grid, or a contract's life), so the
    pattern does not depend on the window; outside the domain nothing is missing.
    """
    d0, d1 = domain
    n = d1 - d0
    draw = _stream(seed, "gaps", ticker, field_name).random(n)
    p = MISSING_VOL if is_vol else MISSING_PRICE
    missing = draw < p
    zero = (draw >= p) & (draw < p + ZERO_VOL) if is_vol else np.zeros(n, dtype=bool)
    starts = np.flatnonzero(_stream(seed, "gap starts", ticker, field_name).random(n) < GAPS_PER_YEAR * DT)
    lengths = _stream(seed, "gap lengths", ticker, field_name).integers(GAP_DAYS[0], GAP_DAYS[1] + 1, len(starts))
    within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    days = np.repeat(starts, lengths) + within
    missing[days[days < n]] = True
    out_missing = np.zeros(i1 - i0, dtype=bool)
    out_zero = np.zeros(i1 - i0, dtype=bool)
    lo, hi = max(i0, d0), min(i1, d1)
    if hi > lo:
        out_missing[lo - i0:hi - i0] = missing[lo - d0:hi - d0]
        out_zero[lo - i0:hi - i0] = zero[lo - d0:hi - d0]
    return out_missing, out_zero


# ----------------------------------------------------------------------------------------------
# calendars


def _weekdays(first: int, last: int) -> np.ndarray:
    days = np.arange(first, last + 1, dtype=np.int32)
    return days[weekday(days) < 5]


def _easter(year: int) -> _dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return _dt.date(year, month, day + 1)


def _fixed(month: int, day: int, since: int = 0):
    return lambda year: _dt.date(year, month, day) if year >= since else None


def _nth(month: int, dow: int, n: int):
    """The n-th ``dow`` (Monday = 0) of the month; n = -1 is the last."""
    def rule(year):
        if n > 0:
            first = _dt.date(year, month, 1)
            return first + _dt.timedelta(days=(dow - first.weekday()) % 7 + 7 * (n - 1))
        last = day_to_date(month_end(month_index(year, month)))
        return last - _dt.timedelta(days=(last.weekday() - dow) % 7)
    return rule


def _from_easter(days: int):
    return lambda year: _easter(year) + _dt.timedelta(days=days)


_MON, _THU = 0, 3
_NEW_YEAR, _CHRISTMAS = _fixed(1, 1), _fixed(12, 25)
#: region -> (weekend rule: "nearest" | "next" | "none", holiday rules)
_CALENDARS = {
    GLOBAL: ("none", [_NEW_YEAR, _CHRISTMAS]),
    US: ("nearest", [_NEW_YEAR, _nth(1, _MON, 3), _nth(2, _MON, 3), _from_easter(-2), _nth(5, _MON, -1),
                     _fixed(6, 19, since=2022), _fixed(7, 4), _nth(9, _MON, 1), _nth(11, _THU, 4), _CHRISTMAS]),
    UK: ("next", [_NEW_YEAR, _from_easter(-2), _from_easter(1), _nth(5, _MON, 1), _nth(5, _MON, -1),
                  _nth(8, _MON, -1), _CHRISTMAS, _fixed(12, 26)]),
    EU: ("none", [_NEW_YEAR, _from_easter(-2), _from_easter(1), _fixed(5, 1), _CHRISTMAS, _fixed(12, 26)]),
    JP: ("next", [_NEW_YEAR, _fixed(1, 2), _fixed(1, 3), _nth(1, _MON, 2), _fixed(2, 11), _fixed(4, 29),
                  _fixed(5, 3), _fixed(5, 4), _fixed(5, 5), _fixed(11, 3), _fixed(11, 23), _CHRISTMAS,
                  _fixed(12, 31)]),
    KR: ("none", [_NEW_YEAR, _fixed(3, 1), _fixed(5, 5), _fixed(6, 6), _fixed(8, 15), _fixed(10, 3),
                  _fixed(10, 9), _CHRISTMAS, _fixed(12, 31)]),
    AU: ("next", [_NEW_YEAR, _fixed(1, 26), _from_easter(-2), _from_easter(1), _fixed(4, 25),
                  _nth(6, _MON, 2), _CHRISTMAS, _fixed(12, 26)]),
    IN: ("none", [_NEW_YEAR, _fixed(1, 26), _fixed(8, 15), _fixed(10, 2), _CHRISTMAS]),
}


def _holidays(region: str, grid: np.ndarray) -> np.ndarray:
    """Holiday day numbers of ``region`` over the years of ``grid``, weekend holidays moved."""
    rule, generators = _CALENDARS[region]
    first, last = day_to_date(grid[0]), day_to_date(grid[-1])
    days: set[_dt.date] = set()
    for year in range(first.year, last.year + 1):
        for holiday in sorted(h for h in (gen(year) for gen in generators) if h is not None):
            if holiday.weekday() >= 5 and rule == "nearest":
                holiday += _dt.timedelta(days=-1 if holiday.weekday() == 5 else 1)
            elif holiday.weekday() >= 5 and rule == "next":
                while holiday.weekday() >= 5 or holiday in days:
                    holiday += _dt.timedelta(days=1)
            days.add(holiday)
    return np.array(sorted(day_number(d) for d in days), dtype=np.int32)


# ----------------------------------------------------------------------------------------------
# output


def _table(catalog, results: dict[int, tuple[np.ndarray, np.ndarray]]) -> pa.Table:
    """The long table, series in (ticker, field) order, dates ascending inside each series."""
    order = sorted(results, key=catalog.pair)
    if not order:
        return SCHEMA.empty_table()
    pairs = [catalog.pair(series_id) for series_id in order]
    lengths = np.array([len(results[series_id][0]) for series_id in order], dtype=np.int64)
    dates = np.concatenate([results[series_id][0] for series_id in order]).astype(np.int32)
    values = np.concatenate([results[series_id][1] for series_id in order]).astype(np.float64)
    return pa.Table.from_arrays(
        [repeated_dictionary([t for t, _ in pairs], lengths), repeated_dictionary([f for _, f in pairs], lengths),
         date_array(dates), pa.array(values)], schema=SCHEMA)
