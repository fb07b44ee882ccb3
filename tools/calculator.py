"""Tool: arithmetic through a small safe parser (Python's `ast`, never `eval`)."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

from langchain_core.tools import tool

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "abs": abs, "round": round, "min": min, "max": max, "sqrt": math.sqrt,
}  # fmt: skip
MAX_RESULT_BITS = 4096  # a power may not build a bigger number (it would block the loop)


def evaluate(expression: str) -> float:
    """Evaluate arithmetic: numbers, + - * / // % **, parentheses, abs/round/min/max/sqrt.

    Raises:
        ValueError: for anything else (names, attributes, huge powers, bad syntax).
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise ValueError(f"not an arithmetic expression: {expression!r}") from err
    try:
        return _eval(tree.body)
    except (ZeroDivisionError, OverflowError) as err:
        raise ValueError(f"{expression!r}: {err}") from err


def _eval(node: ast.expr) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        big = abs(left) > 1 and abs(right) * math.log2(abs(left)) > MAX_RESULT_BITS
        if isinstance(node.op, ast.Pow) and big:
            raise ValueError(f"{left} ** {right} is too large")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_eval(arg) for arg in node.args))
    raise ValueError(f"unsupported syntax: {ast.dump(node)[:60]}")


@tool
async def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression, e.g. "(1299.99 * 3) * 0.85" or "round(12450 / 7, 2)"."""
    value = evaluate(expression)
    return str(round(value, 6) if isinstance(value, float) else value)
