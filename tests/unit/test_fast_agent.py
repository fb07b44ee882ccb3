"""The whole graph with scripted models: routing, fan-out, streaming, events, state."""

import asyncio
import json
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk
from langchain_core.tools import tool

from graphs.context import Context
from graphs.fast_agent import graph
from tools import TOOLS


@tool
async def slow_service(name: str) -> str:
    """Stand for a slow external API."""
    await asyncio.sleep(0.3)
    return f"{name}: ok"


async def run(question: str, context: Context | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"tokens": [], "events": [], "node_of_tokens": set()}
    async for mode, chunk in graph.astream(
        {"messages": [{"role": "user", "content": question}]},
        context=context or Context(),
        stream_mode=["messages", "custom", "values"],
    ):
        if mode == "messages":
            token, meta = chunk
            if isinstance(token, AIMessageChunk) and token.content:
                out["tokens"].append(token.content)
                out["node_of_tokens"].add(meta["langgraph_node"])
        elif mode == "custom":
            out["events"].append(chunk)
        else:
            out["state"] = chunk
    return out


async def test_direct_route_streams_the_small_model_only(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(router=["I am the Northwind assistant."])
    out = await run("Hi! Who are you?")
    assert models.calls == ["router"]
    assert "".join(out["tokens"]) == "I am the Northwind assistant."
    assert out["node_of_tokens"] == {"answer_directly"}
    assert out["state"]["route"] == "direct"
    assert [t["step"] for t in out["state"]["timings"]] == ["route_query", "answer_directly"]


async def test_tool_route_fans_out_and_grounds_the_answer(scripted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(TOOLS, "slow_service", slow_service)
    plan = {
        "calls": [
            {"tool": "slow_service", "args": {"name": "crm"}},
            {"tool": "slow_service", "args": {"name": "weather"}},
            {"tool": "slow_service", "args": {"name": "search"}},
            {"tool": "query_database", "args": {"sql": "SELECT COUNT(*) AS n FROM customers"}},
        ]
    }
    scripted(planner=[json.dumps(plan)], synthesizer=["There are 200 customers."])
    out = await run("How many customers do we have in the database?")

    state = out["state"]
    results = state["tool_results"]
    assert sorted(r.tool for r in results) == ["query_database", *["slow_service"] * 3]
    assert all(r.ok for r in results)
    slow = [r for r in results if r.tool == "slow_service"]
    assert max(r.started_at for r in slow) < min(r.ended_at for r in slow)  # overlapped

    # Only the synthesizer's tokens stream (the planner's JSON does not), in several chunks.
    assert out["node_of_tokens"] == {"synthesize_answer"}
    assert len(out["tokens"]) > 1
    assert state["messages"][-1].content == "There are 200 customers."

    starts = [e["step"] for e in out["events"] if e["event"] == "step_start"]
    assert starts[:2] == ["route_query", "plan_tools"]
    assert starts.count("call_tool") == 4 and starts[-1] == "synthesize_answer"
    [first_token] = [e for e in out["events"] if e["event"] == "first_token"]  # answer only

    # Every model call is timed by the step's callback handler.
    steps = {t["step"]: t for t in state["timings"]}
    [planner_call] = steps["plan_tools"]["model_calls"]
    [answer_call] = steps["synthesize_answer"]["model_calls"]
    assert "model_calls" not in steps["route_query"]  # the classifier decided: no model call
    assert 0 < planner_call["ttft_ms"] <= planner_call["ms"]
    assert 0 < answer_call["ttft_ms"] <= answer_call["ms"] <= steps["synthesize_answer"]["ms"]


async def test_an_empty_plan_goes_straight_to_synthesis(scripted) -> None:  # type: ignore[no-untyped-def]
    scripted(planner=['{"calls": []}'], synthesizer=["No tool helps with that."])
    out = await run("What is the refund policy for orders?")
    assert out["state"]["tool_results"] == []
    assert out["state"]["messages"][-1].content == "No tool helps with that."


async def test_a_second_turn_starts_with_fresh_results_and_timings(scripted) -> None:  # type: ignore[no-untyped-def]
    from langgraph.checkpoint.memory import InMemorySaver

    plan = json.dumps({"calls": [{"tool": "calculator", "args": {"expression": "2+2"}}]})
    scripted(planner=[plan, plan], synthesizer=["4", "4 again"])
    saver_graph = graph.builder.compile(checkpointer=InMemorySaver())  # type: ignore[attr-defined]
    config = {"configurable": {"thread_id": "t1"}}
    for _ in range(2):
        state = await saver_graph.ainvoke(
            {"messages": [{"role": "user", "content": "what is 2 + 2 in total?"}]},
            config,  # type: ignore[arg-type]
            context=Context(),
        )
    assert len(state["tool_results"]) == 1
    assert [t["step"] for t in state["timings"]] == [
        "route_query", "plan_tools", "call_tool", "synthesize_answer"
    ]  # fmt: skip
    assert len(state["messages"]) == 4


async def test_a_dead_model_server_fails_fast_with_a_clear_error() -> None:
    dead = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    context = Context(planner_base_url=dead, synthesizer_base_url=dead, llm_backend="openai")
    with pytest.raises(Exception, match="(?i)connect"):
        await asyncio.wait_for(run("How many orders were refunded?", context), timeout=30)


async def test_a_dependent_chain_plans_a_second_round_with_the_results(scripted) -> None:  # type: ignore[no-untyped-def]
    first = {
        "calls": [
            {"tool": "query_database", "args": {"sql": "SELECT COUNT(*) AS n FROM products"}}
        ],
        "followup": True,
    }
    second = {
        "calls": [{"tool": "calculator", "args": {"expression": "40 * 2"}}],
        "followup": False,
    }
    scripted(planner=[json.dumps(first), json.dumps(second)], synthesizer=["Twice is 80."])
    out = await run("How many products do we sell, times two?")
    state = out["state"]
    assert [r.tool for r in state["tool_results"]] == ["query_database", "calculator"]
    plans = [t for t in state["timings"] if t["step"] == "plan_tools"]
    assert [(p["round"], p["followup"]) for p in plans] == [(1, True), (2, False)]
    assert state["messages"][-1].content == "Twice is 80."


async def test_follow_up_rounds_stop_at_the_limit(scripted) -> None:  # type: ignore[no-untyped-def]
    again = {"calls": [{"tool": "calculator", "args": {"expression": "1+1"}}], "followup": True}
    scripted(planner=[json.dumps(again)] * 2, synthesizer=["2"])
    out = await run("What is 1+1 and then again?", Context(max_plan_rounds=2))
    plans = [t for t in out["state"]["timings"] if t["step"] == "plan_tools"]
    assert [(p["round"], p["followup"]) for p in plans] == [(1, True), (2, False)]
    assert len(out["state"]["tool_results"]) == 2


async def test_a_run_without_context_uses_the_defaults(scripted) -> None:  # type: ignore[no-untyped-def]
    scripted(router=["Hello!"])
    state = await graph.ainvoke({"messages": [{"role": "user", "content": "Hi! Who are you?"}]})
    assert state["messages"][-1].content == "Hello!"


async def test_an_unusable_plan_still_gets_an_answer(scripted) -> None:  # type: ignore[no-untyped-def]
    scripted(planner=['{"calls": [{"tool": "query_da'], synthesizer=["I could not find that."])
    out = await run("How many orders were refunded in 2025?")
    [plan] = [t for t in out["state"]["timings"] if t["step"] == "plan_tools"]
    assert "unusable plan" in plan["error"]
    assert out["state"]["messages"][-1].content == "I could not find that."


async def test_a_follow_up_question_sees_the_earlier_turn(scripted) -> None:  # type: ignore[no-untyped-def]
    from langgraph.checkpoint.memory import InMemorySaver

    no_calls = '{"calls": [], "followup": false}'
    models = scripted(planner=[no_calls] * 2, synthesizer=["Acme Corp placed 3.", "Globex: 5."])
    saver_graph = graph.builder.compile(checkpointer=InMemorySaver())  # type: ignore[attr-defined]
    config = {"configurable": {"thread_id": "follow-up"}}
    for question in ("How many orders did Acme Corp place?", "And how many did Globex place?"):
        await saver_graph.ainvoke(
            {"messages": [{"role": "user", "content": question}]},
            config,  # type: ignore[arg-type]
            context=Context(),
        )
    second_planner, second_answer = [p for tier, p in models.prompts][2:]
    for prompt in (second_planner, second_answer):
        assert "Acme Corp placed 3." in prompt and "How many orders did Acme Corp" in prompt
