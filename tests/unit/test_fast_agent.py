"""The whole graph with scripted models: routing, streamed plans, calls, answers, turns."""

import asyncio
import http.server
import json
import threading
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from core.context import Context
from core.settings import Settings, use_settings
from graphs.fast_agent import build_graph, graph
from prompts.conversation import InvalidInputError
from serving.client import ModelCallError
from tools import SHOP


async def run(question: Any, context: Context | None = None, app: Any = graph) -> dict[str, Any]:
    out: dict[str, Any] = {"tokens": [], "events": [], "messages": []}
    async for mode, chunk in app.astream(
        {"messages": [{"role": "user", "content": question}]},
        context=context or Context(),
        stream_mode=["messages", "custom", "values"],
    ):
        if mode == "messages":
            message, meta = chunk
            out["messages"].append((meta["langgraph_node"], message))
            if (
                isinstance(message, AIMessageChunk)
                and message.content
                and not message.id.startswith("plan_")
            ):
                out["tokens"].append((meta["langgraph_node"], message.content))
        elif mode == "custom":
            out["events"].append(chunk)
        else:
            out["state"] = chunk
    return out


PLAN = (
    '1. query_database(sql="SELECT COUNT(*) AS n FROM customers")\n'
    '2. calculator(expression="$1.n * 2")\n'
    '3. search_docs(query="refund window")\n'
    "4. join()"
)


async def test_direct_route_streams_the_small_model_only(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(router=["I am the Northwind assistant."])
    out = await run("Hi! Who are you?")
    assert models.calls == ["router"]
    assert "".join(t for _, t in out["tokens"]) == "I am the Northwind assistant."
    assert {node for node, _ in out["tokens"]} == {"answer_directly"}
    assert out["state"]["route"] == "direct"
    assert [t["step"] for t in out["state"]["timings"]] == ["route_query", "answer_directly"]


async def test_calls_start_while_the_plan_streams_and_dependents_get_values(scripted) -> None:  # type: ignore[no-untyped-def]
    scripted(delay=0.02, planner=[PLAN], synthesizer=["There are 200 customers; twice is 400."])
    out = await run("How many customers do we have, twice that, and the refund window?")
    state = out["state"]

    results = {r["index"]: r for r in state["tool_results"]}
    assert [results[i]["tool"] for i in (1, 2, 3)] == [
        "query_database",
        "calculator",
        "search_docs",
    ]
    assert all(r["ok"] for r in results.values())
    assert results[2]["args"] == {"expression": "200 * 2"} and results[2]["output"] == "400"

    [plan] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    [planner_call] = plan["model_calls"]
    calls = {t["call"]: t for t in state["timings"] if t["step"] == "call_tool"}
    planner_end = plan["start"] + planner_call["ms"] / 1000
    assert calls[1]["start"] < planner_end  # the first call ran while the plan was written
    assert calls[2]["start"] >= calls[1]["end"]  # the dependent waited for its input
    assert plan["first_call_ms"] < plan["plan_ms"]

    # The plan's text never reaches the user; its calls and results do, as messages.
    assert {node for node, _ in out["tokens"]} == {"synthesize_answer"}
    streamed = [m for node, m in out["messages"] if node == "plan_and_call_tools"]
    assert any(m.content == "Planning the tool calls…" for m in streamed)
    assert sum(len(getattr(m, "tool_call_chunks", [])) for m in streamed) == 3
    assert sum(isinstance(m, ToolMessage) for m in streamed) == 3
    kept = state["messages"]
    plan_message = next(m for m in kept if isinstance(m, AIMessage) and m.tool_calls)
    assert [c["name"] for c in plan_message.tool_calls] == [
        "query_database",
        "calculator",
        "search_docs",
    ]
    assert plan_message.content == ""
    tool_messages = [m for m in kept if isinstance(m, ToolMessage)]
    assert {m.tool_call_id for m in tool_messages} == {c["id"] for c in plan_message.tool_calls}
    assert kept[-1].content == "There are 200 customers; twice is 400."

    starts = [(e["step"], e.get("call")) for e in out["events"] if e["event"] == "step_start"]
    assert starts[:2] == [("route_query", None), ("plan_and_call_tools", None)]
    assert sorted(c for s, c in starts if s == "call_tool") == [1, 2, 3]
    assert [e for e in out["events"] if e["event"] == "first_token"]  # the answer's


async def test_a_plan_with_no_calls_goes_straight_to_the_answer(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(planner=["1. join()"], router=["Refunds are by the policy."])
    out = await run("What is the refund policy for orders?")
    assert out["state"]["tool_results"] == []
    assert out["state"]["messages"][-1].content == "Refunds are by the policy."
    assert models.calls == ["planner", "router"]  # answered directly, by the small model


async def test_replan_runs_a_second_round_that_sees_the_results(scripted) -> None:  # type: ignore[no-untyped-def]
    first = (
        "1. query_database(sql=\"SELECT country FROM customers WHERE name = 'Initech'\")\n"
        "2. replan()"
    )
    second = '3. search_docs(query="shipping to US")\n4. join()'  # after the replan line
    models = scripted(planner=[first, second], synthesizer=["Initech is in the US."])
    out = await run("Which country is Initech in, and how long does shipping there take?")
    state = out["state"]
    assert [r["index"] for r in state["tool_results"]] == [1, 3]
    rounds = [
        (t["round"], t["replan"]) for t in state["timings"] if t["step"] == "plan_and_call_tools"
    ]
    assert rounds == [(1, True), (2, False)]
    second_prompt = [p for tier, p in models.prompts if tier == "planner"][1]
    assert '<result call="1"' in second_prompt and "country" in second_prompt


async def test_rounds_stop_at_the_limit(scripted) -> None:  # type: ignore[no-untyped-def]
    again = '1. calculator(expression="1+1")\n2. replan()'
    scripted(
        planner=[again, again.replace("1. calc", "3. calc").replace("2. replan", "4. replan")],
        synthesizer=["2"],
    )
    out = await run("What is 1+1 and then again?", Context(max_plan_rounds=2, router_confidence=0))
    rounds = [
        (t["round"], t["replan"])
        for t in out["state"]["timings"]
        if t["step"] == "plan_and_call_tools"
    ]
    assert rounds == [(1, True), (2, False)]


async def test_bad_plan_lines_still_get_an_answer_that_knows(scripted) -> None:  # type: ignore[no-untyped-def]
    plan = '1. send_email(to="boss")\n2. search_docs(query="$1")\n3. join()'
    models = scripted(planner=[plan], synthesizer=["I could not do that."])
    out = await run("Email my boss the refund policy")
    results = out["state"]["tool_results"]
    assert [r["ok"] for r in results] == [False, False] and "send_email" in results[0]["output"]
    assert "could not be planned" in results[1]["output"]
    [plan_step] = [t for t in out["state"]["timings"] if t["step"] == "plan_and_call_tools"]
    assert len(plan_step["plan_errors"]) == 2
    synthesizer_prompt = [p for tier, p in models.prompts if tier == "synthesizer"][0]
    assert 'status="error"' in synthesizer_prompt


async def test_calls_beyond_the_limit_are_dropped_and_the_answer_is_told(scripted) -> None:  # type: ignore[no-untyped-def]
    plan = "".join(f'{i}. calculator(expression="{i}+{i}")\n' for i in range(1, 5)) + "5. join()"
    models = scripted(planner=[plan], synthesizer=["Some were dropped."])
    out = await run("Compute 1+1, 2+2, 3+3 and 4+4", Context(max_tool_calls=2))
    statuses = [r["status"] for r in out["state"]["tool_results"]]
    assert statuses == ["ok", "ok", "dropped", "dropped"]
    assert 'status="dropped"' in [p for tier, p in models.prompts if tier == "synthesizer"][0]


async def test_a_second_turn_starts_with_fresh_results_and_timings(scripted) -> None:  # type: ignore[no-untyped-def]
    plan = '1. calculator(expression="2+2")\n2. join()'
    scripted(planner=[plan, plan], synthesizer=["4", "4 again"])
    app = graph.builder.compile(checkpointer=InMemorySaver())  # type: ignore[attr-defined]
    config = {"configurable": {"thread_id": "t1"}}
    for _ in range(2):
        state = await app.ainvoke(
            {"messages": [{"role": "user", "content": "what is 2 + 2 in total?"}]},
            config,
            context=Context(),
        )
    assert len(state["tool_results"]) == 1 and state["tool_results"][0]["turn"] == 2
    steps = [t["step"] for t in state["timings"]]
    assert steps == ["route_query", "plan_and_call_tools", "call_tool", "synthesize_answer"]
    assert len(state["messages"]) == 8  # 2 x (question, plan, result, answer)


async def test_a_follow_up_sees_earlier_questions_and_answers_but_no_tool_traffic(scripted) -> None:  # type: ignore[no-untyped-def]
    plan = '1. calculator(expression="3")\n2. join()'
    models = scripted(
        planner=[plan, plan.replace("3", "5")], synthesizer=["Acme Corp placed 3.", "Globex: 5."]
    )
    app = graph.builder.compile(checkpointer=InMemorySaver())  # type: ignore[attr-defined]
    config = {"configurable": {"thread_id": "follow-up"}}
    for question in ("How many orders did Acme Corp place?", "And how many did Globex place?"):
        await app.ainvoke(
            {"messages": [{"role": "user", "content": [{"type": "text", "text": question}]}]},
            config,
            context=Context(),
        )
    second_planner, second_answer = [p for tier, p in models.prompts][2:]
    for prompt in (second_planner, second_answer):
        assert "Acme Corp placed 3." in prompt and "How many orders did Acme Corp" in prompt
        assert "Planning the tool calls" not in prompt and "call_" not in prompt
        assert prompt.count("how many did Globex place") == 1  # the query is not an earlier turn


async def test_empty_or_oversized_input_is_refused_before_any_model_call(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted()
    with pytest.raises(InvalidInputError, match="empty"):
        await run("   ")
    with pytest.raises(InvalidInputError, match="MAX_QUERY_CHARS"):
        await run("x" * 5000)
    with pytest.raises(InvalidInputError, match="reads text only"):
        await run([{"type": "image_url", "image_url": {"url": "data:,"}}])
    assert models.calls == []


async def test_a_dead_model_server_fails_fast_with_a_clear_error() -> None:
    dead = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    operator = Settings(planner_base_url=dead, synthesizer_base_url=dead, llm_backend="openai")
    with (
        use_settings(operator),
        pytest.raises(ModelCallError, match="planner model .* at http://127.0.0.1:9/v1 .* reached"),
    ):
        await asyncio.wait_for(run("How many orders were refunded?"), timeout=30)


FALLBACK_PLAN = '1. calculator(expression="2+2")\n2. join()'


class Fallback(http.server.BaseHTTPRequestHandler):
    """A model server that always writes a one-call plan, and answers with that text."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for delta, finish in (({"content": FALLBACK_PLAN}, None), ({}, "stop")):
            body = {
                "id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }  # fmt: skip
            self.wfile.write(f"data: {json.dumps(body)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


async def test_an_unreachable_tier_falls_back_to_the_operators_fallback() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fallback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fallback = f"http://127.0.0.1:{server.server_address[1]}/v1"
    operator = Settings(
        planner_base_url="http://127.0.0.1:9/v1", synthesizer_base_url="http://127.0.0.1:9/v1",
        fallback_base_url=fallback, llm_backend="openai",
    )  # fmt: skip
    try:
        with use_settings(operator):
            out = await run("How many orders were refunded?")
    finally:
        server.shutdown()
    assert out["state"]["messages"][-1].content == FALLBACK_PLAN  # the fallback did both tiers


async def test_a_run_without_context_uses_the_defaults(scripted) -> None:  # type: ignore[no-untyped-def]
    scripted(router=["Hello!"])
    state = await graph.ainvoke({"messages": [{"role": "user", "content": "Hi! Who are you?"}]})
    assert state["messages"][-1].content == "Hello!"


async def test_the_graph_builds_for_any_domain(scripted) -> None:  # type: ignore[no-untyped-def]
    assert build_graph(SHOP).name == "fast_agent"
