"""Node: answer a query that needs no tools with the small model, streamed."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage, SystemMessage
from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import State
from nodes import prompts
from nodes.conversation import earlier_turns, stream_answer
from nodes.steps import step


@step("answer_directly")
async def answer_directly(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Stream a short answer from the router tier, with the recent conversation."""
    messages: list[BaseMessage] = [
        SystemMessage(prompts.DIRECT_SYSTEM),
        *earlier_turns(state),
        state.messages[-1],
    ]
    return {"messages": [await stream_answer(runtime.context, "router", messages)]}
