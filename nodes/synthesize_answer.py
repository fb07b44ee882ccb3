"""Node: stream the final answer token by token, grounded in the tool results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from core.context import Context
from core.conversation import earlier_turns, last_user_text
from core.domain import Domain
from core.settings import settings
from core.state import State, ToolResult, current
from core.steps import step
from prompts.render import synthesizer_system, synthesizer_user, synthesizer_user_start
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


def answer_messages(
    state: State, domain: Domain, results: Sequence[ToolResult], question: str | None
) -> list[BaseMessage]:
    """Return the synthesizer's messages; with no question yet, how they start (read ahead)."""
    if question is None:
        user = synthesizer_user_start(results)
    else:
        user = synthesizer_user(question, results)
    return [
        SystemMessage(synthesizer_system(domain, settings().http_services)),
        *earlier_turns(state),
        HumanMessage(user),
    ]
