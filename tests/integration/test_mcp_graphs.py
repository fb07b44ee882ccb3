"""An MCP server's tools in the shop's domain, on real models: both graphs, and langgraph dev.

The server is `tests/support/mcp_server.py` over stdio. Through `langgraph dev` it comes
from `MCP_SERVERS`, as an operator would configure it, and both graphs call it; the
served domain is the shop with the tool's line of knowledge and solved plan
(`AGENT_DOMAIN=tests.support.warehouse:DOMAIN`), as in-process (`taught`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langgraph_sdk import get_client

from core.context import Context
from core.domain import Domain
from core.settings import Settings, use_settings
from deploy.warmup import warm_up
from evals.harness import dev_server
from graphs import fast_agent, react_agent
from tests.support import warehouse
from tests.support.mcp_server import connection, free_port
from tools import SHOP
from tools.mcp import MCPServers

QUESTION = "How many units of LAP-1001 are in stock at the warehouse?"
PLANNER = frozenset({"planner", "synthesizer"})


@pytest.fixture(scope="module")
def domain() -> Iterator[Domain]:
    """The shop with the test server's tools, over stdio, as MCP_SERVERS gives them."""
    servers = MCPServers({"warehouse": connection()})
    try:
        yield SHOP.with_tools(servers.load_tools())
    finally:
        servers.close()


@pytest.fixture(scope="module")
def taught(domain: Domain) -> Domain:
    """The same, with what the README asks of a new tool: a line of knowledge and a plan.

    As `tests.support.warehouse.DOMAIN` declares them for the served graphs.
    """
    return dataclasses.replace(
        domain, knowledge=warehouse.DOMAIN.knowledge, plan_examples=warehouse.DOMAIN.plan_examples
    )


def ask(question: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": question}]}


async def test_the_fast_agent_plans_an_mcp_call(
    taught: Domain, llm_context: Context, checks_answers: bool
) -> None:
    state = await fast_agent.build_graph(taught).ainvoke(ask(QUESTION), context=llm_context)
    [stock] = [r for r in state["tool_results"] if r["tool"] == "stock_level"]
    assert stock["ok"] and stock["args"] == {"sku": "LAP-1001"}, stock
    assert stock["data"] == {"sku": "LAP-1001", "units": 42, "warehouse": "Rotterdam"}
    if checks_answers:
        assert "42" in state["messages"][-1].content, state["messages"][-1].content


async def test_the_baseline_calls_the_mcp_tool(
    domain: Domain, llm_context: Context, checks_answers: bool
) -> None:
    state = await react_agent.build_graph(domain).ainvoke(ask(QUESTION), context=llm_context)
    results = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    stock = [m for m in results if m.name == "stock_level"]
    assert stock and stock[0].status == "success", results
    assert json.loads(stock[0].text)["units"] == 42
    if checks_answers:
        assert "42" in state["messages"][-1].text, state["messages"][-1].text


@pytest.fixture(scope="module")
def mcp_dev(
    taught: Domain,
    llm_settings: Settings,
    llm_context: Context,
    dev_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """Serve both graphs with the server in MCP_SERVERS and the taught shop; yield the URL."""
    env = {
        **dev_env,
        "MCP_SERVERS": json.dumps({"warehouse": connection()}),
        "AGENT_DOMAIN": "tests.support.warehouse:DOMAIN",
    }
    # The planner's prompt with the MCP tool is read once before the question, as
    # `make up` warms the served domain's (the same prompt: the same tools, in order).
    with use_settings(llm_settings):
        asyncio.run(warm_up(llm_context, taught, only=PLANNER))
    log = tmp_path_factory.mktemp("mcp-dev") / "dev.log"
    with dev_server.langgraph_dev(log, jobs=None, env=env, port=free_port()) as (url, _):
        yield url


async def test_langgraph_dev_serves_the_mcp_servers_tools_to_the_baseline(
    mcp_dev: str, checks_answers: bool
) -> None:
    client = get_client(url=mcp_dev)
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "react_agent", input=ask(QUESTION))
    state: Any = (await client.threads.get_state(thread["thread_id"]))["values"]
    stock = [m for m in state["messages"] if m["type"] == "tool" and m["name"] == "stock_level"]
    assert stock and stock[0]["status"] == "success", state["messages"]
    content = stock[0]["content"]  # the MCP result's text blocks
    text = content if isinstance(content, str) else "".join(b["text"] for b in content)
    assert json.loads(text)["units"] == 42
    if checks_answers:
        assert "42" in state["messages"][-1]["content"], state["messages"][-1]["content"]


async def test_langgraph_dev_serves_the_mcp_servers_tools_to_the_fast_agent(
    mcp_dev: str, checks_answers: bool
) -> None:
    client = get_client(url=mcp_dev)
    thread = await client.threads.create()
    state: Any = await client.runs.wait(thread["thread_id"], "fast_agent", input=ask(QUESTION))
    [stock] = [r for r in state["tool_results"] if r["tool"] == "stock_level"]
    assert stock["ok"] and stock["args"] == {"sku": "LAP-1001"}, state["tool_results"]
    assert stock["data"] == {"sku": "LAP-1001", "units": 42, "warehouse": "Rotterdam"}
    plan = [m for m in state["messages"] if m["type"] == "ai" and m.get("tool_calls")]
    assert [c["name"] for m in plan for c in m["tool_calls"]] == ["stock_level"], plan
    if checks_answers:
        assert "42" in state["messages"][-1]["content"], state["messages"][-1]["content"]
