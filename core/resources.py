"""Per-process resources: what each worker process holds for itself, declared in one place.

What outlives a run and belongs to someone (learned plans, the journal) is in the store
(`core.stores`), which every worker of a server shares. What is left in a process is
what cannot be shared between processes, made here with `PerLoop` or `PerProcess` so
that nothing else is a module global:

- Pooled HTTP clients: the model servers' (`serving.chat_models`), http_get's
  (`tools.http_get`). Per event loop (httpx connections belong to one); each worker opens
  its own, so a connection limit is per worker.
- Chat models and the backend each model server was detected as (`serving.chat_models`):
  derived from the operator's settings and the server's `/models` answer; every worker
  derives the same.
- Isolated worker subprocesses (`tools.isolation`): per event loop (their pipes belong to
  one).
- Thread pools (`tools.query_database`, `tools.shop_db`): per process; SQLite's own locks
  order the writes of every process. The query processes started ahead
  (`tools.query_database`): per process; each runs one query and exits.
- Each run's share of those (`tools.run_share.RunShare`): a run's nodes all run in the
  worker that took the run, so its share is counted there.
- Connected MCP servers (`tools.mcp`): per process; each worker holds its own sessions.
- The LangSmith client (`deploy.tracing`): per process; it batches what it sends.
- Direct answers being written while the planner decides
  (`engine.accelerators.early_answer`): per process, keyed by a random key in the run's
  state; a run that resumes in another worker finds none and asks for the answer again.
- Admission's slot counts and waiting lines (`serving.admission`): per event loop; how
  processes sharing one llama.cpp server split its slots is that module's to say.

The caches of pure functions (`functools.cache` on what a domain and settings derive:
grammars, prompts, classifiers) are per process too and need no sharing.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """One `make()` per running event loop, made on first use; a closed loop's goes with it."""

    def __init__(self, make: Callable[[], T]) -> None:
        """Hold `make`, called once in each event loop that asks."""
        self._make = make
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> T:
        """Return the running loop's, making it first if the loop has none."""
        loop = asyncio.get_running_loop()
        if loop not in self._by_loop:
            self._by_loop[loop] = self._make()
        return self._by_loop[loop]


class PerProcess(Generic[T]):
    """One `make()` for the process, made on first use (from any thread)."""

    def __init__(self, make: Callable[[], T]) -> None:
        """Hold `make`, called once, by the first caller of `get`."""
        self._make = make
        self._made: list[T] = []
        self._making = threading.Lock()

    def get(self) -> T:
        """Return the process's, making it first if there is none yet."""
        if not self._made:
            with self._making:
                if not self._made:
                    self._made.append(self._make())
        return self._made[0]
