"""Issue 10: seeded mutation fuzzing of the example and the real AMT (and their overrides CSV).

Every mutant must end in a result (exit 0) or in one error line (exit 2): never a traceback, never
a hang. The mutations are drawn from a fixed seed, so the test is deterministic; each case runs
in-process under an alarm, so a hang fails the one case instead of the suite.
"""

from __future__ import annotations

import random
import shutil
import signal
from pathlib import Path

import pytest

from straddles.cli import main

# mutants per source file: the real AMT takes ~0.3 s a case (parse and expand 189 assets), the
# example a few ms; together a few seconds
N_MUTANTS = {"example": 60, "real": 15}
CASE_SECONDS = 30

HOSTILE_VALUES = [
    "", "~", "-1", "0", "306783000", "99999999999999999999", "1e400", ".nan", "-.inf", "[1, 2]", "{a: 1}",
    "'(('", "'^(a|a)+$'", "N0_F306783000_25", "N99999999999_F3", "X0_F3", "N0_F3_-5", "N0_F3_1e999", "N0_BDz",
    "*UNDEFINED", "!!python/object/apply:os.system ['true']", "\"\\0\"", "2001-01-01", "true", "'", "\"",
    "&A", "{", "[", "- - -", "? x", "%YAML 1.1", "ÄÖÜ", "\t", "NONE", "fut", "calc", "OVERRIDE", "BBG_LMEVOL",
]
HOSTILE_BYTES = [b"\xff", b"\x00", b"\xc3\x28", b"\r", b"\xef\xbb\xbf", b"\x1b[31m"]
HOSTILE_ENTRIES = ["N0_F306783000_25", "N4294967296_F3", "F0_BD0", "N0_W6", "N_F3", "N0_", "_", "N0_F3_nan",
                   "N0_F3_1_2", "Na_Fb_25", "N0_OVERRIDE7", "N0_R99"]


def mutate(text: bytes, rng: random.Random) -> bytes:
    """One to three random edits of an AMT file: lines deleted, duplicated, swapped or re-indented,
    scalars and schedule entries replaced by hostile values, stray bytes, truncation."""
    lines = text.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        operation = rng.randrange(8)
        if operation == 0:
            del lines[i]
        elif operation == 1:
            lines.insert(i, lines[i])  # often a duplicate key
        elif operation == 2 and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif operation == 3:
            lines[i] = (b"  " + lines[i]) if rng.random() < 0.5 else lines[i][2:]
        elif operation == 4 and b": " in lines[i]:
            key, _, _ = lines[i].partition(b": ")
            lines[i] = key + b": " + rng.choice(HOSTILE_VALUES).encode()
        elif operation == 5:
            position = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:position] + rng.choice(HOSTILE_BYTES) + lines[i][position:]
        elif operation == 6:
            candidates = [k for k, line in enumerate(lines) if b"N0_" in line or b"N5_" in line or b"F10_" in line]
            if candidates:
                k = rng.choice(candidates)
                for entry in (b"N0_", b"N5_", b"F10_"):
                    start = lines[k].find(entry)
                    if start >= 0:
                        end = start
                        while end < len(lines[k]) and lines[k][end:end + 1] not in b",]' \"":
                            end += 1
                        lines[k] = lines[k][:start] + rng.choice(HOSTILE_ENTRIES).encode() + lines[k][end:]
                        break
        else:
            joined = b"\n".join(lines)
            lines = joined[:rng.randrange(len(joined) + 1)].split(b"\n")
    return b"\n".join(lines)


class _CaseTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise _CaseTimeout(f"a mutant ran longer than {CASE_SECONDS} s")


def run_mutants(source: Path, tmp_path: Path, seed: int, n_mutants: int, capsys) -> dict[int, int]:
    rng = random.Random(seed)
    original = source.read_bytes()
    overrides = source.parent / "overrides.csv"
    outcomes = {0: 0, 2: 0}
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for case in range(n_mutants):
            folder = tmp_path / f"case{case}"
            folder.mkdir()
            (folder / "amt.yml").write_bytes(mutate(original, rng))
            if overrides.is_file():
                shutil.copy(overrides, folder / "overrides.csv")
            argv = ["expand", str(folder / "amt.yml"), "--start", "2024", "--end", "2024"]
            if rng.random() < 0.3:
                argv += ["--pattern", rng.choice(["(", "^(a|a)+$", "Comdty", "[", "Curncy$", "\\"])]
            signal.alarm(CASE_SECONDS)
            try:
                code = main(argv)
            finally:
                signal.alarm(0)
            err = capsys.readouterr().err
            assert code in (0, 2), f"case {case}: exit {code}"
            if code == 2:
                assert err.startswith("error: ") and err.count("\n") == 1, f"case {case}: {err!r}"
            outcomes[code] += 1
    finally:
        signal.signal(signal.SIGALRM, previous)
    return outcomes


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
def test_fuzzed_example_amt_ends_in_a_result_or_one_error_line(example_amt_path, tmp_path, capsys):
    outcomes = run_mutants(example_amt_path, tmp_path, 10, N_MUTANTS["example"], capsys)
    assert outcomes[0] > 0 and outcomes[2] > 0  # the mutations reach both outcomes


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
def test_fuzzed_real_amt_ends_in_a_result_or_one_error_line(real_amt_path, tmp_path, capsys):
    outcomes = run_mutants(real_amt_path, tmp_path, 11, N_MUTANTS["real"], capsys)
    assert outcomes[0] > 0 and outcomes[2] > 0
