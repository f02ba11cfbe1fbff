"""Compare ``straddles backtest`` as a whole process between two git revisions, in one session.

Each revision is checked out into a temporary git worktree and run through its own
``straddles.cli.main`` (so it works for revisions older than ``straddles bench``). Runs alternate
between the revisions (A B A B ...) after one untimed warm-up each (JIT and price caches), so both
see the same machine state; the table reports the best and the median wall time, the least CPU
time (user + system over all threads: steadier than wall time on a loaded machine) and the peak RSS
each process reports for itself (VmHWM).

    python benchmarks/compare_revisions.py --before 592f643 --after HEAD \\
        --amt ../shared/data/amt.yml --prices prices.parquet --start 2001 --end 2026 --repeat 5 \\
        [--runs no-days+no-cohorts no-days days]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: each revision runs as its ``straddles`` script does: through ``cli.run`` where it has one
#: (which ends the process itself, so the peak RSS is reported from its ``before_exit`` hook)
CHILD = """
import sys
sys.path.insert(0, sys.argv.pop(1))
from straddles import cli

def report_peak_rss():
    status = open("/proc/self/status").read().splitlines()
    sys.stderr.write("VmHWM " + next(l.split()[1] for l in status if l.startswith("VmHWM")) + "\\n")

if hasattr(cli, "run"):
    cli.run(sys.argv[1:], before_exit=report_peak_rss)
code = cli.main(sys.argv[1:])
report_peak_rss()
sys.exit(code)
"""


def run_once(source: Path, args: list[str], cache: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds (user + system, all threads), peak RSS MB) of one process."""
    env = dict(os.environ, STRADDLES_CACHE_DIR=str(cache))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(source), *args], env=env, text=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if done.returncode:
        raise SystemExit(f"{source}: straddles {' '.join(args)} failed:\n{done.stderr}")
    peak = next(line.split()[1] for line in done.stderr.splitlines() if line.startswith("VmHWM "))
    return wall, cpu, int(peak) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--amt", required=True)
    parser.add_argument("--prices", required=True)
    parser.add_argument("--start", default="2001")
    parser.add_argument("--end", default="2026")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", nargs="+", default=["no-days", "days"], metavar="FLAGS",
                        help="one backtest per item: its flags without the dashes joined by '+', or 'days' "
                             "for none (the day table written); default: no-days days")
    args = parser.parse_args()
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="straddles-compare-") as scratch:
        scratch = Path(scratch)
        sources = {}
        for label, revision in (("before", args.before), ("after", args.after)):
            tree = scratch / label
            subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", "-q", str(tree), revision],
                           check=True)
            sources[label] = tree / "src"
        try:
            print(f"| command | {args.before} (before) | {args.after} (after) |")
            print("|---|---|---|")
            for flags in args.runs:
                extra = [] if flags == "days" else [f"--{flag}" for flag in flags.split("+")]
                name = f"backtest {' '.join(extra)}" if extra else "backtest (days written)"
                results = {label: [] for label in sources}
                for round_ in range(args.repeat + 1):
                    for label, source in sources.items():
                        command = ["backtest", str(Path(args.amt).resolve()), "--prices",
                                   str(Path(args.prices).resolve()), "--start", args.start, "--end", args.end,
                                   "--out", str(scratch / f"out-{label}"), *extra]
                        measured = run_once(source, command, scratch / f"cache-{label}")
                        if round_:  # round 0 warms the JIT and price caches
                            results[label].append(measured)
                cells = []
                for label in sources:
                    walls = [wall for wall, _, _ in results[label]]
                    cpu = min(cpu for _, cpu, _ in results[label])
                    peak = max(rss for _, _, rss in results[label])
                    cells.append(f"{min(walls):.2f} s best, {statistics.median(walls):.2f} s median, "
                                 f"{cpu:.2f} s CPU, {peak:,.0f} MB")
                print(f"| `{name}` | {cells[0]} | {cells[1]} |")
        finally:
            for label in sources:
                subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(scratch / label)],
                               check=False)


if __name__ == "__main__":
    main()
