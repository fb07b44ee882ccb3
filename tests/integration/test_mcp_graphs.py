"""An MCP server's tools in the shop's domain, on real models: both graphs, and langgraph dev.

The server is `tests/support/mcp_server.py` over stdio. Through `langgraph dev` it comes
from `MCP_SERVERS`, as an operator would configure it, and the baseline calls it (the
served fast agent has the shop's own plans only; see `taught`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langgraph_sdk import get_client

from core.context import Context
from core.domain import Domain, PlanExample
from core.settings import TIERS, Settings
from evals.harness import dev_server
from graphs import fast_agent, react_agent
from tests.support.mcp_server import connection, free_port
from tools import SHOP
from tools.mcp import MCPServers

QUESTION = "How many units of LAP-1001 are in stock at the warehouse?"
STOCK_KNOWLEDGE = "Units in stock come from the warehouse's stock_level tool, not the database."
STOCK_PLAN = ("Is MON-2002 in stock?", '1. stock_level(sku="MON-2002")\n2. join()')


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

    The shop's products table has SKUs too, so without them the 1.5B planner looks for
    stock in the database (the baseline finds the tool by its description alone).
    """
    return dataclasses.replace(
        domain,
        knowledge=f"{domain.knowledge}\n{STOCK_KNOWLEDGE}",
        plan_examples=(*domain.plan_examples, PlanExample(*STOCK_PLAN)),
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


async def test_langgraph_dev_serves_the_mcp_servers_tools(
    llm_settings: Settings, llm_context: Context, tmp_path: Path
) -> None:
    env = {
        **{
            f"{tier}_{knob}".upper(): str(getattr(llm_settings.tier(tier), knob))
            for tier in TIERS
            for knob in ("base_url", "model")
        },
        "LLM_TIMEOUT_SECONDS": str(llm_context.llm_timeout_seconds),
        "MCP_SERVERS": json.dumps({"warehouse": connection()}),
    }
    with dev_server.langgraph_dev(tmp_path / "dev.log", jobs=None, env=env, port=free_port()) as (
        url,
        _,
    ):
        client = get_client(url=url)
        thread = await client.threads.create()
        await client.runs.wait(thread["thread_id"], "react_agent", input=ask(QUESTION))
        state = (await client.threads.get_state(thread["thread_id"]))["values"]
    stock = [m for m in state["messages"] if m["type"] == "tool" and m["name"] == "stock_level"]
    assert stock and stock[0]["status"] == "success", state["messages"]
    content = stock[0]["content"]  # the MCP result's text blocks
    text = content if isinstance(content, str) else "".join(b["text"] for b in content)
    assert json.loads(text)["units"] == 42
