"""The explorer's Dash app: layout and thin callbacks over :mod:`straddles.explore.data`.

:class:`Views` holds one method per callback; each turns widget values into
:class:`~straddles.explore.data.Filters`, asks :class:`~straddles.explore.data.Results` for the
numbers and formats them. The methods are plain functions of their inputs, so
``benchmarks/explore_latency.py`` times exactly what the server runs per interaction.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import dash_ag_grid as dag
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from ..errors import StraddlesError
from ..results.report import _num, _share
from ..results.units import NOTIONAL, format_pnl, unit_label
from ..strategies.cube import INCEPTIONS
from . import figures
from .data import Filters, Results
from .strategy import Strategies

#: minimum widths (pixels) of the grids' text columns; other columns take 100
TEXT_WIDTHS = {"name": 330, "asset": 170, "class": 120, "straddle": 270, "meaning": 420, "status": 110, "date": 110,
               "entry_date": 110, "expiry_date": 110}
#: number formats of the grids' columns (d3-format specifiers; the sort uses the raw numbers): P&L in
#: units of notional with 4 significant digits (never a percentage: see straddles.results.units)
PNL, SHARE, NUMBER, INTEGER, GENERAL = ",.4~r", ".1%", ",.2f", ",d", ".6~g"
#: the per-asset table's columns: (id, header, format)
ASSET_COLUMNS = (("asset", "asset", None), ("class", "class", None), ("group", "group", None),
                 ("pnl", "P&L", PNL), ("share_of_pnl", "share of P&L", SHARE),
                 ("share_of_risk", "share of variance", SHARE), ("opnl", "option P&L", PNL),
                 ("hpnl", "hedge P&L", PNL), ("sharpe", "Sharpe", NUMBER), ("max_drawdown", "worst drawdown", PNL),
                 ("straddles", "straddles", INTEGER), ("valued", "valued", INTEGER))
STRADDLE_COLUMNS = (("straddle_id", "id", INTEGER), ("straddle", "straddle", None), ("schid", "entry no.", INTEGER),
                    ("entry_date", "entry", None), ("expiry_date", "expiry", None), ("status", "status", None),
                    ("weight", "weight", GENERAL), ("strike", "strike", GENERAL), ("strike_vol", "strike vol", GENERAL),
                    ("n_days", "days", INTEGER), ("pnl_sum", "P&L", PNL))
#: the strategy tab's headline numbers: (key of StrategyResult.summary(), label, formatter)
STRATEGY_NUMBERS = (("sharpe", "Sharpe", _num), ("sharpe_long", "long Sharpe", _num),
                    ("sharpe_short", "short Sharpe", _num), ("ls_correlation", "L/S correlation", _num),
                    ("ann_return_bps", "annual return, bps", lambda v: _num(v, 1)),
                    ("ann_vol_bps", "annual vol, bps", lambda v: _num(v, 1)),
                    ("max_drawdown_bps", "max drawdown, bps", lambda v: _num(v, 1)),
                    ("hit_ratio", "hit ratio", _share))
#: number formats of the sweep table's known columns (others: GENERAL)
SWEEP_FORMATS = {"sharpe": NUMBER, "sharpe_long": NUMBER, "sharpe_short": NUMBER, "ls_correlation": NUMBER,
                 "ann_return_bps": ",.1f", "ann_vol_bps": ",.1f", "max_drawdown_bps": ",.1f", "hit_ratio": SHARE,
                 "ms": ",.1f"}
SWEEP_HEADERS = {"name": "strategy", "sharpe_long": "long Sharpe", "sharpe_short": "short Sharpe",
                 "ls_correlation": "L/S corr.", "ann_return_bps": "return, bps", "ann_vol_bps": "vol, bps",
                 "max_drawdown_bps": "max DD, bps", "hit_ratio": "hit ratio", "ms": "run ms"}


class Views:
    """The callbacks' bodies, one method each (see the module docstring)."""

    def __init__(self, results: Results, strategies: Strategies | None = None):
        self.results = results
        self.strategies = strategies if strategies is not None else Strategies(results.backtest)
        self.colors = figures.class_colors(results.choices("class"))

    @staticmethod
    def filters(pattern, classes, groups, schedules, start, end, entries=None) -> Filters:
        return Filters.of(pattern, classes, groups, schedules, start, end, entries)

    def match_count(self, pattern: str | None) -> str:
        """The live count under the asset filter."""
        try:
            n = len(self.results.match(pattern or ""))
        except StraddlesError as exc:
            return str(exc)
        return f"{n} of {len(self.results.asset_names)} assets match"

    def overview(self, pattern, classes, groups, schedules, start, end, entries=None) -> tuple:
        """Everything a filter change redraws: summary strip, charts, per-asset table, statuses."""
        try:
            view = self.results.view(self.filters(pattern, classes, groups, schedules, start, end, entries))
        except StraddlesError:
            raise PreventUpdate from None  # an unfinished regex: the count says why, the view stays
        s = view.summary
        strip = [_card("assets", "summary-assets", f"{s['assets']:,}"),
                 _card("straddles", "summary-straddles", f"{s['straddles']:,}"),
                 _card("valued", "summary-valued", _share(s["valued_share"])),
                 _card("total P&L", "summary-pnl", format_pnl(s["pnl"], NOTIONAL)),
                 _card("Sharpe", "summary-sharpe", _num(s["sharpe"])),
                 _card("worst drawdown", "summary-drawdown", format_pnl(s["max_drawdown"], NOTIONAL))]
        status_rows = [{"id": name, "status": name, "straddles": n, "share": n / max(s["straddles"], 1),
                        "meaning": meaning}
                       for name, n, meaning in view.status_counts]
        return (strip, figures.cumulative(view.cumulative, self.colors), figures.monthly_heatmap(view.monthly),
                _records(view.assets, "asset"), figures.correlation(view.correlation),
                figures.status_bars(view.status_counts), status_rows)

    def asset_straddles(self, clicked, pattern, classes, groups, schedules, start, end, entries=None) -> tuple:
        """The straddles of the asset clicked in the per-asset table (``clicked``: the grid's
        ``cellClicked``, whose ``rowId`` is the asset)."""
        if not clicked or clicked.get("rowId") is None:
            raise PreventUpdate
        asset = clicked["rowId"]
        table = self.results.asset_straddles(asset, self.filters(pattern, classes, groups, schedules, start, end,
                                                                 entries))
        return f"Straddles of {asset} ({table.num_rows:,}; click one for its day-by-day view)", _records(
            table, "straddle_id")

    def straddle_detail(self, clicked) -> list:
        """A straddle day by day: legs, entry and expiry rules, valuation rows, Greeks and attribution
        (``clicked``: the straddle grid's ``cellClicked``, whose ``rowId`` is the straddle_id)."""
        if not clicked or clicked.get("rowId") is None:
            raise PreventUpdate
        detail = self.results.explain(int(clicked["rowId"]))
        row = detail.row
        facts = [("straddle", f"{row['asset']} {row['straddle']} (id {row['straddle_id']})"),
                 ("status", row["status"]), ("model", row["model"]), ("weight", f"{row['weight']:g}"),
                 ("entry", f"{row['entry_date'] or 'none'}: {detail.entry_rule}"),
                 ("expiry", f"{row['expiry_date'] or 'none'}: {detail.expiry_rule}"),
                 ("strike", "—" if row["strike"] is None else f"{row['strike']:.6g} (vol {_general(row['strike_vol'])})"),
                 ("P&L", f"{format_pnl(row['pnl_sum'], NOTIONAL)} over {row['n_days']} days (unweighted)")]
        parts = [html.H4(f"{row['asset']} {row['expiry_month']} entry {row['schid']}"),
                 html.Dl([item for name, value in facts for item in (html.Dt(name), html.Dd(str(value)))],
                         className="facts"),
                 html.Table([html.Tr([html.Th("leg"), html.Th("ticker"), html.Th("field")])]
                            + [html.Tr([html.Td(c) for c in leg]) for leg in detail.legs], className="legs")]
        if detail.days is None:
            parts.append(html.P("This results folder has no day table (it was written with --no-days), so there are "
                                "no daily rows to show. `straddles explain AMT --prices PRICES ASSET YYYY-MM N` "
                                "recomputes them from the AMT and the prices.", id="no-day-table", className="note"))
            return parts
        days = detail.days
        plain = ("date", "straddle_id", "dte")
        columns = [(name, name, None if name in plain else GENERAL) for name in days.column_names if name != "straddle_id"]
        parts += [dcc.Graph(figure=figures.straddle_days(days), id="straddle-chart"),
                  _grid("days-table", columns, _records(days), page_size=25)]
        return parts

    def strategy(self, spec, inception, options, lag, leverage) -> tuple:
        """The strategy tab: (error line, headline cards, cumulative chart) of ``spec`` run through
        the app's one StrategyContext. A bad spec or option shows its one-line error and keeps the
        previous numbers."""
        try:
            view = self.strategies.run(spec, inception or "entry", "amt_multipliers" in (options or ()),
                                       _integer(lag), None if leverage in (None, "") else float(leverage))
        except StraddlesError as exc:
            return str(exc), no_update, no_update
        cards = [_card(label, f"strategy-{key}", fmt(view.summary[key])) for key, label, fmt in STRATEGY_NUMBERS]
        return "", cards, figures.strategy_cumulative(view)

    @staticmethod
    def sweep_pick(clicked) -> str:
        """The spec of the sweep row clicked (its ``rowId`` is the strategy name)."""
        if not clicked or clicked.get("rowId") is None:
            raise PreventUpdate
        return clicked["rowId"]


def build_app(results: Results, strategies: Strategies | None = None) -> Dash:
    """The Dash app over ``results`` and its strategy layer (nothing is written anywhere)."""
    views = Views(results, strategies)
    app = Dash(__name__, title=f"straddles explore: {results.folder.name}")
    span = results.date_span()
    filters = ([Input(name, "value") for name in ("pattern", "classes", "groups", "schedules")]
               + [Input("dates", "start_date"), Input("dates", "end_date"), Input("entries", "value")])
    backtest_tab = [
        html.P(f"{len(results.asset_names)} assets, {results.backtest.straddles.num_rows:,} straddles; day table "
               + ("present" if results.days is not None else "absent (no day-by-day drill-down)")
               + f". P&L in {unit_label(NOTIONAL)}: long one unit of every straddle, unsized.", className="meta"),
        html.Div([
            html.Div([html.Label("asset regex"), dcc.Input(id="pattern", type="text", value="", debounce=False,
                                                           placeholder="e.g. Comdty|Index"),
                      html.Span(views.match_count(""), id="match-count")], className="filter"),
            _dropdown("classes", "class", results.choices("class")),
            _dropdown("groups", "group", results.choices("group")),
            _dropdown("schedules", "schedule", results.choices("schedule")),
            _dropdown("entries", "schedule entry", results.entries(), disabled=results.days is None,
                      note="needs the day table" if results.days is None else None),
            html.Div([html.Label("dates"), dcc.DatePickerRange(
                id="dates", min_date_allowed=span[0] if span else None, max_date_allowed=span[1] if span else None,
                clearable=True, display_format="YYYY-MM-DD")], className="filter"),
        ], className="filters"),
        html.Div(id="summary", className="cards"),
        dcc.Graph(id="cumulative"),
        html.Div([dcc.Graph(id="heatmap", className="half"), dcc.Graph(id="correlation", className="half")],
                 className="row"),
        html.H3("Assets (click a row for its straddles)"),
        _grid("assets-table", ASSET_COLUMNS + tuple((key, key, PNL) for key in results.extra_columns),
              page_size=15, sort=("pnl", "desc")),
        html.H3(id="straddles-title", children="Straddles"),
        _grid("straddles-table", STRADDLE_COLUMNS, page_size=12),
        html.Div(id="straddle-detail"),
        html.H3("Why straddles did not value"),
        html.Div([dcc.Graph(id="status-chart", className="half"),
                  html.Div(_grid("status-table", (("status", "status", None), ("straddles", "straddles", INTEGER),
                                                  ("share", "share", SHARE), ("meaning", "meaning", None)),
                                 page_size=12), className="half")], className="row"),
    ]
    app.layout = html.Div([
        html.H2(f"straddles explore: {results.folder}"),
        dcc.Tabs(id="tabs", value="backtest", children=[
            dcc.Tab(label="Backtest", value="backtest", id="backtest-tab", children=backtest_tab),
            dcc.Tab(label="Strategy", value="strategy", id="strategy-tab", children=_strategy_tab(views.strategies))]),
    ], className="page")
    app.index_string = app.index_string.replace("</head>", f"<style>{_CSS}</style></head>")

    app.callback(Output("match-count", "children"), Input("pattern", "value"))(views.match_count)
    app.callback([Output("summary", "children"), Output("cumulative", "figure"), Output("heatmap", "figure"),
                  Output("assets-table", "rowData"), Output("correlation", "figure"), Output("status-chart", "figure"),
                  Output("status-table", "rowData")], filters)(views.overview)
    app.callback([Output("straddles-title", "children"), Output("straddles-table", "rowData")],
                 [Input("assets-table", "cellClicked")] + [State(i.component_id, i.component_property)
                                                           for i in filters])(views.asset_straddles)
    app.callback(Output("straddle-detail", "children"), Input("straddles-table", "cellClicked"))(views.straddle_detail)
    if not views.strategies.unavailable:
        app.callback([Output("strategy-error", "children"), Output("strategy-summary", "children"),
                      Output("strategy-chart", "figure")],
                     [Input("strategy-spec", "value"), Input("strategy-inception", "value"),
                      Input("strategy-options", "value"), Input("strategy-lag", "value"),
                      Input("strategy-leverage", "value")])(views.strategy)
        if views.strategies.sweep is not None:
            app.callback(Output("strategy-spec", "value"), Input("sweep-table", "cellClicked"))(views.sweep_pick)
    return app


def _strategy_tab(strategies: Strategies) -> list:
    """The strategy tab's layout: spec and options, headline numbers, cumulative chart, sweep table."""
    if strategies.unavailable:
        return [html.P(strategies.unavailable, id="strategy-unavailable", className="note")]
    parts = [
        html.Div([
            html.Div([html.Label("strategy (input:signals:rank:arp:crp:hedge, STRATEGY S7; Enter runs it)"),
                      dcc.Input(id="strategy-spec", type="text", value=strategies.default_spec(), debounce=True,
                                style={"width": "460px"})], className="filter"),
            html.Div([html.Label("inception"), dcc.Dropdown(id="strategy-inception", options=list(INCEPTIONS),
                                                            value="entry", clearable=False)], className="filter wide"),
            html.Div([html.Label("lag (days)"), dcc.Input(id="strategy-lag", type="number", min=0, step=1, value=0,
                                                          debounce=True)], className="filter"),
            html.Div([html.Label("leverage (empty: the AMT's)"),
                      dcc.Input(id="strategy-leverage", type="number", min=0, value=None, debounce=True)],
                     className="filter"),
            dcc.Checklist(id="strategy-options", options=[{"label": " AMT group risk multipliers",
                                                           "value": "amt_multipliers"}], value=[]),
        ], className="filters"),
        html.Div(id="strategy-error", className="error"),
        html.Div(id="strategy-summary", className="cards"),
        dcc.Graph(id="strategy-chart"),
    ]
    if strategies.sweep is not None:
        columns = [(name, SWEEP_HEADERS.get(name, name), None if name == "name" else SWEEP_FORMATS.get(name, GENERAL))
                   for name in strategies.sweep.column_names]
        parts += [html.H3("Sweep (click a row to run that strategy)"),
                  _grid("sweep-table", columns, _records(strategies.sweep, "name"), page_size=15,
                        sort=("sharpe", "desc"))]
    return parts


def _integer(value) -> int:
    """A lag from the number input (None, float or text) as an int; the strategy layer checks the range."""
    if value in (None, ""):
        return 0
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StraddlesError(f"strategy: lag must be a non-negative integer, got {value!r}") from None
    if number != int(number):
        raise StraddlesError(f"strategy: lag must be a non-negative integer, got {value!r}")
    return int(number)


def _general(value) -> str:
    return "—" if value is None else f"{value:.6g}"


def _card(label: str, key: str, value: str):
    return html.Div([html.Div(label, className="label"), html.Div(value, id=key, className="value")], className="card")


def _dropdown(key: str, label: str, options: list, disabled: bool = False, note: str | None = None):
    return html.Div([html.Label(label if note is None else f"{label} ({note})"),
                     dcc.Dropdown(id=key, options=options, multi=True, placeholder="all", disabled=disabled)],
                    className="filter wide")


def _grid(key: str, columns, rows: list[dict] | None = None, page_size: int = 15, sort: tuple | None = None):
    """A sortable, paged AG Grid; ``columns`` are (field, header, d3 number format or None). Rows
    carry an ``id`` (see :func:`_records`), which a click reports as ``cellClicked["rowId"]``."""
    definitions = []
    for field, header, number_format in columns:
        definition = {"field": field, "headerName": header, "minWidth": TEXT_WIDTHS.get(field, 100)}
        if number_format is not None:
            definition.update(type="rightAligned", valueFormatter={
                "function": f"params.value == null ? '—' : d3.format('{number_format}')(params.value)"})
        if sort is not None and field == sort[0]:
            definition["sort"] = sort[1]
        definitions.append(definition)
    return dag.AgGrid(id=key, columnDefs=definitions, rowData=rows or [], getRowId="params.data.id",
                      defaultColDef={"sortable": True, "resizable": True, "flex": 1},
                      dashGridOptions={"pagination": True, "paginationPageSize": page_size,
                                       "domLayout": "autoHeight", "animateRows": False},
                      style={"fontSize": 12})


def _records(table: pa.Table, key: str | None = None) -> list[dict]:
    """Rows for a grid: dates as ISO strings, NaN as None, and the ``id`` a click reports (the
    ``key`` column, else the row number)."""
    rows = table.to_pylist()
    for row in rows:
        for name, value in row.items():
            if isinstance(value, float) and not np.isfinite(value):
                row[name] = None
            elif hasattr(value, "isoformat"):
                row[name] = value.isoformat()
    for number, row in enumerate(rows):
        row["id"] = str(row[key] if key is not None else number)
    return rows


_CSS = """
body { font-family: system-ui, sans-serif; margin: 0; background: #fafafa; color: #222; }
.page { max-width: 1400px; margin: auto; padding: 12px 24px; }
.meta { color: #666; margin-top: -8px; }
.filters { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-end; background: #fff; padding: 12px;
           border: 1px solid #ddd; border-radius: 6px; }
.filter { display: flex; flex-direction: column; gap: 4px; font-size: 13px; }
.filter.wide { min-width: 200px; }
#match-count { color: #555; font-size: 12px; }
.cards { display: flex; gap: 12px; margin: 14px 0; flex-wrap: wrap; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px 16px; min-width: 130px; }
.card .label { font-size: 12px; color: #666; } .card .value { font-size: 22px; font-weight: 600; }
.row { display: flex; gap: 12px; } .half { flex: 1; min-width: 0; }
.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; font-size: 13px; }
.facts dt { color: #666; } .facts dd { margin: 0; }
.legs td, .legs th { padding: 2px 10px; font-size: 12px; text-align: left; }
.note { color: #555; font-style: italic; }
.error { color: #b00020; font-size: 13px; min-height: 1em; margin-top: 8px; }
"""
