"""Money over time, with the formulas numpy-financial uses (rates as fractions: 0.05 is 5 %)."""

from __future__ import annotations

from langchain_core.tools import tool

from core.domain import read_only
from evals.foreign.tools import as_json

MAX_MONTHS = 1200  # a hundred years of monthly payments


def monthly_payment(principal: float, annual_rate: float, months: int) -> float:
    """Return the level payment that repays a loan in `months` (numpy_financial.pmt)."""
    if months <= 0 or months > MAX_MONTHS:
        raise ValueError(f"the term must be 1 to {MAX_MONTHS} months")
    rate = annual_rate / 12
    if rate == 0:
        return principal / months
    return principal * rate / (1 - (1 + rate) ** -months)


@read_only
@tool
async def compound_interest(
    principal: float, annual_rate: float, years: float, compounds_per_year: int = 12
) -> str:
    """Return what a deposit grows to with compound interest, and the interest earned.

    Args:
        principal: the amount deposited.
        annual_rate: the yearly rate as a fraction (0.05 for 5 %).
        years: how long it stays.
        compounds_per_year: 12 monthly (the default), 4 quarterly, 1 yearly, 365 daily.
    """
    if compounds_per_year < 1:
        raise ValueError("compounds_per_year must be at least 1")
    value = principal * (1 + annual_rate / compounds_per_year) ** (compounds_per_year * years)
    return as_json({"future_value": value, "interest": value - principal})


@read_only
@tool
async def loan_payment(principal: float, annual_rate: float, years: int) -> str:
    """Return a fixed-rate loan's monthly payment, total paid and total interest.

    Args:
        principal: the amount borrowed.
        annual_rate: the yearly rate as a fraction (0.045 for 4.5 %).
        years: the term in years.
    """
    payment = monthly_payment(principal, annual_rate, years * 12)
    total = payment * years * 12
    return as_json(
        {"monthly_payment": payment, "total_paid": total, "total_interest": total - principal}
    )


@read_only
@tool
async def amortization_schedule(
    principal: float, annual_rate: float, years: int, months: int = 12
) -> str:
    """Return a fixed-rate loan's first months as rows.

    Each row: month, payment, interest, principal (repaid that month), balance.

    Args:
        principal: the amount borrowed.
        annual_rate: the yearly rate as a fraction (0.06 for 6 %).
        years: the term in years.
        months: how many months to list, from the first.
    """
    payment = monthly_payment(principal, annual_rate, years * 12)
    rows, balance = [], principal
    for month in range(1, min(months, years * 12) + 1):
        interest = balance * annual_rate / 12
        balance -= payment - interest
        rows.append(
            {
                "month": month,
                "payment": payment,
                "interest": interest,
                "principal": payment - interest,
                "balance": balance,
            }
        )
    return as_json(rows)


@read_only
@tool
async def net_present_value(rate: float, cash_flows: list[float]) -> str:
    """Return the net present value of yearly cash flows, the first one today, and their IRR.

    Args:
        rate: the yearly discount rate as a fraction (0.08 for 8 %).
        cash_flows: one a year, the first now; an investment is negative, e.g. [-1000, 300, 400].
    """
    if rate <= -1:
        raise ValueError("rate must be above -1 (-100 %)")
    npv = sum(flow / (1 + rate) ** year for year, flow in enumerate(cash_flows))
    return as_json({"npv": npv, "irr": _irr(cash_flows)})


def _irr(flows: list[float]) -> float | None:
    """Return the rate at which the flows' present value is 0 (bisection), or None."""

    def value(rate: float) -> float:
        return sum(flow / (1 + rate) ** year for year, flow in enumerate(flows))

    low, high = -0.99, 10.0
    if value(low) * value(high) > 0:
        return None
    for _ in range(200):
        middle = (low + high) / 2
        if value(low) * value(middle) <= 0:
            high = middle
        else:
            low = middle
    return (low + high) / 2


TOOLS = (compound_interest, loan_payment, amortization_schedule, net_present_value)
