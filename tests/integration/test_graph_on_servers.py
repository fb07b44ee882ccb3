"""The fast agent against real model servers (embedded llama.cpp, vLLM CPU)."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from core.context import Context
from core.settings import settings, use_settings
from core.state import State, ToolResult
from evals.simulated.services import ExternalServices
from graphs.fast_agent import graph
from nodes.synthesize_answer import answer_messages
from serving import client
from tools import SHOP
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
    out: dict[str, Any] = {"chunks": [], "events": [], "plan_chunks": []}
    async for mode, chunk in graph.astream(
        {"messages": [{"role": "user", "content": question}]},
        context=context,
        stream_mode=["messages", "custom", "values"],
    ):
        if mode == "messages":
            message, meta = chunk
            if isinstance(message, AIMessageChunk) and str(message.id).startswith("plan_"):
                out["plan_chunks"].append(message)
            elif isinstance(message, AIMessageChunk) and message.content:
                out["chunks"].append((meta["langgraph_node"], message.content))
        elif mode == "custom":
            out["events"].append(chunk)
        elif mode == "values":
            out["state"] = chunk
    return out


def digits(text: str) -> str:
    """Return the text with thousands separators and currency signs removed."""
    return re.sub(r"(?<=\d),(?=\d{3})", "", text).replace("$", "")


@pytest.mark.engine
async def test_multi_tool_question_streams_plan_runs_calls_in_parallel_and_answers(
    llm_context: Context, checks_answers: bool
) -> None:
    # Templates off: the planner must write this plan (an earlier run may have taught it).
    out = await run(MULTI_TOOL_QUESTION, replace(llm_context, plan_templates=False))
    state = out["state"]

    assert (state["route"], state["route_decided_by"]) == ("tools", "classifier")
    results = state["tool_results"]
    assert results and all(r["ok"] for r in results), results
    if checks_answers:  # the 1.5B plans both parts; the 0.5B (vLLM CPU) often only the first
        assert {"query_database", "search_docs"} <= {r["tool"] for r in results}, results

    # Calls ran while the plan was still being written, and alongside each other.
    [plan] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"][:1]
    planner_call = plan["model_calls"][0]
    planner_end = planner_call["start"] + planner_call["ms"] / 1000
    calls = [t for t in state["timings"] if t["step"] == "call_tool"]
    assert min(t["start"] for t in calls) < planner_end, (calls, planner_call)
    assert planner_call["tokens_out"] and planner_call["ttft_ms"] < planner_call["ms"]

    # Chat clients saw the plan's calls appear and their results, as messages.
    assert sum(len(c.tool_call_chunks) for c in out["plan_chunks"]) == len(results)
    assert sum(isinstance(m, ToolMessage) for m in state["messages"]) == len(results)
    assert any(isinstance(m, AIMessage) and m.tool_calls for m in state["messages"])

    # The answer streams, in several chunks, from the answer node only.
    assert {node for node, _ in out["chunks"]} == {"synthesize_answer"}
    assert len(out["chunks"]) > 1
    events = [(e["event"], e.get("step")) for e in out["events"]]
    for step in ("route_query", "plan_and_call_tools", "call_tool", "synthesize_answer"):
        assert ("step_start", step) in events and ("step_end", step) in events
    assert ("first_token", None) in events

    # The server reused the planner's warm system prompt from its prefix cache.
    cached = planner_call.get("cached_tokens")
    assert cached is not None and cached > 0.5 * planner_call["tokens_in"], planner_call

    answer = digits(state["messages"][-1].content)
    assert answer.strip()
    if checks_answers:
        expected = float(run_query(ACME_DELIVERED_SQL).splitlines()[1])
        assert f"{expected:.0f}" in answer, answer
        assert "60" in answer, answer


@pytest.mark.engine
async def test_calls_of_a_plan_run_in_parallel_branches(llm_context: Context) -> None:
    # The shape of a solved question: the plan comes from its template, so the same two
    # calls run on every server, whatever its model would have planned.
    question = (
        "What is Globex Industries's lifetime spend, and which loyalty tier does that put them in?"
    )
    out = await run(question, llm_context)
    state = out["state"]
    [plan] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    assert plan["plan_source"] == "template" and "model_calls" not in plan
    calls = [t for t in state["timings"] if t["step"] == "call_tool"]
    assert sorted(t["tool"] for t in calls) == ["query_database", "search_docs"]
    assert max(t["start"] for t in calls) < min(t["end"] for t in calls)  # they overlapped
    assert len(out["chunks"]) > 1 and state["messages"][-1].content.strip()


async def test_greeting_is_answered_directly_by_the_small_model(llm_context: Context) -> None:
    out = await run("Hi! Who are you?", llm_context)
    state = out["state"]
    assert state["route"] == "direct"
    assert state["tool_results"] == []
    assert {node for node, _ in out["chunks"]} == {"answer_directly"}
    assert len(out["chunks"]) > 1
    assert state["messages"][-1].content.strip()


async def test_the_planners_direct_answer_begins_beside_it_unless_cores_are_shared(
    llm_context: Context,
) -> None:
    context = replace(llm_context, router_confidence=1.0)  # the classifier is never sure
    # The embedded servers are two llama.cpp processes on the same cores: there the answer
    # waits for the plan. One server for every tier (vLLM) answers beside the planner.
    shared = await client.share_cores(context, "router", "planner")
    out = await run("Hi! Who are you?", context)
    state = out["state"]
    assert state["route_decided_by"] == "planner" and state["tool_results"] == []
    [plan] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    [direct] = [t for t in state["timings"] if t["step"] == "answer_directly"]
    assert plan["answer_while_planning"] is not shared
    [answer_call] = direct["model_calls"]  # one call for the answer, not a second
    assert (answer_call["start"] < plan["end"]) is not shared  # beside it, or after it
    assert {node for node, _ in out["chunks"]} == {"answer_directly"}
    assert state["messages"][-1].content.strip()


async def test_a_second_round_numbers_on_and_its_call_runs(llm_context: Context) -> None:
    # A value only a reader can derive (a country's capital) takes a second round; the
    # server's grammar must let that round number on from the first (3., not 1.).
    question = (
        "Which country is Pioneer Analytics Inc based in, and what is the weather in that "
        "country's capital right now?"
    )
    with ExternalServices(profile="none", seed=0) as services:
        operator = replace(
            settings(), http_services=services.describe(), http_allowed_origins=services.base_url
        )
        with use_settings(operator):
            out = await run(question, llm_context)
    state = out["state"]
    plans = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    assert [p["round"] for p in plans] == [1, 2]
    assert not any("does not follow" in e for p in plans for e in p["plan_errors"])
    later = [r for r in state["tool_results"] if r["index"] > 2]
    assert later and later[0]["tool"] == "weather" and later[0]["ok"]


async def test_a_tool_timeout_still_produces_an_answer(llm_context: Context) -> None:
    context = replace(llm_context, tool_timeout_seconds=0.000001)
    out = await run("How many support tickets are still open?", context)
    state = out["state"]
    assert state["tool_results"] and not any(r["ok"] for r in state["tool_results"])
    assert "timed out" in state["tool_results"][0]["output"]
    assert state["messages"][-1].content.strip()


async def test_an_answer_read_ahead_reads_only_what_came_after(llm_context: Context) -> None:
    """The server keeps a prompt read ahead; the answer then reads the rest, not all of it."""
    question = "Which of these orders is the largest?"

    def results(seed: int) -> list[ToolResult]:
        rows = "\n".join(
            f"{seed}{i:03d} | 2025-0{i % 9 + 1}-1{i % 10} | {97 * i + seed}.50" for i in range(15)
        )
        return [
            ToolResult(
                index=i,
                tool="query_database",
                args={"sql": f"SELECT id, order_date, amount -- {i}"},
                ok=True,
                status="ok",
                output=output,
                data=None,
                started_at=0.0,
                ended_at=0.0,
            )
            for i, output in ((1, f"id | order_date | amount\n{rows}"), (2, f"n\n{seed}"))
        ]

    async def unread_tokens(ahead: bool) -> int:
        found = results(random.randint(100, 999))  # new values: nothing of them is cached
        state = State(messages=[HumanMessage(question)])
        if ahead:
            start = answer_messages(state, SHOP, found[:1], question=None)
            assert await client.read_prompt(llm_context, "synthesizer", start)
        whole = answer_messages(state, SHOP, found, question)
        answer = await client.stream_answer(llm_context, "synthesizer", whole, quiet=True)
        usage = answer.usage_metadata or {}
        cached = usage.get("input_token_details", {}).get("cache_read")
        assert cached is not None, usage
        return usage["input_tokens"] - cached

    plain, read_ahead = await unread_tokens(ahead=False), await unread_tokens(ahead=True)
    assert read_ahead < plain - 150, (plain, read_ahead)  # the 15 rows were read ahead
