"""Every JSON-schema argument a tool can declare: planned, checked, written, run."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import pytest
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from core.domain import Domain, read_only
from engine.language.grammar import plan_grammar
from engine.language.parser import PlanError, PlanParser, Task
from engine.language.schema import check, conform, signature_of, type_text
from engine.language.services import plan_calls
from engine.scheduler.task_fetching import TaskFetchingUnit, resolve
from prompts.render import tools_text


class Point(BaseModel):
    """A point on a plane."""

    x: float
    y: float


class Item(BaseModel):
    """A line of an order."""

    sku: str
    qty: int = Field(description="how many units")
    tags: list[str] = []


@read_only
@tool
async def polygon_area(points: list[Point], unit: Literal["m", "cm"] = "m") -> str:
    """Return the area of a polygon given its corners in order."""
    return json.dumps({"area": 0.0, "unit": unit, "corners": len(points)})


@read_only
@tool
async def weighted_mean(values: list[float], weights: list[float] | None = None) -> str:
    """Return the (weighted) mean of numbers."""
    w = weights or [1.0] * len(values)
    return json.dumps({"mean": sum(v * x for v, x in zip(values, w, strict=True)) / sum(w)})


@read_only
@tool
async def top_items(items: list[Item], limit: int = 2) -> str:
    """Return the items with the most units, largest first, as a list of objects."""
    ranked = sorted(items, key=lambda i: -i.qty)[:limit]
    return json.dumps([i.model_dump() for i in ranked])


@read_only
@tool
async def determinant(matrix: list[list[float]]) -> str:
    """Return the determinant of a 2x2 matrix."""
    (a, b), (c, d) = matrix
    return json.dumps({"det": a * d - b * c})


@read_only
@tool
async def charge(coulombs: float, scale: int, options: dict[str, Any] | None = None) -> str:
    """Scale a charge."""
    return json.dumps({"charge": coulombs * scale})


DOMAIN = Domain("D", "d", "", tools=(polygon_area, weighted_mean, top_items, determinant, charge))
CALLS = plan_calls(DOMAIN, "")


def parse(plan: str) -> list[Task | PlanError]:
    return PlanParser(CALLS.signatures, max_calls=8).feed(plan + "\n")


def test_the_planner_reads_each_arguments_type_default_and_description() -> None:
    text = tools_text(DOMAIN)
    assert '- polygon_area(points: list[{x: number, y: number}], unit: "m"|"cm" = "m")' in text
    assert "weighted_mean(values: list[number], weights: list[number] or null = null)" in text
    assert "top_items(items: list[{sku: string, qty: integer, tags?: list[string]}], " in text
    assert "determinant(matrix: list[list[number]])" in text
    assert type_text({"type": "object"}) == "object"


@pytest.mark.parametrize(
    "line",
    [
        '1. polygon_area(points=[{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 0, "y": 3}])',
        '1. polygon_area(points=[{"x": 0, "y": 0}], unit="cm")',
        "1. weighted_mean(values=[1.5, 2, -3.25e-2])",
        "1. weighted_mean(values=[1, 2], weights=null)",
        '1. top_items(items=[{"sku": "A", "qty": 3, "tags": ["x"]}, {"sku": "B", "qty": 1}])',
        "1. determinant(matrix=[[1, 2], [3, 4]])",
        "1. charge(coulombs=1.6e-19, scale=3)",
        '1. charge(coulombs=2, scale=1, options={"verbose": true, "tries": [1, 2]})',
    ],
)
def test_lists_objects_enums_and_scientific_notation_are_planned(line: str) -> None:
    [item] = parse(line)
    assert isinstance(item, Task), item


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('1. polygon_area(points=[{"x": 0}])', "polygon_area: argument 'points' item 0 lacks"),
        ('1. polygon_area(points=[], unit="km")', 'must be one of "m", "cm"'),
        ('1. weighted_mean(values="1, 2, 3")', "argument 'values' must be a list"),
        ('1. weighted_mean(values=[1, "two"])', "item 1 must be a number"),
        ("1. charge(coulombs=1.5, scale=2.5)", "argument 'scale' must be a whole number"),
        ("1. charge(coulombs=1.5)", "argument 'scale' is required"),
        ('1. top_items(items=[{"sku": "A", "qty": 1, "size": 2}])', None),  # extra: allowed
        ("1. determinant(matrix=[[1, 2], 3])", "item 1 must be a list"),
        ("1. determinant(matrix=" + "[" * 300 + "]" * 300 + ")", "nested"),
    ],
)
def test_a_wrong_type_is_an_error_naming_the_tool_and_argument(
    line: str, reason: str | None
) -> None:
    [item] = parse(line)
    if reason is None:
        assert isinstance(item, Task)
    else:
        assert isinstance(item, PlanError) and reason in item.reason, item


def test_a_reference_stands_for_a_value_of_any_type_and_reaches_into_lists() -> None:
    items = parse(
        '1. top_items(items=[{"sku": "A", "qty": 3}, {"sku": "B", "qty": 9}])\n'
        '2. weighted_mean(values="$1.qty")\n'
        '3. weighted_mean(values=["$1[0].qty", 4, "$2.mean"])\n'
        '4. charge(coulombs="$2.mean", scale="$1[1].qty")'
    )
    assert all(isinstance(t, Task) for t in items), items
    assert [t.deps for t in items if isinstance(t, Task)][1:] == [
        frozenset({1}), frozenset({1, 2}), frozenset({1, 2})
    ]  # fmt: skip


def test_conform_fits_a_resolved_value_to_its_argument() -> None:
    assert conform(["Oslo", "Bergen"], {"type": "string"}) == "Oslo, Bergen"
    assert conform([3, 9], {"type": "array", "items": {"type": "number"}}) == [3, 9]
    assert conform([7], {"type": "integer"}) == 7
    assert conform("1,250.5", {"type": "number"}) == 1250.5
    assert conform(4, {"type": "array"}) == [4]
    assert conform({"a": 1}, {"type": "string"}) == '{"a": 1}'
    assert conform([{"a": 1}, {"a": 2}], {"type": "string"}) == '{"a": 1}, {"a": 2}'
    assert check("$1.rate", {"type": "number"}) is None
    assert check("rate of $1", {"type": "number"}) is not None


async def test_the_task_fetching_unit_runs_list_arguments_and_list_references() -> None:
    ran: list[tuple[str, dict[str, Any]]] = []

    async def execute(task: Task, args: dict[str, Any]) -> Any:
        args = CALLS.conform(task.tool, args)
        ran.append((task.tool, args))
        tool = DOMAIN.tool(task.tool)
        assert tool is not None
        output = await tool.ainvoke(args)
        return {
            "index": task.index, "tool": task.tool, "args": args, "ok": True, "status": "ok",
            "output": output, "data": json.loads(output), "started_at": 0.0, "ended_at": 0.0,
        }  # fmt: skip

    unit = TaskFetchingUnit(execute, 4)
    for task in parse(
        '1. top_items(items=[{"sku": "A", "qty": 3}, {"sku": "B", "qty": 9}, {"sku": "C", '
        '"qty": 1}])\n'
        '2. weighted_mean(values="$1.qty")\n'
        '3. weighted_mean(values=["$1[0].qty", "$1[1].qty"], weights=[1, 3])\n'
        '4. charge(coulombs=1.6e-19, scale="$1[0].qty")'
    ):
        assert isinstance(task, Task)
        unit.add(task)
    results = await unit.join()
    assert [r["data"] for r in results][1:] == [
        {"mean": 6.0}, {"mean": 4.5}, {"charge": pytest.approx(1.44e-18)}
    ]  # fmt: skip
    assert ran[1] == ("weighted_mean", {"values": [9, 3]})  # a column: a list
    assert resolve({"s": "qty $1.qty"}, {1: results[0]}) == {"s": "qty 9, 3"}
    rows = resolve({"items": "$1"}, {1: results[0]})["items"]  # whole rows: a list argument
    assert rows == results[0]["data"] and CALLS.conform("top_items", {"items": rows}) == {
        "items": rows
    }


def test_the_grammar_enforces_each_schema() -> None:
    grammar = plan_grammar(DOMAIN, "", 4)
    assert '("\\"m\\"" | "\\"cm\\"" | ref)' in grammar  # an enum
    assert re.search(r'v-polygon-area-points-item ::= "\{" "\\"x\\": " \(number \| ref\)', grammar)
    assert re.search(r'v-determinant-matrix-item ::= "\[" \(\(number \| ref\)', grammar)
    assert 'number ::= "-"? [0-9]+ ("." [0-9]+)? ([eE] [-+]? [0-9]+)?' in grammar
    assert '(", weights=" (v-weighted-mean-weights-0 | null))?' in grammar  # optional
    assert '", scale=" (integer | ref)' in grammar
    for name in re.findall(r"\b(v-[a-z0-9-]+|call-[a-z0-9-]+)\b", grammar):
        assert re.search(rf"^{re.escape(name)} ::= ", grammar, re.MULTILINE), name


def test_a_tool_without_a_pydantic_schema_is_read_from_its_json_schema() -> None:
    class Fake:
        name = "mcp_tool"
        args: dict[str, Any] = {}
        tool_call_schema = {
            "type": "object",
            "properties": {
                "ids": {"type": "array", "items": {"type": "integer"}},
                "mode": {"enum": ["fast", "exact"]},
            },
            "required": ["ids"],
        }

    signature = signature_of(Fake())  # type: ignore[arg-type]
    assert signature.text() == 'mcp_tool(ids: list[integer], mode: "fast"|"exact" = null)'
    assert signature.check({"ids": [1, 2], "mode": "fast"}) is None
    assert (
        signature.check({"ids": [1, "x"]})
        == "mcp_tool: argument 'ids' item 1 must be a whole number, not \"x\""
    )
