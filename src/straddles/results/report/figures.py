"""The report's charts, drawn with matplotlib's object API on the Agg canvas.

Figures are built from :class:`matplotlib.figure.Figure` directly rather than through pyplot, so
no global backend is selected and nothing is left open. Each function returns PNG bytes.
Values arrive and are drawn in the engine's units: units of notional (fractions of strike), never percent.
"""

from __future__ import annotations

import io

import numpy as np

from ..performance import TOTAL, VALUED_STATUS, Stats
from ..units import NOTIONAL, unit_label

DPI = 110
WIDTH = 10.0
TOTAL_COLOR = "#111111"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
GAIN, LOSS = "#2e7d32", "#c62828"
UNITS = unit_label(NOTIONAL)
#: most year labels the annual chart writes before it labels every other year
MAX_YEAR_LABELS = 14
#: names of the n-quantiles and of the share of the range each holds, for the common n
_QUANTILE_WORDS = {2: ("half", "half"), 3: ("tercile", "third"), 4: ("quartile", "quarter"),
                   5: ("quintile", "fifth"), 10: ("decile", "tenth")}


def quantile_words(n: int) -> tuple[str, str]:
    """What one of ``n`` equal quantile groups is called, and the share of the range it holds:
    ``("quintile", "fifth")`` for 5, ``("1/7 group", "1/7")`` for a number without a usual name."""
    return _QUANTILE_WORDS.get(n, (f"1/{n} group", f"1/{n}"))


def bucket_colors(buckets: list[str]) -> dict[str, str]:
    """A stable colour per bucket, black for the total."""
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(b for b in buckets if b != TOTAL)}
    colors[TOTAL] = TOTAL_COLOR
    return colors


def cumulative_pnl(stats: Stats) -> bytes:
    """Cumulative P&L of each class and of the total."""
    figure, axes = _figure(4.6)
    cumulative = stats.cumulative()
    for column, (name, color) in enumerate(_ordered(stats)):
        axes.plot(stats.dates, cumulative[:, column], color=color, label=name,
                  linewidth=2.2 if name == TOTAL else 1.3)
    _finish(axes, f"Cumulative P&L ({UNITS})", legend=True)
    return _png(figure)


def drawdowns(stats: Stats) -> bytes:
    """Drawdown of the total (shaded) and of each class (lines)."""
    figure, axes = _figure(3.8)
    values = stats.drawdowns()
    for column, (name, color) in enumerate(_ordered(stats)):
        if name == TOTAL:
            axes.fill_between(stats.dates, values[:, column], 0, color="#9e9e9e", alpha=0.45, label=TOTAL, linewidth=0)
        else:
            axes.plot(stats.dates, values[:, column], color=color, label=name, linewidth=1.1)
    _finish(axes, f"Drawdown from the running peak ({UNITS})", legend=True)
    return _png(figure)


def annual_pnl(stats: Stats) -> bytes:
    """Annual P&L per class as grouped bars, with the total as a marker."""
    table = stats.annual.to_pydict()
    years = sorted(set(table["year"]))
    classes = [b for b in stats.buckets if b != TOTAL]
    colors = bucket_colors(stats.buckets)
    value = {(b, y): p for b, y, p in zip(table["bucket"], table["year"], table["pnl"])}
    figure, axes = _figure(3.8)
    width = 0.8 / max(len(classes), 1)
    positions = np.arange(len(years))
    for i, name in enumerate(classes):
        heights = [value.get((name, y), 0.0) for y in years]
        axes.bar(positions - 0.4 + width * (i + 0.5), heights, width, color=colors[name], label=name)
    axes.plot(positions, [value.get((TOTAL, y), 0.0) for y in years], "D", color=TOTAL_COLOR,
              label=TOTAL, markersize=6)
    axes.set_xticks(positions, year_labels(years))
    axes.axhline(0, color="#555555", linewidth=0.8)
    _finish(axes, f"P&L per calendar year ({UNITS})", legend=True, dates=False)
    return _png(figure)


def year_labels(years: list[int]) -> list[str]:
    """Tick labels of a bar per year: every year up to :data:`MAX_YEAR_LABELS` bars, else every
    ``k``-th year (27 four-digit labels side by side overlap on a 10-inch chart)."""
    step = -(-len(years) // MAX_YEAR_LABELS)
    return [str(year) if i % step == 0 else "" for i, year in enumerate(years)]


def contributors(names: list[str], pnl: list[float]) -> bytes:
    """Horizontal bars of the P&L of the given assets, largest at the top."""
    figure, axes = _figure(0.8 + 0.28 * len(names))
    values = np.array(pnl)
    positions = np.arange(len(names))[::-1]
    axes.barh(positions, values, color=[GAIN if v >= 0 else LOSS for v in values])
    axes.set_yticks(positions, names)
    axes.axvline(0, color="#555555", linewidth=0.8)
    axes.grid(axis="x", color="#e0e0e0")
    axes.set_axisbelow(True)
    axes.set_xlabel(f"total P&L ({UNITS})")
    axes.set_title(f"Top and bottom contributors: total P&L per asset ({UNITS})", fontsize=11, loc="left")
    _number_ticks(axes.xaxis)
    _despine(axes)
    return _png(figure)


def pnl_split(stats: Stats) -> bytes:
    """Cumulative option P&L, hedge P&L and their sum for the total portfolio."""
    figure, axes = _figure(3.8)
    column = stats.buckets.index(TOTAL)
    for name, label, color in (("opnl", "option P&L (opnl)", "#1565c0"), ("hpnl", "hedge P&L (hpnl)", "#ef6c00"),
                               ("pnl", "total P&L", TOTAL_COLOR)):
        axes.plot(stats.dates, stats.cumulative(name)[:, column], label=label, color=color,
                  linewidth=2.0 if name == "pnl" else 1.4)
    axes.axhline(0, color="#555555", linewidth=0.8)
    _finish(axes, f"Cumulative P&L of the portfolio, option vs hedge ({UNITS})", legend=True)
    return _png(figure)


def correlation_heatmap(names: list[str], matrix: np.ndarray) -> bytes:
    """Correlation matrix as a red-blue heat map with the values written in the cells."""
    size = max(3.4, 0.5 * len(names) + 1.8)
    figure, axes = _figure(size, width=size + 0.9)
    image = axes.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    axes.set_xticks(range(len(names)), names, rotation=35, ha="right")
    axes.set_yticks(range(len(names)), names)
    if len(names) <= 15:
        for i in range(len(names)):
            for j in range(len(names)):
                if np.isfinite(matrix[i, j]):
                    axes.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=8,
                              color="white" if abs(matrix[i, j]) > 0.6 else "black")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    axes.set_title("Correlation of daily P&L", fontsize=11, loc="left")
    return _png(figure)


def vol_regimes(classes: list[str], regimes: list[int], mean_pnl: list[float], n_regimes: int) -> bytes:
    """Mean straddle P&L by implied-vol regime (grouped bars per class)."""
    names = sorted(set(classes))
    colors = bucket_colors(names)
    value = {(c, r): p for c, r, p in zip(classes, regimes, mean_pnl)}
    figure, axes = _figure(3.8)
    width = 0.8 / max(len(names), 1)
    positions = np.arange(1, n_regimes + 1)
    for i, name in enumerate(names):
        axes.bar(positions - 0.4 + width * (i + 0.5), [value.get((name, r), np.nan) for r in positions],
                 width, color=colors[name], label=name)
    axes.set_xticks(positions, [f"Q{r}" + (" (low)" if r == 1 else " (high)" if r == n_regimes else "")
                                for r in positions])
    axes.axhline(0, color="#555555", linewidth=0.8)
    _finish(axes, f"Mean P&L per straddle by entry implied-vol {quantile_words(n_regimes)[0]} ({UNITS})",
            legend=True, dates=False)
    return _png(figure)


def status_bars(counts: dict[str, int]) -> bytes:
    """Straddle counts per status, the valued ones in green."""
    names = list(counts)
    figure, axes = _figure(0.8 + 0.32 * len(names), width=7.0)
    positions = np.arange(len(names))[::-1]
    axes.barh(positions, list(counts.values()), color=[GAIN if n == VALUED_STATUS else "#90a4ae" for n in names])
    axes.set_yticks(positions, names)
    axes.set_xlabel("straddles")
    axes.grid(axis="x", color="#e0e0e0")
    axes.set_axisbelow(True)
    _despine(axes)
    return _png(figure)


def _ordered(stats: Stats):
    colors = bucket_colors(stats.buckets)
    return [(name, colors[name]) for name in stats.buckets]


def _figure(height: float, width: float = WIDTH):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return figure, figure.add_subplot()


def _finish(axes, title: str, legend: bool, dates: bool = True) -> None:
    axes.set_title(title, fontsize=11, loc="left")
    _number_ticks(axes.yaxis)
    axes.grid(color="#e0e0e0")
    axes.set_axisbelow(True)
    _despine(axes)
    if dates:
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    if legend:
        axes.legend(fontsize=8, frameon=False, ncol=min(7, len(axes.get_legend_handles_labels()[0])),
                    loc="upper left", bbox_to_anchor=(0, -0.08 if dates else -0.1))


def _number_ticks(axis) -> None:
    """Plain tick labels with thousands separators (P&L in units of notional is not a percentage)."""
    from matplotlib.ticker import ScalarFormatter

    plain = ScalarFormatter(useOffset=False)
    plain.set_scientific(False)
    axis.set_major_formatter(plain)


def _despine(axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
