"""The AMT signal_table recursion language (STRATEGY S3): SPEC-S3, the real rows, the grammar, and
the compiled kernel (`run_program`) against the tree-walking reference (`interpret_program`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write_amt
from straddles import load_amt
from straddles.errors import AmtError, StrategyError
from straddles.strategy.recursion import (BLOCK, MAX_DEPTH, interpret_program, parse_signal_row, run_program,
                                          signal_programs)

NAN = math.nan
RSI = "ema<-ema*0.99+update*0.01; emaa<-emaa*0.99+abs(update)*0.01; rsi<-ema/emaa"


def both(program, x):
    """The signal from the kernel, after checking the reference gives the same (S3)."""
    x = np.asarray(x, dtype=np.float64)
    x = x.reshape(-1, 1) if x.ndim == 1 else x
    fast, slow = run_program(program, x), interpret_program(program, x)
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=0, equal_nan=True)
    return fast


def signal(calc, updates, init="", name="out"):
    return both(parse_signal_row(name, calc, init), updates)[:, 0].tolist()


def same(actual, expected):
    return len(actual) == len(expected) and all(
        (math.isnan(a) and math.isnan(e)) or a == e for a, e in zip(actual, expected))


def assert_error(name, calc, init="", where="signal_table", match=None):
    with pytest.raises(StrategyError) as caught:
        parse_signal_row(name, calc, init, where)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{where} row {name!r}: "), message
    if match is not None:
        assert match in message, message
    return message


# --- SPEC-S3 and the real file -------------------------------------------------------------------

def test_rsi_spec_s3():
    updates = [1.0, -1.0, NAN, 2.0]
    expected = {"ema": [0.01, -9.99999999999994e-05, -9.99999999999994e-05, 0.019901000000000002],
                "emaa": [0.01, 0.0199, 0.0199, 0.039701],
                "rsi": [1.0, -0.005025125628140673, -0.005025125628140673, 0.5012720082617567]}
    for name, values in expected.items():  # a row named like a variable reports that variable
        np.testing.assert_allclose(signal(RSI, updates, name=name), values, rtol=0, atol=1e-15)


def test_real_rows_parse_and_name_their_signals_spec_s3(real_amt):
    programs = signal_programs(real_amt)
    assert list(programs) == ["streak", "sign", "rsi", "calmar", "range"]
    assert {name: p.signal for name, p in programs.items()} == {
        "streak": "streak", "sign": "emas", "rsi": "rsi", "calmar": "calmar", "range": "range"}
    assert programs["rsi"].calc == RSI and programs["rsi"].init == ""


def test_real_rows_agree_with_the_reference_spec_s3(real_amt):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((400, 7))
    x[rng.random(x.shape) < 0.2] = NAN
    x[:50, 2] = NAN  # a late starter
    x[:, 4] = NAN    # never starts
    x[rng.random(x.shape) < 0.01] = np.inf
    x[100:140, 5] = 0.0  # sign 0 and zero ranges
    wide = rng.standard_normal((15, 2 * BLOCK + 3))  # several blocks of assets, in parallel
    wide[rng.random(wide.shape) < 0.3] = NAN
    for program in signal_programs(real_amt).values():
        result = both(program, x)
        assert np.isnan(result[:50, 2]).all() and not np.isnan(result[50:, 2]).all()
        assert np.isnan(result[:, 4]).all()
        both(program, wide)


def test_real_streak_and_sign_by_hand_spec_s3(real_amt):
    programs = signal_programs(real_amt)
    updates = [1.0, 1.0, -1.0, NAN, -1.0, 0.0]
    assert same(both(programs["streak"], updates)[:, 0].tolist(), [0, 1, 0, 0, 1, 0])
    emas = [0.01, 0.01 * 0.99 + 0.01]
    emas += [emas[-1] * 0.99 - 0.01] * 2
    emas += [emas[-1] * 0.99 - 0.01, (emas[-1] * 0.99 - 0.01) * 0.99 + 0.0]
    assert same(both(programs["sign"], updates)[:, 0].tolist(), emas)


# --- semantics -----------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, update, expected", [
    ("update/0", 1.0, NAN), ("0/update", 0.0, NAN), ("update*1e308*10", 1.0, NAN),
    ("log(update)", 0.0, NAN), ("log(update)", -1.0, NAN), ("sqrt(update)", -1.0, NAN),
    ("sqrt(update)", 4.0, 2.0), ("exp(update)", 1000.0, NAN), ("exp(update)", 0.0, 1.0),
    ("abs(update)", -2.5, 2.5), ("sign(update)", -3.0, -1.0), ("sign(update)", 0.0, 0.0),
    ("sign(update)", 7.0, 1.0), ("-update", 2.0, -2.0), ("--update", 2.0, 2.0),
    ("update=1", 1.0, 1.0), ("update=1", 2.0, 0.0), ("update<2", 1.0, 1.0), ("update>2", 1.0, 0.0),
    ("update<=1", 1.0, 1.0), ("update>=1.5", 1.0, 0.0),
    ("log(0)=log(0)", 1.0, 0.0), ("log(0)<1", 1.0, 0.0), ("log(0)>=log(0)", 1.0, 0.0),
    ("if(update, 10, 20)", 0.5, 10.0), ("if(update, 10, 20)", 0.0, 20.0), ("if(log(0), 10, 20)", 1.0, NAN),
    ("if(update>0, log(0), 3)", -1.0, 3.0),
    ("max(1, update, 3)", 5.0, 5.0), ("min(1, update, 3)", 5.0, 1.0), ("max(1, log(0))", 1.0, NAN),
    ("min(log(0), 1, 2)", 1.0, NAN), ("1-2-3", 1.0, -4.0), ("8/4/2", 1.0, 1.0), ("2+3*4", 1.0, 14.0),
    ("(2+3)*4", 1.0, 20.0), ("-2*3", 1.0, -6.0), ("1+2=3", 1.0, 1.0), ("0.1+0.2", 1.0, 0.1 + 0.2),
    ("0.1*3*update", 1.0, 0.1 * 3), ("update*0.99+1*0.01", 3.0, 3.0 * 0.99 + 0.01),
])
def test_operations_spec_s3(expression, update, expected):
    assert same(signal(f"out <- {expression}", [update]), [expected])


def test_state_starts_at_zero_or_init_and_is_held_spec_s3():
    # NaN before the first finite update; a day without one (NaN, inf) changes nothing
    assert same(signal("n<-n+1", [NAN, 5, NAN, np.inf, 7]), [NAN, 1, 1, 1, 2])
    assert same(signal("n<-n+1", [1, 1], init="n<-10"), [11, 12])
    assert same(signal("n<-n*k", [1, 1], init="k<-2; n<-k+1"), [6, 12])
    # init reads state (0) and other init results; the signal assigned only in init is constant
    assert same(signal("a<-update", [4.0, NAN, 5.0], init="out<-b+3", name="out"), [3, 3, 3])
    # the state of each asset is its own
    program = parse_signal_row("n", "n<-n+update")
    assert both(program, [[1, 10], [2, NAN], [3, 30]]).tolist() == [[1, 10], [3, 10], [6, 40]]


def test_signal_variable_rule_spec_s3():
    assert parse_signal_row("r", "a<-1; r<-2; b<-3").signal == "r"
    assert parse_signal_row("r", "a<-1; b<-r+1").signal == "b"       # r only read: last statement
    assert parse_signal_row("r", "a<-1; b<-2;;", "r<-5").signal == "r"  # assigned in init
    assert parse_signal_row("sign", "emas<-emas*0.99+sign(update)*0.01").signal == "emas"


# --- grammar -------------------------------------------------------------------------------------

def test_assignment_arrow_only_after_the_leading_name_spec_s3():
    # b<-a<-1 reads b <- (a < -1)
    assert same(signal("a<-update; b<-a<-1", [-2.0, 0.0, -1.0]), [1.0, 0.0, 0.0])
    assert same(signal("out<-update<-1+3", [-3.0]), [1.0])  # update < (-1)+3
    assert same(signal("out<-update<--1", [0.0]), [1.0])     # update < -(-1)
    assert same(signal("out <-- update", [2.0]), [-2.0])
    assert_error("r", "x<a<-1", match="expected '<-' after 'x', got '<' at column 2")
    assert_error("r", "x < - 1", match="expected '<-'")
    assert_error("r", "x < -1")
    assert_error("r", "x<-a<-1<2", match="chained comparison")


@pytest.mark.parametrize("number, value", [
    ("1", 1.0), (".5", 0.5), ("0.25", 0.25), ("1e3", 1000.0), ("1E+3", 1000.0), ("1e-3", 0.001),
    (".5e1", 5.0), ("007", 7.0), ("1e-400", 0.0)])
def test_numbers_spec_s3(number, value):
    assert signal(f"out<-{number}", [1.0]) == [value]


@pytest.mark.parametrize("number", ["1.", "1e", "1e+", "1.2.3", "2x", "1.e3", "3e2.5"])
def test_malformed_numbers_spec_s3(number):
    assert_error("r", f"out<-{number}", match="malformed number")


def test_blanks_and_empty_statements_spec_s3():
    expected = [1.0, 3.0]
    for calc in ("out<-out+update", "  out <-  out + update  ", ";;out\t<-\tout+update;;", "\nout<-out\n+update;",
                 "out<-(out)+(update)", ";out<-out+update;; ;"):
        assert same(signal(calc, [1.0, 2.0]), expected), calc
    assert_error("r", "out< -1", match="expected '<-'")  # no blank inside "<-", "<=", ">="
    assert_error("r", "out<-update< =1", match="expected an expression, got '=' at column 14")
    assert_error("r", "out<-update> =1", match="expected an expression, got '='")


@pytest.mark.parametrize("calc, init, problem", [
    ("", "", "calc: no statement"),
    (" ;; ", "", "calc: no statement"),
    ("rsi<-(1))", "", "calc: unexpected ')' at column 9"),
    ("a<-(1", "", "calc: expected ')' to close '(' at column 4, got end of text"),
    ("a<-", "", "calc: expected an expression, got end of text"),
    ("a<-1;b<-", "", "calc: expected an expression, got end of text"),
    ("<-1", "", "calc: expected a statement 'name <- expression', got '<-' at column 1"),
    ("1<-a", "", "expected a statement"),
    ("a", "", "calc: expected '<-' after 'a', got end of text"),
    ("a<-1 2", "", "calc: unexpected '2' at column 6"),
    ("a<-1 b<-2", "", "calc: unexpected 'b' at column 6"),
    ("a<-foo(1)", "", "calc: unknown function 'foo' at column 4"),
    ("a<-Abs(1)", "", "unknown function 'Abs'"),
    ("a<-abs", "", "function 'abs' at column 4 needs '('"),
    ("a<-max(1)", "", "max() at column 4 takes 2 or more arguments, got 1"),
    ("a<-if(1,2)", "", "if() at column 4 takes 3 arguments, got 2"),
    ("a<-abs(1,2)", "", "abs() at column 4 takes 1 argument, got 2"),
    ("a<-abs()", "", "expected an expression, got ')'"),
    ("a<-1=1=1", "", "chained comparison at column 7"),
    ("a<-1<2>3", "", "chained comparison"),
    ("update<-1", "", "cannot assign to 'update'"),
    ("max<-1", "", "cannot assign to the function 'max'"),
    ("a<-$", "", "unexpected character '$' at column 4"),
    ("a<-b.c", "", "unexpected character '.' at column 5"),
    ("_a<-1", "", "unexpected character '_' at column 1"),
    ("é<-1", "", "unexpected character 'é'"),
    ("a<-1,2", "", "unexpected ','"),
    ("a<-1e999", "", "number '1e999' at column 4 is too large"),
    ("a<-update", "b<-update", "init: 'update' at column 4: init runs before the first update"),
    ("a<-1", "b<-(", "init: expected an expression"),
    ("a<-" + "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1), "", "nested more than"),
    ("a<-" + "-" * (MAX_DEPTH + 1) + "1", "", "nested more than"),
    ("a<-" + "+".join(["1"] * (MAX_DEPTH + 2)), "", "nested more than"),
    ("a<-" + "abs(" * 400 + "1" + ")" * 400, "", "nested more than"),
])
def test_errors_name_the_row_on_one_line_spec_s3(calc, init, problem):
    message = assert_error("rsi", calc, init, where="amt.yml: signal_table", match=problem)
    assert message.startswith("amt.yml: signal_table row 'rsi': ")


def test_the_example_error_message_spec_s3():
    message = assert_error("rsi", "ema<-ema*0.99+1)", where="amt.yml: signal_table")
    assert message == "amt.yml: signal_table row 'rsi': calc: unexpected ')' at column 16"


@pytest.mark.parametrize("name", ["clm", "vol", "1x", "_x", "a-b", "", "a b", "é", None, 3])
def test_bad_row_names_spec_s3(name):
    with pytest.raises(StrategyError) as caught:
        parse_signal_row(name, "a<-1")
    assert "\n" not in str(caught.value) and repr(name) in str(caught.value)


def test_deep_but_allowed_expressions_run():
    calc = "a<-" + "(" * 40 + "update" + ")" * 40 + "; b<-" + "+".join(["update"] * 30)
    assert same(signal(calc, [2.0]), [60.0])


# --- the AMT section -----------------------------------------------------------------------------

def amt_with_rows(tmp_path, rows: str) -> str:
    return write_amt(tmp_path, f"amt: {{}}\nsignal_table:\n  Columns: [name, calc, init]\n  Rows:\n{rows}")


def test_amt_signal_table_rows_spec_s3(tmp_path, real_amt):
    assert [row[0] for row in real_amt.signal_table] == ["streak", "sign", "rsi", "calmar", "range"]
    amt = load_amt(amt_with_rows(tmp_path, '  - [a, "a<-update", "a<-1"]\n  - [b, "b<-b+1"]\n  - [c, "c<-2", null]\n'))
    assert amt.signal_table == (("a", "a<-update", "a<-1"), ("b", "b<-b+1", ""), ("c", "c<-2", ""))
    assert load_amt(write_amt(tmp_path, "amt: {}\n")).signal_table == ()
    assert signal_programs(load_amt(write_amt(tmp_path, "amt: {}\n"))) == {}


@pytest.mark.parametrize("rows, problem", [
    ('  - [clm, "a<-1", ""]\n', "row name 'clm' is reserved"),
    ('  - [x, "a<-1", ""]\n  - [vol, "a<-1", ""]\n', "field 'signal_table.Rows[1]': row name 'vol' is reserved"),
    ('  - [1x, "a<-1", ""]\n', "row name must be a NAME"),
    ('  - [a_b c, "a<-1", ""]\n', "row name must be a NAME"),
    ('  - [x, "a<-1", ""]\n  - [x, "b<-1", ""]\n', "duplicate row name 'x'"),
    ('  - [x, 3, ""]\n', "row 'x': calc must be a string"),
    ('  - [x]\n', "expected [name, calc, init]"),
    ('  - x\n', "expected [name, calc, init]"),
])
def test_bad_signal_table_rejected_on_load_spec_s3(tmp_path, rows, problem):
    path = amt_with_rows(tmp_path, rows)
    with pytest.raises(AmtError) as caught:
        load_amt(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value) and problem in str(caught.value)


def test_bad_expression_names_the_amt_file_and_row_spec_s3(tmp_path):
    path = amt_with_rows(tmp_path, '  - [good, "a<-1", ""]\n  - [bad, "a<-max(1)", ""]\n')
    amt = load_amt(path)  # expressions are parsed when signals are asked for, before any computation
    with pytest.raises(StrategyError) as caught:
        signal_programs(amt)
    assert str(caught.value) == (f"{path}: signal_table row 'bad': calc: max() at column 4 takes 2 or more "
                                 f"arguments, got 1")


# --- random programs: the kernel against the reference ------------------------------------------

STATE = ["a", "b", "c1", "x_y", "sig"]
NUMBERS = ["0", "1", "2", "0.5", ".5", "10", "1e-3", "2.5E+2", "1e2", "0.99", "3.0e-1", "007"]
COMPARE = ["=", "<", ">", "<=", ">="]
FUNCTIONS = ["abs", "sign", "sqrt", "log", "exp", "max", "min", "if"]


@st.composite
def expressions(draw, depth=3, update=True):
    """Tokens of a random expression of the S3 grammar; a comparison is at the top or in
    parentheses (no chaining), anything else concatenates freely (``a*-b``, ``a--b``)."""
    def node(depth):
        if depth == 0 or draw(st.integers(0, 2)) == 0:
            if draw(st.booleans()):
                return [draw(st.sampled_from(NUMBERS) | st.floats(0, 1e6).map(repr))]
            return [draw(st.sampled_from(STATE + ["update"] * 2 if update else STATE))]
        kind = draw(st.sampled_from(["+", "-", "*", "/", "neg", "()", "cmp", "call", "call"]))
        if kind in ("+", "-", "*", "/"):
            return node(depth - 1) + [kind] + node(depth - 1)
        if kind == "neg":
            return ["-"] + node(depth - 1)
        if kind == "()":
            return ["("] + node(depth - 1) + [")"]
        if kind == "cmp":
            return ["("] + node(depth - 1) + [draw(st.sampled_from(COMPARE))] + node(depth - 1) + [")"]
        function = draw(st.sampled_from(FUNCTIONS))
        count = {"max": draw(st.integers(2, 4)), "min": draw(st.integers(2, 3)), "if": 3}.get(function, 1)
        args = [node(depth - 1) for _ in range(count)]
        return [function, "("] + [t for i, arg in enumerate(args) for t in ([","] if i else []) + arg] + [")"]

    tokens = node(depth)
    if draw(st.booleans()):
        tokens += [draw(st.sampled_from(COMPARE))] + node(depth)
    return tokens


def join(draw, tokens):
    """Tokens with random blanks between them (a blank where two words would merge)."""
    text = tokens[0]
    for token in tokens[1:]:
        merge = (text[-1].isalnum() or text[-1] in "._") and (token[0].isalnum() or token[0] in "._")
        text += (" " if merge else draw(st.sampled_from(["", "", " ", "\t"]))) + token
    return text


@st.composite
def programs(draw, update=True, most=4):
    statements = []
    for _ in range(draw(st.integers(1 if update else 0, most))):
        target = draw(st.sampled_from(STATE))
        statements.append(join(draw, [target, "<-"] + draw(expressions(update=update))))
        statements += [""] * draw(st.integers(0, 1))  # empty statements
    return ";".join(statements)


cells = st.sampled_from([NAN, np.inf, -np.inf, 0.0, 1.0, -1.0, 2.0, 0.5]) | st.floats(-1e3, 1e3)


@st.composite
def inputs(draw):
    days, assets = draw(st.integers(1, 25)), draw(st.integers(1, 3))
    return np.array(draw(st.lists(cells, min_size=days * assets, max_size=days * assets))).reshape(days, assets)


@settings(max_examples=200, deadline=None)
@given(programs(), programs(update=False, most=2), st.sampled_from(STATE + ["other"]), inputs())
def test_random_programs_kernel_equals_reference_spec_s3(calc, init, name, x):
    both(parse_signal_row(name, calc, init), x)


MUTATIONS = {  # name -> (text -> invalid text); each breaks the grammar wherever it lands
    "extra (": lambda text, at: text[:at] + "(" + text[at:],
    "extra )": lambda text, at: text[:at] + ")" + text[at:],
    "bad character": lambda text, at: text[:at] + "$" + text[at:],
    "non-ASCII letter": lambda text, at: text[:at] + "é" + text[at:],
    "unknown function": lambda text, at: text + "; q <- nosuch(a)",
    "wrong arity": lambda text, at: text + ";q<-max(a)",
    "assignment to nothing": lambda text, at: "<-1;" + text,
    "dangling arrow": lambda text, at: text + ";a<-",
    "chained comparison": lambda text, at: text + ";q<-a<b<-c",
    "missing operand": lambda text, at: text + ";q<-a*",
    "trailing operand": lambda text, at: text + " 2",
    "assignment to update": lambda text, at: "update<-1;" + text,
    "malformed number": lambda text, at: text + ";q<-1e+",
}


@settings(max_examples=100, deadline=None)
@given(programs(), st.sampled_from(sorted(MUTATIONS)), st.integers(0, 10_000), st.booleans())
def test_invalid_programs_raise_one_line_errors_spec_s3(calc, mutation, at, in_init):
    text = MUTATIONS[mutation](calc, at % (len(calc) + 1))
    calc, init = ("a<-update", text) if in_init else (text, "")
    assert_error("myrow", calc, init, where="amt.yml: signal_table")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab1.eE+-*/<>=();, \t$_é", max_size=30), inputs())
def test_any_text_parses_or_raises_strategy_error_spec_s3(text, x):
    try:
        program = parse_signal_row("r", text)
    except StrategyError as error:
        assert "\n" not in str(error) and str(error).startswith("signal_table row 'r': ")
    else:
        both(program, x)
