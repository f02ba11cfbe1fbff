"""The ``straddles`` command line: a thin layer that parses arguments and calls the library.

Each subcommand maps to one public function (``expand``, ``synthesize``, ``backtest``, ...).
Heavy modules are imported inside the commands, so ``straddles --help`` answers instantly.
User errors (bad files, bad arguments) print one clear line and exit with status 2.

The ``straddles`` script enters through :func:`run`, which owns its process: pyarrow does not see
pandas there, and the process ends without tearing its objects down (see :func:`run`). Calling
:func:`main` from Python changes nothing in the caller's process.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import sys
import warnings
import time
from pathlib import Path
from typing import Callable, NoReturn

from .errors import StraddlesError

EXIT_USER_ERROR = 2
#: usage examples per command, shown by ``--help`` (the first of each also in the top-level help)
EXAMPLES = {
    "assets": ["straddles assets amt.yml --pattern 'Comdty$'"],
    "expand": ["straddles expand amt.yml --start 2024 --end 2024 --out straddles.parquet",
               "straddles expand amt.yml --start 2001 --end 2026 --pattern '^CL Comdty$' --out cl.csv"],
    "synth": ["straddles synth amt.yml --start 2001 --end 2026 --out prices.parquet --seed 0"],
    "validate": ["straddles validate amt.yml --prices prices.parquet --start 2001 --end 2026",
                 "straddles validate amt.yml --prices prices.parquet --start 2024 --end 2024 --pattern 'US Equity'"],
    "backtest": ["straddles backtest amt.yml --prices prices.parquet --start 2001 --end 2026 --out results/",
                 "straddles backtest amt.yml --prices prices.parquet --start 2001 --end 2026 --out results/ --no-days",
                 "straddles backtest amt.yml --prices prices.parquet --start 2024 --end 2024 --out r/ --no-cohorts",
                 "straddles backtest amt.yml --prices prices.parquet --start 2001 --end 2026 --out results/ "
                 "--scheduler local:2"],
    "grid": ["straddles grid amt.yml --prices prices.parquet --start 2001 --end 2026 --variants variants.yml "
             "--out grid/",
             "straddles grid amt.yml --prices /shared/prices.parquet --start 2001 --end 2026 --variants variants.yml "
             "--out grid/ --scheduler tcp://scheduler:8786"],
    "explain": ["straddles explain amt.yml --prices prices.parquet 'CL Comdty' 2024-06 1",
                "straddles explain amt.yml --prices prices.parquet 'SPY US Equity' 2024-06 2 --start 2001"],
    "report": ["straddles report results/", "straddles report results/ --out ~/reports/run1.html"],
    "explore": ["straddles explore results/", "straddles explore results/ --port 8060",
                "straddles explore results/ --sweep sweep.parquet"],
    "strategy": ["straddles strategy results/ npnl:mac.180.30+srp.365:grank:ivol:none:gah",
                 "straddles strategy results/ wpnl:rsi+clm:rank:std:abs:h --leverage 5 --out book/ --report book.html"],
    "sweep": ["straddles sweep results/ --grid grid.yml --out sweep.parquet",
              "straddles sweep results/ --grid grid.yml --inception month_start --amt-multipliers"],
    "bench": ["straddles bench amt.yml --start 2001 --end 2026 --synth",
              "straddles bench amt.yml --prices prices.parquet --days --json bench.json"],
    "demo": ["straddles demo", "straddles demo --out /tmp/straddles-demo"],
    "cache": ["straddles cache info", "straddles cache clear"],
}


def run(argv: list[str] | None = None, before_exit: Callable[[], None] | None = None) -> NoReturn:
    """The ``straddles`` script: :func:`main` in a process of its own, made cheap at both ends.

    * pyarrow imports pandas (0.17-0.3 s) on its first array conversion whenever pandas is
      installed, only to recognize pandas objects; no command hands it one, so the process
      cannot import pandas (:class:`_Unavailable`) unless something imported it already.
    * numba imports SciPy (0.15-0.25 s) to find BLAS for its linear algebra whenever its array
      implementations are imported (for the strategy kernels, when their cached code is loaded),
      if SciPy is installed; no kernel of ours uses it, so only the explorer (which clusters with
      SciPy) can import it.
    * After :func:`main` has returned every output is complete (written, closed and renamed into
      place), so the process ends with ``os._exit`` once the console streams are flushed:
      an ordinary exit spends 0.2-0.3 s freeing numba's compiler state and the arrays of the run.

    ``before_exit`` runs just before the end (the benchmarks read the peak RSS there). An
    unexpected exception propagates and the process exits the ordinary way, with its traceback.
    """
    arguments = sys.argv[1:] if argv is None else argv
    unavailable = {"pandas"} | ({"scipy"} if "explore" not in arguments[:1] else set())
    sys.meta_path.insert(0, _Unavailable(unavailable - set(sys.modules)))
    code = main(argv)
    if before_exit is not None:
        before_exit()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class _Unavailable:
    """An import hook under which some packages are not installed (see :func:`run`): pyarrow then
    skips its pandas support, numba its SciPy BLAS."""

    def __init__(self, packages: set[str]):
        self.packages = frozenset(packages)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.packages:
            raise ModuleNotFoundError(f"No module named {name!r} (the straddles command runs without it)", name=name)
        return None


def main(argv: list[str] | None = None) -> int:
    _report_fatal_signals()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _print_warning
            return args.run(args) or 0
    except StraddlesError as exc:
        print_error(exc)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (a damaged cache being rebuilt, ...) as one ``warning: ...`` line, like errors."""
    sys.stderr.write(f"warning: {' '.join(str(message).split())}\n")


def _report_fatal_signals() -> None:
    """Make a fatal signal (SIGBUS when another program truncates a memory-mapped price cache in
    place, see the README) print what happened instead of ending the process silently."""
    if not faulthandler.is_enabled():
        try:
            faulthandler.enable()
        except (OSError, ValueError, AttributeError):  # stderr without a file descriptor (captured)
            pass


def print_error(error: BaseException) -> None:
    """Print ``error: <message>`` to stderr as exactly one line: newlines inside the message (YAML
    parser messages, wrapped library errors) are folded into spaces and nothing wraps it, so that
    logs and ``grep`` see one record per error."""
    message = " ".join(str(error).split())
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="straddles", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Backtest systematic delta-hedged option straddles from an asset master table (AMT).\n"
                    "Every straddle is held long, one unit; P&L is in units of notional (fractions of strike).",
        epilog="examples:\n" + "\n".join(f"  {line}" for lines in EXAMPLES.values() for line in lines[:1])
               + "\n\nRun 'straddles demo' for a complete example on the bundled AMT, "
                 "'straddles COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"straddles {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name, help_, run):
        sub = commands.add_parser(name, help=help_, description=help_, formatter_class=argparse.RawDescriptionHelpFormatter,
                                  epilog="examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[name]))
        sub.set_defaults(run=run)
        return sub

    sub = command("expand", "List every straddle an AMT implies, with its anchors, legs and early status.", _expand)
    _amt_arguments(sub, years_required=True)
    sub.add_argument("--out", type=Path, help="write the straddle table (.parquet, or .csv)")
    sub.add_argument("--calendars", type=Path, metavar="FILE.yml",
                     help="exchange holiday calendars for BD anchors (as for backtest)")

    sub = command("assets", "Show the assets of an AMT: class, group, vol and hedge sources, schedule.", _assets)
    sub.add_argument("amt", type=Path, metavar="AMT", help="asset master table (YAML)")
    sub.add_argument("--pattern", default=".", help="regex searched in Underlying (default: all)")
    sub.add_argument("--all", action="store_true", help="include dead assets (WeightCap missing or 0)")

    sub = command("synth", "Generate deterministic synthetic prices for every series an AMT needs.", _synth)
    _amt_arguments(sub, years_required=True, overrides=False)
    sub.add_argument("--out", type=Path, required=True, help="output price store (.parquet)")
    sub.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    sub = command("validate", "Check that a price store covers the series the selected straddles need.", _validate)
    _amt_arguments(sub, years_required=True)
    sub.add_argument("--prices", required=True, help="price store: .parquet, .csv, folder, or FILE.duckdb::TABLE")
    sub.add_argument("--rows", type=int, default=20, metavar="N", help="rows per table (default 20)")

    sub = command("backtest", "Run a backtest (long one unit of every straddle) and write its tables as Parquet "
                              "into a folder.", _backtest)
    _amt_arguments(sub, years_required=True)
    sub.add_argument("--prices", required=True, help="price store: .parquet, .csv, folder, or FILE.duckdb::TABLE")
    sub.add_argument("--out", type=Path, required=True, help="output folder")
    sub.add_argument("--no-days", action="store_true", help="do not materialize or write the day table")
    _run_options(sub)
    sub.add_argument("--no-cohorts", action="store_true",
                     help="do not build the strategy layer's cohort cube (cohorts.arrow)")
    _scheduler_argument(sub)

    sub = command("strategy", "Run one strategy (input:signals:rank:arp:crp:hedge) on a backtest folder.",
                  _strategy)
    sub.add_argument("dir", type=Path, metavar="RESULTS_DIR", help="backtest folder (with cohorts.arrow)")
    sub.add_argument("spec", metavar="SPEC", help="strategy name, e.g. npnl:mac.180.30+srp.365:grank:ivol:none:gah")
    sub.add_argument("--out", type=Path, metavar="DIR", help="write weights, pnl, asset_pnl, group_pnl Parquet here")
    sub.add_argument("--report", type=Path, metavar="HTML", help="also write the HTML report with a strategy section")
    _strategy_options(sub)

    sub = command("sweep", "Run a grid of strategies on a backtest folder; print the top 10 by Sharpe.", _sweep)
    sub.add_argument("dir", type=Path, metavar="RESULTS_DIR", help="backtest folder (with cohorts.arrow)")
    sub.add_argument("--grid", type=Path, required=True, metavar="GRID.yml",
                     help="YAML: a list of strategy names, or a mapping input/signals/rank/arp/crp/hedge -> lists")
    sub.add_argument("--out", type=Path, metavar="PARQUET", help="write the result table (.parquet or .csv)")
    _strategy_options(sub, capital=False)
    _scheduler_argument(sub)
    sub = command("grid", "Run variants of a backtest (AMT edits, options) and write one summary table.", _grid)
    _amt_arguments(sub, years_required=True)
    sub.add_argument("--prices", required=True, help="price store (as for backtest)")
    sub.add_argument("--variants", type=Path, required=True, metavar="YML", help="variants file (see README, 'Grids')")
    sub.add_argument("--out", type=Path, required=True,
                     help="output folder: summary.parquet (a row per variant) and asset_pnl.parquet")
    _scheduler_argument(sub)

    sub = command("explain", "Explain one straddle day by day: anchors, good days, entry, expiry, valuation.",
                  _explain)
    sub.add_argument("amt", type=Path, metavar="AMT", help="asset master table (YAML)")
    sub.add_argument("--prices", required=True, help="price store (as for backtest)")
    sub.add_argument("--overrides", type=Path, metavar="CSV", help="expiry overrides (default as for backtest)")
    sub.add_argument("asset", metavar="ASSET", help="Underlying, e.g. 'CL Comdty'")
    sub.add_argument("expiry_month", metavar="YYYY-MM", help="expiry month")
    sub.add_argument("entry", type=int, metavar="N", help="schedule entry number (1-based)")
    sub.add_argument("--start", type=int, metavar="YEAR",
                     help="first expiry year of the backtest whose straddle_id to show (default: the expiry year)")
    sub.add_argument("--pattern", default=".", metavar="RX", help="the backtest's --pattern (for the straddle_id)")
    sub.add_argument("--all", action="store_true", help="the backtest's --all (for the straddle_id)")
    _run_options(sub)

    sub = command("report", "Write a self-contained HTML report (charts, tables, summary.json) of a backtest folder.",
                  _report)
    sub.add_argument("dir", type=Path, metavar="DIR", help="backtest folder (as written by 'straddles backtest')")
    sub.add_argument("--out", type=Path, metavar="HTML",
                     help="report file (default DIR/report.html); charts and summary.json go to <name>_files/")

    sub = command("explore", "Open a local web app to explore a backtest folder (needs the 'explore' extra).",
                  _explore)
    sub.add_argument("dir", type=Path, metavar="RESULTS_DIR", help="backtest folder (as written by 'straddles backtest')")
    sub.add_argument("--port", type=int, default=8050, help="port to listen on (default 8050)")
    sub.add_argument("--host", default="127.0.0.1",
                     help="address to bind (default 127.0.0.1: this machine only; the app has no login)")
    sub.add_argument("--sweep", type=Path, metavar="FILE",
                     help="sweep Parquet file for the strategy tab (default: RESULTS_DIR/sweep.parquet if present)")

    sub = command("bench", "Time a backtest stage by stage (two runs; the first compiles) against a NumPy floor.",
                  _bench)
    sub.add_argument("amt", type=Path, metavar="AMT", help="asset master table (YAML)")
    sub.add_argument("--start", type=int, default=2001, metavar="YEAR", help="first expiry year (default 2001)")
    sub.add_argument("--end", type=int, default=2026, metavar="YEAR", help="last expiry year (default 2026)")
    source = sub.add_mutually_exclusive_group(required=True)
    source.add_argument("--prices", help="price store to read")
    source.add_argument("--synth", action="store_true", help="generate synthetic prices first (not timed)")
    sub.add_argument("--days", action="store_true", help="also materialize and write the day table")
    sub.add_argument("--greeks", action="store_true", help="time the runs with Greeks and attribution (SPEC 17)")
    sub.add_argument("--costs", action="store_true", help="time the runs with the AMT's costs (SPEC 18)")
    sub.add_argument("--no-processes", action="store_true",
                     help="skip timing 'straddles backtest' as fresh processes")
    sub.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")

    sub = command("cache", "Show (info) or empty (clear) the on-disk caches of parsed AMTs and price stores.",
                  _cache)
    sub.add_argument("action", choices=("info", "clear"), help="info: folders, entries and sizes; clear: delete them")

    sub = command("demo", "Synthesize prices for the bundled example AMT, backtest it and write the report.",
                  _demo)
    sub.add_argument("--out", type=Path, default=Path("straddles-demo"), help="output folder (default ./straddles-demo)")
    return parser


def _amt_arguments(sub, years_required: bool, overrides: bool = True) -> None:
    sub.add_argument("amt", type=Path, metavar="AMT", help="asset master table (YAML)")
    sub.add_argument("--start", type=int, required=years_required, metavar="YEAR", help="first expiry year")
    sub.add_argument("--end", type=int, required=years_required, metavar="YEAR", help="last expiry year")
    sub.add_argument("--pattern", default=".", metavar="RX", help="regex searched in Underlying (default: all)")
    sub.add_argument("--all", action="store_true", help="include dead assets (WeightCap missing or 0)")
    if overrides:
        sub.add_argument("--overrides", type=Path, metavar="CSV",
                         help="expiry overrides (default: backtest.expiry_overrides beside the AMT, "
                              "else overrides.csv beside it)")


def _scheduler_argument(sub) -> None:
    sub.add_argument("--scheduler", metavar="WHERE",
                     help="run on Dask: local:N (N worker processes on this machine) or a scheduler address "
                          "tcp://host:port (needs pip install 'straddles[dask]'); default: in this process")


def _run_options(sub) -> None:
    """The SPEC Part II options shared by backtest and explain (all off by default)."""
    sub.add_argument("--asof", metavar="YYYY-MM-DD|last",
                     help="point-in-time run: ignore prices after this day ('last' = the last date of the "
                          "price source); undecided straddles are 'open' and valued up to it")
    sub.add_argument("--expiry-basis", choices=("realized", "anchor"), default="realized",
                     help="'realized' (default): expiry = first good day from the anchor; 'anchor': expire on "
                          "the expiry anchor, so daily runs never rewrite past rows")
    sub.add_argument("--greeks", action="store_true",
                     help="add gamma, vega, theta and the daily P&L attribution (gamma/theta/vega/residual)")
    sub.add_argument("--costs", nargs="?", const=True, default=None, metavar="FILE.yml",
                     help="charge option and hedge costs: the AMT's Slippage by default, or a cost file "
                          "(keys slippage, slippage_factor, class_spread, hedge_bps)")
    sub.add_argument("--calendars", type=Path, metavar="FILE.yml",
                     help="exchange holiday calendars for BD anchors: a mapping 'Underlying regex: CALENDAR' "
                          "(e.g. 'Curncy$: XNYS')")


def _run_option_values(args) -> dict:
    return dict(asof=args.asof, expiry_basis=args.expiry_basis, greeks=args.greeks, costs=args.costs,
                calendars=args.calendars)


def _strategy_options(sub, capital: bool = True) -> None:
    if capital:
        sub.add_argument("--capital", type=float, help="capital in currency (default: the AMT's backtest.aum, else 1)")
    sub.add_argument("--leverage", type=float, help="leverage (default: the AMT's backtest.leverage, else 1)")
    sub.add_argument("--inception", choices=("entry", "month_start"), default="entry",
                     help="lock each straddle on the day before its entry (default) or before its entry month")
    sub.add_argument("--amt-multipliers", action="store_true", help="apply the AMT's group_risk_multiplier_table")
    sub.add_argument("--lag", type=int, default=0, metavar="K", help="delay the signal weights by K more days")


def _console(stderr: bool = False):
    """A rich console; when output is redirected, wide enough for the tables not to be cut."""
    from rich.console import Console
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 160)


def _selected_amt(args):
    """The command's AMT, loaded once for it; a ``--pattern`` that selects no asset is a user
    error, not an empty run."""
    from .engine.amt import load_amt

    amt = load_amt(args.amt)
    live_only = not getattr(args, "all", False)
    if amt.select(args.pattern, live_only=live_only):
        return amt
    hint = " (it matches only dead assets: add --all)" if live_only and amt.select(args.pattern, False) else ""
    raise StraddlesError(f"{args.amt}: --pattern {args.pattern!r} selects no asset{hint}")


def _expand(args) -> int:
    from .engine.calendars import calendars_option
    from .engine.straddle_table import build_straddles
    from .engine.outputs import write_table

    amt = _selected_amt(args)
    start = time.perf_counter()
    frame = build_straddles(amt, args.start, args.end, args.pattern, not args.all, args.overrides,
                            calendars=calendars_option(args.calendars))
    table = frame.to_arrow()
    seconds = time.perf_counter() - start
    console = _console()
    n_near = int((table["ntrc"].to_numpy(zero_copy_only=False) == "N").sum()) if table.num_rows else 0
    console.print(f"{table.num_rows:,} straddles ({n_near:,} N, {table.num_rows - n_near:,} F), "
                  f"{frame.n_days():,} straddle-days, {len(frame.assets)} assets, "
                  f"{len(frame.catalog):,} price series; expanded in {seconds:.3f} s")
    console.print(_count_table("status (price-independent)", _value_counts(table["status"], "pending")))
    if args.out:
        write_table(table, args.out)
        console.print(f"wrote {args.out}")
    return 0


def _assets(args) -> int:
    from rich.table import Table

    amt = _selected_amt(args)
    table = Table(title=f"{args.amt}", show_lines=False)
    for name in ("Underlying", "Class", "group", "live", "Vol", "Hedge", "Model", "schedule (fixed entries)"):
        table.add_column(name)
    for asset in amt.select(args.pattern, live_only=not args.all):
        entries = " ".join(entry.fixed_text for entry in amt.entries(asset))
        table.add_row(asset.underlying, asset.asset_class, str(asset.group), "yes" if asset.live else "no",
                      asset.vol_source, asset.hedge_source, asset.model or "", f"{asset.schedule}: {entries}")
    _console().print(table)
    return 0


def _synth(args) -> int:
    from .engine.prices import write_prices
    from .synth import synthesize

    amt = _selected_amt(args)
    start = time.perf_counter()
    with _progress("synthesizing prices") as advance:
        table = synthesize(amt, args.start, args.end, seed=args.seed, pattern=args.pattern,
                           live_only=not args.all, progress=advance)
    write_prices(table, args.out)
    _console().print(f"wrote {table.num_rows:,} price rows to {args.out} in {time.perf_counter() - start:.1f} s")
    return 0


def _validate(args) -> int:
    from rich.table import Table

    from .engine.validate import SPARSE_COVERAGE, validate_prices

    amt = _selected_amt(args)
    with _console(stderr=True).status("checking price coverage"):
        found = validate_prices(amt, args.prices, args.start, args.end, args.pattern, not args.all,
                                args.overrides)
    console = _console()
    console.print(_count_table("straddles by status before valuation (price-independent, plus no_prices)",
                               found.status))
    problems = found.problems()
    series = Table(title=f"series missing from the store or sparse (rows on < {SPARSE_COVERAGE:.0%} of the "
                         f"weekdays their straddles need): {problems.num_rows:,} of {found.series.num_rows:,}")
    for name in ("ticker", "field", "legs", "assets", "needed", "rows", "coverage", "state", "no_prices straddles"):
        series.add_column(name, justify="right" if name in ("rows", "coverage", "no_prices straddles") else "left")
    for row in problems.slice(0, args.rows).to_pylist():
        series.add_row(row["ticker"], row["field"] or "''", row["legs"], row["assets"],
                       f"{row['first_needed']}..{row['last_needed']}", f"{row['rows']:,}",
                       f"{row['weekday_coverage']:.0%}", row["state"], f"{row['no_prices_straddles']:,}")
    console.print(series)
    cells = found.by_asset_year.filter(found.by_asset_year["no_prices"].to_numpy() > 0)
    years = Table(title=f"(asset, expiry year) with no_prices straddles: {cells.num_rows:,}")
    for name in ("asset", "year", "straddles", "no_prices", "series leaving most without prices"):
        years.add_column(name, justify="right" if name in ("year", "straddles", "no_prices") else "left")
    for row in cells.slice(0, args.rows).to_pylist():
        years.add_row(row["asset"], str(row["year"]), f"{row['straddles']:,}", f"{row['no_prices']:,}",
                      row["top_missing_series"])
    console.print(years)
    console.print(f"{found.n_no_prices:,} of {found.n_straddles:,} straddles ({found.no_prices_share:.1%}) would be "
                  f"no_prices: some leg has no row in the store on any day of the straddle's span.")
    return 0


def _backtest(args) -> int:
    from .engine.pipeline import backtest

    amt = _selected_amt(args)
    if args.scheduler is None:
        with _console(stderr=True).status("backtesting"):
            result = backtest(amt, args.prices, args.start, args.end, args.pattern, args.overrides,
                              days=not args.no_days, live_only=not args.all, out=args.out,
                              cohorts=not args.no_cohorts, **_run_option_values(args))
    else:
        from .scale.executor import dask_client
        from .scale.partition import partitioned_backtest

        with dask_client(args.scheduler) as client, _progress(f"backtesting on {args.scheduler}") as advance:
            result = partitioned_backtest(client, amt, args.prices, args.start, args.end, args.pattern,
                                          args.overrides, days=not args.no_days, live_only=not args.all,
                                          out=args.out, progress=advance, cohorts=not args.no_cohorts,
                                          **_run_option_values(args))
    _print_summary(result, args.out)
    _warn_missing_prices(result, args)
    return 0


def _warn_missing_prices(result, args) -> None:
    """Warn, naming the top missing series, when many straddles are ``no_prices``."""
    from .engine.validate import WARN_NO_PRICES, validate_prices

    counts = result.status_counts()
    total = sum(counts.values())
    if not total or counts.get("no_prices", 0) <= WARN_NO_PRICES * total:
        return
    found = validate_prices(args.amt, args.prices, args.start, args.end, args.pattern, not args.all, args.overrides)
    sys.stderr.write(
        f"warning: {counts['no_prices']:,} of {total:,} straddles "
        f"({counts['no_prices'] / total:.0%}) are no_prices: the price store lacks series they need. Top missing: "
        + "; ".join(found.top_missing()) + ". Run 'straddles validate' with the same arguments for the full list.\n")


def _cache(args) -> int:
    from .engine import cache

    console = _console()
    if args.action == "clear":
        freed = cache.clear()
        console.print(f"cleared {cache.cache_root()} ({freed / 2**20:,.1f} MB freed)")
        return 0
    console.print(f"cache folder {cache.cache_root()} (budget {cache.max_bytes() / 2**20:,.0f} MB per kind, "
                  f"least recently used evicted first; set STRADDLES_CACHE_MAX_MB to change it)")
    for item in cache.usage():
        console.print(f"{item.kind}: {item.entries} file{'' if item.entries == 1 else 's'}, {item.bytes / 2**20:,.1f} MB in {item.folder}")
    return 0


def _strategy(args) -> int:
    from .strategies.api import strategy

    with _console(stderr=True).status("running the strategy"):
        result = strategy(args.dir, args.spec, capital=args.capital, leverage=args.leverage,
                          inception=args.inception, amt_multipliers=args.amt_multipliers, lag=args.lag)
    _print_strategy(result)
    if args.out:
        written = result.write(args.out)
        _console().print(f"wrote {', '.join(p.name for p in written)} to {args.out}/")
    if args.report:
        from .results.report import write_report

        path = write_report(args.dir, args.report, strategy=result)
        _console().print(f"report: {path}")
    return 0


def _print_strategy(result) -> None:
    from rich.table import Table

    numbers = result.summary()
    table = Table(title=f"strategy {result.name} (leverage {result.leverage:g}, capital {result.capital:,.0f})")
    table.add_column("statistic")
    table.add_column("value", justify="right")
    for key, value in numbers.items():
        table.add_row(key, "-" if value is None else f"{value:,.2f}")
    pnl = result.pnl["pnl"].to_numpy()
    table.add_row("total P&L, bps of capital", f"{pnl.sum() * 1e4:,.0f}")
    table.add_row("total P&L, currency", f"{pnl.sum() * result.capital:,.2f}")
    _console().print(table)


def _sweep(args) -> int:
    from .engine.outputs import write_table
    from .strategies.sweep import load_grid, sweep

    grid = load_grid(args.grid)
    start = time.perf_counter()
    with _progress("sweeping strategies") as advance:
        table = sweep(args.dir, grid, inception=args.inception, amt_multipliers=args.amt_multipliers, lag=args.lag,
                      leverage=args.leverage, progress=advance, scheduler=args.scheduler)
    seconds = time.perf_counter() - start
    _print_sweep(table, seconds)
    if args.out:
        write_table(table, args.out)
        _console().print(f"wrote {args.out}")
    return 0


def _print_sweep(table, seconds: float, top: int = 10) -> None:
    from rich.table import Table

    view = Table(title=f"top {min(top, table.num_rows)} of {table.num_rows} strategies by Sharpe "
                       f"({seconds:.1f} s, {seconds / max(table.num_rows, 1) * 1e3:.0f} ms each)")
    columns = ("name", "sharpe", "sharpe_long", "sharpe_short", "ann_return_bps", "ann_vol_bps", "max_drawdown_bps")
    for name in columns:
        view.add_column(name, justify="left" if name == "name" else "right")
    for row in table.slice(0, top).to_pylist():
        view.add_row(row["name"], *("-" if row[c] is None else f"{row[c]:,.2f}" for c in columns[1:]))
    _console().print(view)


def _grid(args) -> int:
    from rich.table import Table

    from .engine.amt import load_amt
    from .scale.grid import grid

    amt = load_amt(args.amt)
    with _progress("variants") as advance:
        result = grid(amt, args.prices, args.variants, args.start, args.end, args.pattern, args.overrides,
                      live_only=not args.all, scheduler=args.scheduler, progress=advance)
    result.write(args.out)
    table = Table(title=f"{result.summary.num_rows} variants, expiries {args.start}-{args.end}")
    columns = ("variant", "n_valued", "pnl", "ann_return", "ann_volatility", "sharpe", "max_drawdown")
    for name in columns:
        table.add_column(name, justify="left" if name == "variant" else "right")
    for row in result.summary.select(list(columns)).to_pylist():
        table.add_row(*(_cell(row[name]) for name in columns))
    console = _console()
    console.print(table)
    console.print(f"wrote {args.out / 'summary.parquet'} and {args.out / 'asset_pnl.parquet'}")
    return 0


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def _explain(args) -> int:
    from .results.explain import explain_straddle, render

    explanation = explain_straddle(args.amt, args.prices, args.asset, args.expiry_month, args.entry, args.overrides,
                                   start_year=args.start, pattern=args.pattern, live_only=not args.all,
                                   **_run_option_values(args))
    render(explanation, _console())
    return 0


def _report(args) -> int:
    from .results.report import write_report

    path = write_report(args.dir, args.out)
    _console().print(f"wrote {path} (charts and summary.json in {path.with_name(path.stem + '_files')}/)")
    return 0


def _explore(args) -> int:
    from .explore import serve

    _console(stderr=True).print(f"straddles explore: {args.dir} on http://{args.host}:{args.port}/ (Ctrl-C stops)",
                                highlight=False)
    serve(args.dir, host=args.host, port=args.port, sweep=args.sweep)
    return 0


def _bench(args) -> int:
    from rich.table import Table

    from .bench import run_bench, write_json

    console = _console()
    with console.status("benchmarking (two runs, then fresh processes)"):
        result = run_bench(args.amt, args.start, args.end, prices=args.prices, synth=args.synth, days=args.days,
                           processes=not args.no_processes, greeks=args.greeks, costs=args.costs)
    total = sum(result.stages.values())
    options = "".join(f", {name}" for name, on in (("greeks", args.greeks), ("costs", args.costs)) if on)
    table = Table(title=f"straddles bench: {result.amt}, expiries {args.start}-{args.end}, "
                        f"{'day table written' if args.days else 'no day table'}{options}")
    table.add_column("stage (second run)")
    table.add_column("seconds", justify="right")
    table.add_column("share", justify="right")
    for stage, seconds in result.stages.items():
        table.add_row(stage, f"{seconds:.3f}", f"{seconds / total:.0%}")
    table.add_row("[bold]total[/]", f"[bold]{total:.3f}[/]", "100%")
    console.print(table)
    console.print(f"{result.n_straddles:,} straddles, {result.n_straddle_days:,} straddle-days, "
                  f"{result.n_valued_days:,} valued; {result.straddles_per_second:,.0f} straddles/s, "
                  f"{result.straddle_days_per_second:,.0f} straddle-days/s")
    console.print(f"first run (compile or load JIT cache, cold price store): {result.first_run_seconds:.3f} s; "
                  f"price store cold {result.prices_cold_seconds:.3f} s, cached {result.prices_cached_seconds:.3f} s")
    console.print(f"pricing floor (NumPy ES over {result.n_valued_days:,} days, inputs gathered): "
                  f"{result.floor_seconds:.3f} s; kernel / floor = {result.kernel_over_floor:.2f}")
    console.print(f"peak RSS of this bench process: {result.peak_rss_mb:,.0f} MB")
    for name, run in result.processes.items():
        console.print(f"process `straddles {name}`: {run['wall_seconds']:.2f} s wall, "
                      f"{run['cpu_seconds']:.2f} s CPU, peak RSS {run['peak_rss_mb']:,.0f} MB")
    if args.json:
        write_json(result, args.json)
        console.print(f"wrote {args.json}")
    return 0


#: the strategy ``straddles demo`` runs and reports
DEMO_STRATEGY = "npnl:mac.180.30+srp.365:grank:ivol:none:h"


def _demo(args) -> int:
    from . import example_amt_path, example_grid_path
    from .engine.outputs import check_output_folder, write_table
    from .engine.pipeline import backtest
    from .strategies.api import strategy
    from .strategies.sweep import load_grid, sweep
    from .engine.prices import write_prices
    from .results.report import write_report
    from .synth import synthesize

    amt, console = example_amt_path(), _console()
    start_year, end_year = 2019, 2024
    out = args.out
    check_output_folder(out)
    console.print(f"[bold]straddles demo[/]: bundled example AMT {amt}, expiries {start_year}-{end_year}")
    with _progress("synthesizing prices") as advance:
        prices = synthesize(amt, start_year, end_year, seed=0, progress=advance)
    write_prices(prices, out / "prices.parquet")
    console.print(f"wrote {prices.num_rows:,} synthetic price rows to {out / 'prices.parquet'}")
    with console.status("backtesting"):
        result = backtest(amt, out / "prices.parquet", start_year, end_year, out=out)
    _print_summary(result, out)
    console.print(f"\n[bold]strategy[/] {DEMO_STRATEGY} on the results (positions locked at each straddle's entry)")
    with console.status("running the strategy"):
        book = strategy(out, DEMO_STRATEGY)
    _print_strategy(book)
    book.write(out / "strategy")
    grid = load_grid(example_grid_path())
    console.print(f"\n[bold]sweep[/] of the bundled grid {example_grid_path()}")
    start = time.perf_counter()
    with _progress("sweeping strategies") as advance:
        table = sweep(out, grid, progress=advance)
    _print_sweep(table, time.perf_counter() - start)
    write_table(table, out / "sweep.parquet")
    with console.status("writing the report"):
        path = write_report(out, strategy=book)
    console.print(f"strategy tables in {out / 'strategy'}/, sweep in {out / 'sweep.parquet'}; report: {path}")
    return 0


def _print_summary(result, out: Path) -> None:
    from rich.table import Table

    console = _console()
    console.print(_count_table("straddles by status", result.status_counts()))
    stages = Table(title="time per stage")
    stages.add_column("stage")
    stages.add_column("seconds", justify="right")
    for stage, seconds in result.timings.items():
        stages.add_row(stage, f"{seconds:.3f}")
    stages.add_row("[bold]total[/]", f"[bold]{sum(result.timings.values()):.3f}[/]")
    console.print(stages)
    n_days = int(result.straddles["n_days"].to_numpy().sum())
    console.print(f"{result.straddles.num_rows:,} straddles, {n_days:,} valued straddle-days, "
                  f"{result.asset_pnl.num_rows:,} asset-days; results in {out}/")
    dropped = result.dropped_price_rows
    if any(dropped.values()):
        console.print(f"price rows left out: {dropped.get('non-finite', 0):,} with a NaN, inf or null value "
                      f"(missing, SPEC 9.3), {dropped.get('duplicate', 0):,} duplicates of an equal row "
                      "(collapsed, SPEC 9.4)", highlight=False)
    for line in pnl_summary(result):
        console.print(line, highlight=False)


def pnl_summary(result) -> list[str]:
    """A few lines on the P&L of a backtest: position and units, total, a year, Sharpe, worst
    drawdown, best and worst class (the numbers of the report's summary)."""
    from .results.performance import stats
    from .results.units import NOTIONAL, UNIT_SENTENCES, format_pnl

    by_class = stats(result, "class")
    rows = {row["bucket"]: row for row in by_class.summary.to_pylist()}
    total = rows.pop("total")
    if not total["n_days"]:
        return ["P&L: none (no straddle was valued)."]
    lines = [f"P&L: {UNIT_SENTENCES[NOTIONAL]}",
             f"  total {format_pnl(total['pnl'])} over {total['start']}..{total['end']}, "
             f"{format_pnl(total['ann_return'])} a year, volatility {format_pnl(total['ann_volatility'])} a year, "
             f"Sharpe {_number(total['sharpe'])}",
             f"  worst drawdown {format_pnl(total['max_drawdown'])}"
             + (f" ({total['max_drawdown_peak']} to {total['max_drawdown_trough']})"
                if total["max_drawdown_trough"] else "")]
    if rows:
        best = max(rows.values(), key=lambda r: r["pnl"])
        worst = min(rows.values(), key=lambda r: r["pnl"])
        lines.append(f"  best class {best['bucket']} {format_pnl(best['pnl'])} (Sharpe {_number(best['sharpe'])}), "
                     f"worst class {worst['bucket']} {format_pnl(worst['pnl'])} (Sharpe {_number(worst['sharpe'])})")
    return lines


def _number(value) -> str:
    return "—" if value is None else f"{value:.2f}".replace("-", "−")


def _count_table(title: str, counts: dict):
    from rich.table import Table

    table = Table(title=title)
    table.add_column("status")
    table.add_column("straddles", justify="right")
    for name, count in counts.items():
        table.add_row(str(name), f"{count:,}")
    return table


def _value_counts(column, null_label: str) -> dict:
    return {(item["values"].as_py() or null_label): item["counts"].as_py() for item in column.value_counts()}


class _progress:
    """A rich progress bar usable as a ``progress(done, total)`` callback."""

    def __init__(self, description: str):
        self.description = description

    def __enter__(self):
        from rich.progress import Progress

        self.bar = Progress(console=_console(stderr=True), transient=True)
        self.bar.__enter__()
        self.task = self.bar.add_task(self.description, total=None)
        return self.advance

    def advance(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)


if __name__ == "__main__":
    run()
