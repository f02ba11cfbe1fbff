"""The HTML report: sections, files, offline use, errors, and a headless Chromium rendering."""

import html
import json
import re
import shutil
import subprocess

import pyarrow as pa
import pytest

import straddles
from straddles.errors import StraddlesError
from straddles.results.report import SECTIONS, SUMMARY_FILE, build_report, write_report
from straddles.results.report.figures import MAX_YEAR_LABELS, quantile_words, year_labels
from straddles.results.performance import stats
from straddles.results.units import format_pnl
from straddles.engine.status import STATUS_MEANINGS
from straddles.synth import synthesize

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = ("cumulative_pnl.png", "drawdown.png", "annual_pnl.png", "contributors.png", "pnl_split.png",
           "correlation.png", "vol_regimes.png", "status.png")


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory, example_amt_path):
    folder = tmp_path_factory.mktemp("demo")
    prices = synthesize(example_amt_path, 2023, 2024, seed=0)
    straddles.backtest(example_amt_path, prices, 2023, 2024, days=False).write(folder)
    return folder


@pytest.fixture(scope="module")
def report_path(demo_folder):
    return write_report(demo_folder)


@pytest.fixture(scope="module")
def page(report_path):
    return report_path.read_text(encoding="utf-8")


def test_default_location_and_files(demo_folder, report_path):
    assert report_path == demo_folder / "report.html"
    files = demo_folder / "report_files"
    for name in FIGURES:
        assert (files / name).read_bytes().startswith(PNG_MAGIC), name
    assert not [p for p in demo_folder.rglob("*") if p.name.endswith(".tmp")]  # atomic writes left nothing


def test_every_section_is_there(page):
    for key, title in SECTIONS:
        assert f'<section id="{key}"><h2>{title}</h2>' in page
        assert f'href="#{key}"' in page
    assert page.count("<img src=\"data:image/png;base64,") == len(FIGURES)
    for text in ("Total P&amp;L", "Sharpe ratio", "Max drawdown", "Hit ratio", "VaR 95", "CVaR 99", "skew",
                 "By asset class", "By group", "Top ", "Bottom ", "option P&amp;L", "hedge P&amp;L", "Q5 mean P&amp;L",
                 "unsupported_model", "valued", "all years"):
        assert text in page, text
    for name in ("unsupported_model", "valued"):  # the status meanings come from straddles.engine.status
        assert html.escape(STATUS_MEANINGS[name]) in page, name
    assert "put into a quintile" in page and "top fifth" in page


def test_annual_chart_labels_do_not_crowd():
    assert year_labels(list(range(2019, 2025))) == [str(y) for y in range(2019, 2025)]
    labels = year_labels(list(range(2000, 2027)))
    assert len(labels) == 27 and labels[:3] == ["2000", "", "2002"] and len([x for x in labels if x]) <= MAX_YEAR_LABELS


def test_regime_wording_follows_the_number_of_regimes():
    assert quantile_words(5) == ("quintile", "fifth")
    assert quantile_words(4) == ("quartile", "quarter")
    assert quantile_words(7) == ("1/7 group", "1/7")


def test_numbers_in_the_page_match_the_statistics(demo_folder, page):
    total = next(r for r in stats(straddles.load_backtest(demo_folder)).summary.to_pylist() if r["bucket"] == "total")
    assert f"<div class='value'>{format_pnl(total['pnl'])}</div>" in page


#: the report's labels of unsized P&L amounts (cards); their values must be plain numbers
PNL_CARDS = ("Total P&amp;L", "P&amp;L a year", "Volatility a year", "Max drawdown", "Daily VaR 95 %", "Daily CVaR 95 %")


def test_unsized_pnl_is_never_a_percentage(page):
    """Issue 9: sums of one-unit straddles are not returns; the page says what they are."""
    cards = dict(re.findall(r"<div class='label'>(.*?)</div><div class='value'>(.*?)</div>", page))
    for label in PNL_CARDS:
        assert re.fullmatch(r"−?[\d,]+\.\d+", cards[label]), (label, cards[label])
    assert cards["Hit ratio"].endswith("%")  # a share stays a percentage
    assert "% of notional" not in page and "percent of notional" not in page
    assert "long one unit of every straddle" in page.lower() and "units of notional" in page
    # every P&L cell of the class table is a plain number
    table = page[page.index("<h3>By asset class</h3>"):page.index("<h3>By group</h3>")]
    first_row = re.search(r"<tbody><tr>(.*?)</tr>", table).group(1)
    cells = re.findall(r"<td class='num[^']*'>(.*?)</td>", first_row)
    assert not cells[0].endswith("%") and not cells[1].endswith("%")  # P&L, P&L a year


def test_self_contained(page):
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", page)  # only inline images and in-page links
    assert "<script" not in page


def test_summary_json(demo_folder, report_path):
    summary = json.loads((demo_folder / "report_files" / SUMMARY_FILE).read_text())
    backtest = straddles.load_backtest(demo_folder)
    assert summary["status_counts"] == backtest.status_counts()
    assert summary["n_straddles"] == backtest.straddles.num_rows
    with_pnl = set(backtest.asset_pnl["asset"].cast(pa.string()).to_pylist())
    classes = {c for a, c in zip(backtest.assets["asset"].to_pylist(), backtest.assets["class"].to_pylist()) if a in with_pnl}
    assert set(summary["classes"]) == classes and len(classes) == 6
    assert summary["total"]["bucket"] == "total" and isinstance(summary["total"]["sharpe"], float)
    assert summary["annual"] and summary["top_contributors"] and summary["bottom_contributors"]
    for contributor in summary["top_contributors"] + summary["bottom_contributors"]:
        assert contributor["class"] in classes and "sharpe" in contributor
    assert {r["bucket"] for r in summary["top_contributors"]}.isdisjoint(r["bucket"] for r in summary["bottom_contributors"])
    assert set(summary["correlation"]) == set(summary["classes"])
    assert summary["figures"] == sorted(FIGURES)
    assert len(summary["vol_regimes"]) == 5 * len(summary["classes"])
    text = (demo_folder / "report_files" / SUMMARY_FILE).read_text()
    assert "NaN" not in text and "Infinity" not in text


def test_custom_output_path(demo_folder, tmp_path):
    out = write_report(str(demo_folder), tmp_path / "nested" / "mine.html")
    assert out.is_file() and (tmp_path / "nested" / "mine_files" / SUMMARY_FILE).is_file()


def test_a_backtest_object_needs_an_output_path(demo_folder, tmp_path):
    backtest = straddles.load_backtest(demo_folder)
    with pytest.raises(StraddlesError, match="give 'out'"):
        write_report(backtest)
    assert write_report(backtest, tmp_path / "r.html").is_file()


def test_not_a_backtest_folder(tmp_path):
    with pytest.raises(StraddlesError, match="not a backtest folder"):
        write_report(tmp_path)
    with pytest.raises(StraddlesError, match="no such directory"):
        write_report(tmp_path / "missing")
    assert not list(tmp_path.iterdir())


def test_a_backtest_without_valued_straddles(demo_folder):
    backtest = straddles.load_backtest(demo_folder)
    backtest.asset_pnl = backtest.asset_pnl.slice(0, 0)
    status = pa.array(["no_prices"] * backtest.straddles.num_rows).dictionary_encode()
    backtest.straddles = backtest.straddles.set_column(backtest.straddles.column_names.index("status"), "status", status)
    backtest.straddles = backtest.straddles.set_column(backtest.straddles.column_names.index("pnl_sum"), "pnl_sum",
                                                       pa.nulls(backtest.straddles.num_rows, pa.float64()))
    report = build_report(backtest, "empty")
    for key, _ in SECTIONS:
        assert f'<section id="{key}">' in report.html
    assert "No straddle was valued" in report.html
    assert report.summary["total"] is None and report.summary["status_counts"] == {"no_prices": backtest.straddles.num_rows}
    assert set(report.figures) == {"status.png"}


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    """The report of ``straddles demo`` itself (issue 9: what a new user opens first)."""
    from straddles.cli import main

    folder = tmp_path_factory.mktemp("straddles-demo")
    assert main(["demo", "--out", str(folder)]) == 0
    return folder / "report.html"


def test_the_demo_report_shows_no_percentage_return(demo_report):
    test_unsized_pnl_is_never_a_percentage(demo_report.read_text(encoding="utf-8"))


HEADER_BAND = (0x16, 0x32, 0x4F)  # --band in template.html


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed")
def test_the_demo_report_renders_in_headless_chromium(demo_report, tmp_path):
    from matplotlib.image import imread
    import numpy as np

    screenshot = tmp_path / "report.png"
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={screenshot}", "--window-size=1280,4000",
               demo_report.resolve().as_uri()]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    data = screenshot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 100_000
    pixels = (imread(screenshot)[:, :, :3] * 255).round().astype(int)
    assert pixels.shape[:2] == (4000, 1280)
    header = pixels[:60]
    assert (np.abs(header - HEADER_BAND).sum(axis=2) < 12).mean() > 0.5  # the styled header band
    body = pixels[200:]
    colourful = (body.max(axis=2) - body.min(axis=2)) > 60  # chart lines and bars, red and green numbers
    assert colourful.mean() > 0.002
    rows_with_ink = ((body < 120).all(axis=2).sum(axis=1) > 0).mean()  # text and axes throughout the page
    assert rows_with_ink > 0.3


def test_part2_sections_only_with_the_options(example_amt_path, page, tmp_path):
    """Open positions, attribution (by class and by year) and gross vs net costs appear exactly
    when the backtest has them (SPEC 16-18), and the parts add up in the tables' total rows."""
    for key in ("open", "attribution", "costs"):
        assert f'<section id="{key}"' not in page
    prices = synthesize(example_amt_path, 2023, 2024, seed=0)
    result = straddles.backtest(example_amt_path, prices, 2023, 2024, days=False, asof="2024-06-12",
                                greeks=True, costs=straddles.CostModel(slippage={".": 0.5}, hedge_bps=1.0))
    report = build_report(result, "options")
    for key in ("open", "attribution", "costs"):
        assert f'<section id="{key}"' in report.html and f'href="#{key}"' in report.html
    assert "straddles are open at the run's asof date" in report.html
    assert "By asset class" in report.html and "By year" in report.html
    totals = report.summary["totals"]
    parts = totals["gamma_pnl"] + totals["theta_pnl"] + totals["vega_pnl"] + totals["resid_pnl"]
    assert parts == pytest.approx(totals["pnl"], abs=1e-9)
    assert totals["pnl_net"] == pytest.approx(totals["pnl"] - totals["cost_option"] - totals["cost_hedge"], abs=1e-9)
    assert totals["cost_option"] > 0 and report.summary["n_open"] > 0
