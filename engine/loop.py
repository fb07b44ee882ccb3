"""The core loop: stream the plan, parse each line, start its call, collect, decide.

One round: the planner streams the plan (or an accelerator hands one over); every line
the parser completes goes to the task fetching unit, which starts the call the moment
its inputs are ready; the round's results are collected as calls end; then the plan
either answers (`join()`) or asks for another round (`replan()`, or a reference that
names a field its input lacks). Everything that only makes this faster plugs in
through `engine.accelerator.Accelerator`'s events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from core.state import CallStatus, ToolResult
from engine.accelerator import Accelerator, PlanRound
from engine.accelerators.examples import nearest_examples
from engine.language.parser import PlanError, Task
from engine.scheduler.call_tool import call_tool
from prompts.conversation import earlier_turns
from prompts.render import planner_user, question_parts
from serving import client

Show = Callable[[Task], None]  # a call of the plan, for chat clients to see


@dataclass
class Round:
    """What a round ended with: its new results, whether to plan again, its notes."""

    results: list[ToolResult]  # this round's, in call order
    replan: bool
    notes: dict[str, Any]
    accelerators: list[Accelerator] = field(default_factory=list)
    awaiting: list[Task] = field(default_factory=list)  # held for a person's approval


async def plan_round(
    round_: PlanRound,
    accelerators: Sequence[type[Accelerator]],
    show: Show,
    plan: str | None = None,
) -> Round:
    """Run one round of the plan: its calls start as their lines are written.

    `plan` is a plan already decided (the calls a person approved), else the planner
    writes it (or an accelerator hands one over). A call of a tool the domain puts
    behind approval, and any call that needs its result, is held, not started: the
    round ends with it in `awaiting`.
    """
    context, parser, unit = round_.context, round_.parser, round_.unit
    plugins = [a(round_) for a in accelerators if a.wanted(round_)]
    unit.execute = _executor(round_, plugins)
    held: list[Task] = []  # with stream dispatch off: started once the plan is complete
    awaiting: list[Task] = []

    def dispatch(items: list[Task | PlanError]) -> None:
        for item in items:
            if isinstance(item, PlanError):
                if item.index is not None:
                    status: CallStatus = "dropped" if "not run" in item.reason else "error"
                    unit.skip(item.index, _tool_of(item.line), item.reason, status)
                continue
            show(item)
            gated = round_.domain.needs_approval(item.tool) and item.index not in round_.approved
            if gated or item.deps & {t.index for t in awaiting}:
                awaiting.append(item)
            elif context.stream_dispatch:
                unit.add(item)
            else:
                held.append(item)

    started = time.time()
    try:
        handed = [text for p in plugins if (text := await p.plan_starts()) is not None]
        if plan is not None or handed:  # decided already, or written without the planner
            dispatch(parser.feed((plan if plan is not None else handed[0]) + "\n"))
        else:
            grammar = round_.catalogue.grammar(
                parser.max_calls, _at_least(round_), first=parser.last_index + 1
            )
            async for text in client.stream_plan(context, "planner", _messages(round_), grammar):
                dispatch(parser.feed(text))
                for p in plugins:
                    await p.plan_grows(parser.text)
                if parser.ended:  # what a model writes after its plan is never used
                    break
        dispatch(parser.close())
        planned = time.time()
        for task in held:
            unit.add(task)
        for p in plugins:
            await p.plan_written()
        results = await unit.join()
        for p in plugins:
            await p.plan_ends(results)
    except BaseException:
        await unit.cancel()
        for p in plugins:
            await p.cancelled()
        raise
    new = [r for r in results if r["index"] not in {d["index"] for d in round_.done}]
    wants_more = parser.replan or any(r["status"] == "unresolved" for r in new)
    replan = bool(new) and wants_more and round_.number < context.max_plan_rounds
    first_start = min((t["start"] for t in round_.timings), default=None)
    notes = {
        "round": round_.number,
        "plan_source": "planner",
        "template": None,
        "calls": [f"{t.index}. {t.tool}" for t in parser.tasks],
        "plan_errors": [f"{e.line[:120]}: {e.reason}" for e in parser.errors],
        "plan_ms": (planned - started) * 1000,
        "first_call_ms": None if first_start is None else (first_start - started) * 1000,
        "replan": replan,
    }
    for p in plugins:
        notes |= p.notes()
    if awaiting:
        notes["awaiting_approval"] = [f"{t.index}. {t.tool}" for t in awaiting]
    return Round(new, replan, notes, plugins, awaiting)


def _executor(round_: PlanRound, plugins: list[Accelerator]) -> Any:
    """Return how the unit runs a call: fitted to its schema, adopted if under way already."""
    calls = round_.catalogue.calls

    async def execute(task: Task, args: dict[str, Any]) -> ToolResult:
        args = calls.conform(task.tool, args)  # a column of rows: a list, or its text
        early = next((a for p in plugins if (a := p.call_starts(task, args)) is not None), None)
        result = await call_tool(
            task, args, domain=round_.domain, context=round_.context, config=round_.config,
            run_key=round_.run_key, timings=round_.timings, started_early=early,
            runs_as=calls.runs_as(task.tool, args),
        )  # fmt: skip
        for p in plugins:  # before the calls that wait for it start
            await p.call_ends(result)
        return result

    return execute


def _messages(round_: PlanRound) -> list[BaseMessage]:
    """Return the planner's prompt: its cached system prompt, recent turns, the question."""
    context = round_.context
    nearest = nearest_examples(round_.catalogue, round_.question, context.nearest_examples)
    return [
        SystemMessage(round_.catalogue.planner_system(context.max_tool_calls)),
        *earlier_turns(round_.state),
        HumanMessage(planner_user(round_.question, nearest, round_.done)),
    ]


def _at_least(round_: PlanRound) -> int:
    """Return the calls a first round must make before `join()`: one per part asked for."""
    parts = len(question_parts(round_.question)) if not round_.done else 0
    return parts if parts > 1 else 0  # one part: no call at all is an answer too


def _tool_of(line: str) -> str:
    name = line.split(".", 1)[-1].strip().split("(", 1)[0].strip()
    return name if name.isidentifier() else "?"
