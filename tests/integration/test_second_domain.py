"""A second domain (tests/support/travel.py) on the real embedded models: nothing of the shop."""

from __future__ import annotations

from dataclasses import replace

from core.context import Context
from deploy.warmup import warm_up
from graphs.fast_agent import build_graph
from tests.support.travel import TRAVEL


async def test_the_travel_desk_routes_plans_runs_tools_in_parallel_and_answers(
    llm_context: Context,
) -> None:
    await warm_up(llm_context, TRAVEL)
    graph = build_graph(TRAVEL)
    state = await graph.ainvoke(
        {
            "messages": [
                {
                    "role": "user",
                    "content": "Is flight NW100 on time, and what do 3 nights in Lisbon cost?",
                }
            ]
        },
        # Calls start together once the plan is written (streamed dispatch would start the
        # first while the planner writes the second: this domain's tools take 50 ms).
        context=replace(llm_context, stream_dispatch=False),
    )
    assert (state["route"], state["route_decided_by"]) == ("tools", "classifier")
    results = {r["tool"]: r for r in state["tool_results"]}
    assert {"flight_status", "hotel_rate"} <= set(results), state["tool_results"]
    assert all(r["ok"] for r in results.values()), results
    flight, hotel = results["flight_status"], results["hotel_rate"]
    assert max(flight["started_at"], hotel["started_at"]) < min(
        flight["ended_at"], hotel["ended_at"]
    )  # they ran at the same time
    answer = state["messages"][-1].content
    assert answer.strip() and "Northwind Devices" not in answer
