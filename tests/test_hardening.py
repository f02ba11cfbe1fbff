"""Issue 10 (hardening): no silent wrong numbers from caches or odd input, no leaks, one clean error
for every bad input. One test (or a few) per item of the issue, numbered as there."""

from __future__ import annotations

import datetime as dt
import json
import os
import struct
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import straddles
from conftest import write_amt
from straddles.cli import main
from straddles.engine import amt as amt_module
from straddles.engine import cache, outputs
from straddles.engine.models import es_value, ns_value
from straddles.engine.pipeline import ASSET_PNL_FILE, DAYS_FILE, STRADDLES_FILE, load_backtest
from straddles.engine.prices import PriceStore, load_prices
from straddles.errors import AmtError, OutputError, OverridesError, PriceStoreError, StraddlesError
from straddles.synth import synthesize

SPY = "SPY US Equity"


@pytest.fixture
def cache_env(tmp_path, monkeypatch) -> Path:
    """A private cache folder for one test (parsed AMTs and price stores)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("STRADDLES_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def spy_prices(example_amt_path) -> pa.Table:
    return synthesize(example_amt_path, 2024, 2024, seed=1, pattern="SPY")


def csv_prices(path: Path, value: str) -> Path:
    path.write_text(f"ticker,field,date,value\nA,F,2024-01-02,{value}\nA,F,2024-01-03,1.00\n")
    return path


# -- 1. stale price cache -----------------------------------------------------------------------


def test_1_file_rewritten_with_same_size_and_mtime_is_not_served_from_cache(tmp_path, cache_env):
    """`cp -p`, `rsync -t`, tar: new bytes with the old size and mtime must be a cache miss."""
    path = csv_prices(tmp_path / "prices.csv", "45.66")
    stat = path.stat()
    assert load_prices(path).value("A", "F", dt.date(2024, 1, 2)) == 45.66
    csv_prices(path, "12.34")  # same length
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert load_prices(path).value("A", "F", dt.date(2024, 1, 2)) == 12.34


# -- 2. corruption inside a cache entry ---------------------------------------------------------


def test_2_flipped_bytes_in_a_cached_store_are_detected_and_rebuilt(tmp_path, cache_env):
    path = csv_prices(tmp_path / "prices.csv", "45.66")
    first = load_prices(path)
    data = bytearray(first.cache_path.read_bytes())
    where = data.find(struct.pack("<d", 45.66))
    assert where > 0
    data[where:where + 8] = struct.pack("<d", 9.1e-309)  # a valid float, the wrong price
    first.cache_path.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="price cache .* is damaged .*checksum"):
        again = load_prices(path)
    assert again.value("A", "F", dt.date(2024, 1, 2)) == 45.66
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt entry is good
        assert load_prices(path).value("A", "F", dt.date(2024, 1, 2)) == 45.66


def test_2_a_wrong_but_valid_pickle_in_the_amt_cache_is_not_used(tmp_path, cache_env):
    path = write_amt(tmp_path, "amt:\n  A:\n    Underlying: A\n    WeightCap: 1\n")
    assert [a.underlying for a in straddles.load_amt(path).assets] == ["A"]
    (entry,) = (cache_env / "amt").glob("*.pickle")
    stored, _, _ = entry.read_bytes().partition(b"\n")
    import pickle
    entry.write_bytes(stored + b"\n" + pickle.dumps({"amt": {"Z": {"Underlying": "Z"}}}))
    with pytest.warns(UserWarning, match="cached parse .* is damaged"):
        assert [a.underlying for a in straddles.load_amt(path).assets] == ["A"]


# -- 3. duplicate YAML keys -----------------------------------------------------------------------


@pytest.mark.parametrize("text, key, lines", [
    ("amt:\n  CL:\n    Underlying: CL\n  NG:\n    Underlying: NG\n  CL:\n    Underlying: CL2\n", "CL", (2, 6)),
    ("amt:\n  CL:\n    Underlying: CL\n    Hedge: {Source: fut, Source: nonfut}\n", "Source", (4, 4)),
    ("expiry_schedules:\n  s1: [N0_F3]\n  s1: [N0_F2]\namt: {}\n", "s1", (2, 3)),
])
def test_3_duplicate_keys_in_any_mapping_name_both_lines(tmp_path, text, key, lines):
    path = write_amt(tmp_path, text)
    with pytest.raises(AmtError, match=rf"duplicate key '{key}' at lines {lines[0]} and {lines[1]}"):
        straddles.load_amt(path)


def test_3_merge_keys_may_still_be_overridden(tmp_path):
    path = write_amt(tmp_path, textwrap.dedent("""\
        base: &BASE {Underlying: A, WeightCap: 0}
        amt:
          A:
            <<: *BASE
            WeightCap: 1
        """))
    assert straddles.load_amt(path).asset("A").live


# -- 4. time-zone-aware timestamps --------------------------------------------------------------


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo", "UTC"])
def test_4_utc_midnights_labelled_with_a_zone_keep_their_date(zone):
    """SPEC 1.2 / README "Behaviour choices": instants at midnight UTC keep their UTC date even when
    the column carries a western zone (in New York they are 19:00 the day before)."""
    midnights = [dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), dt.datetime(2024, 1, 3, tzinfo=dt.timezone.utc)]
    table = pa.table({"ticker": ["A", "A"], "field": ["F", "F"],
                      "date": pa.array(midnights, pa.timestamp("us", tz=zone)), "value": [1.0, 2.0]})
    assert PriceStore.from_arrow(table).value("A", "F", dt.date(2024, 1, 2)) == 1.0


def test_4_local_midnights_and_intraday_times_take_the_date_in_the_zone():
    import zoneinfo
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    local = [dt.datetime(2024, 1, 2, tzinfo=tokyo), dt.datetime(2024, 1, 3, tzinfo=tokyo)]  # 15:00 UTC the day before
    table = pa.table({"ticker": ["A", "A"], "field": ["F", "F"],
                      "date": pa.array(local, pa.timestamp("s", tz="Asia/Tokyo")), "value": [1.0, 2.0]})
    assert PriceStore.from_arrow(table).value("A", "F", dt.date(2024, 1, 2)) == 1.0
    new_york = zoneinfo.ZoneInfo("America/New_York")
    closes = [dt.datetime(2024, 1, 2, 16, tzinfo=new_york), dt.datetime(2024, 1, 3, 16, tzinfo=new_york)]
    table = table.set_column(2, "date", pa.array(closes, pa.timestamp("s", tz="America/New_York")))
    assert PriceStore.from_arrow(table).value("A", "F", dt.date(2024, 1, 2)) == 1.0


# -- 5 and 7. schedule values that overflow -----------------------------------------------------


def schedule_amt(tmp_path, entries) -> Path:
    return write_amt(tmp_path, textwrap.dedent(f"""\
        expiry_schedules:
          s: {json.dumps(entries)}
        amt:
          A:
            Underlying: A
            WeightCap: 1
            Options: s
            Vol: {{Source: BBG, Ticker: A, Near: V}}
            Hedge: {{Source: nonfut, Ticker: A, Field: PX_LAST}}
            Valuation: {{Model: ES}}
        """))


@pytest.mark.parametrize("entry, message", [
    ("N0_F306783000_25", "expiry value 306783000 is more than 31"),
    ("N0_BD4294967296", "expiry value 4294967296 is more than 31"),
    ("N306783000_F3_25", "entry offset 306783000 is more than 31 days"),
    ("N" + "9" * 5000 + "_F3", "entry offset 9+ is more than 31 days"),
])
def test_5_values_no_rule_can_mean_are_rejected(tmp_path, entry, message):
    """SPEC 3.1/6.1: a 306783000th Friday does not exist; it used to wrap around int32 into a date."""
    with pytest.raises(AmtError, match=rf"asset 'A', field 'expiry_schedules.s\[0\]': .*{message}"):
        straddles.expand(schedule_amt(tmp_path, [entry]), 2024, 2024)


def test_5_small_values_keep_their_spec_meaning(tmp_path):
    table = straddles.expand(schedule_amt(tmp_path, ["N31_F3", "N0_F6", "N0_BD31", "N0_F031"]), 2024, 2024)
    statuses = table["status"].to_pylist()
    assert "no_anchor" not in statuses[0::4]  # an offset past the month end is allowed (SPEC 6.2)
    for k in (1, 2, 3):  # a 6th Friday, a 31st business day, a 31st Friday: no anchor (SPEC 6.1)
        assert set(statuses[k::4]) == {"no_anchor"}


def test_7_more_than_127_schedule_entries_is_one_clean_error(tmp_path, capsys):
    path = schedule_amt(tmp_path, ["N0_F3"] * 128)
    assert main(["expand", str(path), "--start", "2024", "--end", "2024"]) == 2
    err = capsys.readouterr().err
    assert "128 entries; at most 127" in err and err.count("\n") == 1


# -- 6. non-finite model outputs --------------------------------------------------------------------


def test_6_models_reject_non_finite_outputs_as_they_reject_inputs():
    """SPEC 11: a denormal strike makes S/X infinite; the model must reject, not return inf."""
    assert all(np.isnan(es_value(45.0, 5e-324, 20.0, 30.0)))
    assert all(np.isnan(es_value(45.0, 5e-324, 20.0, 0.0)))
    assert all(np.isnan(ns_value(1e4, 0.0, 50.0, 1e308, 30.0)))  # mv = A * 100 overflows
    assert np.isfinite(es_value(45.0, 44.0, 20.0, 30.0)[0])


def test_6_no_infinity_reaches_the_outputs(example_amt_path, spy_prices):
    """A denormal hedge price on odd days: straddles entered then have a denormal strike, and the
    model's mv on the following (normal) days is +inf; it must be a rejection (null), not inf."""
    hedge = pc.and_(pc.equal(spy_prices["ticker"].cast(pa.string()), SPY),
                    pc.equal(spy_prices["field"].cast(pa.string()), "PX_LAST"))
    odd_day = pc.equal(pc.bit_wise_and(pc.day(spy_prices["date"]), 1), 1)
    values = pc.if_else(pc.and_(hedge, odd_day), pa.scalar(5e-324), spy_prices["value"])
    result = straddles.backtest(example_amt_path, spy_prices.set_column(3, "value", values), 2024, 2024,
                                pattern="SPY")
    for name in ("mv", "delta", "opnl", "hpnl", "pnl"):
        assert not pc.any(pc.is_inf(result.days[name])).as_py(), name
    assert result.days["mv"].null_count > 0
    assert not pc.any(pc.is_inf(result.straddles["pnl_sum"])).as_py()


# -- 7. tracebacks instead of one-line errors ----------------------------------------------------


def test_7_non_utf8_overrides_csv_names_file_and_line(tmp_path):
    path = tmp_path / "overrides.csv"
    path.write_bytes(b"ticker,expiry\nCL Comdty,2024-01-19\nCL\xff Comdty,2024-02-20\n")
    with pytest.raises(OverridesError, match=r"overrides.csv, line 3: not UTF-8"):
        straddles.load_overrides(path)


def two_value_columns() -> pa.Table:
    return pa.Table.from_arrays(
        [pa.array(["A"]), pa.array(["F"]), pa.array([dt.date(2024, 1, 2)]), pa.array([1.0]), pa.array([2.0])],
        names=["ticker", "field", "date", "value", "value"])


@pytest.mark.parametrize("kind", ["arrow", "pandas", "csv", "parquet"])
def test_7_two_value_columns_are_an_error_for_every_source(tmp_path, kind):
    table = two_value_columns()
    if kind == "arrow":
        source = table
    elif kind == "pandas":
        source = table.to_pandas()
    elif kind == "csv":
        source = tmp_path / "p.csv"
        source.write_text("ticker,field,date,value,value\nA,F,2024-01-02,1.0,2.0\n")
    else:
        source = tmp_path / "p.parquet"
        pq.write_table(table, source)
    with pytest.raises(PriceStoreError, match="column 'value' appears 2 times"):
        load_prices(source, cache=False)


def test_7_disk_full_while_writing_is_one_line(example_amt_path, spy_prices, tmp_path, monkeypatch, capsys):
    prices = tmp_path / "prices.parquet"
    pq.write_table(spy_prices, prices)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs.pq, "write_table", full)
    args = ["backtest", str(example_amt_path), "--prices", str(prices), "--start", "2024", "--end", "2024",
            "--pattern", "SPY", "--out", str(tmp_path / "out"), "--no-days"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write: No space left on device" in err
    assert not [p for p in (tmp_path / "out").iterdir()]  # no temporaries left either


def test_7_output_error_is_still_an_oserror():
    """Code that tolerates failed writes (the caches) catches OSError; OutputError must be one."""
    assert issubclass(OutputError, OSError) and issubclass(OutputError, StraddlesError)


# -- 8. catastrophic backtracking ----------------------------------------------------------------


def test_8_a_backtracking_rule_table_regex_is_reported_not_hung(tmp_path, monkeypatch):
    monkeypatch.setattr(amt_module, "REGEX_TIMEOUT_SECONDS", 0.05)
    name = "a" * 40 + "!"
    path = write_amt(tmp_path, textwrap.dedent(f"""\
        group_table:
          Rows:
          - [Underlying, '^(a|a)+$', x]
        amt:
          A:
            Underlying: {name}
        """))
    with pytest.raises(AmtError, match=r"field 'group_table.Rows\[0\]': regex '\^\(a\|a\)\+\$' took over 0.05 s"):
        straddles.load_amt(path)


def test_8_a_backtracking_selection_pattern_is_reported_not_hung(tmp_path, monkeypatch):
    monkeypatch.setattr(amt_module, "REGEX_TIMEOUT_SECONDS", 0.05)
    path = write_amt(tmp_path, f"amt:\n  A:\n    Underlying: {'a' * 40 + '!'}\n    WeightCap: 1\n")
    with pytest.raises(AmtError, match=r"selection pattern .* took over 0.05 s"):
        straddles.load_amt(path).select(r"^(a|aa)+$")


def test_8_selection_keeps_python_re_semantics(example_amt):
    """SPEC 2.2: an unanchored, case-sensitive re.search."""
    assert [a.underlying for a in example_amt.select("^SPY")] == [SPY]
    assert example_amt.select("spy") == []
    with pytest.raises(AmtError, match="invalid selection pattern"):
        example_amt.select("(")


# -- 9. temporaries of killed runs ----------------------------------------------------------------


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_9_temporaries_of_dead_processes_are_removed_by_the_next_write(example_amt_path, spy_prices, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    leftover = out / f".{DAYS_FILE}.{dead_pid()}-0123456789ab.tmp"
    leftover.write_bytes(b"x" * 1000)
    mine = out / f".{DAYS_FILE}.{os.getpid()}-0123456789ab.tmp"  # a live writer's file is kept
    mine.write_bytes(b"x")
    straddles.backtest(example_amt_path, spy_prices, 2024, 2024, pattern="SPY", out=out)
    assert not leftover.exists() and mine.exists()


# -- 10. the results folder as one set -------------------------------------------------------------


def test_10_a_crash_between_renames_leaves_a_set_readers_refuse(example_amt_path, spy_prices, tmp_path, monkeypatch):
    out = tmp_path / "out"
    straddles.backtest(example_amt_path, spy_prices, 2024, 2024, pattern="SPY", out=out)
    load_backtest(out)  # a complete set reads fine
    real_replace, calls = os.replace, []

    def crash_after_first(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies between two renames
        real_replace(source, target)

    other_prices = spy_prices.set_column(3, "value", pc.multiply(spy_prices["value"], 1.01))  # another run
    monkeypatch.setattr(outputs.os, "replace", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        straddles.backtest(example_amt_path, other_prices, 2024, 2024, pattern="SPY", out=out, days=False)
    monkeypatch.undo()
    with pytest.raises(StraddlesError, match="does not match manifest.json"):
        load_backtest(out)
    with pytest.raises(StraddlesError, match="does not match manifest.json"):
        straddles.stats(out)


def test_10_a_file_from_another_run_is_refused(example_amt_path, spy_prices, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    straddles.backtest(example_amt_path, spy_prices, 2024, 2024, pattern="SPY", out=one)
    straddles.backtest(example_amt_path, spy_prices, 2024, 2024, pattern="SPY US", out=two, days=False)
    (one / STRADDLES_FILE).write_bytes((two / ASSET_PNL_FILE).read_bytes())
    with pytest.raises(StraddlesError, match=f"{STRADDLES_FILE} does not match"):
        load_backtest(one, days=False)


def test_10_the_manifest_lists_every_file_of_the_set_and_drops_old_ones(example_amt_path, spy_prices, tmp_path):
    out = tmp_path / "out"
    straddles.backtest(example_amt_path, spy_prices, 2024, 2024, pattern="SPY", out=out)
    manifest = json.loads((out / outputs.MANIFEST_FILE).read_text())
    assert set(manifest["files"]) == {STRADDLES_FILE, DAYS_FILE, ASSET_PNL_FILE, "assets.parquet", "cohorts.arrow"}
    straddles.backtest(example_amt_path, spy_prices, 2024, 2024, pattern="SPY", out=out, days=False, cohorts=False)
    assert not (out / DAYS_FILE).exists() and load_backtest(out).days is None
    assert not (out / "cohorts.arrow").exists() and load_backtest(out).cohorts is None


def test_10_result_folder_is_generic_over_file_names(tmp_path):
    with outputs.result_folder(tmp_path) as temporary:
        temporary("a.parquet").write_bytes(b"one")
        temporary("cohorts.arrow").write_bytes(b"two")
    assert set(outputs.verify_folder(tmp_path, ["a.parquet", "cohorts.arrow"])) == {"a.parquet", "cohorts.arrow"}
    (tmp_path / "cohorts.arrow").write_bytes(b"owt")
    with pytest.raises(StraddlesError, match="cohorts.arrow does not match"):
        outputs.verify_folder(tmp_path, ["cohorts.arrow"])


# -- 11. a truncated cache file ------------------------------------------------------------------


def test_11_a_cache_file_truncated_in_place_is_rebuilt_not_mapped(tmp_path):
    """Run in a child process: mapping a truncated file and reading past its end is a SIGBUS,
    which would kill pytest too. The size is checked (the Arrow footer) before any page is read."""
    script = textwrap.dedent(f"""
        import os, warnings
        from straddles.engine.prices import load_prices
        path = {str(csv_prices(tmp_path / "prices.csv", "45.66"))!r}
        cached = load_prices(path).cache_path
        for size in (os.path.getsize(cached) // 2, 8, 0):
            os.truncate(cached, size)           # another program truncates the file in place
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                store = load_prices(path)
            assert any("damaged" in str(w.message) for w in caught), size
            print(float(store.values.sum()), store.value("A", "F", 19724))
    """)
    env = {**os.environ, "STRADDLES_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["46.66", "45.66"] * 3


def test_11_cache_files_are_replaced_never_rewritten_in_place(tmp_path, cache_env):
    """A rebuild writes a new file and renames it: a reader holding the old mapping keeps its inode."""
    path = csv_prices(tmp_path / "prices.csv", "45.66")
    first = load_prices(path)
    first.cache_path.write_bytes(first.cache_path.read_bytes()[:-8] + b"\0" * 8)  # damage it (in place, here)
    inode = first.cache_path.stat().st_ino
    with pytest.warns(UserWarning, match="damaged"):
        again = load_prices(path)
    assert again.cache_path == first.cache_path and again.cache_path.stat().st_ino != inode
    assert first.value("A", "F", dt.date(2024, 1, 2)) == 45.66


# -- 12. cache size ---------------------------------------------------------------------------------


def test_12_the_cache_is_kept_within_its_budget_least_recently_used_first(tmp_path, cache_env, monkeypatch):
    sources = [csv_prices(tmp_path / f"p{i}.csv", f"{i}.5") for i in range(3)]
    first = load_prices(sources[0])
    size = first.cache_path.stat().st_size
    monkeypatch.setenv("STRADDLES_CACHE_MAX_MB", str(2.5 * size / 2**20))  # room for two entries
    second = load_prices(sources[1])
    os.utime(first.cache_path, (1, 1))
    os.utime(second.cache_path, (2, 2))
    load_prices(sources[0])  # a hit: now the most recently used
    third = load_prices(sources[2])
    assert sorted(p.name for p in (cache_env / "prices").iterdir()) == sorted([first.cache_path.name,
                                                                              third.cache_path.name])


def test_12_cache_info_and_clear(tmp_path, cache_env, capsys):
    load_prices(csv_prices(tmp_path / "p.csv", "1.5"))
    assert main(["cache", "info"]) == 0
    assert "prices: 1 file," in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0
    assert cache.usage()[0].entries == 0 and not (cache_env / "prices").exists()


# -- 13. errors are one line ---------------------------------------------------------------------


def test_13_yaml_errors_are_one_unwrapped_line(tmp_path, capsys):
    path = write_amt(tmp_path, "amt:\n  A: [1,\n  B: {")
    assert main(["expand", str(path), "--start", "2024", "--end", "2024"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "line 4, column 1" in err


def test_13_long_messages_are_not_wrapped(tmp_path, capsys):
    folder = tmp_path / ("long-folder-name-" * 12)
    folder.mkdir()
    assert main(["expand", str(folder / "missing.yml"), "--start", "2024", "--end", "2024"]) == 2
    err = capsys.readouterr().err
    assert len(err) > 200 and err.count("\n") == 1


# -- 14. dropped and collapsed rows are reported ---------------------------------------------------


def test_14_dropped_and_collapsed_price_rows_are_printed(example_amt_path, spy_prices, tmp_path, capsys):
    extra = spy_prices.slice(0, 3)
    nan_rows = extra.set_column(3, "value", pa.array([float("nan"), float("inf"), None], pa.float64()))
    prices = tmp_path / "prices.parquet"
    pq.write_table(pa.concat_tables([spy_prices, extra.slice(0, 2), nan_rows]), prices)
    assert main(["backtest", str(example_amt_path), "--prices", str(prices), "--start", "2024", "--end", "2024",
                 "--pattern", "SPY", "--out", str(tmp_path / "out"), "--no-days"]) == 0
    out = capsys.readouterr().out
    assert "3 with a NaN, inf or null value" in out and "2 duplicates of an equal row" in out


def test_1_a_remembered_source_hash_is_reused_only_while_ctime_is_unchanged(tmp_path, cache_env, monkeypatch):
    """The source hash is remembered (git-index style) once the file has settled; a rewrite that
    restores size and mtime still changes ctime, so it is hashed again."""
    monkeypatch.setattr(cache, "RACY_SECONDS", 0.0)
    path = csv_prices(tmp_path / "prices.csv", "45.66")
    stat = path.stat()
    assert load_prices(path).value("A", "F", dt.date(2024, 1, 2)) == 45.66
    hashed = []
    real = cache.file_checksum
    monkeypatch.setattr(cache, "file_checksum", lambda p: hashed.append(p) or real(p))
    load_prices(path)
    assert hashed == []  # unchanged: the remembered hash is used
    csv_prices(path, "12.34")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_prices(path).value("A", "F", dt.date(2024, 1, 2)) == 12.34
    assert hashed == [path]


def test_13_warnings_are_one_line_too(tmp_path, cache_env, capsys):
    """A damaged cache is rebuilt with a warning; the CLI prints it as one `warning:` line."""
    prices = csv_prices(tmp_path / "prices.csv", "45.66")
    cached = load_prices(prices).cache_path
    cached.write_bytes(b"garbage")
    amt = write_amt(tmp_path, textwrap.dedent("""\
        amt:
          A: {Underlying: A, Class: Equity, WeightCap: 1, Options: s, Valuation: {Model: ES},
              Vol: {Source: BBG, Ticker: A, Near: F}, Hedge: {Source: nonfut, Ticker: A, Field: F}}
        expiry_schedules:
          s: [N0_F3_100]
        """))
    assert main(["backtest", str(amt), "--prices", str(prices), "--start", "2024", "--end", "2024",
                 "--out", str(tmp_path / "out"), "--no-days"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "damaged" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "UserWarning" not in err


@pytest.mark.parametrize("size", [0, 1, 4096, 4097, 3 * 4096 + 5])
def test_file_checksum_over_windows_equals_the_whole_file_digest(tmp_path, monkeypatch, size):
    import mmap
    import xxhash
    from straddles.engine import cache

    monkeypatch.setattr(cache, "CHECKSUM_WINDOW", mmap.ALLOCATIONGRANULARITY)  # several windows
    path = tmp_path / "data.bin"
    data = np.random.default_rng(size).bytes(size)
    path.write_bytes(data)
    assert cache.file_checksum(path) == xxhash.xxh3_128(data).hexdigest() == cache.checksum(data)
