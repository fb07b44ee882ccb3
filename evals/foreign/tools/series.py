"""Tools over a series of numbers: `statistics`, `heapq`, `itertools` and `bisect`."""

from __future__ import annotations

import bisect
import heapq
import itertools
import operator
import statistics
from collections.abc import Callable
from typing import Literal

from langchain_core.tools import tool

from core.domain import read_only
from evals.foreign.tools import as_json

MAX_GROUPS = 1000  # quantiles: n - 1 cut points
OPERATIONS: dict[str, Callable[[float, float], float]] = {
    "sum": operator.add,
    "product": operator.mul,
    "max": max,
    "min": min,
}


@read_only
@tool
async def describe_numbers(values: list[float]) -> str:
    """Summarize a list of numbers: count, sum, mean, median, sample stdev, min and max.

    Args:
        values: the numbers, e.g. [4, 8, 15.5].
    """
    if not values:
        raise ValueError("values is empty")
    stdev = statistics.stdev(values) if len(values) > 1 else None
    return as_json(
        {
            "count": len(values),
            "sum": float(sum(values)),
            "mean": statistics.fmean(values),
            "median": float(statistics.median(values)),
            "stdev": stdev,
            "min": float(min(values)),
            "max": float(max(values)),
        }
    )


@read_only
@tool
async def quantiles(
    values: list[float], n: int = 4, method: Literal["exclusive", "inclusive"] = "exclusive"
) -> str:
    """Return the n-1 cut points that split the values into n equal groups (statistics.quantiles).

    Args:
        values: the numbers.
        n: 4 for quartiles, 10 for deciles, 100 for percentiles.
        method: "exclusive" (the default) or "inclusive" (the data holds the extremes).
    """
    if not 2 <= n <= MAX_GROUPS:
        raise ValueError(f"n must be between 2 and {MAX_GROUPS}")
    return as_json({"cut_points": statistics.quantiles(values, n=n, method=method)})


@read_only
@tool
async def weighted_mean(values: list[float], weights: list[float]) -> str:
    """Return the mean of the values, each counted with its weight (same lengths)."""
    if len(values) != len(weights):
        raise ValueError(f"{len(values)} values but {len(weights)} weights")
    return as_json({"weighted_mean": statistics.fmean(values, weights)})


@read_only
@tool
async def linear_fit(x: list[float], y: list[float]) -> str:
    """Fit y = slope * x + intercept by least squares; also Pearson's correlation r.

    Args:
        x: the inputs.
        y: the outputs, one per input.
    """
    fit = statistics.linear_regression(x, y)
    return as_json(
        {"slope": fit.slope, "intercept": fit.intercept, "r": statistics.correlation(x, y)}
    )


@read_only
@tool
async def top_values(values: list[float], n: int = 3, largest: bool = True) -> str:
    """Return the n largest values (or the n smallest, largest=false), best first (heapq)."""
    pick = heapq.nlargest if largest else heapq.nsmallest
    return as_json({"values": [float(v) for v in pick(n, values)]})


@read_only
@tool
async def running_totals(
    values: list[float], operation: Literal["sum", "product", "max", "min"] = "sum"
) -> str:
    """Return the running sum (or product, max, min) after each value (itertools.accumulate)."""
    totals = [float(v) for v in itertools.accumulate(values, OPERATIONS[operation])]
    return as_json({"totals": totals, "final": totals[-1] if totals else None})


@read_only
@tool
async def percent_changes(values: list[float]) -> str:
    """Return the change from each value to the next, as rows (itertools.pairwise).

    Each row: period (1 for the first change), from, to, change, percent (null after a 0).
    """
    rows = [
        {
            "period": number,
            "from": float(before),
            "to": float(after),
            "change": float(after - before),
            "percent": (after - before) / before * 100 if before else None,
        }
        for number, (before, after) in enumerate(itertools.pairwise(values), 1)
    ]
    return as_json(rows)


@read_only
@tool
async def letter_grades(
    scores: list[float],
    breakpoints: tuple[float, ...] = (60, 70, 80, 90),
    grades: str = "FDCBA",
) -> str:
    """Give each score its grade: a score at or above a breakpoint gets the next grade (bisect).

    Args:
        scores: the scores.
        breakpoints: ascending thresholds, e.g. [60, 70, 80, 90] (the default).
        grades: one letter per band, lowest first: one more than breakpoints.

    Returns rows: score, grade.
    """
    if list(breakpoints) != sorted(breakpoints):
        raise ValueError("breakpoints must be in ascending order")
    if len(grades) != len(breakpoints) + 1:
        raise ValueError(f"{len(breakpoints)} breakpoints need {len(breakpoints) + 1} grades")
    return as_json([{"score": s, "grade": grades[bisect.bisect(breakpoints, s)]} for s in scores])


TOOLS = (
    describe_numbers,
    quantiles,
    weighted_mean,
    linear_fit,
    top_values,
    running_totals,
    percent_changes,
    letter_grades,
)
