"""Framework overhead: the fast agent over N synthetic fixed-latency tools, with instant models.

The graph is built for its own domain (`build_graph(Domain(...))`: N services that each
answer after a fixed latency) and the models are swapped with `client.use_models`, the
one way to swap them: nothing is patched. The models take no time and the classifier
routes, so a tool run's ideal critical path is one tool latency and a direct answer's is
zero: whatever the wall time adds is the framework's (streaming the plan, dispatching
calls, reducers, callbacks, the event stream).

    python -m evals.benchmarks.overhead [--reps 30] [--latency-ms 200] [--out evals/results]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field
from functools import cache
from itertools import repeat
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.graph.state import CompiledStateGraph
from langsmith import tracing_context

from core.context import Context
from core.domain import Domain, read_only
from core.state import InputState
from evals.harness.stats import percentile
from evals.simulated.instant import FakeChatModel
from graphs.fast_agent import build_graph
from serving import client

TOOL_COUNTS = (1, 2, 4, 8, 16)
MAX_TOOLS = max(TOOL_COUNTS)
MODES = ("astream", "ainvoke")  # astream (how users run it) is the primary measure
QUERY = "Call the services and tell me what they answered."
DIRECT_QUERY = "hello, how are you today?"
ANSWER = "Every service answered after its fixed latency."
DIRECT_ANSWER = "Hello! I am fine, thank you."
STREAM_MODE: Any = ["messages", "custom", "values"]
ROUTES: tuple[tuple[Any, str], ...] = (
    ("tools", "call the services and tell me what they answered"),
    ("tools", "ask every service for its answer"),
    ("tools", "what do the services say?"),
    ("direct", "hello, how are you today?"),
    ("direct", "hi there"),
    ("direct", "good morning, how are you?"),
)


def service(index: int) -> BaseTool:
    """Return the synthetic service `service_<index>`: it answers after `ms` milliseconds."""

    async def call(ms: float) -> str:
        await asyncio.sleep(ms / 1000)
        return f"service {index} answered after {ms:g} ms"

    return read_only(
        StructuredTool.from_function(
            coroutine=call,
            name=f"service_{index}",
            description="Answer after `ms` milliseconds, like a remote service of fixed latency.",
        )
    )


@cache
def bench_graph(tools: int) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Return the fast agent built for a domain of `tools` synthetic services (built once)."""
    domain = Domain(
        name="Overhead bench",
        description="It calls synthetic services of fixed latency.",
        knowledge="Every service answers after the milliseconds it is given.",
        tools=tuple(service(i) for i in range(1, tools + 1)),
        route_examples=ROUTES,
    )
    return build_graph(domain)


def fake_models(tools: int, latency_ms: float) -> Any:
    """Return a model factory: a plan calling every service once, an answer, a direct answer."""
    lines = [f"{i}. service_{i}(ms={latency_ms:g})" for i in range(1, tools + 1)]
    plan = "\n".join([*lines, f"{tools + 1}. join()"])
    answers = {"planner": plan, "synthesizer": ANSWER, "router": DIRECT_ANSWER}
    models = {tier: FakeChatModel(messages=repeat(text)) for tier, text in answers.items()}

    def chat_model(context: Context, tier: str, **_: Any) -> BaseChatModel:
        return models[tier]

    return chat_model


@dataclass
class Row:
    """Timings of one configuration (mode, tool count, tool latency), in milliseconds.

    Zero tools is a direct answer: the router tier answers, no tool runs.
    """

    mode: str
    tools: int
    latency_ms: float
    critical_ms: float  # ideal critical path: the tool latency (the models take no time)
    walls_ms: list[float] = field(repr=False)
    steps_ms: float  # p50 time inside the nodes on the critical path
    start_skew_ms: float  # p50 time from the first tool call's start to the last's
    overlapped_runs: int  # runs in which all the tool calls were running at one instant
    ratio: float = 1.0  # wall p50 / wall p50 of the same mode and latency with 1 tool
    wall_p50_ms: float = field(init=False)
    wall_p95_ms: float = field(init=False)
    overhead_ms: float = field(init=False)  # wall p50 - critical path

    def __post_init__(self) -> None:
        """Derive the percentiles and the overhead from the wall times."""
        self.wall_p50_ms = percentile(self.walls_ms, 50) or 0.0
        self.wall_p95_ms = percentile(self.walls_ms, 95) or 0.0
        self.overhead_ms = self.wall_p50_ms - self.critical_ms


async def run_once(mode: str, tools: int, query: str, context: Context) -> tuple[float, Any]:
    """Run the bench graph once; return its wall time (ms) and final state."""
    graph = bench_graph(max(tools, 1))
    inputs = InputState(messages=[HumanMessage(query)])
    start = time.perf_counter()
    state: Any = {}
    if mode == "astream":
        async for kind, chunk in graph.astream(inputs, context=context, stream_mode=STREAM_MODE):
            state = chunk if kind == "values" else state
    else:
        state = await graph.ainvoke(inputs, context=context)
    return (time.perf_counter() - start) * 1000, state


def critical_steps_ms(timings: list[dict[str, Any]]) -> float:
    """Return the time inside the nodes: the planning step holds its calls, so they don't add."""
    return float(sum(t["ms"] for t in timings if t["step"] != "call_tool"))


async def measure(mode: str, tools: int, latency_ms: float, reps: int, warmup: int) -> Row:
    """Measure one configuration over `reps` runs after `warmup` unrecorded ones.

    `tools` 0 measures a direct answer (no tools, nothing but the graph and the router tier).
    """
    context = Context(
        router_confidence=0.0, max_parallel_tools=MAX_TOOLS, max_tool_calls=MAX_TOOLS,
        speculate=False,
    )  # fmt: skip
    route = "tools" if tools else "direct"
    walls, steps, skews, overlapped = [], [], [], 0
    with (
        client.use_models(fake_models(tools, latency_ms)),
        tracing_context(enabled=False),  # LangSmith tracing, if on, is a cost of its own
    ):
        for i in range(warmup + reps):
            wall, state = await run_once(mode, tools, QUERY if tools else DIRECT_QUERY, context)
            results = state.get("tool_results", [])
            if state.get("route") != route or len(results) != tools:
                raise RuntimeError(f"expected the {route} route and {tools} calls: {state}")
            if not all(r["ok"] for r in results):
                raise RuntimeError(f"a call failed: {[r['output'] for r in results]}")
            if i < warmup:
                continue
            walls.append(wall)
            steps.append(critical_steps_ms(state["timings"]))
            if results:
                starts = [r["started_at"] for r in results]
                skews.append((max(starts) - min(starts)) * 1000)
                overlapped += max(starts) < min(r["ended_at"] for r in results)  # all at once
    critical = latency_ms if tools else 0.0
    skew = percentile(skews, 50) or 0.0
    return Row(
        mode, tools, latency_ms, critical, walls, percentile(steps, 50) or 0.0, skew, overlapped
    )


def run_benchmark(
    reps: int = 30,
    latencies_ms: tuple[float, ...] = (0.0, 200.0),
    tool_counts: tuple[int, ...] = TOOL_COUNTS,
    modes: tuple[str, ...] = MODES,
    warmup: int = 3,
    direct: bool = False,
) -> list[Row]:
    """Measure every (mode, latency, tool count) configuration; fill in wall(N)/wall(1).

    Args:
        reps: recorded runs per configuration (at least 2).
        latencies_ms: latencies of the synthetic services.
        tool_counts: numbers of parallel calls the fake planner writes.
        modes: "astream" (all three stream modes, as users run it) and/or "ainvoke".
        warmup: unrecorded runs before each configuration.
        direct: also measure a direct answer per mode (a row with 0 tools, first).
    """

    async def all_rows() -> list[Row]:
        rows = []
        for mode in modes:
            if direct:
                rows.append(await measure(mode, 0, 0.0, reps, warmup))
            for latency in latencies_ms:
                for n in tool_counts:
                    rows.append(await measure(mode, n, latency, reps, warmup))
        return rows

    rows = asyncio.run(all_rows())
    for row in rows:
        same = [r for r in rows if (r.mode, r.latency_ms) == (row.mode, row.latency_ms) and r.tools]
        if row.tools and same:
            row.ratio = row.wall_p50_ms / same[0].wall_p50_ms
    return rows


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark; print the table and the targets, write them with a plot to `--out`."""
    from evals.benchmarks.overhead_report import markdown, plot, targets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30, help="recorded runs per configuration")
    parser.add_argument("--latency-ms", type=float, default=200.0, help="tool latency besides 0")
    parser.add_argument("--out", type=Path, default=Path("evals/results"))
    args = parser.parse_args(argv)
    rows = run_benchmark(args.reps, (0.0, args.latency_ms), direct=True)
    text = markdown(rows) + "\n" + "\n".join(targets(rows)) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "overhead.md").write_text(text)
    plot(rows, args.out / "overhead.png")
    print(text)  # noqa: T201
    print(f"wrote {args.out / 'overhead.md'} and {args.out / 'overhead.png'}")  # noqa: T201


if __name__ == "__main__":
    main()
