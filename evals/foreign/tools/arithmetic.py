"""Exact arithmetic and conversions: `math`, `fractions`, `decimal`, and unit tables."""

from __future__ import annotations

import decimal
import math
from fractions import Fraction
from typing import Literal

from langchain_core.tools import tool

from core.domain import read_only
from evals.foreign.tools import as_json

MAX_FACTORED = 10**10  # trial division: at most 10^5 steps, a few milliseconds
MAX_ITEMS = 1000  # n and k of an arrangement: the count stays a few thousand digits

Unit = Literal[
    "m", "km", "cm", "mi", "ft", "in",
    "kg", "g", "lb", "oz",
    "l", "ml", "gal",
    "celsius", "fahrenheit", "kelvin",
]  # fmt: skip
# Each unit's size in its kind's base unit (metre, kilogram, litre).
SCALES: dict[str, tuple[str, float]] = {
    "m": ("length", 1.0),
    "km": ("length", 1000.0),
    "cm": ("length", 0.01),
    "mi": ("length", 1609.344),
    "ft": ("length", 0.3048),
    "in": ("length", 0.0254),
    "kg": ("mass", 1.0),
    "g": ("mass", 0.001),
    "lb": ("mass", 0.45359237),
    "oz": ("mass", 0.028349523125),
    "l": ("volume", 1.0),
    "ml": ("volume", 0.001),
    "gal": ("volume", 3.785411784),  # the US gallon
}
TO_KELVIN = {
    "celsius": lambda v: v + 273.15,
    "fahrenheit": lambda v: (v - 32) * 5 / 9 + 273.15,
    "kelvin": lambda v: v,
}
FROM_KELVIN = {
    "celsius": lambda k: k - 273.15,
    "fahrenheit": lambda k: (k - 273.15) * 9 / 5 + 32,
    "kelvin": lambda k: k,
}
ROUNDING = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "down": decimal.ROUND_DOWN,
    "up": decimal.ROUND_UP,
}


@read_only
@tool
async def gcd_lcm(numbers: list[int]) -> str:
    """Return the greatest common divisor and least common multiple of whole numbers."""
    if not numbers:
        raise ValueError("numbers is empty")
    return as_json({"gcd": math.gcd(*numbers), "lcm": math.lcm(*numbers)})


@read_only
@tool
async def count_arrangements(
    n: int,
    k: int,
    kind: Literal["combinations", "permutations"] = "combinations",
    repetition: bool = False,
) -> str:
    """Count the ways to choose k of n things (math.comb / math.perm).

    Args:
        n: how many things there are.
        k: how many are chosen.
        kind: "combinations" (order does not matter) or "permutations" (it does).
        repetition: whether a thing may be chosen more than once.
    """
    if not (0 <= k <= MAX_ITEMS and 0 <= n <= MAX_ITEMS):
        raise ValueError(f"n and k must be between 0 and {MAX_ITEMS}")
    if kind == "combinations":
        count = math.comb(n + k - 1, k) if repetition else math.comb(n, k)
    else:
        count = n**k if repetition else math.perm(n, k)
    return as_json({"count": count})


@read_only
@tool
async def prime_factors(n: int) -> str:
    """Return the prime factors of a whole number >= 2, smallest first, with repeats."""
    if not 2 <= n <= MAX_FACTORED:
        raise ValueError(f"n must be between 2 and {MAX_FACTORED:,}")
    factors, rest, divisor = [], n, 2
    while divisor * divisor <= rest:
        while rest % divisor == 0:
            factors.append(divisor)
            rest //= divisor
        divisor += 1
    if rest > 1:
        factors.append(rest)
    return as_json({"n": n, "factors": factors, "is_prime": factors == [n]})


@read_only
@tool
async def add_fractions(fractions: list[str]) -> str:
    """Add fractions exactly (fractions.Fraction) and return the sum in lowest terms.

    Args:
        fractions: each like "3/4", "-1/6" or "2"; e.g. ["1/3", "1/4"].
    """
    total = sum((Fraction(f.strip()) for f in fractions), Fraction(0))
    return as_json(
        {
            "sum": str(total),
            "numerator": total.numerator,
            "denominator": total.denominator,
            "decimal": float(total),
        }
    )


@read_only
@tool
async def round_decimal(
    value: float,
    places: int = 2,
    rounding: Literal["half_up", "half_even", "down", "up"] = "half_even",
) -> str:
    """Round a number to decimal places as written in decimal (decimal.Decimal.quantize).

    Args:
        value: the number, e.g. 2.675.
        places: how many decimal places to keep.
        rounding: "half_even" (banker's rounding, the default), "half_up", "down", "up".
    """
    exact = decimal.Decimal(repr(value))
    step = decimal.Decimal(1).scaleb(-places)
    return as_json({"value": str(exact.quantize(step, rounding=ROUNDING[rounding]))})


@read_only
@tool
async def convert_units(value: float, from_unit: Unit, to_unit: Unit) -> str:
    """Convert a length, mass, volume or temperature from one unit to another.

    Units: m, km, cm, mi, ft, in; kg, g, lb, oz; l, ml, gal (US); celsius, fahrenheit, kelvin.
    """
    if from_unit in TO_KELVIN or to_unit in TO_KELVIN:
        if not (from_unit in TO_KELVIN and to_unit in TO_KELVIN):
            raise ValueError(f"cannot convert {from_unit} to {to_unit}")
        converted = FROM_KELVIN[to_unit](TO_KELVIN[from_unit](value))
    else:
        (kind, scale), (to_kind, to_scale) = SCALES[from_unit], SCALES[to_unit]
        if kind != to_kind:
            raise ValueError(f"cannot convert {kind} ({from_unit}) to {to_kind} ({to_unit})")
        converted = value * scale / to_scale
    return as_json({"value": converted, "unit": to_unit})


TOOLS = (gcd_lcm, count_arrangements, prime_factors, add_fractions, round_decimal, convert_units)
