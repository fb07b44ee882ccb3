"""MCP tools from the test server run as a real process, over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from blockbuster import BlockBuster
from langchain_core.tools import BaseTool, ToolException

from tests.support.mcp_server import connection, free_port, serving_http
from tools.mcp import MCPServers

TIMEOUT = 5.0  # a call's; long enough to start a stdio server again under load
HUNG = 2.0  # a call's, where no server is started again


def call(name: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "args": args, "id": "call_1", "type": "tool_call"}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    port = free_port()
    with serving_http(port):
        yield port


@pytest.fixture(scope="module", params=["stdio", "http"])
def tools(request: pytest.FixtureRequest) -> Iterator[dict[str, BaseTool]]:
    port = request.getfixturevalue("http_port") if request.param == "http" else None
    servers = MCPServers({"warehouse": connection(port)}, call_timeout=HUNG)
    yield {tool.name: tool for tool in servers.load_tools()}
    servers.close()


async def test_tools_their_schemas_and_annotations_arrive(tools: dict[str, BaseTool]) -> None:
    assert tools["stock_level"].metadata["read_only"] is True  # type: ignore[index]
    assert tools["discontinue"].metadata["destructive"] is True  # type: ignore[index]
    assert tools["label_products"].args["color"]["enum"] == ["red", "amber", "green"]
    assert tools["label_products"].args["skus"]["type"] == "array"
    message = await tools["stock_level"].ainvoke(call("stock_level", sku="MON-2002"))
    assert message.artifact == {"sku": "MON-2002", "units": 7, "warehouse": "Rotterdam"}


async def test_calls_share_one_session(tools: dict[str, BaseTool]) -> None:
    pids = await asyncio.gather(
        *(tools["process_id"].ainvoke(call("process_id")) for _ in range(5))
    )
    assert len({message.text for message in pids}) == 1  # one server process for every call


async def test_a_hung_call_ends_at_the_timeout_and_the_session_goes_on(
    tools: dict[str, BaseTool],
) -> None:
    started = time.monotonic()
    with pytest.raises(ToolException, match=r"'warehouse', tool 'hang': no answer within 2 s"):
        await tools["hang"].ainvoke(call("hang"))
    assert time.monotonic() - started < HUNG + 1
    assert (await tools["ping"].ainvoke(call("ping"))).text == "pong"


async def test_a_stdio_server_killed_mid_call_is_an_error_and_the_next_call_restarts_it() -> None:
    servers = MCPServers({"warehouse": connection()}, call_timeout=TIMEOUT)
    try:
        tools = {tool.name: tool for tool in await servers.aload_tools()}
        pid = int((await tools["process_id"].ainvoke(call("process_id"))).text)
        waiting = asyncio.ensure_future(tools["wait"].ainvoke(call("wait", seconds=60)))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        os.kill(pid, 9)
        with pytest.raises(ToolException, match="'warehouse', tool 'wait': the server closed"):
            await waiting
        assert time.monotonic() - started < TIMEOUT
        again = int((await tools["process_id"].ainvoke(call("process_id"))).text)
        assert again != pid and alive(again)
    finally:
        servers.close()
    assert not alive(again)  # closing ends the server's process


async def test_after_a_server_died_a_read_is_made_again_at_once_and_a_change_is_not() -> None:
    servers = MCPServers({"warehouse": connection()}, call_timeout=TIMEOUT)
    try:
        tools = {tool.name: tool for tool in await servers.aload_tools()}
        pid = int((await tools["process_id"].ainvoke(call("process_id"))).text)
        os.kill(pid, 9)
        await asyncio.sleep(0.5)  # it died between calls
        with pytest.raises(ToolException, match="'warehouse', tool 'reserve_units': "):
            await tools["reserve_units"].ainvoke(call("reserve_units", sku="LAP-1001", units=1))
        pid = int((await tools["process_id"].ainvoke(call("process_id"))).text)  # reopened
        os.kill(pid, 9)
        await asyncio.sleep(0.5)
        again = int((await tools["process_id"].ainvoke(call("process_id"))).text)  # read: retried
        assert again != pid
    finally:
        servers.close()


async def test_an_http_server_killed_mid_call_is_an_error_and_a_restarted_one_is_used() -> None:
    port = free_port()
    servers = MCPServers({"warehouse": connection(port)}, call_timeout=HUNG)
    try:
        with serving_http(port) as server:
            tools = {tool.name: tool for tool in await servers.aload_tools()}
            waiting = asyncio.ensure_future(tools["wait"].ainvoke(call("wait", seconds=60)))
            await asyncio.sleep(0.3)
            server.kill()
            with pytest.raises(
                ToolException, match="'warehouse', tool 'wait': no answer within 2 s"
            ):
                await waiting
            started = time.monotonic()
            with pytest.raises(ToolException, match="'warehouse', tool 'ping': .*Connect"):
                await tools["ping"].ainvoke(call("ping"))
            assert time.monotonic() - started < 2.0  # a refused connection fails at once
        with serving_http(port):
            assert (await tools["ping"].ainvoke(call("ping"))).text == "pong"
    finally:
        servers.close()


async def test_nothing_blocks_an_event_loop_as_langgraph_dev_checks_it(http_port: int) -> None:
    # langgraph dev turns BlockBuster on for its event loop; the sessions' loop is checked too.
    servers = MCPServers(
        {"stdio": connection(), "http": connection(http_port)}, call_timeout=TIMEOUT
    )
    try:
        tools = {
            (tool.metadata or {})["mcp_server"] + "." + tool.name: tool
            for tool in await servers.aload_tools()
        }
        blockbuster = BlockBuster(excluded_modules=[])
        blockbuster.activate()
        try:
            pid = int((await tools["stdio.process_id"].ainvoke(call("process_id"))).text)
            os.kill(pid, 9)  # the next call starts the server again, under BlockBuster
            for _ in range(2):
                for name in ("stdio.stock_level", "http.stock_level"):
                    message = await tools[name].ainvoke(call("stock_level", sku="LAP-1001"))
                    assert message.artifact["units"] == 42
        finally:
            blockbuster.deactivate()
    finally:
        servers.close()
