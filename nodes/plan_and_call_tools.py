"""Node: one round of the plan engine, as chat clients and the graph's state see it.

The engine (`engine.loop`) streams the plan, starts each call the moment its line and
inputs are ready and collects the results, with its accelerators plugged in
(`engine.accelerators`). This node gives it the round (`engine.accelerator.PlanRound`)
and turns what it ends with into the state's update. For chat clients the plan is an AI
message whose `tool_calls` appear one by one as their lines complete, and each result a
`ToolMessage` as it ends; while the planner reads the question, the message says what
is happening.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk
from langgraph.config import get_config
from langgraph.graph.message import push_message
from langgraph.runtime import Runtime

from core.callers import caller_id, thread_of
from core.context import Context
from core.domain import Domain
from core.settings import settings
from core.state import HeldCall, State, ToolResult, current, turn_key, turn_of
from core.steps import note, step
from core.stores import store_of
from engine.accelerator import Accelerator, PlanRound
from engine.accelerators import ACCELERATORS
from engine.catalogue import Catalogue, catalogue_for
from engine.journal import Journal
from engine.language.parser import PlanParser, Task
from engine.loop import plan_round
from engine.scheduler.call_tool import call_id, tool_message
from engine.scheduler.task_fetching import TaskFetchingUnit
from prompts.conversation import last_user_text

STEP = "plan_and_call_tools"
# Durable steps first: a recorded plan comes before any other.
PLUG_INS: tuple[type[Accelerator], ...] = (Journal, *ACCELERATORS)
PLANNING = "Planning the tool calls…"  # shown by chat clients until the calls come in


@step(STEP)
async def plan_and_call_tools(
    state: State, runtime: Runtime[Context], *, domain: Domain
) -> dict[str, Any]:
    """Plan this round's calls and run them as their lines stream in; return every result."""
    context = runtime.context
    done = current(state.tool_results, state.messages)
    number = 1 + sum(t["step"] == STEP for t in current(state.timings, state.messages))
    run_key = turn_key(state.messages)
    catalogue = catalogue_for(domain, settings().http_services)
    round_ = PlanRound(
        state=state, context=context, config=get_config(), catalogue=catalogue,
        question=last_user_text(state, context), done=done, number=number,
        run_key=run_key, caller=caller_id(), store=store_of(runtime), thread=thread_of(),
        parser=_parser(catalogue, context, done),
        unit=TaskFetchingUnit(None, context.max_parallel_tools, done=done),
    )  # fmt: skip
    plan = _PlanMessage(f"plan_{run_key}_{number}")
    plan.start()
    ended = await plan_round(round_, PLUG_INS, partial(plan.add_call, run_key=run_key))
    note(**ended.notes)
    turn = turn_of(state.messages)
    update: dict[str, Any] = {"early_answer": None, "awaiting": held_calls(ended.awaiting)}
    timings = list(round_.timings)
    for accelerator in ended.accelerators:
        update |= accelerator.state()
        timings += accelerator.timings()
    return update | {
        "tool_results": [{**r, "turn": turn} for r in ended.results],
        "replan": ended.replan,
        "messages": [plan.final(), *(tool_message(r, run_key) for r in ended.results)],
        "timings": timings,
    }


def held_calls(tasks: list[Task]) -> list[HeldCall]:
    """Return the calls held for approval as the state keeps them."""
    return [HeldCall(index=t.index, tool=t.tool, args=t.args, deps=sorted(t.deps)) for t in tasks]


def _parser(catalogue: Catalogue, context: Context, done: list[ToolResult]) -> PlanParser:
    """Return the round's parser: calls the run may still make, numbered on from `done`."""
    limit = max(0, context.max_tool_calls - len(done))
    parser = PlanParser(catalogue.calls.signatures, max_calls=limit)
    parser.last_index = max((r["index"] + 1 for r in done), default=0)  # the replan line's
    return parser


class _PlanMessage:
    """The plan as chat clients see it: one AI message whose tool calls stream in."""

    def __init__(self, message_id: str) -> None:
        self.id = message_id
        self.tool_calls: list[dict[str, Any]] = []

    def start(self) -> None:
        push_message(AIMessageChunk(content=PLANNING, id=self.id), state_key=None)

    def add_call(self, task: Task, run_key: str) -> None:
        call = {"name": task.tool, "args": task.args, "id": call_id(run_key, task.index)}
        self.tool_calls.append(call)
        chunk = {**call, "args": json.dumps(task.args), "index": len(self.tool_calls) - 1}
        push_message(
            AIMessageChunk(content="", id=self.id, tool_call_chunks=[chunk]),  # type: ignore[list-item]
            state_key=None,
        )

    def final(self) -> AIMessage:
        """The message the thread keeps: the calls, without the planning notice."""
        return AIMessage(content="", id=self.id, tool_calls=self.tool_calls)
