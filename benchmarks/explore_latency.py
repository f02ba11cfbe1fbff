"""Server-side latency of every `straddles explore` interaction on a results folder.

    python benchmarks/explore_latency.py /tmp/explore-real [--repeat 5]

Times what the server runs per interaction: the callback's method of
:class:`straddles.explore.app.Views` plus the JSON encoding Dash applies to its outputs (the
network and the browser's drawing are not included). Filtered views are cached by the app, so each
repetition clears the cache first: the numbers are for a filter set seen for the first time. Prints
the best and the median wall time of ``--repeat`` runs per interaction, the best CPU time, and the
one-off startup costs.

The strategy tab's spec change is timed twice: on a fresh :class:`StrategyContext` (its grid and
cube matrices built, every signal of the spec computed for the first time) and again on the warm
context (signals cached), which is what every later spec sharing those signals costs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import plotly.utils

from straddles.explore.app import Views
from straddles.explore.data import Filters, Results
from straddles.explore.strategy import Strategies

#: the strategy tab's spec (its numbers: :meth:`Views.strategy`) and the options as the widgets send them
STRATEGY_SPEC = "npnl:mac.180.30+srp.365:grank:ivol:none:gah"
STRATEGY_ARGUMENTS = (STRATEGY_SPEC, "entry", [], 0, None)

#: (interaction, method name, arguments); the filter arguments are pattern, classes, groups,
#: schedules, start, end as the widgets send them
NO_FILTER = ("", None, None, None, None, None)
INTERACTIONS = [
    ("type in the asset regex: live match count", "match_count", ("Com",)),
    ("asset regex 'Comdty' (21 assets)", "overview", ("Comdty", None, None, None, None, None)),
    ("asset regex 'Curncy|Index'", "overview", ("Curncy|Index", None, None, None, None, None)),
    ("class = Equity", "overview", ("", ["Equity"], None, None, None, None)),
    ("group = rates", "overview", ("", None, ["rates"], None, None, None)),
    ("schedule = schedule4", "overview", ("", None, None, ["schedule4"], None, None)),
    ("date range 2008-01-01..2012-12-31, all assets", "overview", ("", None, None, None, "2008-01-01", "2012-12-31")),
    ("clear every filter: all 189 assets, uncached", "overview", NO_FILTER),
    ("click an asset: its straddles", "asset_straddles", ({"rowId": "CL Comdty"},) + NO_FILTER),
]


def measure(views: Views, method: str, arguments: tuple, repeat: int, fresh: bool = True) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each of ``repeat`` runs; CPU time (all threads of this process) is
    what the interaction costs on its own, wall time what it took on this machine just now.
    ``fresh``: clear the app's view cache first (a filter set seen for the first time)."""
    def call():
        if fresh:
            views.results._views.clear()
        return getattr(views, method)(*arguments)

    return measure_call(call, repeat)


def measure_call(call, repeat: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of ``call()`` plus the JSON encoding of its output, ``repeat`` times."""
    seconds = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        json.dumps(call(), cls=plotly.utils.PlotlyJSONEncoder)
        seconds.append((time.perf_counter() - wall, time.process_time() - cpu))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    results = Results(args.folder)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    results.view(Filters()).compute()
    opened = time.perf_counter() - start
    views = Views(results)
    print(f"startup: load the folder {loaded:.3f} s; opening view (all assets, every part) {opened:.3f} s")
    if results.days is not None:
        start = time.perf_counter()
        results.days.prepare()
        print(f"day table: memory-mapped copy ready in {time.perf_counter() - start:.3f} s (built once, then cached)")
        start = time.perf_counter()
        results._entry_pnl
        print(f"day table: sums per schedule entry in {time.perf_counter() - start:.3f} s (once per session)")
        INTERACTIONS.insert(-1, ("schedule entry = 1, all assets", "overview", NO_FILTER + ([1],)))
        INTERACTIONS.insert(-1, ("schedule entry = 1, asset regex 'Comdty'", "overview",
                                 ("Comdty", None, None, None, None, None, [1])))

    rows = [(name, measure(views, method, arguments, args.repeat)) for name, method, arguments in INTERACTIONS]
    views.overview(*NO_FILTER)
    rows.append(("back to a filter set seen before (cached view)", measure(views, "overview", NO_FILTER, args.repeat,
                                                                         fresh=False)))
    if results.days is not None:
        straddle_ids = [row["id"] for row in views.asset_straddles({"rowId": "CL Comdty"}, *NO_FILTER)[1]
                        if row["status"] == "valued"]
        rows.append(("click a straddle: its day-by-day view", measure(
            views, "straddle_detail", ({"rowId": straddle_ids[len(straddle_ids) // 2]},), args.repeat)))
    if not views.strategies.unavailable:
        def first_time():
            views.strategies = Strategies(results.backtest)  # a new context: nothing built or cached
            return views.strategy(*STRATEGY_ARGUMENTS)

        rows.append((f"strategy spec {STRATEGY_SPEC}: first time (context built, signals computed)",
                     measure_call(first_time, args.repeat)))
        rows.append(("the same spec again, signals cached", measure(views, "strategy", STRATEGY_ARGUMENTS,
                                                                     args.repeat, fresh=False)))
        rows.append(("another spec on the cached signals (hedge h, rank)", measure(
            views, "strategy", (STRATEGY_SPEC.replace(":grank:", ":rank:").replace(":gah", ":h"),) + STRATEGY_ARGUMENTS[1:],
            args.repeat, fresh=False)))
    print("\n| interaction | wall ms, best | wall ms, median | CPU ms, best |\n|---|---:|---:|---:|")
    for name, seconds in rows:
        wall, cpu = zip(*seconds)
        print(f"| {name} | {min(wall) * 1000:.0f} | {statistics.median(wall) * 1000:.0f} | {min(cpu) * 1000:.0f} |")


if __name__ == "__main__":
    main()
