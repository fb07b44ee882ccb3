"""MCP tools against the test server in memory: the setting, the mapping, calls, failures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from langchain_core.tools import BaseTool, ToolException
from mcp import ClientSession
from mcp.shared.memory import create_connected_server_and_client_session

from core.context import Context
from core.domain import Domain
from core.settings import Settings, use_settings
from deploy.served import with_mcp_tools
from graphs import fast_agent, react_agent
from tests.support import mcp_server
from tools import SHOP
from tools.mcp import MCPServers, mcp_tools, tool_name

STDIO = {"transport": "stdio", "command": "unused", "args": []}


@asynccontextmanager
async def in_memory(name: str) -> AsyncIterator[ClientSession]:
    """Connect to the test server in memory (the MCP SDK's own transport)."""
    async with create_connected_server_and_client_session(mcp_server.server) as session:
        yield session


@pytest.fixture(scope="module")
def servers() -> Iterator[MCPServers]:
    servers = MCPServers({"warehouse": STDIO}, connect=in_memory, call_timeout=1.0)
    yield servers
    servers.close()


@pytest.fixture(scope="module")
def tools(servers: MCPServers) -> dict[str, BaseTool]:
    return {tool.name: tool for tool in servers.load_tools()}


def call(name: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "args": args, "id": "call_1", "type": "tool_call"}


def test_annotations_map_to_read_only_and_side_effects(tools: dict[str, BaseTool]) -> None:
    keys = ("read_only", "destructive", "idempotent")
    effects = {
        name: {key: value for key, value in (tool.metadata or {}).items() if key in keys}
        for name, tool in tools.items()
    }
    assert effects["stock_level"] == {"read_only": True}
    # readOnlyHint false, destructiveHint false, idempotentHint false
    assert effects["reserve_units"] == {
        "read_only": False,
        "destructive": False,
        "idempotent": False,
    }
    # destructiveHint and idempotentHint true
    assert effects["discontinue"] == {"read_only": False, "destructive": True, "idempotent": True}
    # no annotations at all: MCP's defaults (it may destroy; not idempotent)
    assert effects["label_products"] == {
        "read_only": False,
        "destructive": True,
        "idempotent": False,
    }
    domain = SHOP.with_tools(tools.values())
    assert domain.is_read_only("stock_level") and domain.is_read_only("stock_report")
    assert not domain.is_read_only("reserve_units") and not domain.is_read_only("label_products")
    # The hints themselves stay in the metadata, with where the tool comes from.
    meta = tools["discontinue"].metadata or {}
    assert meta["destructiveHint"] is True and meta["idempotentHint"] is True
    assert meta["mcp_server"] == "warehouse" and meta["mcp_tool"] == "discontinue"


def test_schemas_arrive_as_json_schema(tools: dict[str, BaseTool]) -> None:
    label = tools["label_products"]
    assert isinstance(label.args_schema, dict)
    assert label.args["skus"]["type"] == "array" and label.args["skus"]["items"] == {
        "type": "string"
    }
    assert label.args["color"]["enum"] == ["red", "amber", "green"]
    assert label.tool_call_schema["required"] == ["skus", "color"]  # type: ignore[index]
    assert tools["reserve_units"].args["units"]["type"] == "integer"
    assert "several products" in label.description
    # A domain shows them to the planner as any other tool.
    assert (
        "- label_products(skus, color): Put a colour label"
        in SHOP.with_tools(tools.values()).tools_text()
    )


def test_a_name_the_plan_language_cannot_write_is_made_an_identifier(
    tools: dict[str, BaseTool],
) -> None:
    assert "stock_report" in tools and "stock-report" not in tools
    assert (tools["stock_report"].metadata or {})["mcp_tool"] == "stock-report"
    assert tool_name("files/read.v2") == "files_read_v2" and tool_name("2fa") == "_2fa"


async def test_a_call_returns_the_text_and_the_structured_result(
    tools: dict[str, BaseTool],
) -> None:
    message = await tools["stock_level"].ainvoke(call("stock_level", sku="LAP-1001"))
    assert json.loads(message.text) == {"sku": "LAP-1001", "units": 42, "warehouse": "Rotterdam"}
    assert message.artifact == {"sku": "LAP-1001", "units": 42, "warehouse": "Rotterdam"}
    renamed = await tools["stock_report"].ainvoke(call("stock_report"))
    assert renamed.artifact["LAP-1001"] == 42  # called by its MCP name, stock-report
    labelled = await tools["label_products"].ainvoke(
        call("label_products", skus=["LAP-1001", "MON-2002"], color="amber")
    )
    assert labelled.artifact == {"labelled": ["LAP-1001", "MON-2002"], "color": "amber"}


async def test_a_refusal_is_a_tool_error_naming_the_server_and_the_tool(
    tools: dict[str, BaseTool],
) -> None:
    with pytest.raises(ToolException, match=r"MCP server 'warehouse', tool 'stock_level'.*NOPE"):
        await tools["stock_level"].ainvoke(call("stock_level", sku="NOPE"))
    with pytest.raises(ToolException, match=r"tool 'label_products'.*"):
        await tools["label_products"].ainvoke(call("label_products", skus=["A"], color="blue"))


async def test_a_call_that_never_answers_ends_at_the_timeout_and_others_go_on(
    tools: dict[str, BaseTool],
) -> None:
    with pytest.raises(ToolException, match=r"'warehouse', tool 'hang': no answer within 1 s"):
        await tools["hang"].ainvoke(call("hang"))
    assert (await tools["ping"].ainvoke(call("ping"))).text == "pong"


def test_the_setting_must_be_a_json_object_of_connections() -> None:
    good = {
        "files": {"transport": "stdio", "command": "npx", "args": ["-y", "server"]},
        "crm": {"transport": "streamable_http", "url": "https://crm.example.com/mcp"},
    }
    assert Settings(mcp_servers=json.dumps(good)).mcp_connections() == good
    assert Settings().mcp_connections() == {}
    bad = {
        '{"a": ': "not JSON",
        "[1, 2]": "a JSON object",
        '{"a": "npx"}': "server 'a': its connection is a JSON object",
        '{"a": {"command": "npx", "args": []}}': "server 'a': no transport: use one of",
        '{"a": {"transport": "stdio", "args": []}}': "needs 'command'",
        '{"a": {"transport": "stdio", "command": "npx"}}': "needs 'args'",
        '{"a": {"transport": "http", "url": "file:///etc/passwd"}}': "does not start with http",
        '{"a": {"transport": "carrier-pigeon", "url": "x"}}': "use one of stdio",
    }
    for value, message in bad.items():
        with pytest.raises(ValueError, match="^MCP_SERVERS: ") as caught:
            Settings.from_env({"MCP_SERVERS": value})
        assert message in str(caught.value), (value, caught.value)


def test_a_malformed_value_is_not_echoed_in_the_error() -> None:
    secret = '{"crm": {"transport": "http", "url": "https://x", "headers": {"k": "s3cret"}'
    with pytest.raises(ValueError, match="MCP_SERVERS") as caught:
        Settings(mcp_servers=secret)
    assert "s3cret" not in str(caught.value)


def test_a_key_the_transport_does_not_take_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"MCP_SERVERS: server 'a': unknown keys \['comand'\]"):
        MCPServers({"a": {**STDIO, "comand": "npx"}})
    with pytest.raises(ValueError, match=r"unknown keys \['auth'\]"):  # code only, not JSON
        MCPServers({"a": {"transport": "http", "url": "https://x", "auth": "token"}})


def test_no_servers_leave_the_domain_as_it_is() -> None:
    assert mcp_tools(Settings()) == ()
    with use_settings(Settings()):
        assert with_mcp_tools(SHOP) is SHOP


def test_a_server_that_cannot_be_started_is_an_error_naming_it() -> None:
    missing = {"transport": "stdio", "command": "/nonexistent/mcp-server", "args": []}
    with pytest.raises(RuntimeError, match=r"MCP_SERVERS: server 'gone': .*nonexistent"):
        mcp_tools(Settings(mcp_servers=json.dumps({"gone": missing})))


def test_a_tool_name_taken_by_the_domain_is_an_error(tools: dict[str, BaseTool]) -> None:
    domain = Domain("D", "d", "", tools=(tools["ping"],))
    with pytest.raises(ValueError, match="two tools share a name"):
        domain.with_tools([tools["ping"]])


async def test_the_fast_agent_calls_mcp_tools_within_the_runs_timeout(
    scripted,  # type: ignore[no-untyped-def]
) -> None:
    # The fast agent: a plan with a call that answers and one that never does; the run's
    # timeout (not the loader's) bounds the call, and the error names the server.
    servers = MCPServers({"warehouse": STDIO}, connect=in_memory)  # the run's timeout
    try:
        domain = SHOP.with_tools(await servers.aload_tools())
        plan = '1. stock_level(sku="LAP-1001")\n2. hang()\n3. join()'
        scripted(planner=[plan], synthesizer=["42 units."])
        state = await fast_agent.build_graph(domain).ainvoke(
            {"messages": [{"role": "user", "content": "How many LAP-1001 are in stock?"}]},
            context=Context(tool_timeout_seconds=1.0, router_confidence=1.0),
        )
        results = {r["tool"]: r for r in state["tool_results"]}
        assert results["stock_level"]["ok"] and results["stock_level"]["data"]["units"] == 42
        assert results["hang"]["status"] == "error"
        assert results["hang"]["output"] == (
            "ToolException: MCP server 'warehouse', tool 'hang': no answer within 0.9 s"
        )
        assert results["hang"]["ended_at"] - results["hang"]["started_at"] < 1.0
        assert state["messages"][-1].content == "42 units."
    finally:
        servers.close()


def test_the_baseline_gets_the_mcp_tools(tools: dict[str, BaseTool]) -> None:
    baseline = react_agent.build_graph(SHOP.with_tools(tools.values()))
    assert {"stock_level", "label_products"} <= set(
        baseline.nodes["tools"].bound._tools_by_name  # type: ignore[attr-defined]
    )
