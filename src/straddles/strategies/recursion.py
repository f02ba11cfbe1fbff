"""The AMT ``signal_table`` recursion language (STRATEGY S3): parse, compile, run.

A row ``[name, calc, init]`` is a tiny program over per-asset state, e.g.
``ema<-ema*0.99+update*0.01; emaa<-emaa*0.99+abs(update)*0.01; rsi<-ema/emaa``. It is parsed
here by a recursive-descent parser (never Python ``eval``/``exec``) into a small AST, and the AST
is compiled to bytecode for a register machine: an int64 ``[n, 5]`` array of (opcode,
destination, a, b, c) instructions and the initial register file holding the constants. One
compiled numba interpreter loop (:func:`_run_block`) then runs any program over ``days x assets``, so
the kernel compiles once (``cache=True``) whatever the program.

:func:`interpret_program` walks the AST in plain Python instead: the slow, obviously-correct
reference that the tests compare the kernel with.

Values. Every value a program sees is finite or NaN: a non-finite input is "no update", a literal
must be finite, and every operation whose result is not finite gives NaN. Comparisons give 1.0 or
0.0 (false when either side is NaN).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Union

import numpy as np
from ..jit import njit, prange

from ..engine.amt import SIGNAL_NAME, signal_name_problem
from ..errors import StrategyError

#: the read-only input of ``calc``: the day's value of the chosen input
UPDATE = "update"
#: function name -> (fewest, most) arguments; None = no upper bound
FUNCTIONS = {"abs": (1, 1), "sign": (1, 1), "sqrt": (1, 1), "log": (1, 1), "exp": (1, 1),
             "max": (2, None), "min": (2, None), "if": (3, 3)}
COMPARISONS = ("=", "<", ">", "<=", ">=")
#: deepest expression accepted; real rows nest a few levels, and the parser, the compiler and the
#: reference interpreter recurse once per level
MAX_DEPTH = 50

# ---------------------------------------------------------------------------------------------
# Tokens

_TOKEN = re.compile(rf"""
    (?P<blank>[ \t\r\n]+)
  | (?P<number>(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>{SIGNAL_NAME.pattern})
  | (?P<op><-|<=|>=|[-+*/=<>(),;])
""", re.VERBOSE)
#: what may not touch a number (``1e``, ``1.``, ``2x``): the word reported as malformed
_NUMBER_WORD = re.compile(r"[0-9A-Za-z_.]+")


@dataclass(frozen=True)
class _Token:
    kind: str     # "number", "name", "op" or "end"
    text: str
    column: int   # 1-based


class _SyntaxError(Exception):
    """A problem in one text (calc or init); turned into a StrategyError naming the row."""


def _tokens(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _SyntaxError(f"unexpected character {text[position]!r} at column {position + 1}")
        end = match.end()
        if match.lastgroup == "number" and end < len(text) and _NUMBER_WORD.match(text, end):
            word = _NUMBER_WORD.match(text, position).group()
            raise _SyntaxError(f"malformed number {word!r} at column {position + 1}")
        if match.lastgroup != "blank":
            tokens.append(_Token(match.lastgroup, match.group(), position + 1))
        position = end
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


def _describe(token: _Token) -> str:
    return "end of text" if token.kind == "end" else f"{token.text!r} at column {token.column}"


# ---------------------------------------------------------------------------------------------
# Syntax tree


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Name:
    """A state variable, or ``update``."""
    name: str


@dataclass(frozen=True)
class Negate:
    operand: "Expr"


@dataclass(frozen=True)
class Binary:
    """``+ - * /`` or a comparison."""
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple["Expr", ...]


Expr = Union[Number, Name, Negate, Binary, Call]


@dataclass(frozen=True)
class Assign:
    target: str
    value: Expr


class _Parser:
    """Recursive descent over the S3 grammar; one instance per text."""

    def __init__(self, text: str, allow_update: bool):
        self.tokens = _tokens(text)
        self.index = 0
        self.depth = 0
        self.allow_update = allow_update

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str, after: str) -> None:
        if self.token.text != text or self.token.kind != "op":
            raise _SyntaxError(f"expected {text!r} {after}, got {_describe(self.token)}")
        self.advance()

    def program(self) -> tuple[Assign, ...]:
        statements = []
        while self.token.kind != "end":
            if self.token.text == ";":
                self.advance()
                continue
            statements.append(self.statement())
            if self.token.kind != "end" and self.token.text != ";":
                raise _SyntaxError(f"unexpected {_describe(self.token)}")
        return tuple(statements)

    def statement(self) -> Assign:
        target = self.token
        if target.kind != "name":
            raise _SyntaxError(f"expected a statement 'name <- expression', got {_describe(target)}")
        if target.text == UPDATE:
            raise _SyntaxError(f"cannot assign to {UPDATE!r} (column {target.column}): it is the read-only input")
        if target.text in FUNCTIONS:
            raise _SyntaxError(f"cannot assign to the function {target.text!r} (column {target.column})")
        self.advance()
        self.expect("<-", f"after {target.text!r}")
        return Assign(target.text, self.expr())

    def expr(self) -> Expr:
        left = self.sum()
        if self.token.kind == "op" and self.token.text in (*COMPARISONS, "<-"):
            op = self.advance()
            if op.text == "<-":  # outside the statement head "a<-1" reads a < -1
                self.tokens.insert(self.index, _Token("op", "-", op.column + 1))
            left = Binary("<" if op.text == "<-" else op.text, left, self.sum())
            if self.token.kind == "op" and self.token.text in (*COMPARISONS, "<-"):
                raise _SyntaxError(f"chained comparison at column {self.token.column}: use parentheses")
        return left

    def sum(self) -> Expr:
        left = self.term()
        while self.token.kind == "op" and self.token.text in ("+", "-"):
            left = Binary(self.advance().text, left, self.term())
        return left

    def term(self) -> Expr:
        left = self.unary()
        while self.token.kind == "op" and self.token.text in ("*", "/"):
            left = Binary(self.advance().text, left, self.unary())
        return left

    def unary(self) -> Expr:
        if self.token.kind == "op" and self.token.text == "-":
            column = self.advance().column
            return Negate(self.nested(self.unary, column))
        return self.atom()

    def nested(self, parse, column: int) -> Expr:
        """``parse()`` one level deeper, refusing pathological nesting before Python's stack does."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _SyntaxError(f"expression nested more than {MAX_DEPTH} levels deep at column {column}")
        try:
            return parse()
        finally:
            self.depth -= 1

    def atom(self) -> Expr:
        token = self.advance()
        if token.kind == "number":
            value = float(token.text)
            if not math.isfinite(value):
                raise _SyntaxError(f"number {token.text!r} at column {token.column} is too large for float64")
            return Number(value)
        if token.kind == "op" and token.text == "(":
            inner = self.nested(self.expr, token.column)
            self.expect(")", f"to close '(' at column {token.column}")
            return inner
        if token.kind != "name":
            raise _SyntaxError(f"expected an expression, got {_describe(token)}")
        is_call = self.token.kind == "op" and self.token.text == "("
        if token.text in FUNCTIONS:
            if not is_call:
                raise _SyntaxError(f"function {token.text!r} at column {token.column} needs '(' and arguments")
            return self.call(token)
        if is_call:
            raise _SyntaxError(f"unknown function {token.text!r} at column {token.column} "
                               f"(known: {', '.join(FUNCTIONS)})")
        if token.text == UPDATE and not self.allow_update:
            raise _SyntaxError(f"{UPDATE!r} at column {token.column}: init runs before the first update")
        return Name(token.text)

    def call(self, name: _Token) -> Call:
        self.advance()  # "("
        args = [self.nested(self.expr, name.column)]
        while self.token.kind == "op" and self.token.text == ",":
            self.advance()
            args.append(self.nested(self.expr, name.column))
        self.expect(")", f"to close {name.text}( at column {name.column}")
        fewest, most = FUNCTIONS[name.text]
        if len(args) < fewest or (most is not None and len(args) > most):
            wanted = f"{fewest}" if fewest == most else f"{fewest} or more"
            wanted += " argument" if wanted == "1" else " arguments"
            raise _SyntaxError(f"{name.text}() at column {name.column} takes {wanted}, got {len(args)}")
        return Call(name.text, tuple(args))


def _children(node: Expr) -> tuple[Expr, ...]:
    if isinstance(node, Negate):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    return node.args if isinstance(node, Call) else ()


def _depth(node: Expr) -> int:
    """Height of the tree, without recursion (a long ``a+a+...`` chain is a deep left spine)."""
    deepest, todo = 0, [(node, 1)]
    while todo:
        node, level = todo.pop()
        deepest = max(deepest, level)
        todo += [(child, level + 1) for child in _children(node)]
    return deepest


def _parse(text: str, allow_update: bool) -> tuple[Assign, ...]:
    statements = _Parser(text, allow_update).program()
    for statement in statements:
        if _depth(statement.value) > MAX_DEPTH:
            raise _SyntaxError(f"the expression assigned to {statement.target!r} is nested more than "
                               f"{MAX_DEPTH} levels deep")
    return statements


# ---------------------------------------------------------------------------------------------
# Bytecode: a register machine. An instruction is (opcode, destination, a, b, c), all register
# numbers. An asset's register file is [constants | state slots | update | temporaries]: constants,
# state and `update` are read in place as operands, so only operations are instructions.

(OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_EQ, OP_LT, OP_GT, OP_LE, OP_GE, OP_MAX, OP_MIN, OP_NEG, OP_ABS,
 OP_SIGN, OP_SQRT, OP_LOG, OP_EXP, OP_IF, OP_MOVE) = range(19)
_BINARY_OPS = {"+": OP_ADD, "-": OP_SUB, "*": OP_MUL, "/": OP_DIV, "=": OP_EQ, "<": OP_LT, ">": OP_GT,
               "<=": OP_LE, ">=": OP_GE, "max": OP_MAX, "min": OP_MIN}
_CALL_OPS = {"abs": OP_ABS, "sign": OP_SIGN, "sqrt": OP_SQRT, "log": OP_LOG, "exp": OP_EXP, "if": OP_IF}


class _Compiler:
    """Lay out the registers of init and calc together, then emit their instructions."""

    def __init__(self, *programs: tuple[Assign, ...]):
        consts: dict[float, None] = {}
        names: dict[str, None] = {}
        todo = []
        for program in programs:
            for statement in program:
                names.setdefault(statement.target, None)
                todo.append(statement.value)
        while todo:
            node = todo.pop()
            if isinstance(node, Number):
                consts.setdefault(node.value, None)
            elif isinstance(node, Name) and node.name != UPDATE:
                names.setdefault(node.name, None)
            todo += _children(node)
        self.consts = {value: i for i, value in enumerate(consts)}
        self.slots = {name: len(consts) + i for i, name in enumerate(names)}
        self.update = len(consts) + len(names)
        self.temps = 0

    def program(self, statements: tuple[Assign, ...]) -> np.ndarray:
        code: list[tuple[int, ...]] = []
        for statement in statements:
            target = self.slots[statement.target]
            source = self.value(statement.value, code, 0, target)
            if source != target:
                code.append((OP_MOVE, target, source, 0, 0))
        return np.array(code, dtype=np.int64).reshape(-1, 5)

    def value(self, node: Expr, code: list, free: int, target: int | None = None) -> int:
        """Emit ``node``; return the register holding its value: a constant's or a name's own,
        else ``target`` when given, else the temporary ``free`` (the ones above it are scratch).
        ``target`` is written only by the last instruction, after its operands are read."""
        if isinstance(node, Number):
            return self.consts[node.value]
        if isinstance(node, Name):
            return self.update if node.name == UPDATE else self.slots[node.name]
        if isinstance(node, Call) and node.function in ("max", "min"):  # a left fold
            result = self.value(node.args[0], code, free)
            for count, arg in enumerate(node.args[1:], 2):
                other = self.value(arg, code, free + 1)
                last = count == len(node.args)
                result = self.emit(code, _BINARY_OPS[node.function], target if last else None, free, result, other)
            return result
        if isinstance(node, Negate):
            op, operands = OP_NEG, [node.operand]
        elif isinstance(node, Binary):
            op, operands = _BINARY_OPS[node.op], [node.left, node.right]
        else:
            op, operands = _CALL_OPS[node.function], node.args
        registers = [self.value(operand, code, free + i) for i, operand in enumerate(operands)]
        return self.emit(code, op, target, free, *registers)

    def emit(self, code: list, op: int, target: int | None, free: int, *operands: int) -> int:
        destination = self.update + 1 + free if target is None else target
        self.temps = max(self.temps, free + 1)
        code.append((op, destination, *operands, *[0] * (3 - len(operands))))
        return destination

    def registers(self) -> np.ndarray:
        """The register file before init runs: the constants, then zeros."""
        registers = np.zeros(self.update + 1 + self.temps)
        registers[:len(self.consts)] = list(self.consts)
        return registers


# ---------------------------------------------------------------------------------------------
# Programs


@dataclass(frozen=True)
class SignalProgram:
    """One parsed and compiled signal_table row (STRATEGY S3).

    ``calc_code``/``init_code`` are ``int64[n, 5]`` instructions (opcode, destination, a, b, c)
    over a register file that starts as ``registers``; state variable ``slots[i]`` lives in register
    ``first_slot + i``, the day's input in ``update_register`` and the signal ``signal`` in
    ``signal_register``. Two programs are equal when their name and texts are.
    """

    name: str
    calc: str
    init: str
    signal: str
    slots: tuple[str, ...] = field(compare=False)
    calc_code: np.ndarray = field(compare=False, repr=False)
    init_code: np.ndarray = field(compare=False, repr=False)
    registers: np.ndarray = field(compare=False, repr=False)
    first_slot: int = field(compare=False, repr=False)
    update_register: int = field(compare=False, repr=False)
    signal_register: int = field(compare=False, repr=False)
    calc_ast: tuple[Assign, ...] = field(compare=False, repr=False)
    init_ast: tuple[Assign, ...] = field(compare=False, repr=False)


def parse_signal_row(name: str, calc: str, init: str = "", where: str = "signal_table") -> SignalProgram:
    """Parse and compile the row ``[name, calc, init]``.

    Raises :class:`StrategyError` with one line naming ``where`` and the row, e.g.
    ``amt.yml: signal_table row 'rsi': calc: unexpected ')' at column 17``.
    """
    def error(problem: str) -> StrategyError:
        return StrategyError(f"{where} row {name!r}: {problem}")

    problem = signal_name_problem(name)
    if problem is not None:
        raise error(problem)
    parsed = {}
    for part, text, allow_update in (("calc", calc, True), ("init", init, False)):
        if not isinstance(text, str):
            raise error(f"{part}: must be a string, got {text!r}")
        try:
            parsed[part] = _parse(text, allow_update)
        except _SyntaxError as exc:
            raise error(f"{part}: {exc}") from None
    if not parsed["calc"]:
        raise error("calc: no statement (expected 'name <- expression')")
    assigned = {statement.target for statement in parsed["calc"] + parsed["init"]}
    signal = name if name in assigned else parsed["calc"][-1].target
    compiler = _Compiler(parsed["init"], parsed["calc"])
    init_code, calc_code = compiler.program(parsed["init"]), compiler.program(parsed["calc"])
    return SignalProgram(
        name=name, calc=calc, init=init, signal=signal, slots=tuple(compiler.slots),
        calc_code=calc_code, init_code=init_code, registers=compiler.registers(),
        first_slot=len(compiler.consts), update_register=compiler.update,
        signal_register=compiler.slots[signal], calc_ast=parsed["calc"], init_ast=parsed["init"])


def signal_programs(amt) -> dict[str, SignalProgram]:
    """Every row of ``amt.signal_table`` parsed, by name in file order; the first bad row raises
    :class:`StrategyError` naming the AMT file and the row."""
    where = f"{amt.path}: signal_table"
    return {name: parse_signal_row(name, calc, init, where) for name, calc, init in amt.signal_table}


def run_program(program: SignalProgram, x: np.ndarray) -> np.ndarray:
    """The signal of ``program`` on ``x`` (``float64[n_days, n_assets]``, non-finite = no value).

    State per asset starts at 0 or as ``init`` sets it; ``calc`` runs on each day with a finite
    value, in date order; the result is the signal variable after that day, NaN before the first
    finite value and held over days without one (STRATEGY S3).
    """
    x = _matrix(x)
    initial = program.registers.reshape(-1, 1).copy()
    _execute(program.init_code, initial, np.ones(1, np.bool_))
    out = np.empty(x.shape)
    arguments = (program.calc_code, initial[:, 0], program.update_register, program.signal_register, x, out)
    if x.shape[1] <= BLOCK:  # one block: skip the thread pool, whose start costs more than small inputs
        _run_block(*arguments, 0, x.shape[1])
    else:
        _run_blocks(*arguments)
    return out


def _matrix(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected a float64[n_days, n_assets] matrix, got shape {x.shape}")
    return x


#: most assets per block of the kernel; blocks run in parallel, and a wide one amortises the
#: dispatch of each instruction over more assets (189 assets: two blocks of 95)
BLOCK = 128


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _apply(op, a, b, c):  # pragma: no cover - compiled
    """One operation on finite-or-NaN operands; a result that is not finite becomes NaN."""
    if op == OP_MUL:
        value = a * b
    elif op == OP_ADD:
        value = a + b
    elif op == OP_SUB:
        value = a - b
    elif op == OP_DIV:
        value = a / b
    elif op == OP_EQ:
        value = 1.0 if a == b else 0.0
    elif op == OP_LT:
        value = 1.0 if a < b else 0.0
    elif op == OP_GT:
        value = 1.0 if a > b else 0.0
    elif op == OP_LE:
        value = 1.0 if a <= b else 0.0
    elif op == OP_GE:
        value = 1.0 if a >= b else 0.0
    elif op == OP_MAX:
        value = np.nan if a != a or b != b else (a if a >= b else b)
    elif op == OP_MIN:
        value = np.nan if a != a or b != b else (a if a <= b else b)
    elif op == OP_NEG:
        value = -a
    elif op == OP_ABS:
        value = abs(a)
    elif op == OP_SIGN:
        value = 1.0 if a > 0.0 else (-1.0 if a < 0.0 else (0.0 if a == 0.0 else np.nan))
    elif op == OP_SQRT:
        value = math.sqrt(a) if a >= 0.0 else np.nan
    elif op == OP_LOG:
        value = math.log(a) if a > 0.0 else np.nan
    elif op == OP_EXP:
        value = math.exp(a)
    elif op == OP_IF:
        value = np.nan if a != a else (b if a != 0.0 else c)
    else:  # OP_MOVE
        value = a
    return value if value - value == 0.0 else np.nan


@njit(cache=True, nogil=True, error_model="numpy")
def _execute(code, registers, active):  # pragma: no cover - compiled
    """Run ``code`` once on every column (asset) of ``registers[register, asset]`` where
    ``active``: one dispatch per instruction, then a plain loop over the assets."""
    for pc in range(code.shape[0]):
        op = code[pc, 0]
        destination = registers[code[pc, 1]]
        a, b, c = registers[code[pc, 2]], registers[code[pc, 3]], registers[code[pc, 4]]
        for i in range(registers.shape[1]):
            if active[i]:
                destination[i] = _apply(op, a[i], b[i], c[i])


@njit(cache=True, nogil=True, error_model="numpy")
def _run_block(calc_code, initial, update, signal, x, out, first, width):  # pragma: no cover - compiled
    """Run a program along days for the assets ``first .. first + width - 1`` into ``out``."""
    own = np.empty((initial.shape[0], width))
    for register in range(initial.shape[0]):
        own[register, :] = initial[register]
    active = np.empty(width, np.bool_)
    started = np.zeros(width, np.bool_)
    for day in range(x.shape[0]):
        for i in range(width):
            value = x[day, first + i]
            active[i] = value - value == 0.0
            own[update, i] = value
            started[i] |= active[i]
        _execute(calc_code, own, active)
        for i in range(width):
            out[day, first + i] = own[signal, i] if started[i] else np.nan


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _run_blocks(calc_code, initial, update, signal, x, out):  # pragma: no cover - compiled
    """:func:`_run_block` over blocks of at most :data:`BLOCK` assets of equal width, in parallel."""
    n_assets = x.shape[1]
    n_blocks = -(-n_assets // BLOCK)
    width = -(-n_assets // n_blocks)
    for block in prange(n_blocks):
        first = block * width
        _run_block(calc_code, initial, update, signal, x, out, first, min(width, n_assets - first))


# ---------------------------------------------------------------------------------------------
# The reference: a tree-walking interpreter in plain Python (tests only)


def interpret_program(program: SignalProgram, x: np.ndarray) -> np.ndarray:
    """:func:`run_program` done the slow, literal way: walk the syntax tree cell by cell."""
    x = _matrix(x)
    initial: dict[str, float] = {}
    for statement in program.init_ast:
        initial[statement.target] = _evaluate(statement.value, initial, math.nan)
    out = np.full(x.shape, np.nan)
    for asset in range(x.shape[1]):
        state = dict(initial)
        started = False
        for day in range(x.shape[0]):
            update = float(x[day, asset])
            if math.isfinite(update):
                for statement in program.calc_ast:
                    state[statement.target] = _evaluate(statement.value, state, update)
                started = True
            if started:
                out[day, asset] = state.get(program.signal, 0.0)
    return out


def _evaluate(node: Expr, state: dict[str, float], update: float) -> float:
    """The value of ``node``: finite or NaN."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        return update if node.name == UPDATE else state.get(node.name, 0.0)
    if isinstance(node, Negate):
        return -_evaluate(node.operand, state, update)
    if isinstance(node, Binary):
        left, right = _evaluate(node.left, state, update), _evaluate(node.right, state, update)
        if node.op in COMPARISONS:
            if math.isnan(left) or math.isnan(right):
                return 0.0
            return float({"=": left == right, "<": left < right, ">": left > right,
                          "<=": left <= right, ">=": left >= right}[node.op])
        if node.op == "/":
            return _finite(left / right) if right != 0.0 else math.nan
        return _finite({"+": left + right, "-": left - right, "*": left * right}[node.op])
    args = [_evaluate(arg, state, update) for arg in node.args]
    if node.function == "if":
        condition, then, otherwise = args
        return math.nan if math.isnan(condition) else (then if condition != 0.0 else otherwise)
    if node.function in ("max", "min"):
        return math.nan if any(math.isnan(a) for a in args) else (max if node.function == "max" else min)(args)
    (value,) = args
    if math.isnan(value):
        return math.nan
    if node.function == "abs":
        return abs(value)
    if node.function == "sign":
        return 1.0 if value > 0 else (-1.0 if value < 0 else 0.0)
    if node.function == "sqrt":
        return math.sqrt(value) if value >= 0 else math.nan
    if node.function == "log":
        return math.log(value) if value > 0 else math.nan
    try:
        return _finite(math.exp(value))
    except OverflowError:
        return math.nan


def _finite(value: float) -> float:
    return value if math.isfinite(value) else math.nan
