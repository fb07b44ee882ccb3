"""A hard deadline for CPU-bound tools: run a sync function in a worker process, killed on time.

A tool's timeout cancels an `await`; it cannot stop Python code that never awaits, and a
thread cannot be stopped at all. A tool that computes (parses, searches, solves) on input a
model chose should run that computation here::

    from core.context import current_context
    from tools.isolation import run_in_process

    def solve(puzzle: str) -> str:  # module level: workers import it by name
        ...

    @tool
    async def solver(puzzle: str) -> str:
        \"\"\"Solve a puzzle.\"\"\"
        return await run_in_process(solve, puzzle, timeout=current_context().tool_timeout_seconds)

Each event loop has a small pool of worker processes (`MAX_WORKERS`). A call waits for a free
worker, sends it the function (by module and name) and its arguments, and awaits the answer on
a pipe: the event loop never blocks on a worker. At the deadline, or when the calling task is
cancelled, the worker is killed (SIGKILL) and a fresh one starts at once, importing the modules
of the functions run so far, so an overrunning call frees its worker and the next call finds a
warm one. The deadline covers the wait for a worker too. Results are pickled and at most
`MAX_RESULT_BYTES`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pickle
import struct
import sys
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast

from core.resources import PerLoop

R = TypeVar("R")

MAX_WORKERS = 2
MAX_RESULT_BYTES = 1_000_000
_HEADER = struct.Struct("!Q")

# The worker: read (function, args) frames from stdin, answer (ok, value) frames on stdout.
_WORKER = """
import importlib, json, pickle, struct, sys
config = json.loads(sys.argv[1])
sys.path[:] = config["path"]
for name in config["preload"]:
    try:
        importlib.import_module(name)
    except Exception:
        pass
requests, answers, header = sys.stdin.buffer, sys.stdout.buffer, struct.Struct("!Q")
sys.stdout = sys.stderr  # what the function prints must not mix with the answers
while size := requests.read(header.size):
    try:
        func, args = pickle.loads(requests.read(header.unpack(size)[0]))
        answer = (True, func(*args))
    except BaseException as err:
        answer = (False, err)
    try:
        payload = pickle.dumps(answer)
    except Exception as err:
        payload = pickle.dumps((False, TypeError(f"the result cannot be pickled: {err}")))
    if len(payload) > config["max_result_bytes"]:
        payload = pickle.dumps((False, ValueError(f"the result is {len(payload)} bytes pickled; "
                                                  f"the limit is {config['max_result_bytes']}")))
    answers.write(header.pack(len(payload)) + payload)
    answers.flush()
"""


class WorkerPool:
    """Worker processes for one event loop; see the module's docstring."""

    def __init__(
        self, max_workers: int = MAX_WORKERS, max_result_bytes: int = MAX_RESULT_BYTES
    ) -> None:
        self.modules: set[str] = set()  # the modules of the functions run so far
        self._slots = [_Slot(self.modules, max_result_bytes) for _ in range(max_workers)]
        self._free: asyncio.Queue[_Slot] = asyncio.Queue()
        for slot in self._slots:
            self._free.put_nowait(slot)
        weakref.finalize(self, _kill_all, self._slots)  # a pool of a closed loop

    async def __aenter__(self) -> WorkerPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the workers and wait for them to exit (they also exit with this process)."""
        for slot in self._slots:
            await slot.stop()

    def pids(self) -> list[int]:
        """Return the process ids of the workers started and not yet killed."""
        return [slot.process.pid for slot in self._slots if slot.process is not None]

    async def run(self, func: Callable[..., R], *args: Any, timeout: float) -> R:
        """Run `func(*args)` in a worker; kill the worker if it is not done within `timeout` s.

        Raises:
            TimeoutError: the deadline passed (the worker was killed).
            Exception: whatever `func` raised, re-raised here.
        """
        module = getattr(func, "__module__", None)
        if isinstance(module, str) and module not in ("__main__", "builtins"):
            self.modules.add(module)
        request = pickle.dumps((func, args))
        try:
            async with asyncio.timeout(timeout):
                slot = await self._free.get()
                try:
                    ok, value = await slot.call(request)
                except BaseException:  # the deadline, a cancelled task, a dead worker
                    slot.restart()
                    raise
                finally:
                    self._free.put_nowait(slot)
        except TimeoutError:
            name = getattr(func, "__name__", repr(func))
            raise TimeoutError(f"{name} did not finish within {timeout:g} s: stopped") from None
        if not ok:
            raise value
        return cast(R, value)


class _Slot:
    """One worker process of a pool, started when first needed and restarted when killed."""

    def __init__(self, modules: set[str], max_result_bytes: int) -> None:
        self.modules = modules
        self.max_result_bytes = max_result_bytes
        self._starting: asyncio.Task[asyncio.subprocess.Process] | None = None

    @property
    def process(self) -> asyncio.subprocess.Process | None:
        """The worker, once started."""
        return _started(self._starting)

    async def call(self, request: bytes) -> tuple[bool, Any]:
        if self._starting is None:
            self.restart()
        assert self._starting is not None
        process = await asyncio.shield(self._starting)
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(_HEADER.pack(len(request)) + request)
            await process.stdin.drain()
            (size,) = _HEADER.unpack(await process.stdout.readexactly(_HEADER.size))
            if size > self.max_result_bytes + 1000:
                raise RuntimeError(f"a worker answered with {size} bytes")
            answer: tuple[bool, Any] = pickle.loads(await process.stdout.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError):
            raise RuntimeError("the worker process died") from None
        return answer

    async def stop(self) -> None:
        """Kill the worker, if any, and wait until it has exited."""
        starting, self._starting = self._starting, None
        if starting is not None:
            with contextlib.suppress(Exception):
                process = await starting
                _kill(process)
                await process.wait()

    def restart(self) -> None:
        """Kill the worker (now, or once started) and start a new one in the background."""
        if self._starting is not None:
            self._starting.add_done_callback(lambda task: _kill(_started(task)))
        config = {
            "path": sys.path,
            "preload": sorted(self.modules),
            "max_result_bytes": self.max_result_bytes,
        }
        self._starting = asyncio.ensure_future(
            asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _WORKER,
                json.dumps(config),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        )


def _started(
    task: asyncio.Task[asyncio.subprocess.Process] | None,
) -> asyncio.subprocess.Process | None:
    if task is None or not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()


def _kill(process: asyncio.subprocess.Process | None) -> None:
    if process is not None and process.returncode is None:
        with contextlib.suppress(ProcessLookupError):  # it has just exited
            process.kill()  # asyncio's child watcher reaps it


def _kill_all(slots: list[_Slot]) -> None:
    for slot in slots:
        _kill(slot.process)


_pools = PerLoop(WorkerPool)  # subprocess pipes belong to a loop (`core.resources`)


def worker_pool() -> WorkerPool:
    """Return the running event loop's worker pool (subprocess pipes belong to a loop)."""
    return _pools.get()


async def run_in_process(func: Callable[..., R], *args: Any, timeout: float) -> R:
    """Run `func(*args)` in the loop's worker pool with a hard deadline of `timeout` seconds.

    `func` must be a module-level function (workers import it by name) and its arguments
    and result picklable.

    Raises:
        TimeoutError: the deadline passed; the worker was killed and replaced.
        Exception: whatever `func` raised.
    """
    return await worker_pool().run(func, *args, timeout=timeout)
