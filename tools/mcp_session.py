"""One MCP server's session, held open on the sessions' loop and opened again if it breaks."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from langchain_core.tools import ToolException
from mcp import ClientSession, McpError
from mcp.types import CONNECTION_CLOSED, CallToolResult

log = logging.getLogger(__name__)

CONNECT_SECONDS = 30.0  # to start or reach a server, and list its tools
# What a broken transport raises; a call that fails so drops its session.
_BROKEN = (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError, httpx.TransportError)

Connect = Callable[[str], AbstractAsyncContextManager[ClientSession]]


class _Broken(Exception):
    """The session broke during a call; `error` says how."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(eq=False)
class _Opening:
    """One session's life: open (`ready`), asked to close (`stop`), gone (`ended`, why)."""

    ready: asyncio.Future[ClientSession]
    stop: asyncio.Event
    ended: asyncio.Future[str]
    holder: asyncio.Task[None] | None = None


class Session:
    """One server's session, held open by a task on the sessions' loop; reopened when broken.

    Every method runs on that loop, so none needs a lock.
    """

    def __init__(self, name: str, connect: Connect) -> None:
        self.name = name
        self._connect = connect
        self._current: _Opening | None = None
        self._alive: set[_Opening] = set()  # not ended yet (a broken one may still be closing)

    async def get(self) -> ClientSession:
        """Return the open session, opening one if there is none (callers share the opening)."""
        return await asyncio.shield((self._current or self._open()).ready)

    async def call(self, tool: str, args: dict[str, Any], *, retry: bool) -> CallToolResult:
        """Call a tool over the session; fail at once if the session ends meanwhile.

        A call that finds the connection broken drops the session, so the next one
        reopens it; with `retry` (a tool that only reads, or is idempotent) this call is
        made once more, over a new session, at once.
        """
        try:
            return await self._call_once(tool, args)
        except _Broken as broken:
            if not retry:
                raise broken.error from None
        log.warning("MCP server %r: the session broke; %r is tried once more", self.name, tool)
        try:
            return await self._call_once(tool, args)
        except _Broken as broken:
            raise broken.error from None

    async def _call_once(self, tool: str, args: dict[str, Any]) -> CallToolResult:
        opening = self._current or self._open()
        session = await asyncio.shield(opening.ready)
        request = asyncio.ensure_future(session.call_tool(tool, args))
        try:
            racing: list[asyncio.Future[Any]] = [request, opening.ended]
            await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # this call was cancelled (its deadline)
            request.cancel()
            raise
        if not request.done() or request.cancelled():  # the session ended first
            request.cancel()
            self._drop(opening)
            reason = opening.ended.result() if opening.ended.done() else "it broke"
            raise _Broken(ConnectionError(f"the session ended: {reason}"))
        try:
            return request.result()
        except McpError as err:
            if err.error.code != CONNECTION_CLOSED:
                raise
            self._drop(opening)
            raise _Broken(err) from None
        except _BROKEN as err:
            self._drop(opening)
            raise _Broken(err) from None

    async def close(self) -> None:
        """Close the session (and wait for any that broke to finish closing)."""
        self._current = None
        alive = list(self._alive)
        for opening in alive:
            opening.stop.set()
            if not opening.ready.done() and opening.holder is not None:
                opening.holder.cancel()  # still opening
        await asyncio.gather(*(o.holder for o in alive if o.holder), return_exceptions=True)

    def _open(self) -> _Opening:
        loop = asyncio.get_running_loop()
        opening = _Opening(loop.create_future(), asyncio.Event(), loop.create_future())
        # A context of its own: the session's tasks outlive the run that opened it.
        opening.holder = loop.create_task(self._hold(opening), context=contextvars.Context())
        self._alive.add(opening)
        self._current = opening
        return opening

    def _drop(self, opening: _Opening) -> None:
        if self._current is opening:
            self._current = None
        opening.stop.set()

    async def _hold(self, opening: _Opening) -> None:
        """Open the session, hand it over, and keep it open until it is stopped or breaks."""
        reason = "closed"
        try:
            async with AsyncExitStack() as stack:
                async with asyncio.timeout(CONNECT_SECONDS):
                    session = await stack.enter_async_context(self._connect(self.name))
                opening.ready.set_result(session)
                await opening.stop.wait()
        except Exception as err:  # it could not open, or it broke while open
            reason = describe(err)
            if not opening.ready.done():
                opening.ready.set_exception(err)
            else:
                log.warning("MCP server %r: the session ended: %s", self.name, reason)
        finally:
            if self._current is opening:
                self._current = None
            if not opening.ready.done():
                opening.ready.cancel()
            elif not opening.ready.cancelled():
                opening.ready.exception()  # retrieved: no "never retrieved" warning
            opening.ended.set_result(reason)
            self._alive.discard(opening)


def describe(err: BaseException) -> str:
    """Return an error's first cause as `Type: message` (an exception group's first leaf)."""
    while isinstance(err, BaseExceptionGroup) and err.exceptions:
        err = err.exceptions[0]
    if isinstance(err, McpError):
        closed = err.error.code == CONNECTION_CLOSED
        return "the server closed the connection" if closed else err.error.message
    if isinstance(err, ToolException):  # the server's own error message
        return str(err)
    return f"{type(err).__name__}: {err}".rstrip(": ")
