"""Admission: a llama.cpp server gets no more model calls at once than it has slots.

A llama.cpp server decodes `total_slots` requests together and queues the rest inside,
where nothing tells them apart from a server that hangs: with 16 runs at once on 4 slots
of a 2-core machine, most calls spent their whole deadline in that queue (89 of 197
runs of the soak failed that way). So each call first waits here for one of the
server's slots, in order; its own deadline starts once it has one. The wait is bounded
too (the operator's `MAX_QUEUE_SECONDS`), and fails with a message that says the server
is busy, not that it is broken. vLLM schedules and batches what it is sent, and other
servers say nothing of their capacity: their calls go straight through.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from core.settings import settings
from serving.deadlines import ModelCallError

_slots: dict[str, int | None] = {}  # base URL -> its llama.cpp slots (None: no limit)
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


async def server_slots(http: httpx.AsyncClient, base_url: str) -> int | None:
    """Return how many requests a llama.cpp server decodes at once (`/props`), once per URL.

    None (no limit) when the server does not say; asked again next time if it did not answer.
    """
    if base_url in _slots:
        return _slots[base_url]
    root = base_url.removesuffix("/").removesuffix("/v1")
    try:
        response = await http.get(f"{root}/props", timeout=5.0)
        slots = response.json().get("total_slots") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    _slots[base_url] = slots if isinstance(slots, int) and slots > 0 else None
    return _slots[base_url]


@asynccontextmanager
async def admitted(base_url: str, slots: int | None, name: str) -> AsyncIterator[None]:
    """Hold one of the server's `slots` while the block runs (no limit when None).

    Raises:
        ModelCallError: no slot came free within the operator's `MAX_QUEUE_SECONDS`.
    """
    if slots is None:
        yield
        return
    gates = _gates.setdefault(asyncio.get_running_loop(), {})
    gate = gates.setdefault(base_url, asyncio.Semaphore(slots))
    wait = settings().max_queue_seconds
    try:
        async with asyncio.timeout(wait):
            await gate.acquire()
    except TimeoutError:
        raise ModelCallError(
            f"{name} is busy: no free slot within {wait:g} s ({slots} calls at once, "
            "MAX_QUEUE_SECONDS); try again later or serve fewer runs at once"
        ) from None
    try:
        yield
    finally:
        gate.release()
