"""Entry grammar and letter fixing (SPEC section 3): SPEC-E1, SPEC-E2."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from straddles.engine.schedules import (RULE_BD, RULE_OVERRIDE, RULE_UNSUPPORTED, RULE_WEEKDAY, asset_id, fix_letter,
                                 parse_entry, split_code)


@pytest.mark.parametrize("part, expected", [
    ("N0", ("N", "0")), ("F15", ("F", "15")), ("BDa", ("BD", "a")), ("OVERRIDE", ("OVERRIDE", "")),
    ("OVERRIDE15", ("OVERRIDE", "15")), ("W3", ("W", "3")), ("R2", ("R", "2")), ("LBa", ("LB", "a")),
    ("123", ("123", "")), ("", ("", "")),
])
def test_split_code_spec_e2(part, expected):
    assert split_code(part) == expected


def test_missing_weight_is_empty_spec_e2():
    assert parse_entry("N0_F3", "X", 1, 1).wgt == ""


@pytest.mark.parametrize("underlying, md5_prefix, assid, values", [
    ("AUDCHF Curncy", "b0a7e52f", 793199, [5, 9, 13, 17]),
    ("EURUSD Curncy", "17cf9312", 479570, [1, 5, 9, 13]),
    ("USDJPY Curncy", "cb9335b8", 422392, [3, 7, 11, 15]),
    ("USDCAD Curncy", "6c38fa3d", 673405, [1, 5, 9, 13]),
    ("USSWAP10 Curncy", "e95de52a", 244842, [3, 7, 11, 15]),
])
def test_letter_fixing_schedule1_spec_e1(underlying, md5_prefix, assid, values):
    assert asset_id(underlying) == assid == int(md5_prefix, 16) % 1_000_000
    schedule = ["N0_BDa_25", "N0_BDb_25", "N0_BDc_25", "N0_BDd_25"]
    fixed = [parse_entry(text, underlying, i + 1, len(schedule)) for i, text in enumerate(schedule)]
    assert [int(e.xprv) for e in fixed] == values


def test_two_entry_schedule_spec_e1():
    assert asset_id("CL Comdty") == 227638
    second = parse_entry("Fa_OVERRIDEb_0.5", "CL Comdty", 2, 2)
    assert (second.ntrc, second.ntrv, second.xprc, second.xprv, second.wgt) == ("F", "10", "OVERRIDE", "10", "0.5")


@given(st.sampled_from("abcd"), st.integers(1, 12), st.text(min_size=1, max_size=12))
def test_only_position_matters_spec_3_4(letter, schcnt, underlying):
    """The letter itself does not matter; only the entry's position does."""
    for schid in range(1, schcnt + 1):
        values = {fix_letter(x, underlying, schid, schcnt) for x in "abcd"}
        assert len(values) == 1
        assert int(values.pop()) == (schid - 1) * (20 // (schcnt + 1)) + asset_id(underlying) % 5 + 1


@pytest.mark.parametrize("value", ["e", "j", "ab", "A", "0", ""])
def test_other_values_are_not_fixed_spec_3_4(value):
    assert fix_letter(value, "EURUSD Curncy", 1, 4) == value


def test_entry_fields_and_weight_spec_3_5():
    entry = parse_entry("N5_F3_33.3", "AAPL US Equity", 2, 4)
    assert (entry.ntrc, entry.ntrv, entry.xprc, entry.xprv, entry.wgt) == ("N", "5", "F", "3", "33.3")
    assert entry.weight == pytest.approx(0.333) and entry.entry_offset_days == 5
    assert entry.months_before_expiry == 1 and parse_entry("F10_F3", "X", 1, 1).months_before_expiry == 2
    assert parse_entry("N_F3", "X", 1, 1).entry_offset_days == 0
    assert parse_entry("N0_F3", "X", 1, 1).weight == 1.0


@pytest.mark.parametrize("text, rule", [
    ("N0_F3", (RULE_WEEKDAY, 4, 3)), ("N0_R2", (RULE_WEEKDAY, 3, 2)), ("N0_W1", (RULE_WEEKDAY, 2, 1)),
    ("N0_BD13", (RULE_BD, -1, 13)), ("N0_OVERRIDE", (RULE_OVERRIDE, -1, 0)), ("N0_OVERRIDE15", (RULE_OVERRIDE, -1, 0)),
    ("N0_F0", (RULE_UNSUPPORTED, -1, 0)), ("N0_F-1", (RULE_UNSUPPORTED, -1, 0)), ("N0_Fabc", (RULE_UNSUPPORTED, -1, 0)),
    ("N0_F", (RULE_UNSUPPORTED, -1, 0)), ("N0_BD", (RULE_UNSUPPORTED, -1, 0)), ("N0_X3", (RULE_UNSUPPORTED, -1, 0)),
    ("N0_", (RULE_UNSUPPORTED, -1, 0)), ("N0_LBa", (RULE_UNSUPPORTED, -1, 0)), ("N0_BDe", (RULE_UNSUPPORTED, -1, 0)),
])
def test_expiry_rules_spec_3_3_and_e7(text, rule):
    assert parse_entry(text, "EURUSD Curncy", 1, 4).rule == rule


@pytest.mark.parametrize("text, problem", [
    ("X0_F3", "entry code must be N or F"), ("N_", None), ("Ne_F3", "entry value must be digits"),
    ("N0_F3_abc", "weight must be a number"), ("N0_F3_-1", "weight must be a number"), ("N0", "must be"),
    ("N0_F3_1_2", "must be"), ("N0_F3_nan", "weight must be a number"),
])
def test_grammar_errors_spec_3_1(text, problem):
    if problem is None:
        parse_entry(text, "X", 1, 1)  # empty expiry code: kept, unsupported_expiry later
        return
    with pytest.raises(ValueError, match=problem):
        parse_entry(text, "X", 1, 1)


def test_identity_suffix_spec_4_2():
    assert parse_entry("F15_F3_12.5", "AAPL US Equity", 4, 4).suffix == "F|15|F|3|12.5|"
    assert parse_entry("N0_OVERRIDE_33.3", "CL Comdty", 1, 4).suffix == "N|0|OVERRIDE||33.3|"
