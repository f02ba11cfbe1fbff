"""Plotly figures of the explorer's views, from the numbers :mod:`straddles.explore.data` computes.

P&L is shown in percent of notional, as in the static report (the data stay fractions; the axes
format them). Every figure carries the raw series, so a browser test can read them back.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..results.performance import TOTAL

#: one colour per class, stable across filters (Plotly's qualitative palette)
PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff",
           "#fecb52")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LAYOUT = dict(margin=dict(l=50, r=20, t=40, b=40), template="plotly_white", height=380)


def _empty(title: str, text: str = "No P&L in this selection") -> go.Figure:
    figure = go.Figure(layout=dict(title=title, **_LAYOUT))
    figure.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    return figure


def cumulative(data: dict, colors: dict[str, str]) -> go.Figure:
    """Cumulative P&L per class and in total (black), the total's drawdown shaded below its peak."""
    title = "Cumulative P&L (% of notional); drawdown of the total shaded"
    if not data["series"]:
        return _empty(title)
    dates = data["dates"]
    figure = go.Figure(layout=dict(title=title, yaxis=dict(tickformat=".0%"), hovermode="x unified", **_LAYOUT))
    for name, values in data["series"].items():
        if name != TOTAL:
            figure.add_trace(go.Scatter(x=dates, y=values, name=name, mode="lines",
                                        line=dict(width=1.2, color=colors.get(name))))
    figure.add_trace(go.Scatter(x=dates, y=data["peak"], name="peak of total", mode="lines",
                                line=dict(width=0.5, color="rgba(200,0,0,0.4)"), showlegend=False, hoverinfo="skip"))
    figure.add_trace(go.Scatter(x=dates, y=data["series"][TOTAL], name=TOTAL, mode="lines", fill="tonexty",
                                fillcolor="rgba(220,0,0,0.18)", line=dict(width=2, color="black")))
    return figure


def monthly_heatmap(data: dict) -> go.Figure:
    """Total P&L per year x month, diverging around 0."""
    title = "Total P&L by year and month (% of notional)"
    if not data["years"]:
        return _empty(title)
    values = data["pnl"]
    bound = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    figure = go.Figure(go.Heatmap(z=values, x=list(MONTHS), y=[str(y) for y in data["years"]], zmid=0,
                                  zmin=-bound, zmax=bound, colorscale="RdBu", hoverongaps=False,
                                  colorbar=dict(tickformat=".1%"),
                                  hovertemplate="%{y} %{x}: %{z:.3%}<extra></extra>"),
                       layout=dict(title=title, yaxis=dict(autorange="reversed", type="category"), **_LAYOUT))
    figure.update_layout(height=max(300, 22 * len(data["years"]) + 80))
    return figure


def correlation(data: dict) -> go.Figure:
    """Correlation of daily P&L between classes, in hierarchical-clustering order."""
    title = "Correlation of daily P&L between classes (clustered)"
    if len(data["names"]) < 2:
        return _empty(title, "Fewer than two classes with P&L")
    matrix = data["matrix"]
    text = [["" if np.isnan(v) else f"{v:.2f}" for v in row] for row in matrix]
    return go.Figure(go.Heatmap(z=matrix, x=data["names"], y=data["names"], zmin=-1, zmax=1, zmid=0,
                                colorscale="RdBu_r", text=text, texttemplate="%{text}",
                                hovertemplate="%{y} / %{x}: %{z:.3f}<extra></extra>"),
                     layout=dict(title=title, yaxis=dict(autorange="reversed"), **_LAYOUT))


def status_bars(counts: list[tuple[str, int, str]]) -> go.Figure:
    """Straddles per status (valued in green, the reasons for not valuing in red)."""
    title = "Straddles by status"
    if not counts:
        return _empty(title, "No straddle in this selection")
    names = [name for name, _, _ in counts]
    return go.Figure(go.Bar(x=[n for _, n, _ in counts], y=names, orientation="h",
                            marker_color=["#2ca02c" if name == "valued" else "#d62728" for name in names],
                            customdata=[meaning for _, _, meaning in counts],
                            hovertemplate="%{y}: %{x:,} straddles<br>%{customdata}<extra></extra>"),
                     layout=dict(title=title, xaxis=dict(type="log"), **{**_LAYOUT, "height": 300}))


def straddle_days(days) -> go.Figure:
    """A straddle's market value and cumulative P&L day by day."""
    title = "Market value and cumulative P&L"
    if days is None or not days.num_rows:
        return _empty(title, "No day rows: the straddle was not valued")
    dates = days["date"].to_numpy(zero_copy_only=False)
    figure = go.Figure(layout=dict(title=title, **{**_LAYOUT, "height": 300}))
    figure.add_trace(go.Scatter(x=dates, y=days["mv"].to_numpy(zero_copy_only=False), name="mv", mode="lines"))
    pnl = days["pnl"].fill_null(0.0).to_numpy()
    figure.add_trace(go.Scatter(x=dates, y=np.cumsum(pnl), name="cumulative pnl", mode="lines"))
    return figure


def class_colors(names: list[str]) -> dict[str, str]:
    """A colour per class name, fixed for the session (by the sorted list of all classes)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(names))}
