"""Step timing and progress events: one decorator instead of timing code in every node.

Each decorated node emits a `custom` stream event when it starts and when it ends,
and adds one entry to `state.timings`. Inside a node, `note(...)` attaches details
(tokens, TTFT, which path decided) to the current step and `emit(...)` sends an
event at once (e.g. the first answer token).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from graphs.context import Context

NodeT = TypeVar("NodeT", bound=Callable[..., Awaitable[dict[str, Any]]])

_details: ContextVar[dict[str, Any]] = ContextVar("step_details")
_writer: ContextVar[Callable[[Any], None]] = ContextVar("step_writer")


def note(**details: Any) -> None:
    """Attach details to the timing entry of the running step."""
    _details.get().update(details)


def emit(event: str, **fields: Any) -> None:
    """Send a custom stream event from the running step right now."""
    _writer.get()({"event": event, "t": time.time(), **fields})


def step(name: str, *, first: bool = False) -> Callable[[NodeT], NodeT]:
    """Time a node, stream its start/end as custom events, and record it in `timings`.

    Args:
        name: the step's name in events and timings.
        first: the run's first step; it replaces the timings left by an earlier run
            on the same thread instead of appending to them.
    """

    def decorate(node: NodeT) -> NodeT:
        @functools.wraps(node)
        async def timed(state: Any, runtime: Runtime[Context]) -> dict[str, Any]:
            details: dict[str, Any] = {}
            _details.set(details)
            _writer.set(runtime.stream_writer)
            start = time.time()
            emit("step_start", step=name)
            try:
                update = await node(state, runtime)
            except Exception as err:
                emit("step_error", step=name, error=f"{type(err).__name__}: {err}")
                raise
            end = time.time()
            timing = {
                "step": name,
                "start": start,
                "end": end,
                "ms": (end - start) * 1000,
                **details,
            }
            emit("step_end", **timing)
            timings = [timing]
            return {**update, "timings": Overwrite(timings) if first else timings}

        return cast(NodeT, timed)

    return decorate
