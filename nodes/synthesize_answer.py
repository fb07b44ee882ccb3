"""Node: stream the final answer token by token, grounded in the tool results."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import (
    HumanMessage,
    SystemMessage,
)
from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import State, format_results
from nodes import prompts
from nodes.conversation import earlier_turns, last_user_text, stream_answer
from nodes.steps import step
from nodes.system_prompts import synthesizer_system_prompt


@step("synthesize_answer")
async def synthesize_answer(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Stream the answer from the synthesizer tier, given the question and tool results."""
    user = prompts.SYNTHESIZER_USER.format(
        results=format_results(state.tool_results), question=last_user_text(state)
    )
    messages = [
        SystemMessage(synthesizer_system_prompt(runtime.context.http_services)),
        *earlier_turns(state),
        HumanMessage(user),
    ]
    return {"messages": [await stream_answer(runtime.context, "synthesizer", messages)]}
