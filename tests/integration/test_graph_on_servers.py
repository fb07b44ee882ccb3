"""The fast agent against real model servers (embedded llama.cpp, vLLM CPU)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from graphs.context import Context
from graphs.fast_agent import graph
from tools.query_database import run_query

MULTI_TOOL_QUESTION = (
    "What is the total amount of Acme Corp's delivered orders, "
    "and how many days do Gold members have to ask for a refund?"
)
ACME_DELIVERED_SQL = (
    "SELECT ROUND(SUM(o.amount), 2) FROM orders o JOIN customers c ON c.id = o.customer_id "
    "WHERE c.name = 'Acme Corp' AND o.status = 'delivered'"
)


async def run(question: str, context: Context) -> dict[str, Any]:
    out: dict[str, Any] = {"chunks": [], "events": []}
    async for mode, chunk in graph.astream(
        {"messages": [{"role": "user", "content": question}]},
        context=context,
        stream_mode=["messages", "custom", "values"],
    ):
        if mode == "messages" and isinstance(chunk[0], AIMessageChunk) and chunk[0].content:
            out["chunks"].append((chunk[1]["langgraph_node"], chunk[0].content))
        elif mode == "custom":
            out["events"].append(chunk)
        elif mode == "values":
            out["state"] = chunk
    return out


def digits(text: str) -> str:
    """Return the text with thousands separators and currency signs removed."""
    return re.sub(r"(?<=\d),(?=\d{3})", "", text).replace("$", "")


@pytest.mark.engine
async def test_multi_tool_question_runs_parallel_branches_and_streams(
    llm_context: Context, checks_answers: bool
) -> None:
    out = await run(MULTI_TOOL_QUESTION, llm_context)
    state = out["state"]

    assert (state["route"], state["route_decided_by"]) == ("tools", "classifier")
    results = {r.tool: r for r in state["tool_results"]}
    assert {"query_database", "search_docs"} <= set(results), state["plan"]
    assert all(r.ok for r in results.values()), results

    branches = [t for t in state["timings"] if t["step"] == "call_tool"]
    assert len(branches) >= 2
    assert max(t["start"] for t in branches) < min(t["end"] for t in branches)  # overlapped

    nodes = {node for node, _ in out["chunks"]}
    assert nodes == {"synthesize_answer"}
    assert len(out["chunks"]) > 1

    events = [(e["event"], e.get("step")) for e in out["events"]]
    for step in ("route_query", "plan_tools", "call_tool", "synthesize_answer"):
        assert ("step_start", step) in events and ("step_end", step) in events
    assert ("first_token", None) in events

    answer = digits(state["messages"][-1].content)
    assert answer.strip()
    if checks_answers:
        expected = float(run_query(ACME_DELIVERED_SQL).splitlines()[1])
        assert f"{expected:.0f}" in answer, answer
        assert "60" in answer, answer


async def test_greeting_is_answered_directly_by_the_small_model(
    llm_context: Context,
) -> None:
    out = await run("Hi! Who are you?", llm_context)
    state = out["state"]
    assert state["route"] == "direct"
    assert state["tool_results"] == []
    assert {node for node, _ in out["chunks"]} == {"answer_directly"}
    assert len(out["chunks"]) > 1
    assert state["messages"][-1].content.strip()


async def test_a_tool_timeout_still_produces_an_answer(llm_context: Context) -> None:
    from dataclasses import replace

    context = replace(llm_context, tool_timeout_seconds=0.000001)
    out = await run("How many support tickets are still open?", context)
    state = out["state"]
    assert state["tool_results"] and not any(r.ok for r in state["tool_results"])
    assert "timed out" in state["tool_results"][0].output
    assert state["messages"][-1].content.strip()
