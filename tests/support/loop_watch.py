"""Watch the event loop while code runs: its longest stall and the process's peak RSS."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path


class LoopWatch:
    """While running: the event loop's longest stall and the process's peak RSS growth.

    A ticker task sleeps 2 ms at a time; whatever holds the loop longer shows as a stall.
    The test process's heap is frozen meanwhile: a full garbage collection of it (langchain,
    pydantic, numpy...) alone stalls the loop for about 80 ms, whatever the code under test.
    """

    def __init__(self) -> None:
        self.stall = 0.0
        self.rss = self.rss0 = self._rss()

    @staticmethod
    def _rss() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096

    async def _tick(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.002)
            self.stall = max(self.stall, time.perf_counter() - started - 0.002)
            self.rss = max(self.rss, self._rss())

    async def __aenter__(self) -> LoopWatch:
        gc.collect()
        gc.freeze()
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._task.cancel()
        gc.unfreeze()
