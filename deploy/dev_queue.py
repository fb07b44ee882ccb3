"""`langgraph dev` only: start each run the moment it is queued, not at the next poll.

The in-memory runtime behind `langgraph dev` looks for queued runs every 0.5 s, and
takes its "now" before sleeping, so a run waits 0.5-1.0 s before its first event
(about 1 s for back-to-back runs): most of a short answer on a GPU. Imported by the
graph modules, this wakes the runtime's queue the moment a run is created. It changes
nothing elsewhere: the LangGraph API server in production (Postgres and Redis) has its
own queue and never loads `langgraph_runtime_inmem`, and an unknown runtime version
is left alone (with a warning). `make dev` also starts several jobs per worker, so
concurrent runs do not wait for each other.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

logger = logging.getLogger(__name__)
_EXPECTED_NEXT = ["wait", "limit"]


def install() -> bool:
    """Patch the in-memory run queue to wake on new runs; return whether it was patched.

    `DEV_QUEUE_WAKE=0` leaves the queue as it is (to measure the difference, or if a new
    runtime misbehaves with the patch).
    """
    ops = sys.modules.get("langgraph_runtime_inmem.ops")
    if ops is None or getattr(ops.Runs, "_wakes_on_put", False):
        return False
    if os.environ.get("DEV_QUEUE_WAKE", "1") == "0":
        return False
    original_next: Callable[..., AsyncIterator[Any]] = ops.Runs.next
    original_put: Callable[..., Any] = ops.Runs.put
    expected = list(inspect.signature(original_next).parameters) == _EXPECTED_NEXT
    if not expected or not inspect.iscoroutinefunction(original_put):
        logger.warning("langgraph dev: unknown run queue; runs start at its 0.5 s poll")
        return False
    waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
    queued = threading.Event()  # a run was created since the queue last looked

    def wake(future: asyncio.Future[None]) -> None:
        if not future.done():
            future.set_result(None)

    async def put(*args: Any, **kwargs: Any) -> Any:
        created = await original_put(*args, **kwargs)  # the run is stored by now
        queued.set()
        for loop, future in list(waiters):  # the queue may run on another loop
            loop.call_soon_threadsafe(wake, future)
        return created

    async def next_runs(wait: bool, limit: int = 1) -> AsyncIterator[Any]:
        if wait and not queued.is_set():  # sleep until a run is created (at most 0.5 s)
            loop = asyncio.get_running_loop()
            waiter = (loop, loop.create_future())
            waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter[1], timeout=0.5)
            except TimeoutError:
                pass
            finally:
                waiters.discard(waiter)
        queued.clear()
        async for item in original_next(False, limit):
            yield item

    ops.Runs.put = staticmethod(put)
    ops.Runs.next = staticmethod(next_runs)
    ops.Runs._wakes_on_put = True
    return True


install()
