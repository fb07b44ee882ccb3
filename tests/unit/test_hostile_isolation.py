"""The hard deadline for CPU-bound tools: a worker that overruns is killed, the loop never waits."""

import asyncio
import math
import re
import time
from pathlib import Path

import pytest

from tests.support.loop_watch import LoopWatch
from tools.isolation import WorkerPool, run_in_process, worker_pool

# Pure C loops that hold the GIL and never look at a signal: no timeout inside the process
# can stop them. Standard library functions, so a fresh worker imports nothing to run them.
BUSY_LOOP = (sum, range(10**15))
REDOS = (re.match, r"(a+)+$", "a" * 40 + "b")  # catastrophic backtracking


def gone(pid: int) -> bool:
    """True once the process no longer runs (reaped, or a zombie waiting to be)."""
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ")[1].startswith("Z")


async def test_a_busy_loop_is_stopped_at_its_deadline_while_the_loop_keeps_serving() -> None:
    async with WorkerPool(max_workers=1) as pool, LoopWatch() as watch:
        assert await pool.run(pow, 7, 2, timeout=10) == 49  # the worker has started
        for func, *args in (BUSY_LOOP, REDOS):
            [pid] = pool.pids()
            started = time.perf_counter()
            with pytest.raises(TimeoutError, match="did not finish within 0.5 s"):
                await pool.run(func, *args, timeout=0.5)
            assert 0.45 < time.perf_counter() - started < 1.0
            await asyncio.sleep(0.2)
            assert gone(pid)  # killed, not left running in the background
    print(f"\nisolation: longest loop stall {watch.stall * 1000:.1f} ms")  # noqa: T201
    assert watch.stall < 0.05


async def test_an_overrunning_call_stops_using_the_shared_workers() -> None:
    async with WorkerPool(max_workers=2) as pool:
        await overrun_then_run(pool)


async def overrun_then_run(pool: WorkerPool) -> None:
    overrunning = [asyncio.create_task(pool.run(*BUSY_LOOP, timeout=0.5)) for _ in range(2)]
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    assert await pool.run(pow, 2, 10, timeout=5) == 1024  # waited for a killed worker's slot
    assert time.perf_counter() - started < 2.0
    for task in overrunning:
        with pytest.raises(TimeoutError):
            await task
    results = await asyncio.gather(*(pool.run(math.factorial, n, timeout=5) for n in range(6)))
    assert results == [1, 1, 2, 6, 24, 120]
    assert len(pool.pids()) <= 2


async def test_a_cancelled_call_kills_its_worker() -> None:
    async with WorkerPool(max_workers=1) as pool:
        task = asyncio.create_task(pool.run(*BUSY_LOOP, timeout=60))
        await asyncio.sleep(0.3)
        [pid] = pool.pids()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.2)
        assert gone(pid)
        assert await pool.run(pow, 3, 3, timeout=5) == 27


async def test_errors_and_oversized_results_come_back_as_exceptions() -> None:
    with pytest.raises(ValueError, match="math domain error"):
        await run_in_process(math.sqrt, -1, timeout=5)
    with pytest.raises(ValueError, match="the limit is 1000000"):
        await run_in_process(bytes, 2_000_000, timeout=5)
    assert await run_in_process(bytes, 3, timeout=5) == b"\0\0\0"
    await worker_pool().aclose()
