"""Grading calls against expected calls, and the eval run over another domain."""

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from evals.foreign import DOMAIN
from evals.foreign.generate import DATASET as FOREIGN
from evals.foreign.grading import calls_section, canonical, grade
from evals.harness.dataset import Question, load_dataset
from evals.harness.runner import asked_calls
from evals.run import load_domain, parse_args, run_suite
from evals.simulated.oracle import Oracle
from tools import SHOP

QUESTIONS = {q.id: q for q in load_dataset(FOREIGN)}


def same(tool: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    return canonical(DOMAIN, tool, a) == canonical(DOMAIN, tool, b)


def test_calls_compare_as_their_tool_reads_them() -> None:
    items = [{"name": "Pen", "price": 2, "quantity": 1}]
    assert same("rank_items", {"items": items}, {"items": [{"name": " pen", "price": "2.0"}],
                                                 "by": "total", "descending": True})  # fmt: skip
    ranked = [{"rank": 1, "name": "pen", "price": 2.0, "quantity": 1, "total": 2.0}]
    assert same("order_total", {"items": ranked}, {"items": items, "tax_rate": 0})
    assert same("loan_payment", {"principal": 320000, "annual_rate": 0.0425, "years": 25},
                {"principal": 320000.0000001, "annual_rate": 0.0425, "years": 25})  # fmt: skip
    assert same("letter_grades", {"scores": [1]}, {"scores": [1], "breakpoints": [60, 70, 80, 90]})
    assert not same("loan_payment", {"principal": 1, "annual_rate": 4.25, "years": 25},
                    {"principal": 1, "annual_rate": 0.0425, "years": 25})  # fmt: skip
    assert not same("convert_units", {"value": 1, "from_unit": "km", "to_unit": "mi"},
                    {"value": 1, "from_unit": "mi", "to_unit": "km"})  # fmt: skip
    refused = canonical(DOMAIN, "describe_numbers", {"values": "1, 2, 3"})
    assert refused == json.dumps(["describe_numbers", {"values": "1, 2, 3"}])


def row(runs: list[tuple[str, dict[str, Any]]], asked: list[Any] | None = None) -> dict[str, Any]:
    return {
        "tool_runs": [[tool, args, 1.0] for tool, args in runs],
        "asked_calls": [list(r) for r in runs] if asked is None else asked,
        "error": None,
    }


def test_a_run_is_graded_on_the_set_of_calls_it_made_and_on_repeats() -> None:
    question = QUESTIONS["holiday-weekdays"]
    first, second = ({"date": "2026-07-04"},), ({"date": "2026-12-25"},)
    both = [("date_info", first[0]), ("date_info", second[0])]
    assert grade(row(both), question, DOMAIN)["calls_right"]
    assert grade(row(both[::-1]), question, DOMAIN)["calls_right"]  # order does not matter
    wrong = grade(row([("date_info", first[0]), ("date_info", {"date": "2026-12-24"})]),
                  question, DOMAIN)  # fmt: skip
    assert not wrong["calls_right"]
    assert wrong["calls_missing"] == [canonical(DOMAIN, "date_info", second[0])]
    assert wrong["calls_extra"] == [canonical(DOMAIN, "date_info", {"date": "2026-12-24"})]
    repeated = grade(row(both, [*map(list, both), ["date_info", {"date": " 2026-07-04"}]]),
                     question, DOMAIN)  # fmt: skip
    assert repeated["calls_right"] and repeated["repeated_calls"] == 1
    assert grade(row([]), QUESTIONS["thanks-done"], DOMAIN)["calls_right"]
    assert not grade(row([("date_info", first[0])]), QUESTIONS["thanks-done"], DOMAIN)[
        "calls_right"
    ]
    failed = {**row(both), "error": "TimeoutError: "}
    assert not grade(failed, question, DOMAIN)["calls_right"]


def test_the_calls_asked_for_come_from_the_plan_or_the_react_turns() -> None:
    results = [
        {"index": 2, "tool": "date_info", "args": {"date": "b"}},
        {"index": 1, "tool": "date_info", "args": {"date": "a"}},
        {"index": 3, "tool": "date_info", "args": {"date": "a"}},
    ]
    assert asked_calls([], results) == [
        ["date_info", {"date": "a"}], ["date_info", {"date": "b"}], ["date_info", {"date": "a"}]
    ]  # fmt: skip
    call = {"name": "date_info", "args": {"date": "x"}, "id": "c1"}
    messages = [
        HumanMessage("earlier"),
        AIMessage("", tool_calls=[{**call, "id": "c0"}]),
        HumanMessage("now"),
        AIMessage("", tool_calls=[call, {**call, "id": "c2"}]),
        ToolMessage("{}", tool_call_id="c1"),
        AIMessage("done"),
    ]
    assert asked_calls(messages, []) == [["date_info", {"date": "x"}]] * 2


def test_the_calls_section_counts_per_group_and_lists_the_misses() -> None:
    rows = [
        {"graph": "fast_agent", "group": "one_tool", "id": "a", "correct": True,
         "calls_right": True, "calls_missing": [], "calls_extra": [], "repeated_calls": 0},
        {"graph": "fast_agent", "group": "chain", "id": "b", "correct": False,
         "calls_right": False, "calls_missing": ['["x", {"v": "a|b"}]'], "calls_extra": [],
         "repeated_calls": 2},
    ]  # fmt: skip
    text = "\n".join(calls_section(rows, ["fast_agent"]))
    assert "| one_tool | 1/1 | 0/1 |" in text and "| chain | 0/1 | 1/1 |" in text
    assert "| overall | 1/2 | 1/2 |" in text and "| fast_agent | b | False |" in text
    assert '{"v": "a\\|b"}' in text and "| direct |" not in text


def test_a_domain_is_named_on_the_command_line() -> None:
    assert load_domain(None) is SHOP
    assert load_domain("evals.foreign:DOMAIN") is DOMAIN
    assert load_domain("evals.foreign") is DOMAIN
    with pytest.raises(SystemExit, match="not a core.domain.Domain"):
        load_domain("evals.foreign:SPECS")


def test_the_simulated_planner_writes_the_expected_calls_with_their_references() -> None:
    oracle = Oracle(QUESTIONS["best-region-invested"], "http://unused")
    plan = oracle.plan(1).splitlines()
    assert plan[0].startswith('1. group_totals(sales=[{"region": "west", ')
    assert plan[1].startswith('2. compound_interest(principal="$1[0].total", ')
    assert plan[2] == "3. join()"
    assert [c.deps for c in oracle.calls] == [frozenset(), frozenset({1})]
    assert oracle.turns(sequential=False)[1][0].args["principal"] == 6100


async def test_the_suite_runs_another_domain_and_grades_its_calls(tmp_path: Path) -> None:
    ids = ["thanks-done", "flight-sentence", "holiday-weekdays", "lcm-primes"]
    args = parse_args([
        "--backend", "simulated", "--profile", "fast", "--graphs", "fast_agent", "react_agent",
        "--domain", "evals.foreign:DOMAIN", "--dataset", str(FOREIGN), "--no-langsmith",
        "--ids", *ids,
    ])  # fmt: skip
    args.out = str(tmp_path)
    report = await run_suite(args)

    rows = [
        json.loads(line) for line in (tmp_path / "simulated-numbers-desk" / "results.jsonl").open()
    ]
    by = {(r["graph"], r["id"]): r for r in rows}
    assert set(by) == {(g, i) for g in ("fast_agent", "react_agent") for i in ids}
    assert all(r["error"] is None and "calls_right" in r["scores"] for r in rows)
    assert all(by["react_agent", i]["calls_right"] and by["react_agent", i]["correct"] for i in ids)
    for i in ("thanks-done", "flight-sentence", "holiday-weekdays"):  # no list arguments
        assert by["fast_agent", i]["calls_right"] and by["fast_agent", i]["correct"], i
    assert all(r["repeated_calls"] == 0 for r in rows)
    text = report.read_text()
    assert "## Calls (against each question's expected calls)" in text
    assert '"domain": "Numbers Desk"' in text and "weather" not in text.lower()


def test_a_foreign_question_keeps_its_expected_calls() -> None:
    question = QUESTIONS["lcm-primes"]
    assert isinstance(question, Question)
    assert question.expected_calls[1] == {
        "tool": "prime_factors", "args": {"n": 770}, "planned": {"n": "$1.lcm"}
    }  # fmt: skip
