"""Record what one agent run spends its time on: model calls and tool calls.

A LangChain callback handler, so it times both graphs the same way, whatever their
nodes: every chat-model call (start, first token, end, tokens) and every tool run.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import ChatGeneration, LLMResult


class RunRecorder(BaseCallbackHandler):
    """Collect the model and tool calls of one run, in seconds since `t0`."""

    run_inline = True

    def __init__(self, t0: float | None = None) -> None:
        """Start recording; times are relative to `t0` (now by default)."""
        self.t0 = time.perf_counter() if t0 is None else t0
        self.models: dict[UUID, dict[str, Any]] = {}
        self.tools: dict[UUID, dict[str, Any]] = {}

    def _now(self) -> float:
        return time.perf_counter() - self.t0

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Open a model call."""
        name = (kwargs.get("metadata") or {}).get("langgraph_node", "model")
        self.models[run_id] = {"node": name, "start": self._now(), "chunks": 0}

    def on_llm_new_token(
        self, token: str | list[str | dict[str, Any]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Stamp a model call's first token."""
        call = self.models.get(run_id)
        if call is not None and token:
            call["chunks"] += 1
            call.setdefault("first_token", self._now())
            call["last_token"] = self._now()

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a model call with its usage."""
        call = self.models.get(run_id)
        if call is None:
            return
        call["end"] = self._now()
        generation = response.generations[0][0] if response.generations else None
        if isinstance(generation, ChatGeneration):
            usage = getattr(generation.message, "usage_metadata", None) or {}
            call["tokens_in"] = usage.get("input_tokens")
            call["tokens_out"] = usage.get("output_tokens") or call["chunks"] or None

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a failed model call."""
        if run_id in self.models:
            self.models[run_id] |= {"end": self._now(), "error": repr(error)}

    def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Open a tool call."""
        self.tools[run_id] = {"tool": serialized.get("name"), "start": self._now()}

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a tool call."""
        if run_id in self.tools:
            self.tools[run_id]["end"] = self._now()

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a failed tool call."""
        if run_id in self.tools:
            self.tools[run_id] |= {"end": self._now(), "error": repr(error)}

    def model_calls(self) -> list[dict[str, Any]]:
        """Return the finished model calls, by start time."""
        return sorted((c for c in self.models.values() if "end" in c), key=lambda c: c["start"])

    def stream_stats(self) -> tuple[list[float], list[float]]:
        """Return each streamed call's time to first token and mean inter-token gap (seconds)."""
        calls = [c for c in self.model_calls() if "first_token" in c]
        ttfts = [c["first_token"] - c["start"] for c in calls]
        gaps = [
            (c["last_token"] - c["first_token"]) / (c["chunks"] - 1)
            for c in calls
            if c["chunks"] > 1
        ]
        return ttfts, gaps

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
