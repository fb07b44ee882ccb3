"""The task fetching unit: calls start when their inputs are ready, references resolve."""

import asyncio
import time
from typing import Any

import pytest

from core.state import ToolResult
from engine.language.parser import Task
from engine.scheduler.task_fetching import (
    TaskFetchingUnit,
    UnresolvedReferenceError,
    lookup,
    resolve,
)


def result(index: int, data: Any, output: str = "", ok: bool = True) -> ToolResult:
    return ToolResult(
        index=index, tool="t", args={}, ok=ok, status="ok" if ok else "error",
        output=output, data=data, started_at=0.0, ended_at=0.0,
    )  # fmt: skip


class Recorder:
    """Runs calls by sleeping their `seconds` argument; records start and end times."""

    def __init__(self) -> None:
        self.spans: dict[int, tuple[float, float]] = {}
        self.args: dict[int, dict[str, Any]] = {}

    async def __call__(self, task: Task, args: dict[str, Any]) -> ToolResult:
        start = time.monotonic()
        self.args[task.index] = args
        await asyncio.sleep(float(task.args.get("seconds", 0)))
        if task.args.get("fail"):
            out = result(task.index, None, "boom", ok=False)
        else:
            out = result(task.index, [{"value": task.index * 10}], f"value {task.index * 10}")
        self.spans[task.index] = (start, time.monotonic())
        return out


async def test_a_dependent_call_starts_when_its_input_ends_not_at_a_barrier() -> None:
    run = Recorder()
    unit = TaskFetchingUnit(run, max_parallel=4)
    unit.add(Task(1, "t", {"seconds": 0.05}))
    unit.add(Task(2, "t", {"seconds": 0.5}))  # slow and independent
    unit.add(Task(3, "t", {"x": "$1.value"}, frozenset({1})))
    results = await unit.join()
    assert [r["index"] for r in results] == [1, 2, 3]
    (_, end1), (_, end2), (start3, _) = run.spans[1], run.spans[2], run.spans[3]
    assert start3 >= end1  # it waited for its input...
    assert start3 < end2  # ...and for nothing else: no barrier behind the slow call
    assert start3 - end1 < 0.1
    assert run.args[3] == {"x": 10}  # a whole-string reference keeps the value's type


async def test_a_failed_input_fails_its_dependents_with_a_clear_result() -> None:
    run = Recorder()
    unit = TaskFetchingUnit(run, max_parallel=4)
    unit.add(Task(1, "t", {"fail": True}))
    unit.add(Task(2, "t", {"x": "$1"}, frozenset({1})))
    unit.add(Task(3, "t", {"x": "$2.value"}, frozenset({2})))
    _, second, third = await unit.join()
    assert not second["ok"] and second["output"] == "not run: its input $1 failed"
    assert not third["ok"] and "$2 failed" in third["output"]
    assert set(run.spans) == {1}  # neither dependent ran


async def test_a_missing_field_leaves_the_call_unresolved() -> None:
    unit = TaskFetchingUnit(Recorder(), max_parallel=4)
    unit.add(Task(1, "t", {}))
    unit.add(Task(2, "t", {"x": "$1.capital"}, frozenset({1})))
    _, second = await unit.join()
    assert second["status"] == "unresolved" and "no field 'capital'" in second["output"]


async def test_a_skipped_line_fails_its_dependents() -> None:
    unit = TaskFetchingUnit(Recorder(), max_parallel=4)
    unit.skip(1, "t", "unknown tool")
    unit.add(Task(2, "t", {"x": "$1"}, frozenset({1})))
    first, second = await unit.join()
    assert first["output"] == "unknown tool" and "$1 failed" in second["output"]


async def test_earlier_rounds_results_can_be_referred_to() -> None:
    run = Recorder()
    unit = TaskFetchingUnit(run, max_parallel=4, done=[result(1, {"rate": 0.92})])
    unit.add(Task(2, "t", {"expression": "100 * $1.rate"}, frozenset({1})))
    results = await unit.join()
    assert run.args[2] == {"expression": "100 * 0.92"} and len(results) == 2


async def test_at_most_max_parallel_calls_run_at_once() -> None:
    run = Recorder()
    unit = TaskFetchingUnit(run, max_parallel=2)
    for i in range(1, 5):
        unit.add(Task(i, "t", {"seconds": 0.05, "n": i}))
    await unit.join()
    starts = sorted(s for s, _ in run.spans.values())
    ends = sorted(e for _, e in run.spans.values())
    assert starts[2] >= ends[0]  # the third waited for a slot


def test_lookup_reads_columns_json_fields_and_single_values() -> None:
    rows = [{"name": "Acme Corp", "spend": 10.5}]
    assert lookup(result(1, rows), "SPEND") == 10.5
    both = result(1, rows + [{"name": "Initech", "spend": 1}])
    assert lookup(both, "name") == ["Acme Corp", "Initech"]  # a column: a list of its values
    assert lookup(both, "[1].name") == "Initech" and lookup(both, ".name[0]") == "Acme Corp"
    assert resolve({"q": "spent by $1.name"}, {1: both}) == {"q": "spent by Acme Corp, Initech"}
    nested = result(1, {"items": [{"id": 7, "tags": ["a", "b"]}, {"id": 9, "tags": []}]})
    assert lookup(nested, ".items[1].id") == 9 and lookup(nested, ".items.id") == [7, 9]
    assert lookup(nested, ".items[0].tags[1]") == "b"
    with pytest.raises(UnresolvedReferenceError, match=r"no item \[5\]"):
        lookup(nested, ".items[5]")
    assert lookup(result(1, {"a": {"rate": 0.79}}), "rate") == 0.79
    assert lookup(result(1, [{"n": 200}]), None) == 200
    assert lookup(result(1, None, "plain text"), None) == "plain text"
    with pytest.raises(UnresolvedReferenceError, match="its fields: name, spend"):
        lookup(result(1, rows), "country")


def test_resolve_fills_references_inside_strings() -> None:
    inputs = {1: result(1, [{"id": 1394}]), 2: result(2, {"rate": 0.5})}
    args = {"url": "http://svc/track?order_id=$1.id", "expression": "$1.id * $2.rate", "n": 3}
    assert resolve(args, inputs) == {
        "url": "http://svc/track?order_id=1394", "expression": "1394 * 0.5", "n": 3
    }  # fmt: skip


async def test_a_repeated_call_runs_once_and_both_get_its_result() -> None:
    run = Recorder()
    unit = TaskFetchingUnit(run, max_parallel=4)
    unit.add(Task(1, "t", {"seconds": 0.01}))
    unit.add(Task(2, "t", {"seconds": 0.01}))  # the same call again
    first, second = await unit.join()
    assert set(run.spans) == {1} and second["index"] == 2 and second["output"] == first["output"]


async def test_join_reports_the_results_in_call_order_up_to_the_first_still_running() -> None:
    unit = TaskFetchingUnit(Recorder(), max_parallel=4, done=[result(1, 10)])
    unit.add(Task(2, "t", {"seconds": 0.2}, set()))
    unit.add(Task(3, "t", {"seconds": 0.05}, set()))
    await asyncio.sleep(0.01)
    heard: list[tuple[list[int], bool]] = []
    await unit.join(lambda ready, running: heard.append(([r["index"] for r in ready], running)))
    # 3 ends first, but 2 is still running: only the earlier round's result is in order
    assert heard == [([1], True), ([1], True), ([1, 2, 3], False)]


async def test_join_after_every_call_ended_hears_once_that_none_runs() -> None:
    unit = TaskFetchingUnit(Recorder(), max_parallel=4)
    unit.add(Task(1, "t", {}, set()))
    await asyncio.sleep(0.01)
    heard: list[bool] = []
    await unit.join(lambda ready, running: heard.append(running))
    assert heard == [False]
