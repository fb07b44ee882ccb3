"""Node: stream the final answer token by token, grounded in the tool results."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.domain import Domain
from graphs.settings import settings
from graphs.state import State, current
from nodes.conversation import earlier_turns, last_user_text
from nodes.render_prompts import synthesizer_system, synthesizer_user
from nodes.steps import step
from serving import client


@step("synthesize_answer")
async def synthesize_answer(
    state: State, runtime: Runtime[Context], *, domain: Domain
) -> dict[str, Any]:
    """Stream the answer from the synthesizer tier, given the question and tool results."""
    context = runtime.context
    messages = [
        SystemMessage(synthesizer_system(domain, settings().http_services)),
        *earlier_turns(state),
        HumanMessage(
            synthesizer_user(
                last_user_text(state, context), current(state.tool_results, state.messages)
            )
        ),
    ]
    return {"messages": [await client.stream_answer(context, "synthesizer", messages)]}
