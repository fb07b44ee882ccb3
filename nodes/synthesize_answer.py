"""Node: stream the final answer token by token, grounded in the tool results."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from core.context import Context
from core.domain import Domain
from core.state import State, current
from core.steps import step
from prompts.conversation import last_user_text
from prompts.render import answer_messages
from serving import client


@step("synthesize_answer")
async def synthesize_answer(
    state: State, runtime: Runtime[Context], *, domain: Domain
) -> dict[str, Any]:
    """Stream the answer from the synthesizer tier, given the question and tool results."""
    context = runtime.context
    results = current(state.tool_results, state.messages)
    messages = answer_messages(state, domain, results, last_user_text(state, context))
    return {"messages": [await client.stream_answer(context, "synthesizer", messages)]}
