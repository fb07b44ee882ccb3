"""One planned call: a result for every outcome, with its own timing."""

import asyncio
from typing import Any

import pytest
from langchain_core.tools import tool

from core.context import Context
from core.domain import Domain
from engine.language.parser import Task
from engine.scheduler.call_tool import call_tool, tool_message
from tools import SHOP


@tool
async def slow(seconds: float) -> str:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return "done"


@tool
async def broken() -> str:
    """Always fail."""
    raise RuntimeError("backend down")


DOMAIN = Domain("Test", "A test.", "", tools=(*SHOP.tools, slow, broken))


async def run(tool_name: str, args: dict[str, Any], **context: Any) -> tuple[Any, list[Any]]:
    timings: list[dict[str, Any]] = []
    result = await call_tool(
        Task(1, tool_name, args), args, domain=DOMAIN, context=Context(**context),
        config={}, run_key="k", timings=timings,
    )  # fmt: skip
    return result, timings


async def test_success_is_a_result_with_data_and_a_timing() -> None:
    result, [timing] = await run("query_database", {"sql": "SELECT COUNT(*) AS n FROM customers"})
    assert (result["ok"], result["status"], result["data"]) == (True, "ok", [{"n": 200}])
    assert result["output"] == "n\n200"
    assert timing["step"] == "call_tool" and timing["call"] == 1 and timing["ok"]


async def test_timeout_becomes_an_error_result() -> None:
    result, _ = await run("slow", {"seconds": 5}, tool_timeout_seconds=0.05)
    assert (result["ok"], result["status"]) == (False, "timeout")
    assert "timed out after 0.05 s" in result["output"]
    assert result["ended_at"] - result["started_at"] < 1


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("broken", {}, "RuntimeError: backend down"),
        ("nope", {}, "no tool named 'nope'"),
        ("calculator", {}, "expression"),
        ("query_database", {"sql": "DROP TABLE orders"}, "not authorized"),
    ],
)
async def test_failures_become_error_results(name: str, args: dict[str, Any], message: str) -> None:
    result, _ = await run(name, args)
    assert not result["ok"] and message in result["output"]


async def test_the_message_a_client_shows_is_cut_and_points_at_its_call() -> None:
    result, _ = await run("search_docs", {"query": "warranty laptops"})
    message = tool_message({**result, "output": "x" * 5000}, "k")
    assert message.tool_call_id == "call_k_1" and message.name == "search_docs"
    assert len(message.text) < 1600 and "5,000 characters" in message.text
