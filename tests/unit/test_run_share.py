"""What one run is, as a tool sees it in either graph, and its share of a shared resource."""

import asyncio
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.config import get_config
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode

from core.context import Context
from core.domain import Domain
from engine.scheduler.call_tool import run_tool
from tests.support.runs import in_run
from tools.run_share import RunShare, current_run

seen: list[object] = []


@tool
async def note_run(n: int) -> str:
    """Note the run this call belongs to."""
    seen.append(current_run())
    return "ok"


def tool_node_graph() -> Any:
    """The ReAct baseline's way: a ToolNode runs a message's tool calls together."""
    builder = StateGraph(MessagesState)
    builder.add_node("tools", ToolNode([note_run]))
    builder.add_edge(START, "tools")
    return builder.compile()


def calls(n: int) -> AIMessage:
    tool_calls = [{"name": "note_run", "args": {"n": i}, "id": f"c{i}"} for i in range(n)]
    return AIMessage("", tool_calls=tool_calls)  # type: ignore[arg-type]


async def test_every_call_of_a_tool_node_run_is_the_same_run_and_not_another() -> None:
    seen.clear()
    graph = tool_node_graph()
    await graph.ainvoke({"messages": [calls(3)]})
    await graph.ainvoke({"messages": [calls(2)]})
    assert seen[0] is not None
    assert seen[0] is seen[1] is seen[2]
    assert seen[3] is seen[4] and seen[3] is not seen[0]


async def test_the_fast_agents_calls_and_nested_graphs_are_their_run() -> None:
    seen.clear()
    domain = Domain("Test", "A test.", "", tools=(note_run,))

    async def plan_node() -> None:  # as plan_and_call_tools runs its calls: the node's config
        config, context = get_config(), Context()
        await asyncio.gather(
            *(run_tool(domain, "note_run", {"n": i}, context=context, config=config, identifier="c")
              for i in range(2))
        )  # fmt: skip
        await tool_node_graph().ainvoke({"messages": [calls(1)]})  # a graph inside the run

    await in_run(plan_node)
    await in_run(plan_node)
    assert seen[0] is not None and seen[0] is seen[1] is seen[2]
    assert seen[3] is seen[4] is seen[5] and seen[3] is not seen[0]


async def test_outside_any_run_calls_count_as_one() -> None:
    seen.clear()
    await note_run.ainvoke({"n": 1})
    assert seen == [None] and current_run() is None


async def test_one_run_holds_at_most_its_share_and_others_get_theirs() -> None:
    share = RunShare(per_run=2)
    holding = {"a": 0, "b": 0}
    most = {"a": 0, "b": 0}
    release = asyncio.Event()

    async def use(run: str) -> None:
        async with share.slot():
            holding[run] += 1
            most[run] = max(most[run], holding[run])
            await (release.wait() if run == "a" else asyncio.sleep(0.01))
            holding[run] -= 1

    async def run_a() -> None:
        await asyncio.gather(*(use("a") for _ in range(6)))

    async def run_b() -> None:
        await asyncio.gather(*(use("b") for _ in range(2)))

    a = asyncio.create_task(in_run(run_a))
    await asyncio.sleep(0.05)
    assert holding["a"] == 2  # four more wait for run A's own slots
    await asyncio.wait_for(in_run(run_b), 1)  # not behind run A
    assert share.runs() == 1
    release.set()
    await a
    assert most == {"a": 2, "b": 2}
    assert share.runs() == 0  # nothing kept for runs that are over
