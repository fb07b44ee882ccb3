"""The foreign domain: a calculation desk over public library functions nobody here wrote.

Declared only through the documented extension points (README "Make it yours"), like
`tests/support/travel.py`: its tools take the argument types real tools take (lists of
numbers, matrices as lists of rows, lists of records, nested objects, enums, optional
arguments) and return JSON, lists of rows among them, so later calls can refer into them.
"""

from __future__ import annotations

from pathlib import Path

from core.domain import Domain, load_plan_examples, load_route_examples
from evals.foreign.tools import arithmetic, dates, finance, geometry, records, series, text

DATA = Path(__file__).parent / "data"

KNOWLEDGE = """Write lists as JSON arrays ([1.5, 2, 3]), matrices as lists of rows \
([[1, 2], [3, 4]]), records and points as JSON objects ({"name": "pen", "price": 1.5, \
"quantity": 2}, {"x": 0, "y": 1}), dates as YYYY-MM-DD.
Rates are fractions: 5 % is 0.05 (annual_rate, tax_rate, rate); only a percent discount's \
value is in percent ({"kind": "percent", "value": 10} is 10 % off).
One call usually answers several questions about the same numbers: describe_numbers gives \
count, sum, mean, median, stdev, min and max together; loan_payment the payment, total paid \
and total interest. A sentence that only gives context needs no call of its own.
Some results are lists of rows (rank_items, group_totals, percent_changes, letter_grades, \
amortization_schedule): $1[0].total is the first row's total, $1.total the whole column, \
$1 all the rows."""

DOMAIN = Domain(
    name="Numbers Desk",
    description=(
        "The Numbers Desk answers questions that need exact calculation: statistics of a "
        "series, fractions and rounding, dates and working days, loans, interest and cash "
        "flows, matrices and linear systems, unit conversions, and totals and rankings of "
        "order lines and sales records."
    ),
    knowledge=KNOWLEDGE,
    tools=(
        *series.TOOLS,
        *arithmetic.TOOLS,
        *dates.TOOLS,
        *finance.TOOLS,
        *geometry.TOOLS,
        *records.TOOLS,
        *text.TOOLS,
    ),
    route_examples=load_route_examples(DATA / "route_examples.tsv"),
    plan_examples=load_plan_examples(DATA / "plan_examples.txt"),
)
