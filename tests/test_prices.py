"""Tests of the price store (SPEC section 9): ingestion, validation, layout, lookup and the cache."""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import straddles.engine.prices as prices
from straddles.errors import PriceStoreError
from straddles.engine.prices import PriceStore, load_prices, write_prices

D = dt.date
JAN2 = 19724  # 2024-01-02 as a day number (SPEC 1.2: 2024-01-01 = 19723)


def day(text: str) -> int:
    return (D.fromisoformat(text) - D(1970, 1, 1)).days


def long_table(rows, date_type=pa.date32()) -> pa.Table:
    """A long table from (ticker, field, date, value) tuples; dates given as ISO strings."""
    tickers, fields, dates, values = zip(*rows) if rows else ((), (), (), ())
    return pa.table(
        {
            "ticker": pa.array(tickers, pa.string()),
            "field": pa.array(fields, pa.string()),
            "date": pa.array([D.fromisoformat(d) for d in dates], pa.date32()).cast(date_type),
            "value": pa.array(values, pa.float64()),
        }
    )


ROWS = [
    ("CL1 Comdty", "PX_LAST", "2024-01-03", 71.3),
    ("USD_fsw0m_10", "", "2024-01-02", 4.25),
    ("CL1 Comdty", "PX_LAST", "2024-01-02", 70.4),
    ("EURUSD Curncy", "none", "2024-01-02", 7.5),
    ("CL1 Comdty", "1M_ATM_VOL", "2024-01-02", 30.0),
    ("EURUSD Curncy", "PX_LAST", "2024-01-05", 1.1),
    ("EURUSD Curncy", "PX_LAST", "2024-01-02", 1.09),
]


def assert_same_store(a: PriceStore, b: PriceStore) -> None:
    assert a.tickers == b.tickers
    assert a.fields == b.fields
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_array_equal(a.dates, b.dates)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.n_dropped_nonfinite == b.n_dropped_nonfinite


@pytest.fixture
def store() -> PriceStore:
    return PriceStore.from_arrow(long_table(ROWS), "rows")


@pytest.fixture
def cache_dir(tmp_path) -> Path:
    return tmp_path / "cache"


def no_rebuild(monkeypatch) -> None:
    """Make any validation or sort fail, to prove a load came from the cache."""

    def boom(*args, **kwargs):
        raise AssertionError("the store was rebuilt instead of read from the cache")

    monkeypatch.setattr(PriceStore, "from_arrow", classmethod(boom))
    monkeypatch.setattr(prices, "_build", boom)


# -- layout -----------------------------------------------------------------------------------


def test_series_sorted_by_ticker_then_field_in_code_point_order(store):
    """Series are ordered by (ticker, field) as strings compare; "" sorts first (SPEC §8.2)."""
    pairs = list(zip(store.tickers, store.fields))
    assert pairs == [
        ("CL1 Comdty", "1M_ATM_VOL"),
        ("CL1 Comdty", "PX_LAST"),
        ("EURUSD Curncy", "PX_LAST"),
        ("EURUSD Curncy", "none"),
        ("USD_fsw0m_10", ""),
    ]
    assert store.n_series == 5 and store.n_rows == 7


def test_per_series_layout_offsets_dates_values(store):
    """offsets delimit each series; dates strictly increase inside it; dtypes are kernel-ready."""
    assert store.offsets.dtype == np.int64 and store.dates.dtype == np.int32 and store.values.dtype == np.float64
    np.testing.assert_array_equal(store.offsets, [0, 1, 3, 5, 6, 7])
    np.testing.assert_array_equal(store.dates[1:3], [day("2024-01-02"), day("2024-01-03")])
    np.testing.assert_array_equal(store.values[1:3], [70.4, 71.3])
    for i in range(store.n_series):
        assert np.all(np.diff(store.dates[store.offsets[i] : store.offsets[i + 1]]) > 0)
    assert not store.dates.flags.writeable and not store.values.flags.writeable


def test_lookup_series_and_value(store):
    """Exact (ticker, field, date) lookup, -1 / None / empty when absent (SPEC §9.2)."""
    tickers = ["EURUSD Curncy", "EURUSD Curncy", "CL1 Comdty", "cl1 comdty"]
    ids = store.lookup(tickers, ["none", "NONE", "PX_LAST", "PX_LAST"])  # strings match exactly
    assert ids.dtype == np.int32
    np.testing.assert_array_equal(ids, [3, -1, 1, -1])
    np.testing.assert_array_equal(store.lookup(np.array(["USD_fsw0m_10"]), pa.array([""])), [4])
    assert store.lookup([], []).shape == (0,)
    assert store.series_index("USD_fsw0m_10", "") == 4
    assert store.series_index("USD_fsw0m_10", "none") == -1
    dates, values = store.series("EURUSD Curncy", "PX_LAST")
    np.testing.assert_array_equal(dates, [day("2024-01-02"), day("2024-01-05")])
    np.testing.assert_array_equal(values, [1.09, 1.1])
    dates, values = store.series("nope", "PX_LAST")
    assert len(dates) == len(values) == 0
    assert store.value("EURUSD Curncy", "PX_LAST", day("2024-01-05")) == 1.1
    assert store.value("EURUSD Curncy", "PX_LAST", D(2024, 1, 5)) == 1.1
    assert store.value("EURUSD Curncy", "PX_LAST", day("2024-01-03")) is None  # no as-of logic
    assert store.value("EURUSD Curncy", "PX_LAST", day("2024-01-06")) is None
    assert store.value("nope", "PX_LAST", JAN2) is None


def test_lookup_rejects_unequal_lengths(store):
    with pytest.raises(ValueError, match="2 tickers but 1 fields"):
        store.lookup(["a", "b"], ["c"])


def test_date_range_and_repr(store):
    assert store.date_range() == (day("2024-01-02"), day("2024-01-05"))
    text = repr(store)
    assert "5 series" in text and "7 rows" in text and "2024-01-02..2024-01-05" in text and "'rows'" in text


def test_empty_store():
    store = PriceStore.from_arrow(long_table([]))
    assert store.n_series == 0 and store.n_rows == 0 and store.date_range() is None
    np.testing.assert_array_equal(store.offsets, [0])
    assert store.lookup(["a"], ["b"]).tolist() == [-1]
    assert store.to_arrow().num_rows == 0
    assert PriceStore.from_arrays([], [], [], []).n_rows == 0


def test_to_arrow_round_trip(store):
    table = store.to_arrow()
    assert table.schema.field("ticker").type == pa.dictionary(pa.int32(), pa.string())
    assert table.schema.field("field").type == pa.dictionary(pa.int32(), pa.string())
    assert table.schema.field("date").type == pa.date32()
    assert table.schema.field("value").type == pa.float64()
    assert table.column("ticker").to_pylist()[:3] == ["CL1 Comdty"] * 3
    assert table.column("field").to_pylist()[-2:] == ["none", ""]
    assert_same_store(PriceStore.from_arrow(table), store)


def test_from_arrays_accepts_day_numbers_dates_and_strings():
    a = PriceStore.from_arrays(["X"] * 3, ["F"] * 3, [JAN2 + 2, JAN2, JAN2 + 1], [3.0, 1.0, 2.0])
    b = PriceStore.from_arrays(["X"] * 3, ["F"] * 3, ["2024-01-04", "2024-01-02", "2024-01-03"], [3.0, 1.0, 2.0])
    c = PriceStore.from_arrays(["X"] * 3, ["F"] * 3, [D(2024, 1, 4), D(2024, 1, 2), D(2024, 1, 3)], [3.0, 1.0, 2.0])
    for s in (a, b, c):
        np.testing.assert_array_equal(s.dates, [JAN2, JAN2 + 1, JAN2 + 2])
        np.testing.assert_array_equal(s.values, [1.0, 2.0, 3.0])


def test_many_ticker_field_combinations_with_extreme_dates():
    """Keys stay exact when (tickers x fields x date span) would overflow one int64 sort key."""
    n = 50_000
    lo, hi = -(2**31) + 1, 2**31 - 1
    table = pa.table(
        {
            "ticker": pa.array([f"T{i:05d}" for i in range(n)]),
            "field": pa.array([f"F{i:05d}" for i in range(n)]),
            "date": pa.array(np.where(np.arange(n) % 2 == 0, lo, hi).astype(np.int32)).cast(pa.date32()),
            "value": pa.array(np.arange(n, dtype=np.float64)[::-1]),
        }
    )
    store = PriceStore.from_arrow(table)
    assert store.n_series == n and store.tickers[:2] == ["T00000", "T00001"] and store.fields[-1] == "F49999"
    assert store.value("T00001", "F00001", hi) == n - 2
    assert store.value("T00002", "F00002", lo) == n - 3


# -- SPEC 9.3 / 9.4 ---------------------------------------------------------------------------


def test_nonfinite_and_null_values_are_missing_and_counted():
    """SPEC §9.3: NaN, ±inf and null values count as missing: dropped and counted."""
    table = pa.table(
        {
            "ticker": ["A", "A", "A", "A", "A"],
            "field": ["F"] * 5,
            "date": pa.array([JAN2, JAN2 + 1, JAN2 + 2, JAN2 + 3, JAN2 + 4], pa.int32()).cast(pa.date32()),
            "value": pa.array([1.0, float("nan"), float("inf"), float("-inf"), None], pa.float64()),
        }
    )
    store = PriceStore.from_arrow(table)
    assert store.n_dropped_nonfinite == 4
    assert store.n_rows == 1
    assert [store.value("A", "F", JAN2 + k) for k in range(5)] == [1.0, None, None, None, None]


def test_nonfinite_duplicate_of_a_finite_row_is_not_a_conflict():
    """A NaN row is no row (SPEC §9.3), so it cannot conflict with a finite one (SPEC §9.4)."""
    store = PriceStore.from_arrays(["A", "A"], ["F", "F"], [JAN2, JAN2], [float("nan"), 5.0])
    assert store.value("A", "F", JAN2) == 5.0 and store.n_dropped_nonfinite == 1


def test_zero_and_negative_values_are_present():
    """SPEC §9.3: values of 0 or below are present; the model decides validity."""
    store = PriceStore.from_arrays(["A", "A", "A"], ["F"] * 3, [JAN2, JAN2 + 1, JAN2 + 2], [0.0, -1.5, -0.0])
    assert store.n_rows == 3 and store.n_dropped_nonfinite == 0
    assert store.value("A", "F", JAN2) == 0.0 and store.value("A", "F", JAN2 + 1) == -1.5


def test_equal_duplicates_collapse():
    """SPEC §9.4: duplicate (ticker, field, date) rows with equal values collapse to one."""
    rows = [("A", "F", "2024-01-02", 1.0), ("B", "F", "2024-01-02", 2.0), ("A", "F", "2024-01-02", 1.0)] * 3
    store = PriceStore.from_arrow(long_table(rows))
    assert store.n_rows == 2
    np.testing.assert_array_equal(store.offsets, [0, 1, 2])
    assert store.value("A", "F", JAN2) == 1.0


def test_conflicting_duplicates_error_names_the_key():
    """SPEC §9.4: conflicting duplicates are an error naming the first (ticker, field, date)."""
    rows = [
        ("CL1 Comdty", "PX_LAST", "2024-01-05", 71.2),
        ("ZZ", "PX_LAST", "2024-01-01", 1.0),
        ("CL1 Comdty", "PX_LAST", "2024-01-05", 71.2),
        ("ZZ", "PX_LAST", "2024-01-01", 2.0),
        ("CL1 Comdty", "PX_LAST", "2024-01-05", 71.3),
    ]
    with pytest.raises(PriceStoreError) as info:
        PriceStore.from_arrow(long_table(rows), "prices.parquet")
    assert str(info.value) == (
        "prices.parquet: conflicting duplicate rows for ('CL1 Comdty', 'PX_LAST', 2024-01-05): "
        "71.2 vs 71.3 (1 more conflicting keys)"
    )


# -- input schema -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "date_array",
    [
        pa.array([D(2024, 1, 2), D(1969, 12, 31)], pa.date32()),
        pa.array([D(2024, 1, 2), D(1969, 12, 31)], pa.date64()),
        pa.array([dt.datetime(2024, 1, 2, 23, 59), dt.datetime(1969, 12, 31, 12)], pa.timestamp("s")),
        pa.array([dt.datetime(2024, 1, 2, 23, 59), dt.datetime(1969, 12, 31, 12)], pa.timestamp("ms")),
        pa.array([dt.datetime(2024, 1, 2, 23, 59), dt.datetime(1969, 12, 31, 12)], pa.timestamp("us")),
        pa.array([dt.datetime(2024, 1, 2, 23, 59), dt.datetime(1969, 12, 31, 12)], pa.timestamp("ns")),
        # 2024-01-03 03:00 UTC is still 2024-01-02 in New York: the local calendar date is taken.
        pa.array([1704250800, -3600 * 12], pa.timestamp("s", tz="America/New_York")),
        pa.array(["2024-01-02", "1969-12-31"], pa.string()),
        pa.array(["2024-01-02", "1969-12-31"], pa.large_string()),
        pa.array(["2024-01-02", "1969-12-31"]).dictionary_encode(),
    ],
    ids=["date32", "date64", "ts_s", "ts_ms", "ts_us", "ts_ns", "ts_tz", "string", "large_string", "dict_string"],
)
def test_date_column_types(date_array):
    """SPEC §1.2: every supported date type becomes the same int32 day number."""
    table = pa.table({"ticker": ["A", "B"], "field": ["F", "F"], "date": date_array, "value": [1.0, 2.0]})
    store = PriceStore.from_arrow(table)
    np.testing.assert_array_equal(store.dates, [JAN2, -1])


@pytest.mark.parametrize(
    "value_array",
    [
        pa.array([1, -2], pa.int64()),
        pa.array([1, -2], pa.int8()),
        pa.array([1.0, -2.0], pa.float32()),
        pa.array([decimal.Decimal("1.00"), decimal.Decimal("-2.00")], pa.decimal128(5, 2)),
    ],
    ids=["int64", "int8", "float32", "decimal"],
)
def test_value_column_numeric_types(value_array):
    table = pa.table({"ticker": ["A", "B"], "field": ["F", "F"], "date": [D(2024, 1, 2)] * 2, "value": value_array})
    np.testing.assert_array_equal(PriceStore.from_arrow(table).values, [1.0, -2.0])


def test_string_column_encodings_and_chunks():
    """large_string, dictionaries (any index width, repeated entries) and chunks give one layout."""
    plain = PriceStore.from_arrow(long_table(ROWS))
    table = long_table(ROWS)
    large = table.set_column(0, "ticker", table.column("ticker").cast(pa.large_string()))
    assert_same_store(PriceStore.from_arrow(large), plain)
    narrow = table.set_column(1, "field", table.column("field").cast(pa.dictionary(pa.int8(), pa.string())))
    assert_same_store(PriceStore.from_arrow(narrow), plain)
    # Two chunks, each with its own dictionary in its own order.
    field_chunks = [pa.array([r[1] for r in part]).dictionary_encode() for part in (ROWS[:3], ROWS[3:])]
    chunked = table.set_column(1, "field", pa.chunked_array(field_chunks))
    assert chunked.column("field").num_chunks == 2
    assert_same_store(PriceStore.from_arrow(chunked), plain)
    repeated = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2], pa.int32()), pa.array(["A", "B", "A"]))
    dates = pa.array([D(2024, 1, d) for d in (2, 2, 3)])
    table = pa.table({"ticker": repeated, "field": ["F"] * 3, "date": dates, "value": [1.0, 2.0, 3.0]})
    store = PriceStore.from_arrow(table)
    assert store.tickers == ["A", "B"] and store.value("A", "F", JAN2 + 1) == 3.0


def test_dictionary_value_column_and_out_of_range_dates():
    values = pa.array([1.5, 1.5]).dictionary_encode()
    table = pa.table({"ticker": ["A", "B"], "field": ["F", "F"], "date": [D(2024, 1, 2)] * 2, "value": values})
    np.testing.assert_array_equal(PriceStore.from_arrow(table).values, [1.5, 1.5])
    far = table.set_column(2, "date", pa.array([0, 2**62], pa.timestamp("s")))
    with pytest.raises(PriceStoreError, match="^t: column 'date' holds dates outside the date32 range$"):
        PriceStore.from_arrow(far, "t")


def test_extra_columns_are_ignored(store):
    table = long_table(ROWS).append_column("source", pa.array(["x"] * len(ROWS)))
    assert_same_store(PriceStore.from_arrow(table), store)


def test_record_batch_source(store):
    batch = long_table(ROWS).to_batches()[0]
    assert_same_store(PriceStore.from_arrow(batch), store)
    assert_same_store(load_prices(batch), store)


def test_missing_column_names_source_and_column():
    table = long_table(ROWS).drop_columns(["value"])
    message = r"^prices\.arrow: missing column 'value' \(columns present: ticker, field, date\)$"
    with pytest.raises(PriceStoreError, match=message):
        PriceStore.from_arrow(table, "prices.arrow")


@pytest.mark.parametrize("column", ["ticker", "field", "date"])
def test_null_key_is_an_error_naming_the_row(column):
    table = long_table(ROWS)
    index = table.column_names.index(column)
    values = table.column(column).to_pylist()
    values[4] = None
    table = table.set_column(index, column, pa.array(values, table.schema.field(column).type))
    with pytest.raises(PriceStoreError, match=rf"^t: row 4: {column} is null$"):
        PriceStore.from_arrow(table, "t")


def test_unparseable_string_date_names_the_row():
    dates = ["2024-01-02"] * 70_000
    dates[66_000] = "2024-02-30"
    table = pa.table({"ticker": ["A"] * 70_000, "field": ["F"] * 70_000, "date": dates, "value": np.arange(70_000.0)})
    with pytest.raises(PriceStoreError, match=r"^t: row 66000: date '2024-02-30' is not an ISO date YYYY-MM-DD$"):
        PriceStore.from_arrow(table, "t")


@pytest.mark.parametrize(
    ("column", "array", "message"),
    [
        ("value", pa.array(["1.0", "2.0"]), "column 'value' has type string; expected a numeric type"),
        ("date", pa.array([1, 2]), "column 'date' has type int64; expected date32, date64, timestamp or ISO strings"),
        ("ticker", pa.array([1, 2]), "column 'ticker' has type int64; expected strings"),
    ],
)
def test_wrong_column_types_are_errors(column, array, message):
    columns = {"ticker": ["A", "B"], "field": ["F", "F"], "date": [D(2024, 1, 2)] * 2, "value": [1.0, 2.0]}
    columns[column] = array
    with pytest.raises(PriceStoreError, match=f"^t: {message}$"):
        PriceStore.from_arrow(pa.table(columns), "t")


# -- sources ----------------------------------------------------------------------------------


def test_load_prices_passes_a_store_through(store):
    assert load_prices(store) is store


def test_table_source(store):
    assert_same_store(load_prices(long_table(ROWS)), store)


def test_dataframe_source(store):
    frame = pd.DataFrame(ROWS, columns=["ticker", "field", "date", "value"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["ticker"] = frame["ticker"].astype("category")
    frame["extra"] = object()
    loaded = load_prices(frame)
    assert_same_store(loaded, store)
    assert loaded.source == "DataFrame"


def test_arrow_stream_source(store):
    """Any object exporting an Arrow C stream (polars, DuckDB relations, ...) is accepted."""

    class Stream:
        def __arrow_c_stream__(self, requested_schema=None):
            return long_table(ROWS).__arrow_c_stream__(requested_schema)

    loaded = load_prices(Stream())
    assert_same_store(loaded, store)
    assert loaded.source == "Stream"


def test_dataframe_missing_column():
    frame = pd.DataFrame({"ticker": ["A"], "field": ["F"], "value": [1.0]})
    with pytest.raises(PriceStoreError, match="^DataFrame: missing column 'date'"):
        load_prices(frame)


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_source(tmp_path, cache_dir, store, suffix):
    path = tmp_path / f"prices{suffix}"
    pq.write_table(long_table(ROWS[::-1]), path)
    loaded = load_prices(path, cache_dir=cache_dir)
    assert_same_store(loaded, store)
    assert loaded.source == str(path)


def test_parquet_missing_column_names_file(tmp_path, cache_dir):
    path = tmp_path / "prices.parquet"
    pq.write_table(long_table(ROWS).drop_columns(["date"]), path)
    with pytest.raises(PriceStoreError, match=rf"^{re.escape(str(path))}: missing column 'date'"):
        load_prices(path, cache_dir=cache_dir)


def test_unreadable_parquet_file_names_the_file(tmp_path, cache_dir):
    path = tmp_path / "prices.parquet"
    path.write_bytes(b"PAR1 but not really")
    with pytest.raises(PriceStoreError, match=rf"^{re.escape(str(path))}: cannot read Parquet file"):
        load_prices(path, cache_dir=cache_dir)


def test_csv_source_keeps_empty_and_none_fields(tmp_path, cache_dir):
    """SPEC §8.1/§8.2: "" and "none" are real field names and must not become null."""
    path = tmp_path / "prices.csv"
    path.write_text(
        "date,ticker,field,value,comment\n"
        "2024-01-02,USD_fsw0m_10,,4.25,x\n"
        "2024-01-02,EUR_vol,none,7.5,\n"
        "2024-01-03,EUR_vol,none,,missing\n"
        "2024-01-04,EUR_vol,none,NaN,\n"
        "2024-01-05,EUR_vol,none,inf,\n"
        "2024-01-02,NA,PX_LAST,1,\n"
    )
    store = load_prices(path, cache_dir=cache_dir)
    assert list(zip(store.tickers, store.fields)) == [("EUR_vol", "none"), ("NA", "PX_LAST"), ("USD_fsw0m_10", "")]
    assert store.value("USD_fsw0m_10", "", JAN2) == 4.25
    assert store.value("EUR_vol", "none", JAN2) == 7.5
    assert store.n_rows == 3 and store.n_dropped_nonfinite == 3


def test_csv_bad_date_names_the_line(tmp_path, cache_dir):
    path = tmp_path / "prices.csv"
    path.write_text("ticker,field,date,value\nA,F,2024-01-02,1\nA,F,2024/01/03,2\n")
    message = rf"^{re.escape(str(path))}: line 3: date '2024/01/03' is not an ISO date YYYY-MM-DD$"
    with pytest.raises(PriceStoreError, match=message):
        load_prices(path, cache_dir=cache_dir)


def test_csv_bad_value_names_the_line(tmp_path, cache_dir):
    path = tmp_path / "prices.csv"
    path.write_text("ticker,field,date,value\nA,F,2024-01-02,1\nA,F,2024-01-03,1;5\n")
    with pytest.raises(PriceStoreError, match=rf"^{re.escape(str(path))}: line 3: value '1;5' is not a number$"):
        load_prices(path, cache_dir=cache_dir)


def test_csv_missing_column_and_empty_file(tmp_path, cache_dir):
    path = tmp_path / "prices.csv"
    path.write_text("ticker,field,value\nA,F,1\n")
    message = rf"^{re.escape(str(path))}: missing column 'date' \(columns present: ticker, field, value\)$"
    with pytest.raises(PriceStoreError, match=message):
        load_prices(path, cache_dir=cache_dir)
    path.write_text("")
    with pytest.raises(PriceStoreError, match=rf"^{re.escape(str(path))}: empty CSV file$"):
        load_prices(path, cache_dir=cache_dir)


def test_duckdb_source(tmp_path, cache_dir, store):
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "prices.duckdb"
    table = long_table(ROWS)
    with duckdb.connect(str(path)) as con:
        con.register("rows_view", table)
        con.execute("CREATE TABLE prices AS SELECT *, 'extra' AS note FROM rows_view")
    for text in (f"{path}::prices", f"duckdb:{path}::prices"):
        loaded = load_prices(text, cache_dir=cache_dir)
        assert_same_store(loaded, store)
        assert loaded.source == text
    with pytest.raises(PriceStoreError, match=rf"^{re.escape(str(path))}::nope: cannot read DuckDB table 'nope'"):
        load_prices(f"{path}::nope", cache_dir=cache_dir)
    with pytest.raises(PriceStoreError, match="name the DuckDB table"):
        load_prices(path, cache_dir=cache_dir)
    with pytest.raises(PriceStoreError, match="no such DuckDB file"):
        load_prices(f"{tmp_path}/absent.duckdb::prices", cache_dir=cache_dir)


def test_directory_source(tmp_path, cache_dir, store):
    """A directory's Parquet files form one table; duplicates across files collapse (SPEC §9.4)."""
    folder = tmp_path / "prices"
    (folder / "sub").mkdir(parents=True)
    table = long_table(ROWS)
    pq.write_table(table.slice(0, 4), folder / "part-0.parquet")
    other = table.slice(3)  # row 3 is in both files
    other = other.set_column(0, "ticker", other.column("ticker").cast(pa.large_string()))
    other = other.set_column(2, "date", other.column("date").cast(pa.timestamp("ms")))
    pq.write_table(other, folder / "sub" / "part-1.pq")
    (folder / "README.txt").write_text("not prices")
    (folder / "_SUCCESS").write_text("")
    pq.write_table(long_table([("X", "F", "2024-01-02", 1.0)]), folder / ".hidden.parquet")
    loaded = load_prices(folder, cache_dir=cache_dir)
    assert_same_store(loaded, store)


def test_directory_errors_name_the_file(tmp_path, cache_dir):
    folder = tmp_path / "prices"
    folder.mkdir()
    with pytest.raises(PriceStoreError, match="holds no .parquet or .pq files"):
        load_prices(folder, cache_dir=cache_dir)
    pq.write_table(long_table(ROWS).drop_columns(["field"]), folder / "bad.parquet")
    with pytest.raises(PriceStoreError, match=rf"^{re.escape(str(folder / 'bad.parquet'))}: missing column 'field'"):
        load_prices(folder, cache_dir=cache_dir)


def test_unknown_and_missing_sources(tmp_path):
    with pytest.raises(PriceStoreError, match="no such file or directory"):
        load_prices(tmp_path / "absent.parquet", cache=False)
    (tmp_path / "prices.json").write_text("{}")
    with pytest.raises(PriceStoreError, match="unknown price file type"):
        load_prices(tmp_path / "prices.json", cache=False)
    with pytest.raises(PriceStoreError, match="duckdb:PATH::TABLE"):
        load_prices("duckdb:nothing", cache=False)
    with pytest.raises(TypeError, match="unsupported price source"):
        load_prices(42)


# -- cache ------------------------------------------------------------------------------------


def test_cache_hit_does_not_rebuild(tmp_path, cache_dir, monkeypatch):
    """The second load reads the cache: no validation, no sort, identical arrays."""
    path = tmp_path / "prices.parquet"
    pq.write_table(long_table(ROWS), path)
    first = load_prices(path, cache_dir=cache_dir)
    assert first.cache_path is not None and first.cache_path.parent == cache_dir
    assert [p.name for p in cache_dir.iterdir()] == [first.cache_path.name]
    no_rebuild(monkeypatch)
    second = load_prices(str(path), cache_dir=cache_dir)
    assert_same_store(second, first)
    assert second.cache_path == first.cache_path and second.source == str(path)
    assert not second.dates.flags.writeable and not second.values.flags.writeable
    assert second.value("CL1 Comdty", "PX_LAST", day("2024-01-03")) == 71.3
    assert "cached" in repr(second)


def test_cache_keeps_dropped_count_and_empty_store(tmp_path, cache_dir, monkeypatch):
    path = tmp_path / "prices.csv"
    path.write_text("ticker,field,date,value\nA,F,2024-01-02,nan\n")
    assert load_prices(path, cache_dir=cache_dir).n_dropped_nonfinite == 1
    no_rebuild(monkeypatch)
    second = load_prices(path, cache_dir=cache_dir)
    assert second.n_rows == 0 and second.n_dropped_nonfinite == 1 and second.cache_path is not None


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "prices.parquet"
    pq.write_table(long_table(ROWS), path)
    monkeypatch.setenv("STRADDLES_CACHE_DIR", str(tmp_path / "env_cache"))
    store = load_prices(path)
    assert store.cache_path.parent == tmp_path / "env_cache" / "prices"


def test_no_cache_for_in_memory_sources_or_when_disabled(tmp_path, cache_dir):
    path = tmp_path / "prices.parquet"
    pq.write_table(long_table(ROWS), path)
    assert load_prices(path, cache=False, cache_dir=cache_dir).cache_path is None
    assert load_prices(long_table(ROWS)).cache_path is None
    assert not cache_dir.exists()


def test_cache_invalidated_when_file_changes(tmp_path, cache_dir):
    path = tmp_path / "prices.parquet"
    pq.write_table(long_table(ROWS), path)
    first = load_prices(path, cache_dir=cache_dir)
    changed = [(t, f, d, v + 1) for t, f, d, v in ROWS]
    pq.write_table(long_table(changed), path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, first.cache_path.stat().st_mtime_ns + 10**9))
    second = load_prices(path, cache_dir=cache_dir)
    assert second.cache_path != first.cache_path
    assert second.value("CL1 Comdty", "PX_LAST", day("2024-01-03")) == 72.3
    assert [p.name for p in cache_dir.iterdir()] == [second.cache_path.name]  # the stale cache is gone


def test_cache_invalidated_when_directory_gains_a_file(tmp_path, cache_dir):
    folder = tmp_path / "prices"
    folder.mkdir()
    pq.write_table(long_table(ROWS[:3]), folder / "a.parquet")
    assert load_prices(folder, cache_dir=cache_dir).n_rows == 3
    pq.write_table(long_table(ROWS[3:]), folder / "b.parquet")
    assert load_prices(folder, cache_dir=cache_dir).n_rows == 7


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_cache_is_ignored_and_rebuilt(tmp_path, cache_dir, monkeypatch, damage):
    path = tmp_path / "prices.parquet"
    pq.write_table(long_table(ROWS), path)
    first = load_prices(path, cache_dir=cache_dir)
    data = first.cache_path.read_bytes()
    broken = {"garbage": b"not an arrow file" * 10, "truncated": data[: len(data) // 2], "empty": b""}[damage]
    first.cache_path.write_bytes(broken)
    with pytest.warns(UserWarning, match="price cache .* is damaged"):
        rebuilt = load_prices(path, cache_dir=cache_dir)
    assert_same_store(rebuilt, first)
    no_rebuild(monkeypatch)
    assert_same_store(load_prices(path, cache_dir=cache_dir), first)  # the rebuilt cache is good


def test_cache_of_another_layout_version_is_rebuilt(tmp_path, cache_dir, monkeypatch):
    path = tmp_path / "prices.parquet"
    pq.write_table(long_table(ROWS), path)
    first = load_prices(path, cache_dir=cache_dir)
    monkeypatch.setattr(prices, "CACHE_LAYOUT_VERSION", prices.CACHE_LAYOUT_VERSION + 1)
    second = load_prices(path, cache_dir=cache_dir)
    assert second.cache_path != first.cache_path
    assert_same_store(second, first)


def test_failed_cache_write_warns_and_leaves_no_temp_file(tmp_path, cache_dir, monkeypatch):
    """Cache writes are atomic: a write that fails part-way leaves neither a cache nor a temp file."""
    path = tmp_path / "prices.parquet"
    pq.write_table(long_table(ROWS), path)

    def failing_new_file(sink, schema):
        sink.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(prices.ipc, "new_file", failing_new_file)
    with pytest.warns(UserWarning, match="price cache not written.*disk full"):
        store = load_prices(path, cache_dir=cache_dir)
    assert store.n_rows == 7 and store.cache_path is None
    assert list(cache_dir.iterdir()) == []


def test_stale_temp_files_of_crashed_writes_are_removed(tmp_path, cache_dir):
    """A temp file older than an hour is a crashed write's leftover; a young one may be in use."""
    path = tmp_path / "prices.parquet"
    pq.write_table(long_table(ROWS), path)
    first = load_prices(path, cache_dir=cache_dir)
    stale = cache_dir / f".{first.cache_path.name}.dead.tmp"
    young = cache_dir / f".{first.cache_path.name}.live.tmp"
    stale.write_bytes(b"partial")
    young.write_bytes(b"partial")
    os.utime(stale, (0, 0))
    first.cache_path.unlink()
    second = load_prices(path, cache_dir=cache_dir)
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted([second.cache_path.name, young.name])


def test_write_prices_is_atomic_and_canonical(tmp_path, store, cache_dir):
    path = write_prices(long_table(ROWS[::-1]), tmp_path / "out" / "prices.parquet")
    assert [p.name for p in path.parent.iterdir()] == ["prices.parquet"]
    metadata = pq.ParquetFile(path).metadata
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert pq.read_schema(path).field("ticker").type == pa.dictionary(pa.int32(), pa.string())
    assert_same_store(load_prices(path, cache_dir=cache_dir), store)
    write_prices(store, path)  # overwrite in place
    assert [p.name for p in path.parent.iterdir()] == ["prices.parquet"]
    with pytest.raises(PriceStoreError, match="writes Parquet"):
        write_prices(store, tmp_path / "prices.csv")


def test_write_prices_failure_keeps_the_old_file(tmp_path, store, monkeypatch):
    path = write_prices(store, tmp_path / "prices.parquet")
    before = path.read_bytes()

    def failing_write(table, where, **kwargs):
        Path(where).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(prices.pq, "write_table", failing_write)
    with pytest.raises(OSError, match="disk full"):
        write_prices(store, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["prices.parquet"]


# -- property ---------------------------------------------------------------------------------

TICKERS = ["A", "B b", "", "none", "Ä"]
FIELDS = ["PX_LAST", "none", "", "x"]
NONFINITE = [float("nan"), float("inf"), float("-inf"), None]


@st.composite
def long_tables(draw):
    """Random long tables without conflicting duplicates: each key has one finite value, and its
    rows carry that value or a non-finite one, in random order."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(TICKERS), st.sampled_from(FIELDS), st.integers(-3, 40)),
            unique=True,
            max_size=30,
        )
    )
    rows = []
    for key in keys:
        finite = draw(st.floats(allow_nan=False, allow_infinity=False, width=64))
        for _ in range(draw(st.integers(1, 3))):
            rows.append((*key, draw(st.sampled_from([finite, finite, *NONFINITE]))))
    return draw(st.permutations(rows))


@settings(max_examples=150, deadline=None)
@given(long_tables())
def test_property_value_is_the_last_finite_value_given(rows):
    """SPEC §9.2-9.4: value(t, f, d) is the (last) finite value given for the key, else None."""
    table = pa.table(
        {
            "ticker": pa.array([r[0] for r in rows], pa.string()),
            "field": pa.array([r[1] for r in rows], pa.string()),
            "date": pa.array([r[2] for r in rows], pa.int32()).cast(pa.date32()),
            "value": pa.array([r[3] for r in rows], pa.float64()),
        }
    )
    store = PriceStore.from_arrow(table)
    expected = {}
    for ticker, field, date, value in rows:
        if value is not None and np.isfinite(value):
            expected[(ticker, field, date)] = value
    for ticker in TICKERS:
        for field in FIELDS:
            for date in range(-3, 41):
                assert store.value(ticker, field, date) == expected.get((ticker, field, date))
    assert store.n_rows == len(expected)
    assert store.n_dropped_nonfinite == sum(1 for r in rows if r[3] is None or not np.isfinite(r[3]))
    pairs = list(zip(store.tickers, store.fields))
    assert pairs == sorted(set((t, f) for t, f, _ in expected))
    for i in range(store.n_series):
        assert np.all(np.diff(store.dates[store.offsets[i] : store.offsets[i + 1]]) > 0)
