"""Each run's share of what all runs share (connections, worker threads): no run takes it all.

A tool whose calls hold something bounded and shared by every run (http_get's connection
pool, query_database's threads) takes a `RunShare` slot around each use: one run holds at
most `per_run` of them at a time, and its further calls wait for its own slots, not for
other runs'. A run is one LangGraph run, whichever graph: the fast agent's planned and
speculative calls and the ReAct baseline's tool node alike (`current_run`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from langgraph.runtime import get_runtime


def current_run() -> object:
    """Return what identifies the LangGraph run this call belongs to (None outside one).

    That is the run's `RunControl`: LangGraph makes one for each run (an `invoke` or
    `stream`, a server run, each attempt of it) and hands it to every node, tool call and
    subgraph of that run. Unlike `execution_info.run_id`, it is there when the caller gives
    no run id (in-process runs, evals). Calls made outside any run count as one run.
    """
    try:
        runtime = get_runtime()
    except (RuntimeError, KeyError):  # not inside a runnable, or not a graph's
        return None
    return getattr(runtime, "control", None)


@dataclass
class _Slots:
    semaphore: asyncio.Semaphore
    users: int = field(default=0)  # holding or waiting: the entry goes when none are left


class RunShare:
    """At most `per_run` slots held at a time by any one run, on each event loop."""

    def __init__(self, per_run: int) -> None:
        """Allow each run `per_run` (> 0) slots at a time."""
        self.per_run = per_run
        self._runs: dict[tuple[asyncio.AbstractEventLoop, object], _Slots] = {}

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the running run's slots; first wait for one, if all of them are held."""
        key = (asyncio.get_running_loop(), current_run())
        slots = self._runs.get(key)
        if slots is None:
            slots = self._runs[key] = _Slots(asyncio.Semaphore(self.per_run))
        slots.users += 1
        try:
            async with slots.semaphore:
                yield
        finally:
            slots.users -= 1
            if not slots.users:
                del self._runs[key]

    def runs(self) -> int:
        """Return how many runs hold or wait for a slot now."""
        return len(self._runs)
