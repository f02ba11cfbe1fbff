"""`straddles explore` in a real browser: Debian's headless Chromium driven by Selenium.

The test starts the server as the user would (`python -m straddles explore DIR --port P`) on a
free port, changes the asset filter, and checks that the summary strip and the cumulative-P&L
chart show what straddles.stats gives for the same selection; it saves a screenshot. Skipped only
when Chromium or chromedriver is absent (`.ci/run` installs both).
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

import straddles
from straddles.synth import synthesize

pytest.importorskip("dash")
webdriver = pytest.importorskip("selenium.webdriver")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                reason="Chromium and chromedriver are not installed")
TIMEOUT = 60  # seconds for the server to start and for each change to show


@pytest.fixture(scope="module")
def folder(tmp_path_factory, example_amt_path):
    folder = tmp_path_factory.mktemp("explore-browser")
    straddles.backtest(example_amt_path, synthesize(example_amt_path, 2023, 2024, seed=0), 2023, 2024, out=folder)
    return folder


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(folder):
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "straddles", "explore", str(folder), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + TIMEOUT
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the explorer did not start: {process.stdout.read().decode()}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}", "--window-size=1400,2600"):
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(TIMEOUT)
    yield driver
    driver.quit()


def _wait(driver, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, TIMEOUT, poll_frequency=0.2).until(condition, message=f"timed out waiting for {what}")


def _text(driver, element_id: str) -> str:
    """The element's text read in the page (Dash replaces elements on update: no stale references)."""
    return driver.execute_script(f"const e = document.getElementById('{element_id}'); return e ? e.innerText : '';")


TOTAL_CURVE = """
const graph = document.querySelector('#cumulative .js-plotly-plot');
if (!graph || !graph.data) return null;
const total = graph.data.find(trace => trace.name === 'total');
return total ? total.y : null;
"""


def _total_curve(driver) -> np.ndarray | None:
    """The y values of the chart's ``total`` trace as the page holds them (a list, or Plotly's
    typed-array encoding ``{dtype, bdata}`` of NumPy arrays, decoded here)."""
    y = driver.execute_script(TOTAL_CURVE)
    if isinstance(y, dict) and "bdata" in y:
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"]).newbyteorder("<"))
    return None if y is None else np.array(y, dtype=float)


def _expected(folder, pattern: str):
    """What the Python API gives for an asset regex: stats with the other assets weighted 0."""
    from straddles.results.units import format_pnl
    backtest = straddles.load_backtest(folder, days=False)
    import re
    weights = {name: 0.0 for name in backtest.assets["asset"].to_pylist() if not re.search(pattern, name)}
    result = straddles.stats(backtest, "class", weights=weights)
    total = result.summary.to_pylist()[-1]
    return format_pnl(total["pnl"]), format_pnl(total["max_drawdown"]), result.cumulative("pnl")[:, -1], len(
        backtest.assets) - len(weights)


def test_filter_changes_summary_and_chart_to_the_python_values(server, browser, folder, tmp_path):
    from selenium.webdriver.common.by import By

    before = sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir())
    browser.get(server)
    everything = _expected(folder, "")
    _wait(browser, lambda d: _text(d, "summary-pnl") == everything[0], "the opening summary")

    pattern = "Comdty"
    pnl, drawdown, curve, n_assets = _expected(folder, pattern)
    assert pnl != everything[0]
    browser.find_element(By.ID, "pattern").send_keys(pattern)
    _wait(browser, lambda d: _text(d, "match-count").startswith(f"{n_assets} of "), "the live match count")
    _wait(browser, lambda d: _text(d, "summary-pnl") == pnl, "the filtered total P&L")
    assert _text(browser, "summary-drawdown") == drawdown
    assert _text(browser, "summary-assets") == str(n_assets)
    shown, = _wait(browser, lambda d: (lambda y: [y] if y is not None and len(y) == len(curve) else None)(
        _total_curve(d)), "the filtered cumulative chart")
    np.testing.assert_allclose(shown, curve, rtol=1e-12, atol=1e-15)

    # drill down: the first asset of the table, then its first straddle
    asset_cells = "#assets-table .ag-row .ag-cell[col-id='asset']"
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, asset_cells), "the per-asset table")
    browser.find_elements(By.CSS_SELECTOR, asset_cells)[0].click()
    status_cells = "#straddles-table .ag-row .ag-cell[col-id='status']"
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, status_cells), "the asset's straddles")
    next(cell for cell in browser.find_elements(By.CSS_SELECTOR, status_cells) if cell.text == "valued").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#days-table .ag-row .ag-cell[col-id='pnl']"),
          "the straddle's day rows")

    screenshot = tmp_path / "explore.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 50_000
    after = sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir())
    assert after == before  # the app never writes into the results folder


STRATEGY_CURVE = """
const graph = document.querySelector('#strategy-chart .js-plotly-plot');
if (!graph || !graph.data || !graph.layout.title.text.includes(arguments[0])) return null;
const book = graph.data.find(trace => trace.name === 'book');
return book ? book.y : null;
"""


def _strategy_book(driver, spec: str) -> np.ndarray | None:
    """The strategy chart's ``book`` curve once the chart shows ``spec``."""
    y = driver.execute_script(STRATEGY_CURVE, spec)
    if isinstance(y, dict) and "bdata" in y:
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"]).newbyteorder("<"))
    return None if y is None else np.array(y, dtype=float)


def test_strategy_tab_runs_a_typed_spec_like_the_python_api(server, browser, folder, tmp_path):
    """STRATEGY S7: typing a spec in the strategy tab shows straddles.strategy's summary and curve."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from straddles.explore.app import STRATEGY_NUMBERS
    from straddles.explore.strategy import DEFAULT_SPEC

    browser.get(server)
    _wait(browser, lambda d: d.find_elements(By.ID, "strategy-tab"), "the strategy tab")
    browser.find_element(By.ID, "strategy-tab").click()
    opening = straddles.strategy(folder, DEFAULT_SPEC).summary()
    _wait(browser, lambda d: _text(d, "strategy-sharpe") == STRATEGY_NUMBERS[0][2](opening["sharpe"]),
          "the default strategy's Sharpe")

    spec = "wpnl:rsi+streak:rank:std:abs:h"
    expected = straddles.strategy(folder, spec)
    summary = expected.summary()
    assert summary["sharpe"] != opening["sharpe"]
    box = browser.find_element(By.ID, "strategy-spec")
    box.send_keys(Keys.CONTROL + "a", Keys.DELETE)
    box.send_keys(spec, Keys.ENTER)
    book, = _wait(browser, lambda d: (lambda y: [y] if y is not None else None)(_strategy_book(d, spec)),
                  "the typed strategy's chart")
    for key, _, fmt in STRATEGY_NUMBERS:
        assert _text(browser, f"strategy-{key}") == fmt(summary[key]), key
    assert book[-1] == pytest.approx(float(np.sum(expected.pnl["pnl"].to_numpy())) * 1e4, rel=1e-12)
    assert _text(browser, "strategy-error") == ""

    box = browser.find_element(By.ID, "strategy-spec")
    box.send_keys(Keys.CONTROL + "a", Keys.DELETE)
    box.send_keys("npnl:nosuch:rank:ivol:none:h", Keys.ENTER)
    _wait(browser, lambda d: _text(d, "strategy-error").startswith("strategy: no AMT signal_table row named 'nosuch'"),
          "the bad spec's one-line error")
    assert _text(browser, "strategy-sharpe") == STRATEGY_NUMBERS[0][2](summary["sharpe"])  # the last good numbers stay

    screenshot = tmp_path / "explore-strategy.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 30_000
