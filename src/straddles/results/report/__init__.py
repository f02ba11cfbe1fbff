"""A self-contained HTML report of a backtest, with its charts as PNG files and its numbers as JSON.

:func:`write_report` reads a backtest (an object or the folder :meth:`straddles.Backtest.write`
wrote), computes its statistics with :func:`straddles.stats` (module :mod:`straddles.results.performance`)
by asset class, group and asset, and writes, all or nothing:

* ``report.html`` (or ``out``): one file with every chart embedded as a base64 PNG and all styles
  inline, so it opens offline and can be mailed around;
* ``report_files/`` beside it (``<stem>_files`` for another name): the same charts as PNG files and
  ``summary.json``, the headline numbers in the engine's units (fractions of notional, plain floats,
  null where undefined).

The HTML has these sections (element ids in brackets): executive summary (``summary``),
cumulative P&L (``cumulative``), drawdowns (``drawdowns``), annual table (``annual``), top and
bottom contributors (``contributors``), option vs hedge P&L (``pnl-split``), correlation heat map
(``correlation``), P&L across implied-vol regimes (``vol-regimes``), straddle status breakdown
(``status``) and methodology (``method``). Backtests run with the SPEC Part II options add, before
the methodology, open positions (``open``), the P&L attribution (``attribution``) and gross vs net
P&L (``costs``): see :mod:`.part2`.

>>> from straddles.results.report import write_report         # doctest: +SKIP
>>> write_report("straddles-demo")                    # doctest: +SKIP
PosixPath('straddles-demo/report.html')
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from string import Template

import pyarrow as pa

from ... import __version__
from ...engine.dates import WEEKDAYS_PER_YEAR
from ...errors import StraddlesError
from ...engine.outputs import write_files
from ..units import NOTIONAL, UNIT_SENTENCES, format_pnl, unit_label
from ..performance import N_REGIMES, TOTAL, VALUED_STATUS, Stats, json_ready, stats, vol_regimes
from ...engine.pipeline import Backtest, as_backtest
from ...engine.status import STATUS_MEANINGS
from . import figures, part2

#: file name of the report inside a backtest folder when no ``out`` is given
REPORT_FILE = "report.html"
SUMMARY_FILE = "summary.json"
#: assets listed among the top and among the bottom contributors
N_CONTRIBUTORS = 10
#: what the entry-vol regimes are called: (group, share of the range), e.g. ("quintile", "fifth")
REGIME_GROUP, REGIME_SHARE = figures.quantile_words(N_REGIMES)
SECTIONS = (
    ("summary", "Executive summary"), ("cumulative", "Cumulative P&L"), ("drawdowns", "Drawdowns"),
    ("annual", "Annual table"), ("contributors", "Top and bottom contributors"),
    ("pnl-split", "Option vs hedge P&L"), ("correlation", "Correlation between classes"),
    ("vol-regimes", "P&L across implied-vol regimes"), ("status", "Straddle status breakdown"),
    ("method", "Methodology and units"),
)


@dataclass
class Report:
    """A rendered report: the HTML text, the charts as PNG bytes by file name, and the summary."""

    html: str
    figures: dict[str, bytes]
    summary: dict


def write_report(source, out: str | Path | None = None, *, periods_per_year: float = 252) -> Path:
    """Write the HTML report of ``source`` (a :class:`~straddles.Backtest` or a backtest folder) to
    ``out`` (default ``DIR/report.html``; required for a Backtest object), the charts and
    ``summary.json`` to ``<stem>_files/`` beside it, and return the HTML path.

    Raises :class:`~straddles.StraddlesError` when ``source`` is not a backtest folder.
    """
    backtest, label = _load(source)
    if out is None:
        if label is None:
            raise StraddlesError("write_report: give 'out' when the source is a Backtest object")
        out = Path(source) / REPORT_FILE
    out = Path(out)
    report = build_report(backtest, label or "in-memory backtest", periods_per_year)
    folder = out.with_name(f"{out.stem}_files")
    writers = {out: _bytes_writer(report.html.encode("utf-8")),
               folder / SUMMARY_FILE: _bytes_writer(json.dumps(report.summary, indent=1).encode("utf-8"))}
    writers.update({folder / name: _bytes_writer(data) for name, data in report.figures.items()})
    write_files(writers)
    return out


def build_report(backtest, label: str, periods_per_year: float = 252) -> Report:
    """Compute the statistics of ``backtest`` and render the report (nothing is written)."""
    context = _Context.of(backtest, label, periods_per_year)
    pictures = _figures(context)
    body = "\n".join(section(context, pictures) for section in (
        _summary_section, _cumulative_section, _drawdown_section, _annual_section, _contributors_section,
        _split_section, _correlation_section, _regimes_section, _status_section))
    extensions = part2.sections(context.backtest, _table)
    body += "".join(f'\n<section id="{key}"><h2>{title}</h2>{content}</section>' for key, title, content in extensions)
    body += "\n" + _method_section(context, pictures)
    nav = SECTIONS[:-1] + tuple((key, title) for key, title, _ in extensions) + SECTIONS[-1:]
    page = Template(resources.files(__name__).joinpath("template.html").read_text(encoding="utf-8")).substitute(
        title="Straddle backtest report", version=__version__, generated=context.generated,
        meta="".join(f"<span>{html.escape(item)}</span>" for item in context.meta()),
        nav="".join(f'<li><a href="#{key}">{title}</a></li>' for key, title in nav), body=body)
    return Report(html=page, figures=pictures, summary=_summary_json(context, sorted(pictures)))


# --- data --------------------------------------------------------------------------------------

@dataclass
class _Context:
    """Everything the sections draw on, each computed once (the derived rows on first use)."""

    label: str
    generated: str
    backtest: Backtest
    classes: Stats
    groups: Stats
    assets: Stats
    regimes: pa.Table
    status: dict[str, int]
    asset_class: dict[str, str]

    @classmethod
    def of(cls, backtest: Backtest, label: str, periods_per_year: float) -> "_Context":
        return cls(label=label, generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                   backtest=backtest,
                   classes=stats(backtest, "class", periods_per_year=periods_per_year),
                   groups=stats(backtest, "group", periods_per_year=periods_per_year),
                   assets=stats(backtest, "asset", periods_per_year=periods_per_year),
                   regimes=vol_regimes(backtest, N_REGIMES), status=backtest.status_counts(),
                   asset_class=dict(zip(backtest.assets["asset"].to_pylist(), backtest.assets["class"].to_pylist())))

    @property
    def has_pnl(self) -> bool:
        return len(self.classes.dates) > 0

    @cached_property
    def class_rows(self) -> list[dict]:
        """The summary rows by class, the total last."""
        return self.classes.summary.to_pylist()

    @cached_property
    def total(self) -> dict:
        return self.class_rows[-1]

    @cached_property
    def group_rows(self) -> list[dict]:
        return self.groups.summary.to_pylist()

    @cached_property
    def correlation_rows(self) -> list[dict]:
        """The correlation table between classes (null where undefined), one row per class."""
        return self.classes.correlation.to_pylist()

    @cached_property
    def asset_contribution(self) -> list[dict]:
        """The contribution rows by asset, largest P&L first."""
        return self.assets.contribution.to_pylist()

    @cached_property
    def regime_rows(self) -> list[dict]:
        return self.regimes.to_pylist()

    @cached_property
    def contributors(self) -> dict[str, list[dict]]:
        """Top and bottom assets by total P&L: up to N_CONTRIBUTORS each, without overlap; each a
        contribution row with the asset's class and Sharpe ratio added (new dicts)."""
        rows = self.asset_contribution
        n_top = min(N_CONTRIBUTORS, (len(rows) + 1) // 2)
        sharpe = dict(zip(self.assets.summary["bucket"].to_pylist(), self.assets.summary["sharpe"].to_pylist()))

        def described(row: dict) -> dict:
            return {**row, "class": self.asset_class.get(row["bucket"]), "sharpe": sharpe.get(row["bucket"])}

        return {"top": [described(row) for row in rows[:n_top]],
                "bottom": [described(row) for row in rows[::-1][:min(n_top, len(rows) - n_top)]]}

    def meta(self) -> list[str]:
        straddles = self.backtest.straddles.num_rows
        items = [self.label, f"{self.backtest.assets.num_rows} assets", f"{straddles:,} straddles",
                 f"{self.status.get(VALUED_STATUS, 0):,} valued", "long 1 unit of each straddle",
                 f"P&L in {unit_label(NOTIONAL)}"]
        if self.has_pnl:
            items.insert(1, f"{self.total['start']} to {self.total['end']}")
        return items


def _load(source):
    """(backtest, folder label or None for an object)."""
    return as_backtest(source), str(source) if isinstance(source, (str, Path)) else None


def _figures(context: _Context) -> dict[str, bytes]:
    if not context.has_pnl:
        return {"status.png": figures.status_bars(context.status)} if context.status else {}
    contributors = context.contributors
    shown = sorted(contributors["top"] + contributors["bottom"], key=lambda row: -row["pnl"])
    pictures = {
        "cumulative_pnl.png": figures.cumulative_pnl(context.classes),
        "drawdown.png": figures.drawdowns(context.classes),
        "annual_pnl.png": figures.annual_pnl(context.classes),
        "contributors.png": figures.contributors([r["bucket"] for r in shown], [r["pnl"] for r in shown]),
        "pnl_split.png": figures.pnl_split(context.classes),
        "status.png": figures.status_bars(context.status),
    }
    names = context.classes.buckets[:-1]
    if len(names) > 1:
        pictures["correlation.png"] = figures.correlation_heatmap(names, context.classes.correlation_matrix)
    if context.regime_rows:
        rows = context.regime_rows
        pictures["vol_regimes.png"] = figures.vol_regimes([r["class"] for r in rows], [r["regime"] for r in rows],
                                                          [r["mean_pnl"] for r in rows], N_REGIMES)
    return pictures


# --- sections ------------------------------------------------------------------------------------

def _summary_section(context: _Context, pictures: dict) -> str:
    if not context.has_pnl:
        return _section("summary", "<p class='empty'>No straddle was valued, so there is no P&amp;L to report; "
                                   "see the status breakdown below for the reasons.</p>")
    total = context.total
    cards = [("Total P&amp;L", _pnl(total["pnl"])), ("P&amp;L a year", _pnl(total["ann_return"])),
             ("Volatility a year", _pnl(total["ann_volatility"])), ("Sharpe ratio", _num(total["sharpe"])),
             ("Max drawdown", _pnl(total["max_drawdown"])), ("Hit ratio", _share(total["hit_ratio"])),
             ("Daily VaR 95 %", _pnl(total["var_95"])), ("Daily CVaR 95 %", _pnl(total["cvar_95"]))]
    card_html = "".join(f"<div class='card'><div class='label'>{label}</div><div class='value'>{value}</div></div>"
                        for label, value in cards)
    findings = "".join(f"<li>{item}</li>" for item in _findings(context))
    return _section("summary", f"""
<p class="position">{UNIT_SENTENCES[NOTIONAL]} Money amounts below are in {unit_label(NOTIONAL)}.</p>
<div class="cards">{card_html}</div>
<ul class="findings">{findings}</ul>
<h3>By asset class</h3>{_stats_table(context.class_rows, "class")}
<h3>By group</h3>{_stats_table(context.group_rows, "group")}
<p class="note">P&amp;L in units of notional (see Methodology). Annualized with
{_num(context.classes.periods_per_year, 0)} periods a year on the weekday series; VaR and CVaR are
daily. Longest drawdown in weekdays.</p>""")


def _findings(context: _Context) -> list[str]:
    total, classes = context.total, context.class_rows[:-1]
    years = total["n_days"] / WEEKDAYS_PER_YEAR
    items = [f"Over {total['start']} to {total['end']} ({total['n_days']:,} weekdays, {years:.1f} years) the "
             f"{context.backtest.assets.num_rows} assets in {len(classes)} classes made {_pnl(total['pnl'])} "
             f"units of notional (long one unit of each straddle): {_pnl(total['ann_return'])} a year at "
             f"{_pnl(total['ann_volatility'])} volatility a year, "
             f"Sharpe {_num(total['sharpe'])}."]
    if total["max_drawdown_trough"] is not None:
        recovery = (f"recovered on {total['max_drawdown_recovery']} after {total['recovery_days']:,} weekdays"
                    if total["max_drawdown_recovery"] else "not recovered by the end of the sample")
        items.append(f"Worst drawdown {_pnl(total['max_drawdown'])} from {total['max_drawdown_peak']} to "
                     f"{total['max_drawdown_trough']}, {recovery}.")
    if classes:
        best, worst = max(classes, key=lambda r: r["pnl"]), min(classes, key=lambda r: r["pnl"])
        items.append(f"Best class {html.escape(best['bucket'])} ({_pnl(best['pnl'])}), worst "
                     f"{html.escape(worst['bucket'])} ({_pnl(worst['pnl'])}).")
    items.append(f"Option P&amp;L {_pnl(total['opnl'])} and delta-hedge P&amp;L {_pnl(total['hpnl'])}.")
    risk = sorted((r["share_of_risk"] for r in context.asset_contribution if r["share_of_risk"] is not None),
                  reverse=True)
    if risk:
        items.append(f"Concentration: the {min(5, len(risk))} largest risk contributors carry "
                     f"{_share(sum(risk[:5]))} of the portfolio's daily P&amp;L variance.")
    low, high = _regime_means(context)
    if low is not None and high is not None:
        items.append(f"Straddles entered when implied vol was in the top {REGIME_SHARE} of their asset's range "
                     f"averaged {_pnl(high)} per straddle, against {_pnl(low)} in the bottom {REGIME_SHARE}.")
    valued, count = context.status.get(VALUED_STATUS, 0), sum(context.status.values())
    items.append(f"{valued:,} of {count:,} straddles ({_share(valued / count if count else None)}) were valued.")
    return items


def _regime_means(context: _Context) -> tuple[float | None, float | None]:
    """Mean P&L per straddle in the lowest and highest regime, over all classes."""
    means = []
    for regime in (1, N_REGIMES):
        rows = [(r["n_straddles"], r["mean_pnl"]) for r in context.regime_rows if r["regime"] == regime]
        count = sum(n for n, _ in rows)
        means.append(sum(n * m for n, m in rows) / count if count else None)
    return means[0], means[1]


def _cumulative_section(context: _Context, pictures: dict) -> str:
    return _section("cumulative", _figure(pictures, "cumulative_pnl.png",
                                          "Running sum of daily P&L by asset class; the total in black."))


def _drawdown_section(context: _Context, pictures: dict) -> str:
    if not context.has_pnl:
        return _section("drawdowns", _empty())
    columns = [("", "text"), ("max drawdown", "pnl"), ("peak", "date"), ("trough", "date"), ("recovered", "date"),
               ("weekdays to recover", "int"), ("longest drawdown (weekdays)", "int"), ("from", "date"),
               ("to", "date")]
    rows = [([r["bucket"], r["max_drawdown"], r["max_drawdown_peak"], r["max_drawdown_trough"],
              r["max_drawdown_recovery"] or ("not yet" if r["max_drawdown_trough"] else None), r["recovery_days"],
              r["longest_drawdown_days"], r["longest_drawdown_start"],
              r["longest_drawdown_end"] or ("not yet" if r["longest_drawdown_start"] else None)],
             "total" if r["bucket"] == TOTAL else "") for r in context.class_rows]
    return _section("drawdowns", _figure(pictures, "drawdown.png",
                                         "Distance of cumulative P&L below its running peak.") + _table(columns, rows))


def _annual_section(context: _Context, pictures: dict) -> str:
    if not context.has_pnl:
        return _section("annual", _empty())
    annual = context.classes.annual.to_pylist()
    names = context.classes.buckets
    years = sorted({row["year"] for row in annual})
    cell = {(row["bucket"], row["year"]): row for row in annual}
    columns = ([("year", "text")] + [(name, "pnl") for name in names]
               + [("total Sharpe", "num"), ("total max drawdown", "pnl"), ("total hit ratio", "share")])
    rows = []
    for year in years:
        total = cell.get((TOTAL, year), {})
        rows.append(([str(year)] + [cell.get((name, year), {}).get("pnl") for name in names]
                     + [total.get("sharpe"), total.get("max_drawdown"), total.get("hit_ratio")], ""))
    summary = {row["bucket"]: row for row in context.class_rows}
    total = summary[TOTAL]
    rows.append((["all years"] + [summary[name]["pnl"] for name in names]
                 + [total["sharpe"], total["max_drawdown"], total["hit_ratio"]], "total"))
    return _section("annual", _table(columns, rows) + _figure(
        pictures, "annual_pnl.png", "P&L per calendar year by class (bars) and in total (diamonds).")
        + "<p class='note'>A year holds the P&amp;L of its weekdays (weekend P&amp;L is booked on the "
          "following Monday). Sharpe and hit ratio are computed within the year.</p>")


def _contributors_section(context: _Context, pictures: dict) -> str:
    if not context.has_pnl:
        return _section("contributors", _empty())
    lists = context.contributors
    columns = [("asset", "text"), ("class", "text"), ("P&L", "pnl"), ("share of total P&L", "share"),
               ("share of variance", "share"), ("option P&L", "pnl"), ("hedge P&L", "pnl"), ("Sharpe", "num")]

    def rows(items):
        return [([r["bucket"], r["class"], r["pnl"], r["share_of_pnl"], r["share_of_risk"], r["opnl"], r["hpnl"],
                  r["sharpe"]], "") for r in items]

    tables = (f"<div><h3>Top {len(lists['top'])}</h3>{_table(columns, rows(lists['top']))}</div>"
              f"<div><h3>Bottom {len(lists['bottom'])}</h3>{_table(columns, rows(lists['bottom']))}</div>")
    return _section("contributors", tables + _figure(pictures, "contributors.png", "Total P&L of the assets listed above.")
                    + "<p class='note'>Share of variance is cov(asset, total) / var(total) of daily P&amp;L: "
                      "how much of the portfolio's risk the asset carries (the shares of all assets add up "
                      "to 100 %).</p>")


def _split_section(context: _Context, pictures: dict) -> str:
    if not context.has_pnl:
        return _section("pnl-split", _empty())
    columns = [("", "text"), ("option P&L", "pnl"), ("hedge P&L", "pnl"), ("total P&L", "pnl"),
               ("hedge share: |hpnl| / (|opnl| + |hpnl|)", "share")]
    rows = [([r["bucket"], r["opnl"], r["hpnl"], r["pnl"], _ratio(abs(r["hpnl"]), abs(r["opnl"]) + abs(r["hpnl"]))],
             "total" if r["bucket"] == TOTAL else "") for r in context.class_rows]
    return _section("pnl-split", _figure(pictures, "pnl_split.png", "Option P&L is the change in the straddles' "
                                         "value, hedge P&L that of the delta hedge held from the previous day.")
                    + _table(columns, rows))


def _correlation_section(context: _Context, pictures: dict) -> str:
    if "correlation.png" not in pictures:
        return _section("correlation", _empty("Fewer than two asset classes have P&L: no correlation to show."))
    names = context.classes.buckets[:-1]
    columns = [("", "text")] + [(name, "num") for name in names]
    rows = [([row["bucket"]] + [row[name] for name in names], "") for row in context.correlation_rows]
    return _section("correlation", "<div class='two'><div>" + _figure(
        pictures, "correlation.png", "Pearson correlation of daily (weekday) P&L between classes, each pair over "
        "the days both have P&L.") + f"</div><div>{_table(columns, rows)}</div></div>")


def _regimes_section(context: _Context, pictures: dict) -> str:
    if "vol_regimes.png" not in pictures:
        return _section("vol-regimes", _empty("Not enough valued straddles to form implied-vol regimes."))
    table = context.regime_rows
    cell = {(r["class"], r["regime"]): r for r in table}
    columns = ([("class", "text"), ("straddles", "int")]
               + [(f"Q{q} mean P&L" + (" (low vol)" if q == 1 else " (high vol)" if q == N_REGIMES else ""), "pnl")
                  for q in range(1, N_REGIMES + 1)]
               + [("Q1 hit ratio", "share"), (f"Q{N_REGIMES} hit ratio", "share")])
    rows = []
    for name in sorted({r["class"] for r in table}):
        regimes = [cell.get((name, q), {}) for q in range(1, N_REGIMES + 1)]
        rows.append(([name, sum(r.get("n_straddles", 0) for r in regimes)] + [r.get("mean_pnl") for r in regimes]
                     + [regimes[0].get("hit_ratio"), regimes[-1].get("hit_ratio")], ""))
    explanation = (f"<p class='note'>Each valued straddle is ranked by its implied vol on the entry day "
                   f"(<code>strike_vol</code>) among the valued straddles of the same asset and put into a "
                   f"{REGIME_GROUP}: Q1 holds the asset's lowest {REGIME_SHARE} of entry vols, Q{N_REGIMES} its "
                   f"highest. Ranking within the asset makes vols of different levels and units (percent, basis "
                   f"points) comparable. The {REGIME_GROUP}s use the whole sample, so the table describes how "
                   f"P&amp;L varied with the vol level; it is not a tradable signal. Mean P&amp;L is per straddle "
                   f"and unweighted; the hit ratio is the share of straddles with a gain among those with a "
                   f"non-zero P&amp;L; weighted P&amp;L applies the schedule weights; it and the mean entry vol of "
                   f"each {REGIME_GROUP} are in summary.json.</p>")
    return _section("vol-regimes", explanation + _figure(pictures, "vol_regimes.png",
                                                         f"Mean P&L per straddle by entry-vol {REGIME_GROUP}.")
                    + _table(columns, rows))


def _status_section(context: _Context, pictures: dict) -> str:
    count = sum(context.status.values())
    columns = [("status", "text"), ("straddles", "int"), ("share", "share"), ("meaning", "text")]
    rows = [([name, n, n / count, STATUS_MEANINGS.get(name, "")], "") for name, n in context.status.items()]
    rows.append((["all", count, 1.0 if count else None, ""], "total"))
    valued = context.status.get(VALUED_STATUS, 0)
    intro = (f"<p>{valued:,} of {count:,} straddles were valued. Every other straddle keeps its row with the first "
             f"reason (in the engine's priority order) why it could not be valued.</p>")
    return _section("status", intro + _table(columns, rows) + _figure(pictures, "status.png", "Straddles per status."))


def _method_section(context: _Context, pictures: dict) -> str:
    periods = _num(context.classes.periods_per_year, 0)
    items = {
        "Position and units": "Every straddle is held long, one unit, from its entry-day close to its expiry "
                 "(SPEC 12), delta-hedged daily with the previous day's delta. P&amp;L is in units of notional: "
                 "for ES and CDS_ES straddles a fraction of the strike (0.01 = one hundredth of the strike of one "
                 "straddle), for NS swaption straddles per unit notional of the swap. Asset P&amp;L sums its "
                 "straddles times their schedule weight (wgt/100); class, group and total P&amp;L are plain sums "
                 "of asset P&amp;L, unscaled by WeightCap. These sums are positions added up, not returns on "
                 "capital: there is no capital, so no number here is a percentage return.",
        "Calendar": "Straddles earn P&amp;L every calendar day (weekends carry time decay). Weekend P&amp;L is booked "
                    "on the following Monday, so statistics run on a weekday series. Within a class's active "
                    "period a weekday without P&amp;L counts as zero.",
        "Annualization": f"Annualized return = mean daily P&amp;L × {periods}; volatility = daily standard deviation "
                         f"(ddof 1) × √{periods}; Sharpe = their ratio (no risk-free rate: the P&amp;L is already "
                         "an excess return).",
        "Drawdowns": "Drawdown = cumulative P&amp;L minus its running peak (the series starts at 0). Recovery is the "
                     "first day back at the peak; durations count weekdays. A peak at the starting 0 (a series "
                     "that falls on its first day) is dated the weekday before the first day.",
        "Tails": "Hit ratio = up days / days with non-zero P&amp;L. VaR = the 5 % (1 %) quantile of daily P&amp;L, "
                 "CVaR = the mean of the days at or below it; skew = Fisher-Pearson coefficient.",
        "Sizing": "None: this report shows the engine's unit-notional P&amp;L. Use straddles.portfolio(..., "
                  "weights=..., scale_by_weight_cap=True) for other multipliers (a negative one shorts an asset's "
                  "straddles), and a strategy for P&amp;L in basis points of capital.",
    }
    body = "".join(f"<dt>{name}</dt><dd>{text}</dd>" for name, text in items.items())
    return _section("method", f"<dl class='defs'>{body}</dl>")


# --- HTML helpers ------------------------------------------------------------------------------

def _section(key: str, content: str) -> str:
    return f'<section id="{key}"><h2>{dict(SECTIONS)[key]}</h2>{content}</section>'


def _empty(text: str = "No P&amp;L: no straddle was valued.") -> str:
    return f"<p class='empty'>{text}</p>"


def _figure(pictures: dict, name: str, caption: str) -> str:
    if name not in pictures:
        return _empty()
    data = base64.b64encode(pictures[name]).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _stats_table(rows: list[dict], label: str) -> str:
    """The summary table of one breakdown, from its summary rows."""
    columns = [(label, "text"), ("P&L", "pnl"), ("P&L a year", "pnl"), ("volatility a year", "pnl"),
               ("Sharpe", "num"), ("max drawdown", "pnl"), ("longest drawdown", "int"), ("hit ratio", "share"),
               ("VaR 95", "pnl"), ("CVaR 95", "pnl"), ("VaR 99", "pnl"), ("CVaR 99", "pnl"), ("skew", "num")]
    table_rows = [([r["bucket"], r["pnl"], r["ann_return"], r["ann_volatility"], r["sharpe"], r["max_drawdown"],
              r["longest_drawdown_days"], r["hit_ratio"], r["var_95"], r["cvar_95"], r["var_99"], r["cvar_99"],
              r["skew"]], "total" if r["bucket"] == TOTAL else "") for r in rows]
    return _table(columns, table_rows)


def _table(columns: list[tuple[str, str]], rows: list[tuple[list, str]]) -> str:
    """An HTML table; ``columns`` are (header, kind) with kind text/pct/share/num/int/date."""
    head = "".join(f"<th class='{'text' if kind in ('text', 'date') else 'num'}'>{html.escape(name)}</th>"
                   for name, kind in columns)
    body = []
    for values, css in rows:
        cells = "".join(_cell(value, kind) for value, (_, kind) in zip(values, columns))
        body.append(f"<tr class='{css}'>{cells}</tr>" if css else f"<tr>{cells}</tr>")
    return (f"<div class='table-scroll'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _cell(value, kind: str) -> str:
    if kind in ("text", "date") or isinstance(value, str):
        return f"<td class='text'>{html.escape('—' if value is None else str(value))}</td>"
    text = {"pnl": _pnl, "share": _share, "num": _num, "int": _int}[kind](value)
    sign = " neg" if kind in ("pnl", "num") and value is not None and value < 0 else ""
    return f"<td class='num{sign}'>{text}</td>"


# The formatters take None for a missing number: the statistics tables hold null, never NaN.

def _pnl(value) -> str:
    """Unsized P&L in units of notional (never a percentage: see :mod:`straddles.results.units`)."""
    return format_pnl(value, NOTIONAL)


def _share(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%".replace("-", "−")


def _num(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}".replace("-", "−")


def _int(value) -> str:
    return "—" if value is None else f"{int(value):,}"


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


# --- summary.json --------------------------------------------------------------------------------

def _summary_json(context: _Context, figure_names: list[str]) -> dict:
    """The headline numbers, JSON-ready (plain floats, ISO dates, None where undefined): the rows
    as the statistics tables hold them, converted once by :func:`~straddles.results.performance.json_ready`."""
    by_bucket = {row["bucket"]: row for row in context.class_rows}
    contributors = context.contributors
    return json_ready({
        "source": context.label,
        "generated": context.generated,
        "position": "long one unit of every straddle (schedule weights, no sizing)",
        "units": "units of notional (fraction of strike for ES/CDS_ES, per unit swap notional for NS); "
                 "losses negative",
        "calendar": "weekday series: weekend P&L booked on the following Monday",
        "periods_per_year": context.classes.periods_per_year,
        "n_assets": context.backtest.assets.num_rows,
        "n_straddles": context.backtest.straddles.num_rows,
        "status_counts": context.status,
        "total": by_bucket.get(TOTAL) if context.has_pnl else None,
        "classes": {name: row for name, row in by_bucket.items() if name != TOTAL},
        "groups": {row["bucket"]: row for row in context.group_rows if row["bucket"] != TOTAL},
        "annual": context.classes.annual.to_pylist(),
        "contribution_by_class": context.classes.contribution.to_pylist(),
        "top_contributors": contributors["top"],
        "bottom_contributors": contributors["bottom"],
        "correlation": {row["bucket"]: {k: v for k, v in row.items() if k != "bucket"}
                        for row in context.correlation_rows},
        "vol_regimes": context.regime_rows,
        "figures": figure_names,
        **part2.summary(context.backtest),
    })


def _bytes_writer(data: bytes):
    return lambda target: target.write_bytes(data)
