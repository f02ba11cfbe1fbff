"""Scalar valuation models (SPEC section 11), compiled with numba.

These functions are the single source of truth for the model formulas: the compiled kernel calls
them per straddle-day, and the pure-Python reference implementation calls the same functions (numba
functions are callable from Python), so the two implementations share formulas but not control
flow.

Each model returns ``(mv, delta)``; a rejected input gives ``(nan, nan)``, which the kernel turns
into nulls in its outputs. Outputs are rejected like inputs: finite inputs can still overflow
(a denormal strike makes ``S / X`` infinite), and a non-finite mv or delta is returned as
``(nan, nan)`` too (:func:`_checked`), so no infinity reaches the outputs. Beside each model, its
Greeks (SPEC 17): ``(gamma, vega, theta)``, NaN where the model rejects its inputs or a Greek
overflows, 0 at t = 0.
"""

from __future__ import annotations

import math

from ..jit import njit

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
NAN = math.nan


@njit(cache=True, nogil=True, error_model="numpy")
def norm_cdf(x: float) -> float:
    """Standard normal CDF N(x) to double precision (SPEC-E15).

    ``0.5*erfc(-x/sqrt(2))`` equals the SPEC's ``0.5*(1 + erf(x/sqrt(2)))`` exactly in real
    arithmetic and keeps full relative precision in the lower tail.
    """
    return 0.5 * math.erfc(-x / _SQRT2)


@njit(cache=True, nogil=True, error_model="numpy")
def norm_pdf(x: float) -> float:
    """Standard normal density phi(x)."""
    return math.exp(-0.5 * x * x) * _INV_SQRT_2PI


@njit(cache=True, nogil=True, error_model="numpy")
def _finite(x: float) -> bool:
    return not (math.isnan(x) or math.isinf(x))


@njit(cache=True, nogil=True, error_model="numpy")
def _checked(mv: float, delta: float) -> tuple[float, float]:
    """``(mv, delta)`` if both are finite, else the rejection ``(nan, nan)`` (SPEC 11)."""
    if _finite(mv) and _finite(delta):
        return mv, delta
    return NAN, NAN


@njit(cache=True, nogil=True, error_model="numpy")
def es_value(S: float, X: float, v: float, t: float) -> tuple[float, float]:
    """European straddle, Black-76 with zero rates (SPEC section 11.2).

    ``S`` underlying, ``X`` strike, ``v`` vol in percent, ``t`` calendar days to expiry.
    Returns ``(mv, delta)``: mv as a fraction of X, delta per unit of underlying.
    """
    if not (_finite(S) and _finite(X) and _finite(v) and _finite(t)):
        return NAN, NAN
    if S <= 0.0 or X <= 0.0 or v <= 0.0 or t < 0.0:
        return NAN, NAN
    if t == 0.0:
        return _checked(abs(S - X) / X, 1.0 if S >= X else -1.0)
    tv = (v / 100.0) * math.sqrt(t / 365.0)
    d1 = math.log(S / X) / tv + 0.5 * tv
    d2 = d1 - tv
    n1 = 2.0 * norm_cdf(d1) - 1.0
    n2 = 2.0 * norm_cdf(d2) - 1.0
    return _checked((S * n1 - X * n2) / X, n1)


@njit(cache=True, nogil=True, error_model="numpy")
def ns_value(S: float, X: float, vol: float, A: float, t: float) -> tuple[float, float]:
    """Normal-model (Bachelier) swaption straddle (SPEC section 11.3).

    ``S``/``X`` forward swap rate and strike in percent, ``vol`` normal vol in bp per annum,
    ``A`` annuity in years per unit notional, ``t`` calendar days to expiry. Returns
    ``(mv, delta)`` per unit notional, delta per unit of decimal rate.
    """
    if not (_finite(S) and _finite(X) and _finite(vol) and _finite(A) and _finite(t)):
        return NAN, NAN
    if vol <= 0.0 or A <= 0.0 or t < 0.0:
        return NAN, NAN
    F = S / 100.0
    K = X / 100.0
    if t == 0.0:
        return _checked(A * abs(F - K), A if F >= K else -A)
    s = (vol / 10000.0) * math.sqrt(t / 365.0)
    d = (F - K) / s
    n = 2.0 * norm_cdf(d) - 1.0
    return _checked(A * ((F - K) * n + 2.0 * s * norm_pdf(d)), A * n)


@njit(cache=True, nogil=True, error_model="numpy")
def es_greeks(S: float, X: float, v: float, t: float) -> tuple[float, float, float]:
    """ES Greeks (SPEC 17): ``(gamma, vega, theta)`` in mv's units (fractions of X).

    gamma = d2mv/dS2 (S in price units), vega per vol point (the unit of ``v``), theta per calendar
    day (<= 0). NaN where :func:`es_value` rejects the inputs; 0 at t = 0.
    """
    if not (_finite(S) and _finite(X) and _finite(v) and _finite(t)):
        return NAN, NAN, NAN
    if S <= 0.0 or X <= 0.0 or v <= 0.0 or t < 0.0:
        return NAN, NAN, NAN
    if t == 0.0:
        return 0.0, 0.0, 0.0
    sigma = v / 100.0
    root_tau = math.sqrt(t / 365.0)
    tv = sigma * root_tau
    d1 = math.log(S / X) / tv + 0.5 * tv
    density = norm_pdf(d1)
    gamma = 2.0 * density / (S * tv * X)
    vega = 2.0 * S * density * root_tau / (100.0 * X)
    theta = -S * density * sigma / (root_tau * X * 365.0)
    return _checked_greeks(gamma, vega, theta)


@njit(cache=True, nogil=True, error_model="numpy")
def ns_greeks(S: float, X: float, vol: float, A: float, t: float) -> tuple[float, float, float]:
    """NS Greeks (SPEC 17): ``(gamma, vega, theta)`` per unit notional.

    gamma = d2mv/dS2 with S in percent (the unit of the hedge1 leg), vega per bp of normal vol,
    theta per calendar day. NaN where :func:`ns_value` rejects the inputs; 0 at t = 0.
    """
    if not (_finite(S) and _finite(X) and _finite(vol) and _finite(A) and _finite(t)):
        return NAN, NAN, NAN
    if vol <= 0.0 or A <= 0.0 or t < 0.0:
        return NAN, NAN, NAN
    if t == 0.0:
        return 0.0, 0.0, 0.0
    sigma = vol / 10000.0
    root_T = math.sqrt(t / 365.0)
    s = sigma * root_T
    density = norm_pdf((S / 100.0 - X / 100.0) / s)
    gamma = 2.0 * A * density / s / 10000.0
    vega = 2.0 * A * density * root_T / 10000.0
    theta = -A * sigma * density / (root_T * 365.0)
    return _checked_greeks(gamma, vega, theta)


@njit(cache=True, nogil=True, error_model="numpy")
def _checked_greeks(gamma: float, vega: float, theta: float) -> tuple[float, float, float]:
    """The Greeks, or NaN for all three when one overflowed (as :func:`_checked` does for mv)."""
    if _finite(gamma) and _finite(vega) and _finite(theta):
        return gamma, vega, theta
    return NAN, NAN, NAN
