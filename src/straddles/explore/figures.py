"""Plotly figures of the explorer's views, from the numbers :mod:`straddles.explore.data` computes.

Figures are plain Plotly JSON dicts, not ``plotly.graph_objects``: building a graph object
validates every property and deep-copies its template, about 200 ms a figure, more than the whole
view's numbers. Long series travel as Plotly's typed arrays (``{dtype, bdata}``, base64 float64,
exact), dates as milliseconds since the epoch on a date axis. P&L is in units of notional, as in
the static report (unsized: never a percentage, see :mod:`straddles.results.units`).
"""

from __future__ import annotations

import base64

import numpy as np

from ..results.performance import TOTAL
from .strategy import LEGS as STRATEGY_LEGS

#: one colour per class, stable across filters (Plotly's qualitative palette)
PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff",
           "#fecb52")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_AXIS = dict(gridcolor="#e5e5e5", zerolinecolor="#bbb")
_LAYOUT = dict(margin=dict(l=60, r=20, t=40, b=40), height=380, paper_bgcolor="white", plot_bgcolor="white",
               xaxis=_AXIS, yaxis=_AXIS)
_MS_PER_DAY = 86_400_000


def typed_array(values: np.ndarray) -> dict:
    """A float64 array as Plotly's typed-array JSON (exact, compact, no per-element encoding)."""
    return {"dtype": "f8", "bdata": base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode()}


def _figure(data: list[dict], title: str, **layout) -> dict:
    merged = {**_LAYOUT, "title": {"text": title}}
    for key, value in layout.items():
        merged[key] = {**merged[key], **value} if isinstance(value, dict) and key in merged else value
    return {"data": data, "layout": merged}


def _empty(title: str, text: str = "No P&L in this selection") -> dict:
    return _figure([], title, annotations=[dict(text=text, showarrow=False, x=0.5, y=0.5, xref="paper",
                                                yref="paper")])


def _nullable(matrix: np.ndarray) -> list[list]:
    """A small matrix as nested lists, NaN as null (a gap)."""
    return [[None if np.isnan(v) else float(v) for v in row] for row in matrix]


def cumulative(data: dict, colors: dict[str, str]) -> dict:
    """Cumulative P&L per class and in total (black), the total's drawdown shaded below its peak."""
    title = "Cumulative P&L (units of notional); drawdown of the total shaded"
    if not data["series"]:
        return _empty(title)
    x = typed_array(data["dates"].astype(np.int64) * float(_MS_PER_DAY))
    traces = [{"type": "scatter", "mode": "lines", "name": name, "x": x, "y": typed_array(values),
               "line": {"width": 1.2, "color": colors.get(name)}}
              for name, values in data["series"].items() if name != TOTAL]
    traces.append({"type": "scatter", "mode": "lines", "name": "peak of total", "x": x, "y": typed_array(data["peak"]),
                   "line": {"width": 0.5, "color": "rgba(200,0,0,0.4)"}, "showlegend": False, "hoverinfo": "skip"})
    traces.append({"type": "scatter", "mode": "lines", "name": TOTAL, "x": x, "y": typed_array(data["series"][TOTAL]),
                   "fill": "tonexty", "fillcolor": "rgba(220,0,0,0.18)", "line": {"width": 2, "color": "black"}})
    return _figure(traces, title, xaxis={"type": "date"}, hovermode="x unified")


def monthly_heatmap(data: dict) -> dict:
    """Total P&L per year x month, diverging around 0 (losses red, gains blue: Plotly.js's
    RdBu runs from blue to red, hence reversed)."""
    title = "Total P&L by year and month (units of notional)"
    if not data["years"]:
        return _empty(title)
    values = data["pnl"]
    bound = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    trace = {"type": "heatmap", "z": _nullable(values), "x": list(MONTHS), "y": [str(y) for y in data["years"]],
             "zmid": 0, "zmin": -bound, "zmax": bound, "colorscale": "RdBu", "reversescale": True, "hoverongaps": False,
             "hovertemplate": "%{y} %{x}: %{z:,.4~r}<extra></extra>"}
    return _figure([trace], title, yaxis={"autorange": "reversed", "type": "category"},
                   height=max(300, 22 * len(data["years"]) + 80))


def correlation(data: dict) -> dict:
    """Correlation of daily P&L between classes, in hierarchical-clustering order (red high)."""
    title = "Correlation of daily P&L between classes (clustered)"
    if len(data["names"]) < 2:
        return _empty(title, "Fewer than two classes with P&L")
    matrix = data["matrix"]
    trace = {"type": "heatmap", "z": _nullable(matrix), "x": data["names"], "y": data["names"], "zmin": -1, "zmax": 1,
             "zmid": 0, "colorscale": "RdBu",
             "text": [["" if np.isnan(v) else f"{v:.2f}" for v in row] for row in matrix], "texttemplate": "%{text}",
             "hovertemplate": "%{y} / %{x}: %{z:.3f}<extra></extra>"}
    return _figure([trace], title, yaxis={"autorange": "reversed"})


def status_bars(counts: list[tuple[str, int, str]]) -> dict:
    """Straddles per status (valued in green, the reasons for not valuing in red)."""
    title = "Straddles by status"
    if not counts:
        return _empty(title, "No straddle in this selection")
    names = [name for name, _, _ in counts]
    trace = {"type": "bar", "orientation": "h", "x": [n for _, n, _ in counts], "y": names,
             "marker": {"color": ["#2ca02c" if name == "valued" else "#d62728" for name in names]},
             "customdata": [meaning for _, _, meaning in counts],
             "hovertemplate": "%{y}: %{x:,} straddles<br>%{customdata}<extra></extra>"}
    return _figure([trace], title, xaxis={"type": "log"}, height=300)


def straddle_days(days) -> dict:
    """A straddle's market value and cumulative P&L day by day."""
    title = "Market value and cumulative P&L"
    if days is None or not days.num_rows:
        return _empty(title, "No day rows: the straddle was not valued")
    x = typed_array(days["date"].cast("int32").to_numpy().astype(np.int64) * float(_MS_PER_DAY))
    mv = days["mv"].cast("float64").fill_null(np.nan).to_numpy()
    pnl = days["pnl"].cast("float64").fill_null(0.0).to_numpy()
    traces = [{"type": "scatter", "mode": "lines", "name": "mv", "x": x, "y": typed_array(mv)},
              {"type": "scatter", "mode": "lines", "name": "cumulative pnl", "x": x, "y": typed_array(np.cumsum(pnl))}]
    return _figure(traces, title, xaxis={"type": "date"}, height=300)


def strategy_cumulative(view) -> dict:
    """A strategy's cumulative P&L in bps of capital: the book (black) and its long and short legs
    (``view``: a :class:`~straddles.explore.strategy.StrategyView`)."""
    title = f"Cumulative P&L of {view.name} (bps of capital)"
    if not len(view.dates):
        return _empty(title)
    x = typed_array(view.dates.astype(np.int64) * float(_MS_PER_DAY))
    styles = {"pnl": {"width": 2, "color": "black"}, "pnl_long": {"width": 1.2, "color": "#2ca02c"},
              "pnl_short": {"width": 1.2, "color": "#d62728"}}
    traces = [{"type": "scatter", "mode": "lines", "name": name, "x": x, "y": typed_array(view.cumulative_bps[column]),
               "line": styles[column]} for column, name in STRATEGY_LEGS]
    return _figure(traces, title, xaxis={"type": "date"}, hovermode="x unified")


def class_colors(names: list[str]) -> dict[str, str]:
    """A colour per class name, fixed for the session (by the sorted list of all classes)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(names))}
