"""Node: stream the plan, and run each call the moment its line and its inputs are ready.

The planner tier writes the plan in the plan language (`engine.language.parser`), its
grammar enforced by the server where it can be (`engine.language.grammar`). Each line the
parser completes goes straight to the task fetching unit (`engine.scheduler.task_fetching`), which
starts it at once or when the calls it refers to end: tools run while the rest of the
plan is still being written, and a dependent call waits for nothing but its inputs.
Each call is its own child run, with its own events and timing (`engine.scheduler.call_tool`).

For chat clients the plan is an AI message whose `tool_calls` appear one by one as
their lines complete, and each result a `ToolMessage` as it ends; while the planner
reads the question, the message says what is happening. A new round runs only when
the plan ends with `replan()` or a reference names a field its input lacks; otherwise,
while the last calls run, the answer's prompt is read ahead (`engine.accelerators.read_ahead`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from functools import partial
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import merge_configs
from langgraph.config import get_config
from langgraph.graph.message import push_message
from langgraph.runtime import Runtime

from core.callers import caller_id
from core.context import Context
from core.conversation import earlier_turns, last_user_text
from core.domain import Domain, PlanExample
from core.settings import settings
from core.state import CallStatus, State, ToolResult, current, turn_of
from core.steps import note, step, time_apart
from core.stores import store_of
from engine.accelerators import early_answer
from engine.accelerators.examples import example_index
from engine.accelerators.read_ahead import ReadAhead
from engine.accelerators.speculation import Speculation, predicted_calls, result_calls
from engine.accelerators.templates import domain_vocabulary, learn, learned_templates, template_bank
from engine.language.grammar import plan_grammar
from engine.language.parser import PlanError, PlanParser, Task
from engine.language.services import PlanCalls, plan_calls
from engine.scheduler.call_tool import Outcome, call_id, call_tool, run_tool, tool_message
from engine.scheduler.task_fetching import TaskFetchingUnit
from nodes.answer_directly import direct_messages, write_answer
from nodes.synthesize_answer import answer_messages
from prompts.render import planner_system, planner_user, question_parts
from serving import client

STEP = "plan_and_call_tools"
PLANNING = "Planning the tool calls…"  # shown by chat clients until the calls come in


@step(STEP)
async def plan_and_call_tools(
    state: State, runtime: Runtime[Context], *, domain: Domain
) -> dict[str, Any]:
    """Plan this round's calls and run them as their lines stream in; return every result."""
    context = runtime.context
    question = last_user_text(state, context)
    done = current(state.tool_results, state.messages)
    round_ = 1 + sum(t["step"] == STEP for t in current(state.timings, state.messages))
    run_key = _run_key(state)
    plan = _PlanMessage(f"plan_{run_key}_{round_}")
    timings: list[dict[str, Any]] = []
    config = get_config()

    services = settings().http_services
    calls = plan_calls(domain, services)
    store, owner = store_of(runtime), caller_id()
    bank = template_bank(domain, services)  # the domain's reviewed plans: every caller's
    uses_bank = context.plan_templates and not done
    learned = await learned_templates(store, owner) if uses_bank else []  # this caller's
    slots = asyncio.Semaphore(context.max_parallel_tools)  # planned and early calls alike
    speculation = Speculation(
        calls.read_only,
        partial(_run_quietly, domain, calls, context, config),
        calls.runs_as,  # a service's call is the URL it fetches
        limit=context.max_tool_calls,
        slots=slots,
    )
    if context.speculate and not done:
        guesses = bank if uses_bank else None
        speculation.start(predicted_calls(domain, services, question, guesses, learned))

    async def execute(task: Task, args: dict[str, Any]) -> ToolResult:
        args = calls.conform(task.tool, args)  # a column of rows: a list, or its text
        result = await call_tool(
            task, args, domain=domain, context=context, config=config, run_key=run_key,
            timings=timings, started_early=speculation.take(task.tool, args),
            runs_as=calls.runs_as(task.tool, args),
        )  # fmt: skip
        if context.speculate and result["ok"]:  # a named service's call on what it found
            speculation.start(result_calls(domain, services, question, result["data"]))
        return result

    unit = TaskFetchingUnit(execute, slots, done=done)
    read_ahead = ReadAhead(partial(_read_answer_start, state, context, domain))
    parser = PlanParser(calls.signatures, max_calls=max(0, context.max_tool_calls - len(done)))
    parser.last_index = max((r["index"] + 1 for r in done), default=0)  # the replan line's
    held: list[Task] = []  # with stream dispatch off: started once the plan is complete

    def take(items: list[Task | PlanError]) -> None:
        for item in items:
            if isinstance(item, PlanError):
                if item.index is not None:
                    status: CallStatus = "dropped" if "not run" in item.reason else "error"
                    unit.skip(item.index, _tool_of(item.line), item.reason, status)
                continue
            plan.add_call(item, run_key)
            if context.stream_dispatch:
                unit.add(item)
            else:
                held.append(item)

    messages = [
        SystemMessage(planner_system(domain, services, context.max_tool_calls)),
        *earlier_turns(state),
        HumanMessage(planner_user(question, _nearest(domain, services, question, context), done)),
    ]
    plan.start()
    started = time.time()
    reused = bank.plan_for(question, learned) if uses_bank else None
    early: str | None = None  # the key of a direct answer written while the planner decides
    try:
        if reused is not None:  # a solved question of the same shape: no planner call
            take(parser.feed(reused[0] + "\n"))
        else:
            parts = len(question_parts(question)) if not done else 0
            at_least = parts if parts > 1 else 0  # one part: no call at all is an answer too
            if state.route_decided_by == "planner" and context.answer_while_planning and not done:
                direct = direct_messages(state, context, domain)
                early = early_answer.begin(
                    partial(_answer_early, context, direct), turn_of(state.messages)
                )
            grammar = plan_grammar(
                domain, services, parser.max_calls, at_least, first=parser.last_index + 1
            )
            async for text in client.stream_plan(context, "planner", messages, grammar):
                take(parser.feed(text))
                if early and early_answer.plans_a_call(parser.text):
                    await early_answer.cancel(early)  # a call: this is not a direct answer
                    early = None
                if parser.ended:  # what a model writes after its plan is never used
                    break
        take(parser.close())
        planned_at = time.time()
        for task in held:
            unit.add(task)
        answer_next = context.read_ahead and not parser.replan  # no other round planned
        results = await unit.join(read_ahead.update if answer_next else None)
        await read_ahead.finish()
    except BaseException:
        await unit.cancel()
        await read_ahead.cancel()
        await speculation.drop()
        await early_answer.cancel(early)
        raise
    wasted = await speculation.drop()
    new = [r for r in results if r["index"] not in {d["index"] for d in done}]
    if new:  # results to answer from: the direct answer is not wanted
        await early_answer.cancel(early)
        early = None
    wants_more = parser.replan or any(r["status"] == "unresolved" for r in new)
    replan = bool(new) and wants_more and round_ < context.max_plan_rounds
    learns = context.plan_templates and context.speculate  # either off: nothing is taught
    if learns and reused is None and round_ == 1 and _worked(parser, new):
        await learn(  # this caller's next question of this shape skips the planner
            store, owner, question, parser.text,
            conversation=[_said(m) for m in state.messages],
            vocabulary=domain_vocabulary(domain, services),
        )  # fmt: skip
    first_start = min((t["start"] for t in timings), default=None)
    note(
        round=round_,
        plan_source="template" if reused else "planner",
        template=reused[1] if reused else None,
        calls=[f"{t.index}. {t.tool}" for t in parser.tasks],
        plan_errors=[f"{e.line[:120]}: {e.reason}" for e in parser.errors],
        plan_ms=(planned_at - started) * 1000,
        first_call_ms=None if first_start is None else (first_start - started) * 1000,
        speculative_hits=speculation.hits,
        speculative_wasted=wasted,
        answer_while_planning=early is not None,
        replan=replan,
    )
    turn = turn_of(state.messages)
    return {
        "tool_results": [{**r, "turn": turn} for r in new],
        "replan": replan,
        "messages": [plan.final(), *(tool_message(r, run_key) for r in new)],
        "timings": [*timings, *read_ahead.timings],
        "early_answer": early,
    }


async def _answer_early(
    context: Context, messages: list[BaseMessage], answer: early_answer.EarlyAnswer
) -> AIMessage:
    """Write the direct answer quietly, timed apart for `answer_directly` to report."""
    time_apart(answer.details)
    return await write_answer(context, "router", messages, answer)


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


async def _run_quietly(
    domain: Domain, calls: PlanCalls, context: Context, config: RunnableConfig, tool: str,
    args: dict[str, Any], identifier: str,
) -> Outcome:  # fmt: skip
    """Run a speculative call: no events and no message until the plan adopts it.

    Its trace run is tagged `speculative` (it shows in LangSmith whether used or not).
    """
    planned = {"planned_call": [tool, args]}  # what the plan must ask for to adopt it
    tagged = merge_configs(config, {"tags": ["speculative"], "metadata": planned})
    tool, args = calls.runs_as(tool, args)
    return await run_tool(domain, tool, args, context=context, config=tagged, identifier=identifier)


async def _read_answer_start(
    state: State, context: Context, domain: Domain, results: list[ToolResult]
) -> bool:
    """Have the synthesizer's server read its prompt with the results in so far."""
    messages = answer_messages(state, domain, results, question=None)
    return await client.read_prompt(context, "synthesizer", messages)


def _nearest(domain: Domain, services: str, question: str, context: Context) -> list[PlanExample]:
    """Return the solved plans nearest the question, for the planner's user turn (if asked)."""
    if not context.nearest_examples:
        return []
    found = example_index(domain, services).nearest(question, context.nearest_examples)
    return [example for example, _ in found]


def _worked(parser: PlanParser, results: list[ToolResult]) -> bool:
    """Whether a plan is worth reusing: complete, every call ran and succeeded."""
    return (
        bool(results) and not parser.errors and not parser.replan and all(r["ok"] for r in results)
    )


def _run_key(state: State) -> str:
    """Return a short key unique to this turn (its user message), stable across rounds."""
    human = next(m for m in reversed(state.messages) if isinstance(m, HumanMessage))
    seed = f"{human.id}-{turn_of(state.messages)}"
    return hashlib.sha256(seed.encode()).hexdigest()[:10]


def _said(message: BaseMessage) -> str:
    """Return all a message says: its content, and the arguments of its tool calls."""
    return f"{message.content} {json.dumps(getattr(message, 'tool_calls', []), default=str)}"


def _tool_of(line: str) -> str:
    name = line.split(".", 1)[-1].strip().split("(", 1)[0].strip()
    return name if name.isidentifier() else "?"
