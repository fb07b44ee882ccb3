"""Node: answer a query that needs no tools with the small model, streamed.

When the planner decided (the router was unsure), the answer may already be under way
(`nodes.early_answer`): it is streamed from there instead of asked for again.
"""

from __future__ import annotations

import time
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langgraph.graph.message import push_message
from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.domain import Domain
from graphs.state import State
from nodes import early_answer
from nodes.conversation import earlier_turns, last_user_text
from nodes.render_prompts import direct_system
from nodes.steps import emit, note, step
from serving import client


def direct_messages(state: State, context: Context, domain: Domain) -> list[BaseMessage]:
    """Return what the direct answer is asked: its prompt, recent turns and the query."""
    return [
        SystemMessage(direct_system(domain)),
        *earlier_turns(state),
        HumanMessage(last_user_text(state, context)),
    ]


@step("answer_directly")
async def answer_directly(
    state: State, runtime: Runtime[Context], *, domain: Domain
) -> dict[str, Any]:
    """Stream a short answer from the router tier, with the recent conversation."""
    context = runtime.context
    messages = direct_messages(state, context, domain)
    early = early_answer.take(state.early_answer)
    if early is not None:
        message = await _stream_early(early)
        if message is not None:
            return {"messages": [message], "early_answer": None}
    message = await client.stream_answer(context, "router", messages)
    return {"messages": [message], "early_answer": None}


async def _stream_early(early: early_answer.EarlyAnswer) -> AIMessage | None:
    """Stream the answer begun while planning; None if it failed before writing anything.

    Raises:
        ModelCallError: it failed after some of it reached the user.
    """
    message_id = f"early_{id(early):x}"
    texts: list[str] = []
    try:
        async for text in early.deltas():
            if not texts:
                emit("first_token", ttft_ms=(time.time() - early.started) * 1000)
            texts.append(text)
            push_message(AIMessageChunk(content=text, id=message_id), state_key=None)
    except client.ModelCallError:
        if not texts:
            return None  # nothing reached the user: ask again
        raise
    finally:
        note(answered_while_planning=True, model_calls=early.details.get("model_calls", []))
    reply = early.task.result()
    return AIMessage(content="".join(texts), id=message_id, usage_metadata=reply.usage_metadata)
