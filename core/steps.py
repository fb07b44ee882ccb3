"""Step timing and progress events: one decorator instead of timing code in every node.

Each decorated node emits a `custom` stream event when it starts and when it ends,
and adds one entry to `state.timings`. Every chat-model call made inside the step is
timed by a LangChain callback handler (the wait for a server's slot, TTFT, total,
tokens in/out, cached prompt tokens) and listed under the entry's `model_calls`.
Inside a node, `note(...)` attaches details to the current step and `emit(...)` sends
an event at once.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar, cast
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.tracers.context import register_configure_hook
from langgraph.constants import TAG_NOSTREAM
from langgraph.runtime import Runtime

from core.context import Context
from core.state import turn_of

QUEUE_MS = "queue_ms"  # a call's metadata: how long it waited for a server's slot

NodeT = TypeVar("NodeT", bound=Callable[..., Awaitable[dict[str, Any]]])

_details: ContextVar[dict[str, Any]] = ContextVar("step_details")
_writer: ContextVar[Callable[[Any], None] | None] = ContextVar("step_writer", default=None)


class ModelCallTimer(BaseCallbackHandler):
    """Time the chat-model calls of one step and add them to its details."""

    run_inline = True  # called in the event loop, in order, with no thread hop

    def __init__(self, details: dict[str, Any], writer: Callable[[Any], None]) -> None:
        """Record into `details["model_calls"]`; send `first_token` events through `writer`."""
        self.details = details
        self.writer = writer
        self.open: dict[UUID, dict[str, Any]] = {}

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Start the clock of one call (it starts once the call has a slot of its server)."""
        metadata = kwargs.get("metadata") or {}
        to_user = TAG_NOSTREAM not in (kwargs.get("tags") or [])
        call = {"model": metadata.get("ls_model_name"), "start": time.time(), "to_user": to_user}
        if QUEUE_MS in metadata:  # how long it waited for that slot (`serving.admission`)
            call["queue_ms"] = metadata[QUEUE_MS]
        self.open[run_id] = call

    def on_llm_new_token(
        self, token: str | list[str | dict[str, Any]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Stamp the first streamed token of a call (its TTFT) and announce it."""
        call = self.open.get(run_id)
        if call is not None and token and "ttft_ms" not in call:
            call["ttft_ms"] = (time.time() - call["start"]) * 1000
            if call["to_user"]:  # the answer's first token, not the planner's JSON
                self.writer({"event": "first_token", "t": time.time(), "ttft_ms": call["ttft_ms"]})

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Close the call: total time, tokens and cached prompt tokens where reported."""
        call = self.open.pop(run_id, None)
        if call is None:
            return
        call["ms"] = (time.time() - call["start"]) * 1000
        call.setdefault("ttft_ms", call["ms"])  # not streamed: the first token came with all
        call.pop("to_user")
        generation = response.generations[0][0] if response.generations else None
        if isinstance(generation, ChatGeneration):
            usage = getattr(generation.message, "usage_metadata", None) or {}
            call["tokens_in"] = usage.get("input_tokens")
            call["tokens_out"] = usage.get("output_tokens")
            call["cached_tokens"] = usage.get("input_token_details", {}).get("cache_read")
        self.details.setdefault("model_calls", []).append(call)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a failed call, with its error."""
        call = self.open.pop(run_id, None)
        if call is not None:
            call.pop("to_user")
            call |= {"ms": (time.time() - call["start"]) * 1000, "error": repr(error)}
            self.details.setdefault("model_calls", []).append(call)


_timer: ContextVar[ModelCallTimer | None] = ContextVar("model_call_timer", default=None)
register_configure_hook(_timer, inheritable=True)  # every callback manager in a step adds it


def time_apart(details: dict[str, Any]) -> None:
    """Time the model calls made from here on (in this task) into `details`, silently.

    For a call begun in one step on behalf of a later one (`engine.accelerators.early_answer`): the
    later step adds the timing to its own entry.
    """
    _timer.set(ModelCallTimer(details, lambda _: None))


def note(**details: Any) -> None:
    """Attach details to the timing entry of the running step."""
    _details.get().update(details)


def emit(event: str, **fields: Any) -> None:
    """Send a custom stream event from the running step right now (outside a step: nothing)."""
    writer = _writer.get()
    if writer is not None:
        writer({"event": event, "t": time.time(), **fields})


def step(name: str) -> Callable[[NodeT], NodeT]:
    """Time a node, stream its start/end as custom events, and record it in `timings`.

    The entry carries the turn (the number of user messages), so a new turn's first
    entry replaces the previous turn's (`core.state.this_turn`). A node may return
    `timings` of its own (one per tool call, say); they follow the step's entry.
    """

    def decorate(node: NodeT) -> NodeT:
        @functools.wraps(node)
        async def timed(state: Any, runtime: Runtime[Context], **kwargs: Any) -> dict[str, Any]:
            if runtime.context is None:  # invoked without context=: defaults and env vars
                runtime = dataclasses.replace(runtime, context=Context())
            details: dict[str, Any] = {}
            _details.set(details)
            _writer.set(runtime.stream_writer)
            _timer.set(ModelCallTimer(details, runtime.stream_writer))
            start = time.time()
            emit("step_start", step=name)
            try:
                update = await node(state, runtime, **kwargs)
            except Exception as err:
                emit("step_error", step=name, error=f"{type(err).__name__}: {err}")
                raise
            end = time.time()
            timing = {"step": name, "start": start, "end": end, "ms": (end - start) * 1000}
            timing |= details
            emit("step_end", **timing)
            turn = turn_of(state.messages)
            timings = [{**t, "turn": turn} for t in [timing, *update.pop("timings", [])]]
            return {**update, "timings": timings}

        return cast(NodeT, timed)

    return decorate
