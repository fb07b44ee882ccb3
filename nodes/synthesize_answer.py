"""Node: stream the final answer token by token, grounded in the tool results."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import State, format_results
from nodes import prompts
from nodes.route_query import last_user_text
from nodes.steps import step
from serving import client


async def stream_answer(
    context: Context, tier: client.Tier, messages: list[BaseMessage]
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


@step("synthesize_answer")
async def synthesize_answer(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Stream the answer from the synthesizer tier, given the question and tool results."""
    user = prompts.SYNTHESIZER_USER.format(
        results=format_results(state.tool_results), question=last_user_text(state)
    )
    messages = [SystemMessage(prompts.SYNTHESIZER_SYSTEM), HumanMessage(user)]
    return {"messages": [await stream_answer(runtime.context, "synthesizer", messages)]}
