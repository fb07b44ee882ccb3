"""Tool: arithmetic through a small safe parser (Python's `ast`, never `eval`).

Every input is bounded before it is computed, so no expression can hold the event loop for
more than a few milliseconds: the text's length, the tree's size and depth, every number
(an int by its bit length, a float must be finite), and each operation's result, which is
estimated before the operation runs (a power, a product, `round`'s digits).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

from langchain_core.tools import tool

from core.domain import read_only

Number = int | float

MAX_EXPRESSION_CHARS = 1000
MAX_NODES = 400  # syntax tree nodes: about 130 numbers with their operators
MAX_DEPTH = 100  # nesting of calls, unary signs and chained operators (1+2+...: one each)
MAX_RESULT_BITS = 4096  # an int, literal or result, may have no more bits (about 1,233 digits)
MAX_ROUND_DIGITS = 30  # round(x, n) with |n| above this is refused
FUNCTIONS = ("abs", "round", "min", "max", "sqrt")

_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def evaluate(expression: str) -> Number:
    """Evaluate arithmetic: numbers, + - * / // % **, parentheses, abs/round/min/max/sqrt.

    Raises:
        ValueError: for anything else (names, attributes, bad syntax), for an input past a
            bound (too long, too deep, a number or a result too large, a result that is not
            a finite number), and for division by zero; the message says which.
    """
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ValueError(
            f"expression is {len(expression)} characters long; the limit is {MAX_EXPRESSION_CHARS}"
        )
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, MemoryError, RecursionError) as err:
        raise ValueError(f"not an arithmetic expression: {expression[:80]!r}") from err
    _check_shape(tree.body)
    try:
        return _eval(tree.body)
    except ZeroDivisionError as err:
        raise ValueError(f"division by zero in {expression[:80]!r}") from err
    except OverflowError as err:  # a float past 1.8e308, or an int too large for one
        raise ValueError(f"a result in {expression[:80]!r} is too large for a float") from err


def _check_shape(root: ast.AST) -> None:
    """Refuse a tree with too many nodes or too deep, walking it without recursion."""
    count, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ValueError(f"expression has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise ValueError(f"expression is nested more than {MAX_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _checked(value: object) -> Number:
    """Return a number within bounds; raise ValueError for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"result is not a real number: {str(value)[:60]}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"result is not a finite number ({value})")
    if isinstance(value, int) and value.bit_length() > MAX_RESULT_BITS:
        raise ValueError(f"a number of more than {MAX_RESULT_BITS} bits is too large")
    return value


def _bits(value: Number) -> float:
    """Return about how many bits the integer part of |value| takes (0 for |value| <= 1)."""
    if isinstance(value, int):
        return float(value.bit_length())
    return math.log2(abs(value)) if abs(value) > 1 else 0.0


def _check_binary(op: ast.operator, left: Number, right: Number) -> None:
    """Refuse, before computing it, an operation whose result would be too large."""
    if isinstance(op, ast.Pow):
        if abs(left) > 1 and right > 0 and right * math.log2(abs(left)) > MAX_RESULT_BITS:
            raise ValueError(f"{_short(left)} ** {_short(right)} is too large")
        if left < 0 and isinstance(right, float) and not right.is_integer():
            raise ValueError(f"{_short(left)} ** {_short(right)} is not a real number")
    elif isinstance(op, ast.Mult) and _bits(left) + _bits(right) > MAX_RESULT_BITS:
        raise ValueError(f"{_short(left)} * {_short(right)} is too large")


def _short(value: Number) -> str:
    """Return a number as text for a message: in full unless it is a long int."""
    if isinstance(value, int) and value.bit_length() >= 200:
        return f"<a {value.bit_length()}-bit number>"
    return f"({value})" if value < 0 else str(value)


def _eval(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise ValueError(f"only numbers are allowed, not {node.value!r}"[:80])
        return _checked(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        _check_binary(node.op, left, right)
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id not in FUNCTIONS:
            raise ValueError(f"unknown function {node.func.id[:40]!r}: use {', '.join(FUNCTIONS)}")
        return _checked(_call(node.func.id, [_eval(arg) for arg in node.args]))
    raise ValueError(f"unsupported syntax: {ast.dump(node)[:60]}")


def _call(name: str, args: list[Number]) -> Number:
    """Apply one of the allowed functions, checking its arguments first."""
    if name in ("abs", "sqrt") and len(args) != 1:
        raise ValueError(f"{name}() takes one number, not {len(args)}")
    if name == "abs":
        return abs(args[0])
    if name == "sqrt":
        if args[0] < 0:
            raise ValueError(f"sqrt() of a negative number ({_short(args[0])})")
        return math.sqrt(args[0])
    if name in ("min", "max"):
        if len(args) < 2:
            raise ValueError(f"{name}() takes two or more numbers")
        return min(args) if name == "min" else max(args)
    if name == "round":
        if len(args) == 1:
            return round(args[0])
        if len(args) != 2:
            raise ValueError(f"round() takes a number and digits, not {len(args)} arguments")
        digits = args[1]
        if not isinstance(digits, int) or abs(digits) > MAX_ROUND_DIGITS:
            raise ValueError(
                f"round()'s digits must be a whole number from -{MAX_ROUND_DIGITS} "
                f"to {MAX_ROUND_DIGITS}, not {_short(digits)}"
            )
        return round(args[0], digits)
    raise AssertionError(f"{name} is in FUNCTIONS but not handled")


@read_only
@tool
async def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression, e.g. "(1299.99 * 3) * 0.85" or "round(12450 / 7, 2)"."""
    value = evaluate(expression)
    return str(round(value, 6) if isinstance(value, float) else value)
