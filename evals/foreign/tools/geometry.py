"""Matrices as nested lists (rows of numbers) and points in the plane: `math` underneath."""

from __future__ import annotations

import math

from langchain_core.tools import tool
from pydantic import BaseModel

from core.domain import read_only
from evals.foreign.tools import as_json

MAX_SIZE = 50  # rows or columns: elimination is cubic


class Point(BaseModel):
    """A point in the plane."""

    x: float
    y: float


def _check(matrix: list[list[float]], name: str) -> None:
    if not matrix or not matrix[0] or len(matrix) > MAX_SIZE or len(matrix[0]) > MAX_SIZE:
        raise ValueError(f"{name} must have 1 to {MAX_SIZE} rows and columns")
    if any(len(row) != len(matrix[0]) for row in matrix):
        raise ValueError(f"the rows of {name} are not all as long")


def _eliminate(rows: list[list[float]]) -> tuple[list[list[float]], float]:
    """Gaussian elimination with partial pivoting: the upper-triangular rows and the sign."""
    rows = [list(map(float, row)) for row in rows]
    sign = 1.0
    size = len(rows)
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(rows[r][col]))
        if math.isclose(rows[pivot][col], 0.0, abs_tol=1e-12):
            raise ValueError("the matrix is singular")
        if pivot != col:
            rows[col], rows[pivot] = rows[pivot], rows[col]
            sign = -sign
        for r in range(col + 1, size):
            factor = rows[r][col] / rows[col][col]
            rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return rows, sign


@read_only
@tool
async def matrix_multiply(a: list[list[float]], b: list[list[float]]) -> str:
    """Multiply two matrices, each a list of rows: [[1, 2], [3, 4]] is 2x2."""
    _check(a, "a")
    _check(b, "b")
    if len(a[0]) != len(b):
        raise ValueError(f"a has {len(a[0])} columns but b has {len(b)} rows")
    columns = list(zip(*b, strict=True))
    product = [
        [math.fsum(x * y for x, y in zip(row, col, strict=True)) for col in columns] for row in a
    ]
    return as_json({"result": product})


@read_only
@tool
async def determinant(matrix: list[list[float]]) -> str:
    """Return the determinant of a square matrix given as a list of rows."""
    _check(matrix, "matrix")
    if len(matrix) != len(matrix[0]):
        raise ValueError("the matrix is not square")
    try:
        rows, sign = _eliminate(matrix)
    except ValueError:
        return as_json({"determinant": 0.0})
    return as_json({"determinant": sign * math.prod(rows[i][i] for i in range(len(rows)))})


@read_only
@tool
async def solve_linear_system(coefficients: list[list[float]], constants: list[float]) -> str:
    """Solve A x = b for x: coefficients A as a list of rows, constants b one per row.

    Example: 2x + y = 5 and x - y = 1 is coefficients [[2, 1], [1, -1]], constants [5, 1].
    """
    _check(coefficients, "coefficients")
    size = len(coefficients)
    if len(coefficients[0]) != size or len(constants) != size:
        raise ValueError("need a square system with one constant per row")
    rows, _ = _eliminate([[*row, b] for row, b in zip(coefficients, constants, strict=True)])
    solution = [0.0] * size
    for i in reversed(range(size)):
        known = sum(rows[i][j] * solution[j] for j in range(i + 1, size))
        solution[i] = (rows[i][size] - known) / rows[i][i]
    return as_json({"solution": solution})


@read_only
@tool
async def distance(a: Point, b: Point) -> str:
    """Return the straight-line distance between two points and their midpoint.

    Args:
        a: the first point, e.g. {"x": 0, "y": 0}.
        b: the second point.
    """
    midpoint = {"x": (a.x + b.x) / 2, "y": (a.y + b.y) / 2}
    return as_json({"distance": math.dist((a.x, a.y), (b.x, b.y)), "midpoint": midpoint})


TOOLS = (matrix_multiply, determinant, solve_linear_system, distance)
