"""Run one graph on one eval question and measure it: the row every eval report is made of.

`run_one` streams the graph with a `RunRecorder` in its callbacks, so every model call
and tool run of either graph is timed the same way; `measure` turns the records, the
final state and the stream's first events into the row's numbers (milliseconds).

A question that changes data (`db_checks`) runs on a freshly reset live copy of the
shop's database, on the graph with a checkpointer (an `InMemorySaver` of its own): when
the run stops for approval (a `HumanInTheLoopMiddleware`-shaped interrupt), the runner
approves every action and resumes, as a person clicking "approve" would; the checks
then run on the copy, and the copy is reset again. Such questions run one at a time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Interrupt

from core.context import Context
from core.domain import Domain
from evals.harness.critical_path import tokens
from evals.harness.dataset import Question, failed_checks, missing_facts
from evals.harness.recorder import RunRecorder, union_seconds
from graphs import fast_agent, react_agent
from serving.client import READ_AHEAD
from tools import SHOP
from tools.shop_db import reset_database

Graphs = Mapping[str, CompiledStateGraph[Any, Any, Any, Any]]
GRAPHS: Graphs = {
    "fast_agent": fast_agent.graph,
    "react_agent": react_agent.graph,  # create_agent: the calls of one model turn run together
    "react_sequential": react_agent.graph,  # the same graph; the simulated model: one call a turn
}
ANSWER_NODES = {"answer_directly", "synthesize_answer", "model"}
PLAN_STEP = "plan_and_call_tools"
MAX_APPROVALS = 8  # approval pauses one run may make before it counts as stuck


def graphs_for(domain: Domain) -> Graphs:
    """Return the eval's graphs over a domain: the shop's as served, another's built for it."""
    if domain is SHOP:
        return GRAPHS
    react = react_agent.build_graph(domain)
    return {
        "fast_agent": fast_agent.build_graph(domain),
        "react_agent": react,
        "react_sequential": react,
    }


def _messages(state: Any) -> list[BaseMessage]:
    return list(_field(state, "messages") or [])


def _field(state: Any, name: str) -> Any:
    """Return a field of a streamed state: a State object, or a dict (after a resume)."""
    return state.get(name) if isinstance(state, dict) else getattr(state, name, None)


async def run_one(
    name: str, question: Question, context: Context, timeout: float, graphs: Graphs = GRAPHS
) -> dict[str, Any]:
    """Run one graph (a key of `graphs`, the shop's by default) on one question; return its row."""
    graph = graphs[name]
    if question.db_checks:  # a change: from the packaged data, with approvals to resume
        reset_database()
        graph = graph.copy(update={"checkpointer": InMemorySaver()})
    recorder = RunRecorder()
    config = RunnableConfig(callbacks=[recorder])
    if question.db_checks:
        config["configurable"] = {"thread_id": str(uuid.uuid4())}
    first_event: float | None = None
    token_at: dict[str | None, float] = {}  # first answer-token time per message id
    final: Any = None
    error = None
    approvals = 0
    payload: Any = {"messages": [{"role": "user", "content": question.question}]}
    try:
        async with asyncio.timeout(timeout):
            while payload is not None:
                async for part in graph.astream(
                    payload,
                    config,
                    context=context,
                    stream_mode=["messages", "custom", "values"],
                    version="v2",
                ):
                    now = time.time()
                    if part["type"] == "values":
                        if final is None:  # the input echoed back is not progress
                            final = part["data"]
                            continue
                        final = part["data"]
                    elif part["type"] == "messages":
                        message, meta = part["data"]
                        if message.text and meta.get("langgraph_node") in ANSWER_NODES:
                            token_at.setdefault(message.id, now)
                    first_event = first_event if first_event is not None else now
                payload = await _approve_all(graph, config) if question.db_checks else None
                approvals += payload is not None
                if approvals > MAX_APPROVALS:
                    raise RuntimeError(f"still asking for approval after {MAX_APPROVALS} times")
    except Exception as err:  # a failed run is a result too
        error = f"{type(err).__name__}: {err}"
    total = time.time() - recorder.t0
    row = measure(name, question, recorder, final, total, first_event, token_at, error)
    if question.db_checks:
        row["approvals"] = approvals
        row["db_failed"] = failed_checks(question)
        row["correct"] = row["correct"] and not row["db_failed"]
        reset_database()
    return row


async def _approve_all(
    graph: CompiledStateGraph[Any, Any, Any, Any], config: RunnableConfig
) -> Command[Any] | None:
    """Return the command that approves every action the paused run asks about, or None.

    `HumanInTheLoopMiddleware`'s interrupts: a batch (`action_requests`, answered with a
    decision for each) or one call (`"type": "tool_approval"`, answered with one decision).
    """
    state = await graph.aget_state(config)
    pending: tuple[Interrupt, ...] = tuple(getattr(state, "interrupts", ()) or ())
    if not pending:
        return None
    answers: dict[str, Any] = {}
    for interrupt in pending:
        value = interrupt.value if isinstance(interrupt.value, dict) else {}
        if "action_requests" in value:
            approve = [{"type": "approve"} for _ in value["action_requests"]]
            answers[interrupt.id] = {"decisions": approve}
        elif value.get("type") == "tool_approval":
            answers[interrupt.id] = {"type": "approve"}
        else:
            raise RuntimeError(f"the run paused for something other than approval: {value!r}")
    return Command(resume=answers)


def measure(
    name: str,
    question: Question,
    recorder: RunRecorder,
    final: Any,
    total: float,
    first_event: float | None,
    token_at: dict[str | None, float],
    error: str | None,
) -> dict[str, Any]:
    """Turn one run's records into the report's numbers (milliseconds; times from `t0`)."""
    t0 = recorder.t0
    messages = _messages(final) if final is not None else []
    answer = messages[-1] if messages and isinstance(messages[-1], AIMessage) else None
    timings = list(_field(final, "timings") or []) if final is not None else []
    results = list(_field(final, "tool_results") or []) if final is not None else []
    models = recorder.model_calls()
    tools, wasted = used_and_wasted(recorder.tool_calls(), results)
    tool_spans = [(c["start"], c["end"]) for c in tools]
    busy = [(c["start"], c["end"]) for c in models] + tool_spans
    plans = [t for t in timings if t["step"] == PLAN_STEP]
    planned = [c for c in models if c.get("node") == PLAN_STEP] if plans else models[:-1]
    row: dict[str, Any] = {
        "graph": name,
        "id": question.id,
        "group": question.group,
        "error": error,
        "e2e_ms": total * 1000,
        "first_event_ms": None if first_event is None else (first_event - t0) * 1000,
        "first_token_ms": (token_at[answer.id] - t0) * 1000
        if answer and answer.id in token_at
        else None,
        "first_tool_ms": _first_tool_ms(timings, models, tools),
        "model_calls": len(models),
        "model_ms": union_seconds([(c["start"], c["end"]) for c in models]) * 1000,
        "tool_calls": [c["tool"] for c in tools],
        "tool_runs": [[c["tool"], c["args"], (c["end"] - c["start"]) * 1000] for c in tools],
        "tool_errors": sum("error" in c for c in tools),
        "asked_calls": asked_calls(messages, results),
        "speculative_wasted": len(wasted),
        "plan_source": plans[0].get("plan_source", "planner") if plans else None,
        "tools_sum_ms": sum(e - s for s, e in tool_spans) * 1000,
        "tools_wall_ms": union_seconds(tool_spans) * 1000,
        "overhead_ms": (total - union_seconds(busy)) * 1000,
        "tokens_out": sum(c.get("tokens_out") or 0 for c in models),
        "plan_tokens": sum(c.get("tokens_out") or 0 for c in planned),
        "rounds": len(plans) if plans else len(models) - 1 if tools else 0,
        "cached_tokens": sum(c.get("cached_tokens") or 0 for c in models),
        "tokens_in": sum(c.get("tokens_in") or 0 for c in models),
        "ttft_ms": [c["ttft_ms"] for c in models if "ttft_ms" in c and c["node"] != READ_AHEAD],
        "itl_ms": [c["itl_ms"] for c in models if "itl_ms" in c],
        "answer": answer.text if answer else "",
        "answer_tokens": tokens(question.reference),
        "waterfall": [
            {"kind": "model", "label": c["node"], "start": c["start"] - t0, "end": c["end"] - t0}
            for c in models
        ]
        + [
            {"kind": "tool", "label": c["tool"], "start": c["start"] - t0, "end": c["end"] - t0}
            for c in tools
        ]
        + [
            {"kind": "unused", "label": c["tool"], "start": c["start"] - t0, "end": c["end"] - t0}
            for c in wasted
        ],
    }
    row["missing"] = missing_facts(question, row["answer"]) if not error else question.facts
    row["correct"] = not error and not row["missing"]
    route = next((t for t in timings if t["step"] == "route_query"), None)
    if route:
        row |= {
            "route": route["route"],
            "route_ok": route["route"] == question.route,
            "route_by": route["decided_by"],
            "route_ms": route["ms"],
        }
    return row


def asked_calls(messages: list[BaseMessage], results: list[dict[str, Any]]) -> list[Any]:
    """Return the calls the run asked for, repeats kept: `[tool, args]` each, in order.

    The fast agent's are its plans' calls (`tool_results`, with references filled in; a
    call the plan repeats runs once but is listed twice); ReAct's the tool calls of its
    model turns since the question.
    """
    if results:
        return [[r["tool"], r["args"]] for r in sorted(results, key=lambda r: r["index"])]
    last = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    return [
        [call["name"], call["args"]]
        for message in messages[last + 1 :]
        if isinstance(message, AIMessage)
        for call in message.tool_calls
    ]


def used_and_wasted(
    runs: list[dict[str, Any]], results: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split tool runs into the calls the run used and speculative calls it dropped.

    A speculative run counts as used when the plan asked for exactly that call (the
    graph adopts it); else its result never reached the answer. A web service's call
    runs as `http_get`: its run carries the call as planned (`planned_call` metadata).
    Arguments compare as text: a service's `order_id=1866` and `order_id="1866"` fetch
    the same URL, and the graph adopts one for the other.
    """
    asked = [_as_text(r["tool"], r["args"]) for r in results]
    used, wasted = [], []
    for run in runs:
        planned = run.get("planned") or [run["tool"], run["args"]]  # a service: as planned
        if run.get("speculative") and _as_text(*planned) not in asked:
            wasted.append(run)
        else:
            used.append(run)
    return used, wasted


def _as_text(tool: str, args: dict[str, Any]) -> tuple[str, dict[str, str]]:
    return tool, {name: str(value) for name, value in args.items()}


def _first_tool_ms(
    timings: list[dict[str, Any]], models: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> float | None:
    """Return the time from the run's first step to its first tool start, if a tool ran.

    From the fast agent's timings (its first call_tool start minus its first step's
    start); for a graph without timings, from the recorded model and tool calls.
    """
    calls = [t["start"] for t in timings if t["step"] == "call_tool"]
    if timings and calls:
        return float(min(calls) - min(t["start"] for t in timings)) * 1000
    if tools and models:
        return float(tools[0]["start"] - models[0]["start"]) * 1000
    return None
