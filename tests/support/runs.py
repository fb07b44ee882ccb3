"""Await work inside LangGraph runs of its own: what a tool sees as one run, as in either graph."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from langgraph.func import entrypoint

T = TypeVar("T")


async def in_run(work: Callable[[], Awaitable[T]]) -> T:
    """Return `await work()`, run as the only node of a LangGraph run of its own."""

    @entrypoint()
    async def one_run(_: Any) -> Any:
        return await work()

    result: T = await one_run.ainvoke(0)
    return result
