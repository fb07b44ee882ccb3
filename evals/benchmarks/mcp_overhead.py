"""What a call through MCP costs: the same instant tool in-process, over stdio and over HTTP.

The tool answers at once (`ping` -> "pong"), so the time is the path's: LangChain's tool
call in-process; through `tools.mcp` (the session kept open, the call handed to the
sessions' loop) over stdio and over streamable HTTP; the MCP SDK's session alone, on the
caller's loop (what the SDK and the server cost, without LangChain or the handoff); and
the adapter's default, a new session for every call (`MultiServerMCPClient.get_tools()`),
which for stdio starts the server's process each time. The server is
`tests/support/mcp_server.py`, over HTTP on a port in 2400-2499. Calls are made one
after the other, after a warm-up.

    python -m evals.benchmarks.mcp_overhead [--reps 200] [--per-call-reps 20]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.tools import BaseTool, tool
from langchain_mcp_adapters.client import MultiServerMCPClient

from evals.harness.stats import percentile
from tests.support.mcp_server import connection, free_port, serving_http
from tools.mcp import MCPServers

CALL = {"name": "ping", "args": {}, "id": "call_1", "type": "tool_call"}
WARM_UP = 10


@tool
async def ping() -> str:
    """Answer at once (the overhead benchmark's call)."""
    return "pong"


async def timed(invoke: Callable[[], Awaitable[Any]], reps: int) -> list[float]:
    """Return the milliseconds of `reps` calls, one after the other, after a warm-up."""
    for _ in range(min(WARM_UP, reps)):
        await invoke()
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        await invoke()
        times.append((time.perf_counter() - started) * 1000)
    return times


def kept_session(server: dict[str, Any]) -> tuple[MCPServers, BaseTool, float]:
    """Connect with `tools.mcp` (one session, kept); return it, its ping and the seconds taken."""
    started = time.perf_counter()
    servers = MCPServers({"bench": server})
    tools = {t.name: t for t in servers.load_tools()}
    return servers, tools["ping"], time.perf_counter() - started


async def sdk_session(server: dict[str, Any], reps: int) -> list[float]:
    """Time the MCP SDK's own `ClientSession.call_tool` on this loop: no LangChain, no thread."""
    async with MultiServerMCPClient({"bench": server}).session("bench") as session:  # type: ignore[dict-item]
        await session.list_tools()
        return await timed(lambda: session.call_tool("ping", {}), reps)


async def session_per_call(server: dict[str, Any]) -> BaseTool:
    """Return ping as the adapter makes it by default: each call opens its own session."""
    tools = await MultiServerMCPClient({"bench": server}).get_tools()  # type: ignore[dict-item]
    return next(t for t in tools if t.name == "ping")


async def main(reps: int, per_call_reps: int) -> None:
    """Time each path and print a table (milliseconds)."""
    port = free_port()
    rows: list[tuple[str, int, list[float]]] = []
    connect: dict[str, float] = {}
    with serving_http(port):
        rows.append(("in-process tool", reps, await timed(lambda: ping.ainvoke(CALL), reps)))
        for transport, server in (("stdio", connection()), ("streamable HTTP", connection(port))):
            servers, mcp_ping, took = await asyncio.to_thread(kept_session, server)
            connect[transport] = took * 1000
            try:
                times = await timed(lambda t=mcp_ping: t.ainvoke(CALL), reps)  # type: ignore[misc]
                rows.append((f"MCP {transport}, session kept (tools.mcp)", reps, times))
            finally:
                servers.close()
            times = await sdk_session(server, reps)
            rows.append((f"MCP {transport}, the SDK's session alone (same loop)", reps, times))
        for transport, server in (("stdio", connection()), ("streamable HTTP", connection(port))):
            per_call = await session_per_call(server)
            times = await timed(lambda t=per_call: t.ainvoke(CALL), per_call_reps)  # type: ignore[misc]
            rows.append(
                (f"MCP {transport}, a session per call (adapter default)", per_call_reps, times)
            )
    print("| path | calls | p50 ms | p95 ms |")  # noqa: T201
    print("|---|---:|---:|---:|")  # noqa: T201
    for name, count, times in rows:
        p50, p95 = percentile(times, 50), percentile(times, 95)
        print(f"| {name} | {count} | {p50:.2f} | {p95:.2f} |")  # noqa: T201
    for transport, ms in connect.items():
        print(f"\nconnect and list the tools, {transport}: {ms:.0f} ms")  # noqa: T201


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--per-call-reps", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.reps, args.per_call_reps))
