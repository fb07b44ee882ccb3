"""The sequential ReAct baseline against real model servers (embedded llama.cpp, vLLM CPU)."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, ToolMessage

from core.context import Context
from graphs.react_agent import graph
from tools.query_database import run_query


async def run(question: str, context: Context) -> dict[str, Any]:
    """Run the baseline with the `messages` stream on (the path Studio and the CLI take)."""
    out: dict[str, Any] = {"chunks": []}
    async for mode, chunk in graph.astream(
        {"messages": [{"role": "user", "content": question}]},
        context=context,
        stream_mode=["messages", "values"],
    ):
        if mode == "messages" and isinstance(chunk[0], AIMessageChunk):
            out["chunks"].append(chunk[0])
        elif mode == "values":
            out["state"] = chunk
    return out


async def test_baseline_queries_the_database_and_answers_with_the_count(
    llm_context: Context, checks_answers: bool
) -> None:
    count = run_query("SELECT COUNT(*) FROM customers").splitlines()[1]

    out = await run("How many customers do we have in total?", llm_context)
    messages = out["state"]["messages"]

    calls = [c for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    results = [m for m in messages if isinstance(m, ToolMessage)]
    assert any(m.name == "query_database" and m.status == "success" for m in results), calls
    assert any(count in m.text for m in results if m.name == "query_database"), results
    answer = messages[-1]
    assert isinstance(answer, AIMessage) and not answer.tool_calls
    if checks_answers:
        assert re.search(rf"\b{count}\b", answer.text), answer.text
