"""A domain nobody here wrote, served from its `Domain` alone, with tools that take lists.

`langgraph dev` serves both graphs for `AGENT_DOMAIN=evals.foreign:DOMAIN` (no module of
its own), and a question whose tool takes a list of numbers is planned, checked and run
through the LangGraph SDK on the embedded models.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph_sdk import get_client

from core.context import Context
from core.settings import Settings, use_settings
from deploy.served import served_domain
from deploy.warmup import warm_up
from evals.harness import dev_server

VALUES = [12.5, 7.0, 9.5, 15.0, 6.0]
PLANNER = frozenset({"planner", "synthesizer"})
QUESTION = f"What is the median of these readings: {', '.join(map(str, VALUES))}?"


@pytest.fixture(scope="module")
def foreign_dev(
    llm_settings: Settings,
    llm_context: Context,
    dev_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    env = {**dev_env, "AGENT_DOMAIN": "evals.foreign:DOMAIN"}
    log = tmp_path_factory.mktemp("foreign-dev") / "dev.log"
    # The planner's prompt for 29 tools is read once before the question (the fast agent's
    # only model call that reads a long cold prompt here).
    with use_settings(llm_settings):
        asyncio.run(warm_up(llm_context, served_domain("evals.foreign:DOMAIN"), only=PLANNER))
    with dev_server.langgraph_dev(log, jobs=None, env=env) as (url, _):
        yield url


async def test_a_list_argument_is_planned_and_run_through_langgraph_dev(
    foreign_dev: str, checks_answers: bool
) -> None:
    client = get_client(url=foreign_dev)
    thread = await client.threads.create()
    state: Any = await client.runs.wait(
        thread["thread_id"], "fast_agent",
        input={"messages": [{"role": "user", "content": QUESTION}]},
        config={"configurable": {"router_confidence": 1.0}},  # the planner decides
    )  # fmt: skip
    results = state["tool_results"]
    assert results, state.get("timings")
    listed = [r for r in results if any(isinstance(v, list) for v in r["args"].values())]
    assert listed and all(r["ok"] for r in listed), results
    assert sorted(listed[0]["args"]["values"]) == sorted(VALUES)
    if checks_answers:
        assert f"{statistics.median(VALUES):g}" in state["messages"][-1]["content"]
