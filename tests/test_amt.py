"""AMT loading, selection and validation (SPEC section 2): SPEC-E22 and the 2.8 tables."""

from collections import Counter

import pytest

from conftest import write_amt
from straddles import load_amt
from straddles.errors import AmtError

ASSET = """
  {key}:
    Underlying: {name}
    Class: {cls}
    Vol: {{Source: BBG, Ticker: {name}, Near: N_FIELD, Far: F_FIELD}}
    Hedge: {{Source: nonfut, Ticker: {name}, Field: PX_LAST}}
    Options: s
    WeightCap: {cap}
    Valuation: {{Model: ES}}
"""


def tiny_amt(tmp_path, *assets, schedules="  s: [N0_F3_50, F5_F3_50]\n", extra=""):
    body = "".join(ASSET.format(**{"key": a.get("name"), "cls": "Equity", "cap": 1, **a}) for a in assets)
    return write_amt(tmp_path, f"{extra}expiry_schedules:\n{schedules}amt:\n{body}")


def test_real_file_counts_spec_2_8(real_amt):
    assets = real_amt.assets
    live = [a for a in assets if a.live]
    assert len(assets) == 237 and len(live) == 189
    assert Counter(a.asset_class for a in assets) == {"Currency": 75, "SingleStock": 68, "Swap": 29, "Equity": 25,
                                                      "Commodity": 22, "Rate": 18}
    assert Counter(a.asset_class for a in live) == {"SingleStock": 68, "Currency": 60, "Commodity": 16, "Equity": 16,
                                                    "Swap": 16, "Rate": 13}
    assert Counter(a.vol_source for a in assets) == {"BBG": 199, "CV": 34, "BBG_LMEVOL": 4}
    assert Counter(a.vol_source for a in live) == {"BBG": 165, "CV": 21, "BBG_LMEVOL": 3}
    assert Counter(a.hedge_source for a in assets) == {"nonfut": 175, "calc": 29, "fut": 28, "cds": 5}
    assert Counter(a.hedge_source for a in live) == {"nonfut": 147, "fut": 21, "calc": 16, "cds": 5}
    assert Counter(a.model for a in assets) == {"ES": 203, "NS": 29, "CDS_ES": 5}
    assert Counter(a.model for a in live) == {"ES": 168, "NS": 16, "CDS_ES": 5}
    combos = Counter((a.hedge_source, a.vol_source, a.model) for a in live)
    assert combos == {("nonfut", "BBG", "ES"): 147, ("fut", "BBG", "ES"): 18, ("calc", "CV", "NS"): 16,
                      ("cds", "CV", "CDS_ES"): 5, ("fut", "BBG_LMEVOL", "ES"): 3}
    assert [a.underlying for a in live[:8]] == ["LA Comdty", "LP Comdty", "LX Comdty", "LA Comdty TKRZ",
                                                "LP Comdty TKRZ", "LX Comdty TKRZ", "C Comdty", "CL Comdty"]


def test_real_file_groups_spec_e22(real_amt):
    live = real_amt.select()
    assert Counter(a.group for a in live) == {"stonks": 68, "fx": 60, "rates": 29, "commodity": 16, "equity": 16}


def test_identity_is_underlying_and_aliases_resolve_spec_2_1(real_amt):
    assert real_amt.assets[0].key == "LA Comdty OLD" and real_amt.assets[0].underlying == "LA Comdty"
    assert real_amt.asset("AAPL US Equity").weight_cap == 0.05  # WeightCap: *STONKS
    assert real_amt.asset("USSWAP10 Curncy").hedge["tenor"] == 10
    assert real_amt.asset("USD2Y2Y").hedge["tenor"] == "2_2"
    assert real_amt.asset("USDJPY Curncy").live  # FX_*_NEW aliases


def test_selection_is_regex_search_spec_2_2(real_amt):
    assert [a.underlying for a in real_amt.select("^LA Comdty")] == ["LA Comdty", "LA Comdty TKRZ"]
    assert "USDCLP Curncy" in [a.underlying for a in real_amt.select("CL")]
    assert real_amt.select("cl comdty") == []  # case-sensitive
    assert len(real_amt.select(".", live_only=False)) == 237


def test_example_covers_every_variant(example_amt):
    live = example_amt.select()
    assert {a.vol_source for a in live} == {"BBG", "CV", "BBG_LMEVOL"}
    assert {a.hedge_source for a in live} == {"fut", "nonfut", "cds", "calc"}
    assert {a.model for a in live} == {"ES", "CDS_ES", "NS", "BS"}
    codes = {entry.xprc for a in live for entry in example_amt.entries(a)}
    assert codes == {"F", "R", "W", "BD", "OVERRIDE", "LB"}
    assert not example_amt.asset("HO Comdty").live
    assert example_amt.asset("LP Comdty").key == "LP Comdty LME"


def test_no_group_table_gives_class_spec_2_6(tmp_path):
    amt = load_amt(tiny_amt(tmp_path, {"name": "A US Equity", "cls": "SingleStock"}))
    assert amt.select()[0].group == "SingleStock"


def test_rule_tables_first_hit_and_defaults_spec_2_6(tmp_path):
    extra = """group_table:
  Rows:
  - [Underlying, 'B', 'bees']
  - [Class, '^Equ', 'equity']
liquidity_table:
  Rows:
  - [Underlying, '^A', 0.5]
"""
    amt = load_amt(tiny_amt(tmp_path, {"name": "A X"}, {"name": "B X"}, {"name": "C X", "cls": "Other"}, extra=extra))
    a, b, c = amt.select()
    assert (a.group, b.group, c.group) == ("equity", "bees", "error")  # re.match is anchored at the start
    assert (a.liquidity, b.liquidity) == (0.5, 1) and a.subgroup == "" and a.limit_override == ""


def test_live_filter_spec_2_2(tmp_path):
    amt = load_amt(tiny_amt(tmp_path, {"name": "A", "cap": 0}, {"name": "B", "cap": "null"}, {"name": "C", "cap": 0.1}))
    assert [a.underlying for a in amt.select()] == ["C"]
    assert len(amt.select(live_only=False)) == 3


def test_unknown_model_is_not_an_error_spec_2_7(tmp_path):
    path = tiny_amt(tmp_path, {"name": "A"})
    path.write_text(path.read_text().replace("Model: ES", "Model: BS"))
    assert load_amt(path).select()[0].model == "BS"


def test_only_selected_assets_are_validated_spec_2_7(tmp_path):
    path = tiny_amt(tmp_path, {"name": "GOOD"}, {"name": "BAD", "cap": 0})
    path.write_text(path.read_text().replace("Source: nonfut, Ticker: BAD,", "Source: weird, Ticker: BAD,"))
    amt = load_amt(path)
    assert [a.underlying for a in amt.select()] == ["GOOD"]
    with pytest.raises(AmtError, match="asset 'BAD', field 'Hedge.Source': unknown source 'weird'"):
        amt.select(live_only=False)


@pytest.mark.parametrize("old, new, field, message", [
    ("Source: BBG,", "Source: XYZ,", "Vol.Source", "unknown source 'XYZ'"),
    ("Source: BBG, Ticker: A,", "", "Vol.Source", "missing"),
    ("Source: BBG, Ticker: A,", "Source: BBG,", "Vol.Ticker", "required by Vol.Source BBG"),
    ("Ticker: A, Field: PX_LAST", "Ticker: A", "Hedge.Field", "required by Hedge.Source nonfut"),
    ("Options: s", "Options: nope", "Options", "names no list in expiry_schedules: 'nope'"),
    ("Options: s", "Other: 1", "Options", "missing"),
    ("WeightCap: 1", "WeightCap: lots", "WeightCap", "must be a number"),
    ("Source: nonfut, Ticker: A, Field: PX_LAST",
     "Source: fut, fut_code: A, fut_month_map: FGH, market_code: Comdty", "Hedge.fut_month_map", "12 uppercase"),
    ("Source: nonfut, Ticker: A, Field: PX_LAST",
     "Source: fut, fut_code: A, fut_month_map: FGHJKMNQUVXZ, market_code: Comdty, min_year_offset: -1",
     "Hedge.min_year_offset", "integer >= 0"),
    ("Source: BBG, Ticker: A, Near: N_FIELD, Far: F_FIELD", "Source: BBG_LMEVOL", "Vol.Source", "needs Hedge.Source: fut"),
    ("Ticker: A, Field", "Ticker: 'X:2024-13:Y', Field", "Hedge.Ticker", "split ticker"),
])
def test_validation_errors_name_file_asset_field_spec_2_7(tmp_path, old, new, field, message):
    path = tiny_amt(tmp_path, {"name": "A"})
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    with pytest.raises(AmtError) as info:
        from straddles import expand
        expand(load_amt(path), 2024, 2024)
    text = str(info.value)
    assert str(path) in text and "asset 'A'" in text and f"field '{field}'" in text and message in text


@pytest.mark.parametrize("schedule, message", [
    ("  s: [X0_F3_50]\n", "entry code must be N or F"),
    ("  s: [N0_F3_lots]\n", "weight must be a number"),
    ("  s: [Ne_F3]\n", "entry value must be digits"),
    ("  s: []\n", "schedule is empty"),
])
def test_schedule_errors_name_the_entry_spec_2_7(tmp_path, schedule, message):
    amt = load_amt(tiny_amt(tmp_path, {"name": "A"}, schedules=schedule))
    with pytest.raises(AmtError, match=message) as info:
        amt.select()
    assert "field 'expiry_schedules.s" in str(info.value) and "asset 'A'" in str(info.value)


def test_duplicate_underlying_spec_2_7(tmp_path):
    amt = load_amt(tiny_amt(tmp_path, {"name": "A", "key": "K1"}, {"name": "A", "key": "K2"}))
    with pytest.raises(AmtError, match="duplicate Underlying"):
        amt.select()


def test_unreadable_files(tmp_path):
    with pytest.raises(AmtError, match="cannot read"):
        load_amt(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("amt: [unclosed")
    with pytest.raises(AmtError, match="invalid YAML"):
        load_amt(bad)
    bad.write_text("nothing: here\n")
    with pytest.raises(AmtError, match="field 'amt'"):
        load_amt(bad)


def test_parse_cache_hit_gives_the_same_amt_and_edits_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("STRADDLES_CACHE_DIR", str(tmp_path / "cache"))
    path = tiny_amt(tmp_path, {"name": "A"}, {"name": "B", "cap": 0})
    first = load_amt(path)
    cached = list((tmp_path / "cache" / "amt").glob("*.pickle"))
    assert len(cached) == 1
    again = load_amt(path)
    assert [a.underlying for a in again.assets] == ["A", "B"] and again.assets == first.assets
    path.write_text(path.read_text().replace("WeightCap: 0", "WeightCap: 2"))
    assert load_amt(path).asset("B").live  # an edit is a cache miss
    cached[0].write_bytes(b"garbage")  # a corrupt cache entry is ignored
    path.write_text(path.read_text().replace("WeightCap: 2", "WeightCap: 0"))
    with pytest.warns(UserWarning, match="cached parse .* is damaged"):
        assert not load_amt(path).asset("B").live
