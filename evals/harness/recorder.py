"""Record what one agent run spends its time on: model calls and tool calls.

A LangChain callback handler, so it times both graphs the same way, whatever their
nodes. Model calls are recorded by the graph's own timer (`core.steps.ModelCallTimer`):
the same clock (`time.time`) and the same entries as a step's `model_calls` (model,
start, ttft_ms, ms, tokens_in, tokens_out, cached_tokens), plus the node that made
the call and its mean gap between tokens. Tool runs get start, end, arguments, and
whether they were started speculatively (tagged `speculative`).
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from langchain_core.outputs import LLMResult

from core.steps import ModelCallTimer
from serving.client import READ_AHEAD

SPECULATIVE = "speculative"  # the tag of a call started before the plan asked for it
PLANNED = "planned_call"  # its metadata: the call as a plan writes it (`[tool, args]`)


def _ignore(event: Any) -> None:
    """Send no stream events: the recorder only records."""


class RunRecorder(ModelCallTimer):
    """Collect the model and tool calls of one run; times are `time.time()` seconds."""

    def __init__(self) -> None:
        """Start recording now (`t0`)."""
        super().__init__({}, _ignore)
        self.t0 = time.time()
        self.tokens: dict[UUID, list[float]] = {}  # when each streamed chunk came, per call
        self.tools: dict[UUID, dict[str, Any]] = {}

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Open a model call, noting the graph node that made it (or that it reads ahead)."""
        super().on_chat_model_start(serialized, messages, run_id=run_id, **kwargs)
        node = (kwargs.get("metadata") or {}).get("langgraph_node", "model")
        self.open[run_id]["node"] = READ_AHEAD if READ_AHEAD in (kwargs.get("tags") or []) else node
        self.tokens[run_id] = []

    def on_llm_new_token(
        self, token: str | list[str | dict[str, Any]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Stamp a streamed chunk (the first one is the call's TTFT)."""
        super().on_llm_new_token(token, run_id=run_id, **kwargs)
        if token and run_id in self.tokens:
            self.tokens[run_id].append(time.time())

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a model call, with its mean gap between streamed chunks."""
        stamps = self.tokens.pop(run_id, [])
        if run_id in self.open and len(stamps) > 1:
            self.open[run_id]["itl_ms"] = (stamps[-1] - stamps[0]) / (len(stamps) - 1) * 1000
        super().on_llm_end(response, run_id=run_id, **kwargs)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a failed model call."""
        self.tokens.pop(run_id, None)
        super().on_llm_error(error, run_id=run_id, **kwargs)

    def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Open a tool call."""
        args = kwargs.get("inputs")
        self.tools[run_id] = {
            "tool": serialized.get("name"),
            "args": dict(args) if isinstance(args, dict) else {"input": input_str},
            "start": time.time(),
            "speculative": SPECULATIVE in (kwargs.get("tags") or []),
            "planned": (kwargs.get("metadata") or {}).get(PLANNED),  # a speculative call's
        }

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a tool call."""
        if run_id in self.tools:
            self.tools[run_id]["end"] = time.time()

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a failed tool call."""
        if run_id in self.tools:
            self.tools[run_id] |= {"end": time.time(), "error": repr(error)}

    def model_calls(self) -> list[dict[str, Any]]:
        """Return the finished model calls, by start time; each also has its `end`."""
        calls = self.details.get("model_calls", [])
        ended = [{**c, "end": c["start"] + c["ms"] / 1000} for c in calls]
        return sorted(ended, key=lambda c: c["start"])

    def tool_calls(self) -> list[dict[str, Any]]:
        """Return the finished tool calls, by start time."""
        return sorted((c for c in self.tools.values() if "end" in c), key=lambda c: c["start"])


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    """Return the length of the union of intervals: the wall time they cover together."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total
