"""Tools from MCP servers: found once per process, called over sessions that stay open.

The operator lists servers in `MCP_SERVERS` (`core.settings`), in the shape
langchain-mcp-adapters' `MultiServerMCPClient` takes. `mcp_tools()` connects to each
server once per process, lists its tools and returns them as the adapter makes them
(their JSON schemas as `args_schema`); `deploy.served.with_mcp_tools` adds them to a
domain where a graph is built:

    graph = build_graph(with_mcp_tools(SHOP))

- **Annotations.** `readOnlyHint: true` marks a tool `read_only` (it may start
  speculatively); any other tool has side effects (`core.domain.side_effects`),
  destructive and idempotent as its `destructiveHint` and `idempotentHint` say, with
  MCP's defaults (destructive, not idempotent) where it says nothing.
- **Sessions.** One per server, opened at discovery and kept: every call goes over it.
  They live on an event loop of their own, in a thread of their own, so a graph module
  can find the tools while it is imported (a blocking call, made where `langgraph dev`
  imports graphs: a worker thread) and any run's loop can call them without blocking (the
  call is handed to that loop, and awaited). They are closed at exit. One server's session
  is `tools.mcp_session`'s.
- **Failures.** A call ends a little before the run's tool timeout; a server that died,
  hangs or refuses is a `ToolException` naming the server and the tool. A session that
  broke is opened again: at once for a call that only reads or is idempotent (it is
  made once more), by the next call for one that changes things (it may have been done).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.interceptors import MCPToolCallRequest, MCPToolCallResult
from langchain_mcp_adapters.sessions import (
    SSEConnection,
    StdioConnection,
    StreamableHttpConnection,
    WebsocketConnection,
)
from langchain_mcp_adapters.tools import load_mcp_tools

from core.context import current_context
from core.domain import read_only, side_effects
from core.resources import PerProcess
from core.settings import Settings, settings
from tools.mcp_session import CONNECT_SECONDS, Connect, Session, describe

log = logging.getLogger(__name__)

CLOSE_SECONDS = 5.0  # to close every session at exit
MARGIN_SECONDS = 0.25  # a call ends this much before the run's tool timeout (at most)

# The keys each transport takes (the adapter's own connection types), less those that
# only code can set (an httpx client factory or auth object is not JSON).
_CODE_ONLY = {"httpx_client_factory", "auth"}
_KEYS: dict[str, frozenset[str]] = {
    transport: (kind.__required_keys__ | kind.__optional_keys__) - _CODE_ONLY
    for kind, transports in (
        (StdioConnection, ("stdio",)),
        (StreamableHttpConnection, ("streamable_http", "streamable-http", "http")),
        (SSEConnection, ("sse",)),
        (WebsocketConnection, ("websocket",)),
    )
    for transport in transports
}


class MCPServers:
    """Sessions with some MCP servers, on an event loop (and thread) of their own.

    Args:
        connections: server name -> connection, as `MultiServerMCPClient` takes them.
        connect: opens an initialized session with a server, by name (default: the
            adapter's `MultiServerMCPClient.session`; tests pass an in-memory one).
        call_timeout: seconds a call may take; None: the run's `tool_timeout_seconds`
            less a margin, so that the error naming the server is the one the run sees.

    Raises:
        ValueError: naming `MCP_SERVERS` and the server, for a key its transport lacks.
    """

    def __init__(
        self,
        connections: Mapping[str, Mapping[str, Any]],
        *,
        connect: Connect | None = None,
        call_timeout: float | None = None,
    ) -> None:
        for name, connection in connections.items():
            keys = _KEYS.get(str(connection.get("transport")), frozenset())
            if unknown := sorted(set(connection) - keys - {"transport"}):
                raise ValueError(
                    f"MCP_SERVERS: server {name!r}: unknown keys {unknown}; "
                    f"a {connection.get('transport')} server takes {sorted(keys)}"
                )
        client = MultiServerMCPClient(dict(connections))  # type: ignore[arg-type]
        self.call_timeout = call_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="mcp-sessions", daemon=True
        )
        self._thread.start()
        self._sessions = {name: Session(name, connect or client.session) for name in connections}
        self._retryable: set[tuple[str, str]] = set()  # (server, tool): read-only or idempotent
        atexit.register(self.close)

    def load_tools(self, timeout: float = CONNECT_SECONDS) -> tuple[BaseTool, ...]:
        """Connect to every server and return all their tools (blocks; not in a running loop).

        Raises:
            RuntimeError: naming `MCP_SERVERS` and each server that could not be reached,
                did not answer within `timeout` seconds, or did not list its tools.
        """
        future = asyncio.run_coroutine_threadsafe(self._discover(timeout), self._loop)
        return future.result(timeout + CLOSE_SECONDS)  # _discover ends within its timeout

    async def aload_tools(self, timeout: float = CONNECT_SECONDS) -> tuple[BaseTool, ...]:
        """Return all the servers' tools, as `load_tools` does, from any event loop."""
        future = asyncio.run_coroutine_threadsafe(self._discover(timeout), self._loop)
        return await asyncio.wrap_future(future)

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        """Close every session (a stdio server's process ends), then the loop; idempotent."""
        if self._loop.is_closed():
            return
        atexit.unregister(self.close)
        closing = asyncio.run_coroutine_threadsafe(self._close_all(), self._loop)
        try:
            closing.result(timeout)
        except Exception as err:  # closing is best effort; the process is ending
            log.warning("MCP sessions did not close cleanly: %s", describe(err))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()

    async def _discover(self, timeout: float) -> tuple[BaseTool, ...]:
        names = list(self._sessions)
        found = await asyncio.gather(
            *(asyncio.wait_for(self._list(name), timeout) for name in names),
            return_exceptions=True,
        )
        failed = [
            f"server {name!r}: "
            + (f"no answer within {timeout:g} s" if isinstance(r, TimeoutError) else describe(r))
            for name, r in zip(names, found, strict=True)
            if isinstance(r, BaseException)
        ]
        if failed:
            raise RuntimeError(f"MCP_SERVERS: {'; '.join(failed)}")
        return tuple(tool for tools in found for tool in tools)  # type: ignore[union-attr]

    async def _list(self, server: str) -> list[BaseTool]:
        """List a server's tools as the adapter makes them, each called through `_route`."""
        session = await self._sessions[server].get()
        listed = await load_mcp_tools(
            session, server_name=server, tool_interceptors=[self._route], handle_tool_errors=False
        )
        return [self._adopt(server, tool) for tool in listed]

    def _adopt(self, server: str, tool: BaseTool) -> BaseTool:
        """Return the adapter's tool under a name the plan language takes, marked, bounded."""
        assert isinstance(tool, StructuredTool) and tool.coroutine is not None
        call_mcp = tool.coroutine
        where = f"MCP server {server!r}, tool {tool.name!r}"

        async def call(**arguments: Any) -> tuple[Any, Any]:
            budget = self.call_timeout or _budget(current_context().tool_timeout_seconds)
            try:
                async with asyncio.timeout(budget):
                    content, artifact = await call_mcp(**arguments)
            except TimeoutError:
                raise ToolException(f"{where}: no answer within {budget:g} s") from None
            except Exception as err:
                raise ToolException(f"{where}: {describe(err)}") from None
            # The structured result itself, as other tools' artifacts (`$1.field` reads it).
            return content, (artifact or {}).get("structured_content")

        hints = dict(tool.metadata or {})
        if hints.get("readOnlyHint") is True or hints.get("idempotentHint") is True:
            self._retryable.add((server, tool.name))
        adopted = StructuredTool(
            name=tool_name(tool.name),
            description=tool.description,
            args_schema=tool.args_schema,
            coroutine=call,
            response_format="content_and_artifact",
            metadata={**hints, "mcp_server": server, "mcp_tool": tool.name},
        )
        if hints.get("readOnlyHint") is True:
            return read_only(adopted)
        return side_effects(
            adopted,
            destructive=hints.get("destructiveHint") is not False,
            idempotent=hints.get("idempotentHint") is True,
        )

    async def _route(
        self,
        request: MCPToolCallRequest,
        handler: Callable[[MCPToolCallRequest], Awaitable[MCPToolCallResult]],
    ) -> MCPToolCallResult:
        """Send a call over its server's session, on the sessions' loop (an interceptor).

        The adapter's own handler, which would use the session the tools were listed on,
        is not called: a session that broke is replaced, and the call goes over the new one.
        """
        retry = (request.server_name, request.name) in self._retryable
        call = self._sessions[request.server_name].call(request.name, request.args, retry=retry)
        try:
            future = asyncio.run_coroutine_threadsafe(call, self._loop)
        except RuntimeError:  # the loop is closed: the process is ending
            call.close()
            raise ToolException("the MCP sessions are closed") from None
        return await asyncio.wrap_future(future)

    async def _close_all(self) -> None:
        await asyncio.gather(*(session.close() for session in self._sessions.values()))


def mcp_tools(operator: Settings | None = None) -> tuple[BaseTool, ...]:
    """Return the tools of the servers in `MCP_SERVERS` (none if unset), connected once.

    The first call in a process connects and lists the tools (blocking, up to
    `CONNECT_SECONDS`); later calls with the same servers return the same tools. Call it
    where a graph is built, not from a running event loop.

    Raises:
        ValueError: if `MCP_SERVERS` is malformed (naming the variable and the server).
        RuntimeError: if a server cannot be reached (naming the variable and the server).
    """
    operator = operator or settings()
    connections = operator.mcp_connections()
    if not connections:
        return ()
    with _loading:
        loaded = _loaded.get()
        if operator.mcp_servers not in loaded:
            servers = MCPServers(connections)
            try:
                loaded[operator.mcp_servers] = servers.load_tools()
            except BaseException:
                servers.close()
                raise
        return loaded[operator.mcp_servers]


_loading = threading.Lock()
# By MCP_SERVERS: their servers stay connected (`core.resources`).
_loaded: PerProcess[dict[str, tuple[BaseTool, ...]]] = PerProcess(dict)


def tool_name(name: str) -> str:
    """Return an MCP tool's name as the plan language writes calls: a Python identifier."""
    safe = re.sub(r"\W", "_", name, flags=re.ASCII)
    return safe if re.match(r"[A-Za-z_]", safe) else f"_{safe}"


def _budget(timeout: float) -> float:
    """Return how long a call may take within a run's tool timeout (see `MCPServers`)."""
    return timeout - min(MARGIN_SECONDS, timeout / 10)
