"""Node: answer a query that needs no tools with the small model, streamed."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.domain import Domain
from graphs.state import State
from nodes.conversation import earlier_turns, last_user_text
from nodes.render_prompts import direct_system
from nodes.steps import step
from serving import client


@step("answer_directly")
async def answer_directly(
    state: State, runtime: Runtime[Context], *, domain: Domain
) -> dict[str, Any]:
    """Stream a short answer from the router tier, with the recent conversation."""
    context = runtime.context
    messages = [
        SystemMessage(direct_system(domain)),
        *earlier_turns(state),
        HumanMessage(last_user_text(state, context)),
    ]
    return {"messages": [await client.stream_answer(context, "router", messages)]}
