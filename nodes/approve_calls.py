"""Node: a person approves, edits or rejects the calls the domain puts behind approval.

The plan's round held them (and every call that needs their results): nothing of them
ran. The run pauses with `interrupt` in the request shape of langchain's
`HumanInTheLoopMiddleware`, so agent-chat-ui and Studio show it as they show the stock
agent's: `{"action_requests": [{"name", "args", "description"}], "review_configs":
[{"action_name", "allowed_decisions"}]}`. It resumes with `Command(resume={"decisions":
[{"type": "approve"} | {"type": "edit", "edited_action": {"name", "args"}} | {"type":
"reject", "message": ...}]})`, one decision per request in order. The approved calls
(edited ones with their new arguments, checked against the tool's schema) then run as
a decided plan through the engine, without planning again and without running again
a call that had ended: the round's other results are in the state already, and the
engine's journal hands back any approved call that ended before a crash.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from core.callers import caller_id, thread_of
from core.context import Context
from core.domain import Domain
from core.settings import settings
from core.state import HeldCall, State, current, turn_key, turn_of
from core.steps import note, step
from core.stores import store_of
from engine.accelerator import PlanRound
from engine.catalogue import catalogue_for
from engine.language.grammar import literal
from engine.language.parser import PlanParser
from engine.loop import plan_round
from engine.scheduler.call_tool import tool_message
from engine.scheduler.task_fetching import TaskFetchingUnit
from nodes.plan_and_call_tools import PLUG_INS, STEP, _PlanMessage
from prompts.conversation import last_user_text

DECISIONS = ["approve", "edit", "reject"]
PREFIX = "Tool execution requires approval"


def request_for(domain: Domain, held: list[HeldCall]) -> dict[str, Any]:
    """Return the interrupt's value: each gated call, and what a reviewer may decide."""
    gated = [c for c in held if domain.needs_approval(c["tool"])]
    requests, configs = [], []
    for call in gated:
        policy = domain.interrupt_on.get(call["tool"])
        config = policy if isinstance(policy, dict) else {}
        allowed = [d for d in config.get("allowed_decisions", DECISIONS) if d in DECISIONS]
        text = f"{PREFIX}\n\nTool: {call['tool']}\nArgs: {json.dumps(call['args'])}"
        requests.append(
            {
                "name": call["tool"],
                "args": call["args"],
                "description": config.get("description", text),
            }
        )
        configs.append({"action_name": call["tool"], "allowed_decisions": allowed})
    return {"action_requests": requests, "review_configs": configs}


@step("approve_calls")
async def approve_calls(
    state: State, runtime: Runtime[Context], *, domain: Domain
) -> dict[str, Any]:
    """Ask a person about the held calls; run what they approve, report what they reject."""
    context = runtime.context
    held = list(state.awaiting)
    request = request_for(domain, held)
    answer = interrupt(request)
    decisions = _decisions(answer, len(request["action_requests"]))
    gated = [c for c in held if domain.needs_approval(c["tool"])]
    catalogue = catalogue_for(domain, settings().http_services)
    done = current(state.tool_results, state.messages)
    unit = TaskFetchingUnit(None, context.max_parallel_tools, done=done)
    lines, approved, rejected = [], set(), []
    for call, (kind, detail) in zip(gated, decisions, strict=True):
        if kind == "reject":
            reason = f"not run: rejected by the reviewer{f' ({detail})' if detail else ''}"
            unit.skip(call["index"], call["tool"], reason, "rejected")
            rejected.append(call["index"])
            continue
        if kind == "edit" and isinstance(detail, dict):
            call = {**call, "args": detail}
        approved.add(call["index"])
        lines.append(call)
    blocked = set(rejected)
    for call in held:  # calls waiting on a gated one: run unless an input was rejected
        if domain.needs_approval(call["tool"]):
            continue
        if blocked & set(call["deps"]):
            unit.skip(call["index"], call["tool"], "not run: its input was rejected", "rejected")
            blocked.add(call["index"])
        else:
            lines.append(call)
    lines.sort(key=lambda c: c["index"])
    plan = "\n".join(
        f"{c['index']}. {c['tool']}({', '.join(f'{k}={literal(v)}' for k, v in c['args'].items())})"
        for c in lines
    )
    run_key = turn_key(state.messages)
    number = 1 + sum(t["step"] == STEP for t in current(state.timings, state.messages))
    round_ = PlanRound(
        state=state, context=context, config=get_config(), catalogue=catalogue,
        question=last_user_text(state, context), done=done, number=number,
        run_key=run_key, caller=caller_id(), store=store_of(runtime), thread=thread_of(),
        parser=PlanParser(catalogue.calls.signatures, max_calls=len(lines)),
        unit=unit, approved=approved, kind="approved",
    )  # fmt: skip
    shown = _PlanMessage(f"approved_{run_key}_{number}")
    ended = await plan_round(round_, PLUG_INS, partial(shown.add_call, run_key=run_key), plan=plan)
    results = [r for r in await unit.join() if r["index"] in {c["index"] for c in held}]
    note(approved=sorted(approved), rejected=rejected, **ended.notes)
    turn = turn_of(state.messages)
    return {
        "awaiting": [],
        "tool_results": [{**r, "turn": turn} for r in results],
        "messages": [tool_message(r, run_key) for r in results],
        "timings": list(round_.timings),
    }


def _decisions(answer: Any, count: int) -> list[tuple[str, Any]]:
    """Read the reviewer's decisions: (kind, edited args or reject message), one per request.

    A missing or malformed decision rejects its call: nothing runs that no one approved.
    """
    given = answer.get("decisions", []) if isinstance(answer, dict) else []
    found: list[tuple[str, Any]] = []
    for i in range(count):
        decision = given[i] if i < len(given) and isinstance(given[i], dict) else {}
        kind = decision.get("type")
        if kind == "approve":
            found.append(("approve", None))
        elif kind == "edit" and isinstance(decision.get("edited_action"), dict):
            found.append(("edit", decision["edited_action"].get("args")))
        else:
            found.append(("reject", decision.get("message") or ("no decision" if not kind else "")))
    return found
