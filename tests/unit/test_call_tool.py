import asyncio

import pytest
from langchain_core.tools import tool

from graphs.context import Context
from graphs.state import ToolCall
from nodes.call_tool import call_tool
from tests.unit.test_route_query import FakeRuntime
from tools import TOOLS


@tool
async def slow(seconds: float) -> str:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return "done"


@tool
async def broken() -> str:
    """Always fail."""
    raise RuntimeError("backend down")


@pytest.fixture(autouse=True)
def extra_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TOOLS, "slow", slow)
    monkeypatch.setitem(TOOLS, "broken", broken)


async def run(call: ToolCall, **context: float) -> tuple[dict[str, object], FakeRuntime]:
    runtime = FakeRuntime(Context(**context))  # type: ignore[arg-type]
    return await call_tool(call, runtime), runtime  # type: ignore[arg-type]


async def test_success_is_a_result_with_times() -> None:
    update, runtime = await run(ToolCall(tool="calculator", args={"expression": "6*7"}))
    [result] = update["tool_results"]  # type: ignore[misc]
    assert (result.ok, result.output) == (True, "42")
    assert result.started_at <= result.ended_at
    assert [e["event"] for e in runtime.events] == ["step_start", "step_end"]


async def test_timeout_becomes_an_error_result() -> None:
    update, _ = await run(ToolCall(tool="slow", args={"seconds": 5}), tool_timeout_seconds=0.05)
    [result] = update["tool_results"]  # type: ignore[misc]
    assert not result.ok
    assert "timed out after 0.05 s" in result.output
    assert result.ended_at - result.started_at < 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (ToolCall(tool="broken"), "RuntimeError: backend down"),
        (ToolCall(tool="nope"), "no tool named 'nope'"),
        (ToolCall(tool="calculator", args={}), "expression"),
        (ToolCall(tool="query_database", args={"sql": "DROP TABLE orders"}), "not authorized"),
    ],
)
async def test_failures_become_error_results(call: ToolCall, message: str) -> None:
    update, _ = await run(call)
    [result] = update["tool_results"]  # type: ignore[misc]
    assert not result.ok
    assert message in result.output
