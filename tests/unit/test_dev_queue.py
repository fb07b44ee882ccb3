"""`langgraph dev`'s run queue wakes when a run is created instead of polling every 0.5 s."""

import asyncio
import sys
import time
import types
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from deploy import dev_queue


class Runs:
    """Stands in for langgraph_runtime_inmem.ops.Runs: a list, polled like the real one."""

    store: list[str] = []

    @staticmethod
    async def next(wait: bool, limit: int = 1) -> AsyncIterator[Any]:
        if wait:
            await asyncio.sleep(0.5)
        while Runs.store and limit:
            yield Runs.store.pop(0), 1
            limit -= 1

    @staticmethod
    async def put(run: str) -> list[str]:
        Runs.store.append(run)
        return [run]


@pytest.fixture
def fake_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Runs]]:
    module = types.ModuleType("langgraph_runtime_inmem.ops")
    module.Runs = Runs  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "langgraph_runtime_inmem.ops", module)
    Runs.store = []
    originals = Runs.__dict__["next"], Runs.__dict__["put"]
    yield Runs
    Runs.next, Runs.put = originals  # type: ignore[method-assign]
    Runs.__dict__.get("_wakes_on_put") and delattr(Runs, "_wakes_on_put")


async def test_a_waiting_queue_takes_a_new_run_at_once(fake_runtime: type[Runs]) -> None:
    assert dev_queue.install() and not dev_queue.install()  # once only

    async def take() -> tuple[list[Any], float]:
        started = time.monotonic()
        runs = [run async for run in fake_runtime.next(True)]
        return runs, time.monotonic() - started

    waiting = asyncio.create_task(take())
    await asyncio.sleep(0.05)
    assert await fake_runtime.put("run-1") == ["run-1"]  # put still returns what it did
    runs, waited = await waiting
    assert runs == [("run-1", 1)]
    assert waited < 0.3  # woken by the put, not by the 0.5 s poll


def test_nothing_is_patched_outside_langgraph_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "langgraph_runtime_inmem.ops", raising=False)
    assert dev_queue.install() is False


def test_the_patch_can_be_turned_off(
    fake_runtime: type[Runs], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEV_QUEUE_WAKE", "0")
    assert dev_queue.install() is False
    assert not getattr(fake_runtime, "_wakes_on_put", False)
