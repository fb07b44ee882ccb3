"""The foreign domain: its tools wrap the libraries faithfully, refuse bad input, and plan."""

import asyncio
import datetime as dt
import json
import statistics
import typing
from typing import Any

import pytest
from langchain_core.tools import BaseTool
from pydantic import BaseModel

from evals.foreign import DOMAIN
from evals.foreign.generate import parse_plan, run_plan
from evals.foreign.tools import arithmetic, dates, finance, geometry, records, series, text
from graphs import fast_agent, react_agent
from prompts import render as render_prompts


def call(tool: BaseTool, **args: Any) -> Any:
    return json.loads(asyncio.run(tool.ainvoke(args)))


def annotations() -> list[Any]:
    """Every argument's type annotation, over all the domain's tools."""
    hints = []
    for tool in DOMAIN.tools:
        function = tool.coroutine  # type: ignore[attr-defined]
        hints += [h for name, h in typing.get_type_hints(function).items() if name != "return"]
    return hints


def test_the_domain_has_20_to_30_async_read_only_documented_tools() -> None:
    assert 20 <= len(DOMAIN.tools) <= 30
    for tool in DOMAIN.tools:
        assert DOMAIN.is_read_only(tool.name), tool.name
        assert asyncio.iscoroutinefunction(tool.coroutine), tool.name  # type: ignore[attr-defined]
        assert len((tool.description or "").strip()) > 20, tool.name


def test_the_tools_take_the_argument_types_real_tools_take() -> None:
    hints = [str(h) for h in annotations()]
    for wanted in (
        "list[float]",
        "list[int]",
        "list[str]",
        "list[list[float]]",
        "list[evals.foreign.tools.records.Item]",
        "list[evals.foreign.tools.records.Sale]",
        "<class 'evals.foreign.tools.geometry.Point'>",
        "evals.foreign.tools.records.Discount | None",
        "int | None",
        "<class 'bool'>",
        "<class 'int'>",
        "<class 'float'>",
    ):
        assert wanted in hints, wanted
    assert any(h.startswith("typing.Literal[") for h in hints)
    optional = [t for t in DOMAIN.tools if set(t.args) - set(_required(t))]
    assert len(optional) >= 10


def _required(tool: BaseTool) -> list[str]:
    schema = tool.args_schema
    assert isinstance(schema, type) and issubclass(schema, BaseModel)
    return list(schema.model_json_schema().get("required", []))


def test_some_tools_return_rows_and_the_rest_json_objects() -> None:
    assert isinstance(call(records.rank_items, items=[{"name": "a", "price": 1}]), list)
    assert isinstance(call(series.percent_changes, values=[1, 2]), list)
    assert isinstance(call(finance.amortization_schedule, principal=100, annual_rate=0.1,
                           years=1, months=2), list)  # fmt: skip
    assert isinstance(call(series.describe_numbers, values=[1, 2]), dict)


def test_statistics_match_the_library() -> None:
    values = [2.5, 3.1, 4.7, 4.7, 9.0]
    summary = call(series.describe_numbers, values=values)
    assert summary["mean"] == pytest.approx(statistics.fmean(values))
    assert summary["median"] == 4.7
    assert summary["stdev"] == pytest.approx(statistics.stdev(values), abs=1e-6)
    assert call(series.describe_numbers, values=[5])["stdev"] is None
    cuts = call(series.quantiles, values=values, n=4, method="inclusive")["cut_points"]
    assert cuts == pytest.approx(statistics.quantiles(values, n=4, method="inclusive"))
    assert call(series.weighted_mean, values=[80, 90], weights=[1, 3])["weighted_mean"] == 87.5
    fit = call(series.linear_fit, x=[1, 2, 3], y=[2, 4, 6])
    assert (fit["slope"], fit["intercept"], fit["r"]) == pytest.approx((2, 0, 1))
    assert call(series.top_values, values=[4, 9, 1, 7], n=2, largest=False)["values"] == [1, 4]
    assert call(series.running_totals, values=[2, 3, 4], operation="product")["totals"] == [
        2, 6, 24
    ]  # fmt: skip
    assert call(series.percent_changes, values=[0, 5, 10])[0]["percent"] is None
    graded = call(series.letter_grades, scores=[59.9, 60, 95])
    assert [row["grade"] for row in graded] == ["F", "D", "A"]


def test_exact_arithmetic_and_conversions() -> None:
    assert call(arithmetic.gcd_lcm, numbers=[12, 18]) == {"gcd": 6, "lcm": 36}
    assert call(arithmetic.count_arrangements, n=5, k=2)["count"] == 10
    assert call(arithmetic.count_arrangements, n=5, k=2, kind="permutations")["count"] == 20
    assert call(arithmetic.count_arrangements, n=3, k=2, repetition=True)["count"] == 6
    assert call(arithmetic.prime_factors, n=360)["factors"] == [2, 2, 2, 3, 3, 5]
    assert call(arithmetic.prime_factors, n=97)["is_prime"] is True
    assert call(arithmetic.add_fractions, fractions=["1/3", "1/6"])["sum"] == "1/2"
    assert call(arithmetic.round_decimal, value=2.675, rounding="half_up")["value"] == "2.68"
    assert call(arithmetic.round_decimal, value=2.665)["value"] == "2.66"  # banker's
    assert call(arithmetic.round_decimal, value=2.665, rounding="down", places=1)["value"] == "2.6"
    km = call(arithmetic.convert_units, value=1, from_unit="mi", to_unit="km")
    assert km == {"value": 1.609344, "unit": "km"}
    boiling = call(arithmetic.convert_units, value=100, from_unit="celsius", to_unit="fahrenheit")
    assert boiling["value"] == pytest.approx(212)


def test_dates_and_working_days() -> None:
    info = call(dates.date_info, date="2024-02-29")
    assert info["weekday"] == "Thursday" and info["is_leap_year"] and info["days_in_month"] == 29
    assert info["iso_week"] == 9 and info["day_of_year"] == 60 and info["quarter"] == 1
    friday = "2026-01-02"
    assert call(dates.add_days, start=friday, days=1, business_days=True)["date"] == "2026-01-05"
    assert call(dates.add_days, start=friday, days=-5, business_days=True)["date"] == "2025-12-26"
    assert call(dates.add_days, start=friday, days=30)["date"] == "2026-02-01"
    assert call(dates.days_between, start="2026-01-05", end="2026-01-12") == {"days": 7}
    monday, next_monday = "2026-01-05", "2026-01-12"
    assert call(dates.days_between, start=monday, end=next_monday, business_days=True)["days"] == 5
    assert call(dates.days_between, start=next_monday, end=monday, business_days=True)["days"] == -5


def test_finance_matches_the_textbook_formulas() -> None:
    loan = call(finance.loan_payment, principal=200_000, annual_rate=0.06, years=30)
    assert loan["monthly_payment"] == pytest.approx(1199.10, abs=0.01)  # numpy_financial.pmt
    assert call(finance.loan_payment, principal=1200, annual_rate=0, years=1)[
        "monthly_payment"
    ] == pytest.approx(100)
    grown = call(finance.compound_interest, principal=1000, annual_rate=0.05, years=10,
                 compounds_per_year=1)  # fmt: skip
    assert grown["future_value"] == pytest.approx(1000 * 1.05**10, abs=1e-5)
    rows = call(finance.amortization_schedule, principal=10_000, annual_rate=0.12, years=1)
    assert len(rows) == 12 and rows[0]["interest"] == pytest.approx(100)
    assert rows[-1]["balance"] == pytest.approx(0, abs=1e-5)
    flows = call(finance.net_present_value, rate=0.1, cash_flows=[-100, 110])
    assert flows["npv"] == pytest.approx(0, abs=1e-6) and flows["irr"] == pytest.approx(0.1)
    assert call(finance.net_present_value, rate=0.1, cash_flows=[100, 110])["irr"] is None


def test_matrices_and_points() -> None:
    product = call(geometry.matrix_multiply, a=[[1, 2], [3, 4]], b=[[5], [6]])
    assert product == {"result": [[17.0], [39.0]]}
    assert call(geometry.determinant, matrix=[[0, 1], [1, 0]])["determinant"] == -1
    assert call(geometry.determinant, matrix=[[1, 2], [2, 4]])["determinant"] == 0
    solved = call(geometry.solve_linear_system, coefficients=[[0, 1], [1, 1]], constants=[2, 5])
    assert solved["solution"] == pytest.approx([3, 2])
    apart = call(geometry.distance, a={"x": 0, "y": 0}, b={"x": 6, "y": 8})
    assert apart == {"distance": 10.0, "midpoint": {"x": 3.0, "y": 4.0}}


def test_records_are_ranked_totalled_and_grouped() -> None:
    items = [{"name": "pen", "price": 2, "quantity": 5}, {"name": "bag", "price": 30}]
    ranked = call(records.rank_items, items=items, by="price", top=1)
    assert ranked == [{"rank": 1, "name": "bag", "price": 30.0, "quantity": 1, "total": 30.0}]
    order = call(records.order_total, items=items, discount={"kind": "percent", "value": 10},
                 tax_rate=0.2)  # fmt: skip
    assert order == {"subtotal": 40.0, "discount": 4.0, "tax": 7.2, "total": 43.2}
    capped = call(records.order_total, items=items, discount={"kind": "amount", "value": 99})
    assert capped["total"] == 0
    sales = [
        {"region": "n", "product": "tea", "amount": 5},
        {"region": "s", "product": "tea", "amount": 7},
        {"region": "n", "product": "cocoa", "amount": 4},
    ]
    assert call(records.group_totals, sales=sales) == [
        {"group": "n", "total": 9.0, "count": 2, "average": 4.5},
        {"group": "s", "total": 7.0, "count": 1, "average": 7.0},
    ]
    stats = call(text.text_stats, text="Hi, it's 9 am")
    assert (stats["words"], stats["digits"], stats["punctuation"]) == (4, 1, 2)
    assert stats["capitalized"] == "Hi, It's 9 Am"


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        (series.weighted_mean, {"values": [1, 2], "weights": [1]}, "2 values but 1 weights"),
        (series.describe_numbers, {"values": []}, "empty"),
        (series.quantiles, {"values": [1, 2, 3], "n": 10**7}, "between 2 and 1000"),
        (series.letter_grades, {"scores": [5], "breakpoints": [9, 3], "grades": "ABC"},
         "ascending"),
        (series.letter_grades, {"scores": [5], "grades": "AB"}, "need 5 grades"),
        (series.running_totals, {"values": [1e308, 1e308], "operation": "product"}, "JSON"),
        (arithmetic.prime_factors, {"n": 10**18}, "between 2"),
        (arithmetic.count_arrangements, {"n": 10**9, "k": 10**6}, "between 0 and 1000"),
        (arithmetic.convert_units, {"value": 1, "from_unit": "kg", "to_unit": "km"}, "mass"),
        (arithmetic.convert_units, {"value": 1, "from_unit": "kg", "to_unit": "kelvin"}, "cannot"),
        (arithmetic.add_fractions, {"fractions": ["1/0"]}, "division by zero|Fraction"),
        (dates.date_info, {"date": "2026-02-30"}, "day is out of range"),
        (dates.add_days, {"start": "9999-12-30", "days": 10**6, "business_days": True}, "range"),
        (finance.loan_payment, {"principal": 1, "annual_rate": 0.1, "years": 10**6}, "months"),
        (finance.net_present_value, {"rate": -1, "cash_flows": [1]}, "above -1"),
        (geometry.matrix_multiply, {"a": [[1, 2]], "b": [[1, 2]]}, "2 columns but b has 1"),
        (geometry.determinant, {"matrix": [[1.0] * 51] * 51}, "1 to 50"),
        (geometry.solve_linear_system, {"coefficients": [[1, 1], [2, 2]], "constants": [1, 2]},
         "singular"),
        (geometry.determinant, {"matrix": [[1, 2], [3]]}, "not all as long"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_error(tool: BaseTool, args: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, ZeroDivisionError, OverflowError), match=message):
        asyncio.run(tool.ainvoke(args))


def test_the_router_and_planner_learn_from_both_routes_and_list_valued_plans() -> None:
    labels = [label for label, _ in DOMAIN.route_examples]
    assert 35 <= len(labels) <= 50 and labels.count("direct") >= 15 and labels.count("tools") >= 20
    assert 15 <= len(DOMAIN.plan_examples) <= 25
    plans = "\n".join(example.plan for example in DOMAIN.plan_examples)
    for form in ("=[", "=[[", "=[{", '={"', '"$1[0].', '"$1.interest"', '"$1"', "=true"):
        assert form in plans, form


@pytest.mark.parametrize("example", DOMAIN.plan_examples, ids=lambda e: e.question[:40])
def test_each_solved_plan_runs_with_the_real_tools(example: Any) -> None:
    """Parsed by the eval's own reader (the engine's parser takes no lists yet) and run."""
    calls = parse_plan(example.plan)
    assert calls and example.plan.splitlines()[-1] == f"{len(calls) + 1}. join()"
    for tool, args in calls:
        assert set(args) <= set(DOMAIN.arg_names()[tool]), (tool, args)
    done, results = asyncio.run(run_plan(DOMAIN, calls))
    assert len(results) == len(calls)


def test_every_prompt_lists_every_tool_and_both_graphs_build() -> None:
    prompts = [
        render_prompts.planner_system(DOMAIN, "", 8),
        render_prompts.synthesizer_system(DOMAIN, ""),
        render_prompts.react_system(DOMAIN, ""),
        render_prompts.router_system(DOMAIN),
    ]
    for name in DOMAIN.tool_names:
        assert all(f"- {name}(" in prompt for prompt in prompts), name
    assert "plan_and_call_tools" in fast_agent.build_graph(DOMAIN).get_graph().nodes
    baseline = react_agent.build_graph(DOMAIN).nodes["tools"].bound._tools_by_name  # type: ignore[attr-defined]
    assert set(baseline) == set(DOMAIN.tool_names)


def test_an_arithmetic_shortcut_for_working_days_agrees_with_counting_day_by_day() -> None:
    start = dt.date(2026, 1, 1)
    for offset in range(7):
        first = start + dt.timedelta(days=offset)
        for days in range(-12, 13):
            day, left, step = first, abs(days), 1 if days >= 0 else -1
            while left:
                day += dt.timedelta(days=step)
                left -= day.weekday() < 5
            got = call(dates.add_days, start=first.isoformat(), days=days, business_days=True)
            assert got["date"] == day.isoformat(), (first, days)
