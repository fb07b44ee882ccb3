"""The core loop without each accelerator: every plug-in can be taken out."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import tool

from core.context import Context
from core.domain import Domain, read_only
from engine import accelerators
from graphs.fast_agent import build_graph


@read_only
@tool
async def lookup(q: str) -> str:
    """Look something up."""
    return f"found {q}"


DOMAIN = Domain(
    "D", "d", "", tools=(lookup,),
    route_examples=(("tools", "look up a"), ("direct", "hello")),
)  # fmt: skip
PLAN = '1. lookup(q="a")\n2. lookup(q="$1 b")\n3. join()'


@pytest.mark.parametrize(
    "left_out", [*(a.__name__ for a in accelerators.ACCELERATORS), "all of them"]
)
async def test_the_core_loop_runs_a_plan_without_an_accelerator(
    scripted: Any, monkeypatch: pytest.MonkeyPatch, left_out: str
) -> None:
    import nodes.plan_and_call_tools as node

    kept = tuple(a for a in accelerators.ACCELERATORS if a.__name__ not in (left_out,))
    monkeypatch.setattr(node, "PLUG_INS", () if left_out == "all of them" else kept)
    scripted(planner=[PLAN], synthesizer=["Done."])
    state = await build_graph(DOMAIN).ainvoke(
        {"messages": [{"role": "user", "content": "look up a, then b"}]},
        context=Context(router_confidence=1.0),  # the planner decides: every plug-in is wanted
    )
    results = state["tool_results"]
    assert [r["args"] for r in results] == [{"q": "a"}, {"q": "found a b"}]
    assert all(r["ok"] for r in results) and state["messages"][-1].content == "Done."
    [step] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    assert step["plan_source"] == "planner" and step["calls"] == ["1. lookup", "2. lookup"]


def test_each_accelerator_has_its_own_switch() -> None:
    switches = [a.switch for a in accelerators.ACCELERATORS]
    assert len(set(switches)) == len(switches)
    assert all(hasattr(Context(), s) for s in switches)
