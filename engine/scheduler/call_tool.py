"""Run one planned call: with a timeout, as its own traced run, its progress streamed.

The task fetching unit calls `call_tool` for each call whose inputs are ready. The
call is a child run of the planning step (its own run in LangSmith), sends its own
`step_start`/`step_end` events, gets its own `timings` entry, and pushes its result to
the `messages` stream as a `ToolMessage` the moment it ends, so chat clients show it.
A failure or a timeout becomes an error result, never a crashed run.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_config
from langgraph.graph.message import push_message

from core.call_details import call_details
from core.context import Context
from core.domain import Domain
from core.state import CallStatus, ToolResult
from core.steps import emit
from engine.language.parser import Task

DISPLAY_CHARS = 1500  # of a result, in the ToolMessage a chat client shows


def call_id(run_key: str, index: int) -> str:
    """Return the id of call `index` of a run: the plan's tool call and its result share it."""
    return f"call_{run_key}_{index}"


@dataclass(frozen=True)
class Outcome:
    """What running a tool gave: its text, its data, how it ended, when, and what it reported."""

    output: str
    data: Any
    status: CallStatus
    started: float
    ended: float
    details: dict[str, float] = field(default_factory=dict)  # e.g. wait_ms (core.call_details)


async def run_tool(
    domain: Domain, name: str, args: dict[str, Any], *, context: Context,
    config: RunnableConfig, identifier: str,
) -> Outcome:  # fmt: skip
    """Run a tool with a timeout, as a child run of the step; never raises."""
    tool = domain.tool(name)
    started = time.time()
    status: CallStatus = "ok"
    data: Any = None
    details: dict[str, float] = {}
    try:
        if tool is None:
            raise LookupError(f"no tool named {name!r}; tools: {', '.join(domain.tool_names)}")
        request = {"name": name, "args": args, "id": identifier, "type": "tool_call"}
        with call_details() as details:  # what the tool reports: its wait for a connection...
            async with asyncio.timeout(context.tool_timeout_seconds):
                message = await tool.ainvoke(request, config)
        output = message.text if isinstance(message, ToolMessage) else str(message)
        data = _data_of(message, output)
    except TimeoutError:
        output, status = f"timed out after {context.tool_timeout_seconds:g} s", "timeout"
    except Exception as err:  # any tool failure is reported to synthesis, not raised
        output, status = f"{type(err).__name__}: {err}", "error"
    return Outcome(output, data, status, started, time.time(), details)


async def call_tool(
    task: Task,
    args: dict[str, Any],
    *,
    domain: Domain,
    context: Context,
    config: RunnableConfig,
    run_key: str,
    timings: list[dict[str, Any]],
    started_early: Awaitable[Outcome] | None = None,
    runs_as: tuple[str, dict[str, Any]] | None = None,
) -> ToolResult:
    """Run one planned call (or adopt the same call started early); report it; never raises.

    `started_early` is the same call, started speculatively before the plan asked for
    it: its outcome is used, and its timing starts when it really started. `runs_as` is
    the tool call that does the work when the planned call is a web service's.
    """
    emit("step_start", step="call_tool", call=task.index, tool=task.tool)
    if started_early is not None:
        outcome = await started_early
    else:
        tool, tool_args = runs_as or (task.tool, args)
        identifier = call_id(run_key, task.index)
        outcome = await run_tool(
            domain, tool, tool_args, context=context, config=config, identifier=identifier
        )
    result = ToolResult(
        index=task.index, tool=task.tool, args=args, ok=outcome.status == "ok",
        status=outcome.status, output=outcome.output, data=outcome.data,
        started_at=outcome.started, ended_at=outcome.ended,
    )  # fmt: skip
    timing = {
        "step": "call_tool", "call": task.index, "tool": task.tool, "status": outcome.status,
        "ok": outcome.status == "ok", "start": outcome.started, "end": outcome.ended,
        "ms": (outcome.ended - outcome.started) * 1000, "speculative": started_early is not None,
        **outcome.details,
    }  # fmt: skip
    timings.append(timing)
    emit("step_end", **timing)
    _push(tool_message(result, run_key))
    return result


def _push(message: ToolMessage) -> None:
    """Stream a message to chat clients now (a call outside a graph run has no stream)."""
    try:
        get_config()
    except RuntimeError:
        return
    push_message(message, state_key=None)


def tool_message(result: ToolResult, run_key: str) -> ToolMessage:
    """Return a result as the `ToolMessage` chat clients render, cut for display.

    Structured data (rows, a JSON object) goes as JSON, which chat UIs such as
    agent-chat-ui draw as a table; anything else as its text.
    """
    data = result["data"]
    text = result["output"]
    if result["ok"] and isinstance(data, list | dict) and data:
        text = json.dumps(data, ensure_ascii=False, default=str)
    if len(text) > DISPLAY_CHARS:
        text = f"{text[:DISPLAY_CHARS]} ... ({len(text):,} characters)"
    identifier = call_id(run_key, result["index"])
    return ToolMessage(
        content=text,
        tool_call_id=identifier,
        name=result["tool"],
        id=f"result_{identifier}",
        status="success" if result["ok"] else "error",
    )


def _data_of(message: Any, output: str) -> Any:
    """Return the structured value behind a tool's text: its artifact, or its text as JSON."""
    artifact = getattr(message, "artifact", None)
    if artifact is not None:
        return artifact
    body = output.partition("\n")[2] if output.startswith("HTTP ") else output
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None
