"""Ask the fast agent a question in the terminal: steps as they happen, the answer streamed."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from langchain_core.messages import AIMessageChunk, HumanMessage

from core.context import Context
from core.state import InputState, State
from graphs.fast_agent import graph

ANSWER_NODES = ("answer_directly", "synthesize_answer")  # the plan's messages are for chat UIs
DEMO_QUESTION = (
    "What is the total amount of Acme Corp's delivered orders, "
    "and how many days do Gold members have to ask for a refund?"
)


def summarize(timings: list[dict[str, Any]], started: float, first_token: float | None) -> str:
    """Return the run's latency summary: route, tools (parallel vs sum), TTFT, total."""
    lines = []
    for t in timings:
        detail = ""
        if t["step"] == "route_query":
            detail = f" -> {t['route']} (by {t['decided_by']}, p={t['confidence']})"
        elif t["step"] == "call_tool":
            detail = f" {t['call']}. {t['tool']} {t['status']}"
        elif t["step"] == "plan_and_call_tools" and t.get("first_call_ms") is not None:
            detail = f" (first call started at {t['first_call_ms']:.0f} ms)"
        lines.append(f"  {t['step']:<18}{t['ms']:>8.0f} ms{detail}")
        for call in t.get("model_calls", []):
            tokens = f", {call['tokens_out']} tokens out" if call.get("tokens_out") else ""
            lines.append(f"    model {call['model']}: ttft {call['ttft_ms']:.0f} ms{tokens}")
    tools = [t for t in timings if t["step"] == "call_tool"]
    if tools:
        wall = (max(t["end"] for t in tools) - min(t["start"] for t in tools)) * 1000
        lines.append(
            f"  tools: {len(tools)} in parallel, wall {wall:.0f} ms vs sum "
            f"{sum(t['ms'] for t in tools):.0f} ms"
        )
    if first_token is not None:
        lines.append(f"  time to first answer token: {(first_token - started) * 1000:.0f} ms")
    lines.append(f"  total: {(time.time() - started) * 1000:.0f} ms")
    return "\n".join(lines)


async def ask(question: str, context: Context) -> State:
    """Run the graph on one question, printing steps (stderr) and tokens (stdout)."""
    started = time.time()
    first_token: float | None = None
    final: State | None = None
    async for part in graph.astream(
        InputState(messages=[HumanMessage(question)]),
        context=context,
        stream_mode=["messages", "custom", "values"],
        version="v2",
    ):
        if part["type"] == "messages":
            token, meta = part["data"]
            answering = meta.get("langgraph_node") in ANSWER_NODES
            if answering and isinstance(token, AIMessageChunk) and token.content:
                first_token = first_token or time.time()
                print(token.content, end="", flush=True)  # noqa: T201
        elif part["type"] == "custom" and part["data"]["event"] in ("step_start", "step_error"):
            event = part["data"]
            label = event["step"] + (
                f" {event['call']}. {event['tool']}" if "call" in event else ""
            )
            label += f" failed: {event['error']}" if "error" in event else ""
            elapsed = (event["t"] - started) * 1000
            print(f"[{elapsed:7.0f} ms] {label}", file=sys.stderr, flush=True)  # noqa: T201
        elif part["type"] == "values":
            final = part["data"]
    print()  # noqa: T201
    if final is None:
        raise RuntimeError("the graph produced no state")
    print(summarize(final.timings, started, first_token), file=sys.stderr)  # noqa: T201
    return final


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and ask one question."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("question", nargs="?", default=DEMO_QUESTION)
    args = parser.parse_args(argv)
    try:
        asyncio.run(ask(args.question, Context()))
    except Exception as err:  # one clear line for the terminal, not a traceback
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
