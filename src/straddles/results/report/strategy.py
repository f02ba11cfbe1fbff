"""The report's strategy section: a traded book in bps of capital (STRATEGY S7).

Given a :class:`~straddles.strategies.api.StrategyResult`, the report leads with it: headline
numbers in bps of capital and currency, cumulative P&L of the book and of its long and short legs,
the rolling β between the legs and a heat map of the net weight by AMT group and month.
"""

from __future__ import annotations

import html

import numpy as np

from ..performance import json_ready
from . import figures

#: window of the rolling β chart, in weekdays (about a year)
BETA_WINDOW = 252


def strategy_figures(result, assets) -> dict[str, bytes]:
    dates = result.pnl["date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    series = {name: result.pnl[name].to_numpy() for name in ("pnl", "pnl_long", "pnl_short")}
    months, groups, weights = group_weights(result, assets)
    beta_dates, beta = rolling_beta(result)
    return {"strategy_pnl.png": figures.strategy_pnl(dates, series["pnl"], series["pnl_long"], series["pnl_short"]),
            "strategy_beta.png": figures.rolling_beta(beta_dates, beta, BETA_WINDOW),
            "strategy_weights.png": figures.weights_heatmap(months, groups, weights)}


def group_weights(result, assets) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(months, group names, [months, groups] monthly mean of the daily net group weight)."""
    names = assets["asset"].to_pylist()
    group_names, group = np.unique(np.array(assets["group"].to_pylist(), dtype=object), return_inverse=True)
    days = result.weights["date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")[::len(names)]
    W = result.weights["weight"].to_numpy().reshape(len(days), len(names))
    by_group = np.zeros((len(days), len(group_names)))
    np.add.at(by_group.T, group, W.T)
    month = days.astype("datetime64[M]")
    months, index = np.unique(month, return_inverse=True)
    sums = np.zeros((len(months), len(group_names)))
    np.add.at(sums, index, by_group)
    return months, [str(g) for g in group_names], sums / np.bincount(index)[:, None]


def rolling_beta(result) -> tuple[np.ndarray, np.ndarray]:
    """−cov(L, S)/var(L) of the weekday long and short leg P&L over :data:`BETA_WINDOW` weekdays."""
    long_ = np.nan_to_num(result.stats.series["pnl_long"][:, -1])
    short = np.nan_to_num(result.stats.series["pnl_short"][:, -1])

    def rolling_sum(x):
        c = np.concatenate([[0.0], np.cumsum(x)])
        return c[BETA_WINDOW:] - c[:-BETA_WINDOW]

    if len(long_) <= BETA_WINDOW:
        return result.stats.dates[:0], np.zeros(0)
    n = BETA_WINDOW
    s_l, s_s, s_ls, s_ll = (rolling_sum(v) for v in (long_, short, long_ * short, long_ * long_))
    variance = s_ll / n - (s_l / n) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.where(variance > 0, -(s_ls / n - s_l / n * s_s / n) / variance, np.nan)
    return result.stats.dates[BETA_WINDOW - 1:], beta


def strategy_section_html(result, pictures: dict, figure_html) -> str:
    """The section's HTML: headline cards in bps of capital, then the three charts."""
    numbers = result.summary()
    total = float(result.pnl["pnl"].to_numpy().sum())

    def bps(value):
        return "—" if value is None else f"{value:,.0f} bps".replace("-", "−")

    def num(value):
        return "—" if value is None else f"{value:,.2f}".replace("-", "−")

    cards = [("Total P&amp;L", bps(total * 1e4)), ("In currency", f"{total * result.capital:,.0f}".replace("-", "−")),
             ("Annual return", bps(numbers["ann_return_bps"])), ("Annual volatility", bps(numbers["ann_vol_bps"])),
             ("Sharpe ratio", num(numbers["sharpe"])), ("Max drawdown", bps(numbers["max_drawdown_bps"])),
             ("Sharpe long / short", f"{num(numbers['sharpe_long'])} / {num(numbers['sharpe_short'])}"),
             ("Long/short correlation", num(numbers["ls_correlation"]))]
    card_html = "".join(f"<div class='card'><div class='label'>{label}</div><div class='value'>{value}</div></div>"
                        for label, value in cards)
    return (f"<p>Strategy <code>{html.escape(result.name)}</code>, leverage {result.leverage:g}, capital "
            f"{result.capital:,.0f}, positions locked at each straddle's {html.escape(result.inception)} "
            f"(STRATEGY S1). P&amp;L in basis points of capital after leverage.</p>"
            f"<div class='cards'>{card_html}</div>"
            + figure_html(pictures, "strategy_pnl.png", "Cumulative P&L of the book and its long and short legs.")
            + figure_html(pictures, "strategy_beta.png", "Realized β of the short leg to the long leg.")
            + figure_html(pictures, "strategy_weights.png", "Net weight by AMT group, monthly mean."))


def strategy_summary(result) -> dict:
    return json_ready({"name": result.name, "capital": result.capital, "leverage": result.leverage,
                       "inception": result.inception, "units": "bps of capital after leverage",
                       "total_pnl_bps": float(result.pnl["pnl"].to_numpy().sum()) * 1e4, **result.summary()})
