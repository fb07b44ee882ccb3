"""Watch the event loop while code runs: its longest stall and the process's peak RSS."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path


class LoopWatch:
    """While running: the event loop's longest stall and the process's peak RSS growth.

    A ticker task sleeps 2 ms at a time; whatever in this process holds the loop longer
    shows as a stall: the loop's own code, or another thread holding the GIL. A tick counts
    no more than the CPU time this process spent meanwhile, so a tick the OS gave to other
    processes is not a stall of ours (on a 2-core CI machine, once in a suite: 79 ms while
    every call under test took under 2 ms). The test process's heap is frozen meanwhile: a
    full garbage collection of it (langchain, pydantic, numpy...) alone stalls the loop for
    about 80 ms, whatever the code under test.
    """

    def __init__(self) -> None:
        self.stall = 0.0
        self.rss = self.rss0 = self._rss()

    @staticmethod
    def _rss() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096

    async def _tick(self) -> None:
        while True:
            started, cpu = time.perf_counter(), time.process_time()
            await asyncio.sleep(0.002)
            wall = time.perf_counter() - started - 0.002
            self.stall = max(self.stall, min(wall, time.process_time() - cpu))
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
