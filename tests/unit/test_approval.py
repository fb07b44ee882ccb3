"""Calls behind approval: paused with langchain's HITL request, run once when approved."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from core.context import Context
from core.domain import Domain, PlanExample, read_only
from graphs.fast_agent import build_graph

RAN: list[tuple[str, Any]] = []


@read_only
@tool
async def find_order(customer: str) -> str:
    """Find a customer's latest order."""
    RAN.append(("find_order", customer))
    return json.dumps({"id": 7, "amount": 40.0})


@tool
async def refund(order_id: int, amount: float) -> str:
    """Refund part of an order (a side effect)."""
    RAN.append(("refund", (order_id, amount)))
    return json.dumps({"refund_id": 100 + order_id, "amount": amount})


@read_only
@tool
async def notify(text: str) -> str:
    """Say something (read-only here, for the test)."""
    RAN.append(("notify", text))
    return "sent"


PLAN = (
    '1. find_order(customer="Initech")\n'
    '2. refund(order_id="$1.id", amount=10.5)\n'
    '3. notify(text="refund $2.refund_id")\n'
    "4. join()"
)
DOMAIN = Domain(
    "D", "d", "", tools=(find_order, refund, notify),
    route_examples=(("tools", "refund the order"), ("direct", "hello")),
    interrupt_on={"refund": {"allowed_decisions": ["approve", "edit", "reject"]}},
    speculate=lambda question: [("refund", {"order_id": 7, "amount": 10.5})],
)  # fmt: skip
QUESTION = "Refund 10.5 of Globex's latest order please"


async def ask(graph: Any, config: Any, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = await graph.ainvoke(value, config, context=Context(router_confidence=0.0))
    return out


@pytest.fixture
def thread() -> Any:
    RAN.clear()
    return {"configurable": {"thread_id": "approval"}}


async def test_the_run_pauses_with_the_stock_agents_request_then_runs_once(
    scripted, thread
) -> None:  # type: ignore[no-untyped-def]
    models = scripted(planner=[PLAN], synthesizer=["Refunded."])
    graph = build_graph(DOMAIN)
    graph.checkpointer = InMemorySaver()
    paused = await ask(graph, thread, {"messages": [{"role": "user", "content": QUESTION}]})
    [pending] = paused["__interrupt__"]
    assert pending.value == {
        "action_requests": [
            {"name": "refund", "args": {"order_id": "$1.id", "amount": 10.5},
             "description": 'Tool execution requires approval\n\nTool: refund\nArgs: '
             '{"order_id": "$1.id", "amount": 10.5}'}
        ],
        "review_configs": [
            {"action_name": "refund", "allowed_decisions": ["approve", "edit", "reject"]}
        ],
    }  # fmt: skip
    assert RAN == [("find_order", "Initech")]  # never speculated, not started before approval
    again = build_graph(DOMAIN)  # a restarted server: the same checkpoints, a new graph
    again.checkpointer = graph.checkpointer
    done = await ask(again, thread, Command(resume={"decisions": [{"type": "approve"}]}))
    assert RAN == [("find_order", "Initech"), ("refund", (7, 10.5)), ("notify", "refund 107")]
    assert done["messages"][-1].content == "Refunded." and models.calls == [
        "planner",
        "synthesizer",
    ]
    assert [r["status"] for r in done["tool_results"]] == ["ok", "ok", "ok"]


async def test_an_edited_call_runs_with_the_reviewers_arguments(scripted, thread) -> None:  # type: ignore[no-untyped-def]
    scripted(planner=[PLAN], synthesizer=["Refunded 5."])
    graph = build_graph(DOMAIN)
    graph.checkpointer = InMemorySaver()
    await ask(graph, thread, {"messages": [{"role": "user", "content": QUESTION}]})
    edit = {
        "type": "edit",
        "edited_action": {"name": "refund", "args": {"order_id": 7, "amount": 5}},
    }
    done = await ask(graph, thread, Command(resume={"decisions": [edit]}))
    assert ("refund", (7, 5.0)) in RAN
    assert [r["args"] for r in done["tool_results"]][1] == {"order_id": 7, "amount": 5}


async def test_a_rejected_call_and_what_needs_it_never_run(scripted, thread) -> None:  # type: ignore[no-untyped-def]
    models = scripted(planner=[PLAN], synthesizer=["I did not refund it."])
    graph = build_graph(DOMAIN)
    graph.checkpointer = InMemorySaver()
    await ask(graph, thread, {"messages": [{"role": "user", "content": QUESTION}]})
    reject = {"type": "reject", "message": "too much"}
    done = await ask(graph, thread, Command(resume={"decisions": [reject]}))
    assert RAN == [("find_order", "Initech")]
    assert [r["status"] for r in done["tool_results"]] == ["ok", "rejected", "rejected"]
    assert "rejected by the reviewer (too much)" in done["tool_results"][1]["output"]
    prompt = [p for tier, p in models.prompts if tier == "synthesizer"][0]
    assert "rejected by the reviewer" in prompt


async def test_no_decision_runs_nothing(scripted, thread) -> None:  # type: ignore[no-untyped-def]
    scripted(planner=[PLAN], synthesizer=["Nothing done."])
    graph = build_graph(DOMAIN)
    graph.checkpointer = InMemorySaver()
    await ask(graph, thread, {"messages": [{"role": "user", "content": QUESTION}]})
    await ask(graph, thread, Command(resume={"something": "else"}))
    assert [name for name, _ in RAN] == ["find_order"]


async def test_a_plan_with_a_side_effect_is_never_reused_from_a_template(scripted) -> None:  # type: ignore[no-untyped-def]
    RAN.clear()
    models = scripted(planner=[PLAN], synthesizer=["Refunded."])
    solved = PlanExample("Refund 10.5 of Initech's latest order please", PLAN)
    graph = build_graph(replace(DOMAIN, plan_examples=(solved,)))
    graph.checkpointer = InMemorySaver()
    config: Any = {"configurable": {"thread_id": "template"}}
    await ask(graph, config, {"messages": [{"role": "user", "content": QUESTION}]})
    assert models.calls == ["planner"]  # the solved plan of the same shape was not reused
