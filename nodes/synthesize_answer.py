"""Node: stream the final answer token by token, grounded in the tool results."""

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
from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import State, ToolResult
from nodes import prompts
from nodes.route_query import last_user_text
from nodes.steps import emit, note, step
from serving import client


def format_results(results: list[ToolResult]) -> str:
    """Render tool results in a stable order (plan order is not completion order)."""
    blocks = []
    for r in sorted(results, key=lambda r: (r.tool, str(r.args))):
        status = "ok" if r.ok else "FAILED"
        blocks.append(f"## {r.tool} {r.args} ({status})\n{r.output}")
    return "\n\n".join(blocks) or "(no tool was called)"


async def stream_answer(
    context: Context, tier: client.Tier, messages: list[BaseMessage]
) -> AIMessage:
    """Stream a tier's answer (its tokens reach the `messages` stream) and time it."""
    start = time.perf_counter()
    first: float | None = None
    answer: AIMessageChunk | None = None
    chunks = 0
    async for chunk in client.chat_model(context, tier).astream(messages):
        if chunk.content:
            chunks += 1
            if first is None:
                first = time.perf_counter()
                emit("first_token", ttft_ms=(first - start) * 1000)
        answer = chunk if answer is None else answer + chunk
    if answer is None:
        raise RuntimeError(f"the {tier} model streamed nothing")
    usage: dict[str, Any] = dict(answer.usage_metadata or {})
    note(
        model=getattr(context, f"{tier}_model"),
        ttft_ms=None if first is None else (first - start) * 1000,
        tokens_in=usage.get("input_tokens"),
        tokens_out=usage.get("output_tokens"),
        chunks=chunks,  # one token each on llama.cpp, which reports no usage when streaming
    )
    return AIMessage(content=answer.content, id=answer.id, usage_metadata=answer.usage_metadata)


@step("synthesize_answer")
async def synthesize_answer(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Stream the answer from the synthesizer tier, given the question and tool results."""
    user = prompts.SYNTHESIZER_USER.format(
        results=format_results(state.tool_results), question=last_user_text(state)
    )
    messages = [SystemMessage(prompts.SYNTHESIZER_SYSTEM), HumanMessage(user)]
    return {"messages": [await stream_answer(runtime.context, "synthesizer", messages)]}
