"""Node: answer a query that needs no tools with the small model, streamed."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage, SystemMessage
from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import State
from nodes import prompts
from nodes.steps import step
from nodes.synthesize_answer import stream_answer

HISTORY = 6  # earlier messages kept for context


@step("answer_directly")
async def answer_directly(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Stream a short answer from the router tier, with the recent conversation."""
    messages: list[BaseMessage] = [SystemMessage(prompts.DIRECT_SYSTEM), *state.messages[-HISTORY:]]
    return {"messages": [await stream_answer(runtime.context, "router", messages)]}
