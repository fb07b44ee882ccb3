"""What nodes read from and write to the conversation: the query, earlier turns, the answer."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, BaseMessage, HumanMessage

from graphs.context import Context
from graphs.state import State
from serving import client

HISTORY = 4  # messages of earlier turns the planner, synthesizer and direct answers see


def last_user_text(state: State) -> str:
    """Return the text of the last human message (the query)."""
    for message in reversed(state.messages):
        if isinstance(message, HumanMessage):
            return str(message.text)
    raise ValueError("the input has no user message: send {'messages': [{'role': 'user', ...}]}")


def earlier_turns(state: State) -> list[AnyMessage]:
    """Return the last few messages before the query, for follow-up questions."""
    return state.messages[-HISTORY - 1 : -1]


async def stream_answer(
    context: Context, tier: client.Tier, messages: Sequence[BaseMessage]
) -> AIMessage:
    """Stream a tier's answer: its tokens reach the `messages` stream as they come.

    The step's callback handler (nodes/steps.py) times the call and sends the
    `first_token` event.
    """
    answer: AIMessageChunk | None = None
    async for chunk in client.chat_model(context, tier).astream(messages):
        answer = chunk if answer is None else answer + chunk
    if answer is None:
        raise RuntimeError(f"the {tier} model streamed nothing")
    return AIMessage(content=answer.content, id=answer.id, usage_metadata=answer.usage_metadata)
