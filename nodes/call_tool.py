"""Node: run one planned tool call, as one of several parallel branches, with a timeout."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import ToolCall, ToolResult
from nodes.steps import note, step
from tools import TOOLS


@step("call_tool")
async def call_tool(call: ToolCall, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the call; a failure or a timeout becomes an error result, never a crashed run."""
    timeout = runtime.context.tool_timeout_seconds
    started = time.time()
    try:
        tool = TOOLS.get(call.tool)
        if tool is None:
            raise LookupError(f"no tool named {call.tool!r}; tools: {', '.join(TOOLS)}")
        output, ok = str(await asyncio.wait_for(tool.ainvoke(call.args), timeout)), True
    except TimeoutError:
        output, ok = f"timed out after {timeout:g} s", False
    except Exception as err:  # any tool failure is reported to synthesis, not raised
        output, ok = f"{type(err).__name__}: {err}", False
    result = ToolResult(
        tool=call.tool,
        args=call.args,
        ok=ok,
        output=output,
        started_at=started,
        ended_at=time.time(),
    )
    note(tool=call.tool, ok=ok)
    return {"tool_results": [result]}
