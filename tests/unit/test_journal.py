"""Durable steps: a round started again decodes no plan and reruns no call that ended."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from core.context import Context
from core.domain import Domain, read_only
from core.stores import use_store
from graphs.fast_agent import build_graph

RAN: list[str] = []
SLOW = asyncio.Event()


@read_only
@tool
async def fast(q: str) -> str:
    """Answer at once."""
    RAN.append(f"fast {q}")
    return f"fast {q}"


@read_only
@tool
async def slow(q: str) -> str:
    """Answer once released."""
    RAN.append(f"slow {q}")
    await SLOW.wait()
    return f"slow {q}"


DOMAIN = Domain(
    "D", "d", "", tools=(fast, slow),
    route_examples=(("tools", "ask both"), ("direct", "hello")),
)  # fmt: skip
PLAN = '1. fast(q="a")\n2. slow(q="b")\n3. fast(q="$1 c")\n4. join()'


async def test_a_run_cut_short_resumes_without_planning_or_running_again(scripted) -> None:  # type: ignore[no-untyped-def]
    RAN.clear()
    SLOW.clear()
    models = scripted(planner=[PLAN], synthesizer=["Both answered."])
    graph = build_graph(DOMAIN)
    graph.checkpointer = InMemorySaver()
    config: Any = {"configurable": {"thread_id": "journal"}}
    context = Context(router_confidence=0.0, speculate=False)
    with use_store(InMemoryStore()):
        run = asyncio.create_task(
            graph.ainvoke({"messages": [{"role": "user", "content": "ask both"}]}, config,
                          context=context)
        )  # fmt: skip
        while "fast fast a c" not in RAN:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the plan is whole
        run.cancel()  # the worker dies while call 2 runs; calls 1 and 3 had ended
        await asyncio.gather(run, return_exceptions=True)
        assert sorted(RAN) == ["fast a", "fast fast a c", "slow b"]
        SLOW.set()
        done = await graph.ainvoke(None, config, context=context)  # the server retries the run
    assert models.calls == ["planner", "synthesizer"]  # the plan was not decoded again
    assert RAN.count("fast a") == 1 and RAN.count("fast fast a c") == 1  # nor run again
    assert RAN.count("slow b") == 2  # it had not ended: a read-only call may run again
    assert [r["output"] for r in done["tool_results"]] == ["fast a", "slow b", "fast fast a c"]


async def test_a_plan_cut_off_is_written_again_and_its_ended_calls_are_kept(scripted) -> None:  # type: ignore[no-untyped-def]
    RAN.clear()
    SLOW.clear()
    models = scripted(delay=0.05, planner=[PLAN, PLAN], synthesizer=["Both answered."])
    graph = build_graph(DOMAIN)
    graph.checkpointer = InMemorySaver()
    config: Any = {"configurable": {"thread_id": "journal-cut"}}
    context = Context(router_confidence=0.0, speculate=False)
    with use_store(InMemoryStore()):
        run = asyncio.create_task(
            graph.ainvoke({"messages": [{"role": "user", "content": "ask both"}]}, config,
                          context=context)
        )  # fmt: skip
        while "slow b" not in RAN:
            await asyncio.sleep(0.005)
        run.cancel()  # while the plan is still being written
        await asyncio.gather(run, return_exceptions=True)
        SLOW.set()
        done = await graph.ainvoke(None, config, context=context)
    assert models.calls.count("planner") == 2  # the plan had not been written whole
    assert RAN.count("fast a") == 1  # the call that had ended is kept
    assert [r["output"] for r in done["tool_results"]] == ["fast a", "slow b", "fast fast a c"]


async def test_a_call_started_early_that_ended_before_the_crash_is_not_run_again(scripted) -> None:  # type: ignore[no-untyped-def]
    RAN.clear()
    SLOW.clear()
    SLOW.set()
    models = scripted(delay=0.05, planner=[PLAN, PLAN], synthesizer=["Both answered."])
    early = replace(DOMAIN, speculate=lambda question: [("fast", {"q": "a"})])
    graph = build_graph(early)
    graph.checkpointer = InMemorySaver()
    config: Any = {"configurable": {"thread_id": "journal-early"}}
    context = Context(router_confidence=0.0, speculate=True, plan_templates=False)
    with use_store(InMemoryStore()) as store:
        run = asyncio.create_task(
            graph.ainvoke({"messages": [{"role": "user", "content": "ask both"}]}, config,
                          context=context)
        )  # fmt: skip

        def recorded() -> list[str]:
            items = store.search(("local", "journal", "journal-early"), limit=100)
            return [i.key for i in items if ".early." in i.key]

        async with asyncio.timeout(10):
            while not recorded():  # the early call ended and is in the journal
                await asyncio.sleep(0.005)
        assert models.calls == ["planner"] and RAN == ["fast a"]  # no line of the plan yet
        run.cancel()  # the worker dies while the planner still writes
        await asyncio.gather(run, return_exceptions=True)
        done = await graph.ainvoke(None, config, context=context)  # the server retries the run
    assert models.calls.count("planner") == 2  # the plan had not been written
    assert RAN.count("fast a") == 1  # the early call's recorded result was used
    assert [r["output"] for r in done["tool_results"]] == ["fast a", "slow b", "fast fast a c"]
