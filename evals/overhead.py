"""Framework overhead: the fast-agent graph with instant fake models and fixed-latency tools.

The compiled graph (`graphs.fast_agent.graph`) runs unchanged; only the chat models
(`serving.client.chat_model`, `backend_of`) and one tool are faked. The fake models take no
time and the classifier routes, so the ideal critical path is one tool latency: whatever the
wall time adds is the framework's (supersteps, `Send` fan-out, reducers, callbacks, streaming).

    python -m evals.overhead [--reps 30] [--latency-ms 200] [--out evals/results]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any
from unittest import mock

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.tools import tool
from langsmith import tracing_context

from graphs.context import Context
from graphs.fast_agent import graph
from graphs.state import InputState
from nodes import system_prompts
from serving import client
from tools import TOOLS

TOOL_COUNTS = (1, 2, 4, 8, 16)
MAX_TOOLS = max(TOOL_COUNTS)
MODES = ("astream", "ainvoke")  # astream (how users run it) is the primary measure
QUERY = "How many customers do we have in the database?"  # the classifier says tools, p > 0.99
ANSWER = "There are 200 customers in the database, according to the fixed latency service."
STREAM_MODE: Any = ["messages", "custom", "values"]


@tool
async def fixed_latency_service(ms: float) -> str:
    """Answer after exactly `ms` milliseconds, like a remote service of fixed latency."""
    await asyncio.sleep(ms / 1000)
    return f"answered after {ms} ms"


class FakeChatModel(GenericFakeChatModel):
    """`GenericFakeChatModel` with native async paths: no thread hop, no time taken."""

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop, **kwargs)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._stream(messages, stop, **kwargs):
            yield chunk


@dataclass
class Row:
    """Timings of one configuration (mode, tool count, tool latency), in milliseconds."""

    mode: str
    tools: int
    latency_ms: float
    critical_ms: float  # ideal critical path: the tool latency (the models take no time)
    walls_ms: list[float] = field(repr=False)
    steps_ms: float  # p50 time inside the nodes on the critical path
    start_skew_ms: float  # p50 time from the first tool branch's start to the last's
    overlapped_runs: int  # runs in which all the tool branches were running at one instant
    ratio: float = 1.0  # wall p50 / wall p50 of the same mode and latency with 1 tool
    wall_p50_ms: float = field(init=False)
    wall_p95_ms: float = field(init=False)
    overhead_ms: float = field(init=False)  # wall p50 - critical path

    def __post_init__(self) -> None:
        """Derive the percentiles and the overhead from the wall times."""
        self.wall_p50_ms = statistics.median(self.walls_ms)
        self.wall_p95_ms = statistics.quantiles(self.walls_ms, n=20, method="inclusive")[-1]
        self.overhead_ms = self.wall_p50_ms - self.critical_ms


@contextmanager
def fakes(tools: int, latency_ms: float) -> Iterator[None]:
    """Install fake models (a plan of `tools` calls, then an answer) and the fixed-latency tool.

    Tracing is off inside; everything is restored on exit.
    """
    call = {"tool": fixed_latency_service.name, "args": {"ms": latency_ms}}
    answers = {"planner": json.dumps({"calls": [call] * tools}), "synthesizer": ANSWER}
    models = {tier: FakeChatModel(messages=repeat(text)) for tier, text in answers.items()}

    def chat_model(context: Context, tier: str, **_: Any) -> BaseChatModel:
        return models[tier]  # KeyError for the router: the classifier must decide

    with (
        client.override_models(chat_model),
        mock.patch.dict(TOOLS, {fixed_latency_service.name: fixed_latency_service}),
        tracing_context(enabled=False),  # LangSmith tracing, if on, is a cost of its own
    ):
        try:
            yield
        finally:
            system_prompts.clear_caches()  # its cached prompts listed the fake tool


async def run_once(mode: str, context: Context) -> tuple[float, dict[str, Any]]:
    """Run the graph once; return its wall time (ms) and final state."""
    inputs = InputState(messages=[HumanMessage(QUERY)])
    start = time.perf_counter()
    state: Any = {}
    if mode == "astream":
        async for kind, chunk in graph.astream(inputs, context=context, stream_mode=STREAM_MODE):
            state = chunk if kind == "values" else state
    else:
        state = await graph.ainvoke(inputs, context=context)
    wall = (time.perf_counter() - start) * 1000
    if state.get("route") != "tools" or not all(r.ok for r in state["tool_results"]):
        raise RuntimeError(f"run did not take the tool route cleanly: {state.get('route')}")
    return wall, state


def critical_steps_ms(timings: list[dict[str, Any]]) -> float:
    """Return the time inside the nodes on the critical path: the slowest branch counts."""
    serial = sum(t["ms"] for t in timings if t["step"] != "call_tool")
    return float(serial + max((t["ms"] for t in timings if t["step"] == "call_tool"), default=0))


async def measure(mode: str, tools: int, latency_ms: float, reps: int, warmup: int) -> Row:
    """Measure one configuration over `reps` runs after `warmup` unrecorded ones."""
    cap = max(MAX_TOOLS, tools)  # one cap for all N: the planner's per-run work stays the same
    context = Context(router_confidence=0.0, max_parallel_tools=cap, llm_backend="openai")
    walls, steps, skews, overlapped = [], [], [], 0
    with fakes(tools, latency_ms):
        for i in range(warmup + reps):
            wall, state = await run_once(mode, context)
            results = state["tool_results"]
            if len(results) != tools:
                raise RuntimeError(f"{len(results)} tool branches ran, expected {tools}")
            if i < warmup:
                continue
            walls.append(wall)
            steps.append(critical_steps_ms(state["timings"]))
            starts = [r.started_at for r in results]
            skews.append((max(starts) - min(starts)) * 1000)
            overlapped += max(starts) < min(r.ended_at for r in results)  # all N at once
    median = statistics.median
    return Row(mode, tools, latency_ms, latency_ms, walls, median(steps), median(skews), overlapped)


def run_benchmark(
    reps: int = 30,
    latencies_ms: tuple[float, ...] = (0.0, 200.0),
    tool_counts: tuple[int, ...] = TOOL_COUNTS,
    modes: tuple[str, ...] = MODES,
    warmup: int = 3,
) -> list[Row]:
    """Measure every (mode, latency, tool count) configuration; fill in wall(N)/wall(1).

    Args:
        reps: recorded runs per configuration (at least 2).
        latencies_ms: latencies of the fake tool.
        tool_counts: numbers of parallel tool calls the fake planner returns.
        modes: "astream" (all three stream modes, as users run it) and/or "ainvoke".
        warmup: unrecorded runs before each configuration.
    """

    async def all_rows() -> list[Row]:
        return [
            await measure(mode, n, latency, reps, warmup)
            for mode in modes
            for latency in latencies_ms
            for n in tool_counts
        ]

    rows = asyncio.run(all_rows())
    for row in rows:
        base = next(r for r in rows if (r.mode, r.latency_ms) == (row.mode, row.latency_ms))
        row.ratio = row.wall_p50_ms / base.wall_p50_ms
    return rows


def markdown(rows: list[Row]) -> str:
    """Return the rows as a markdown table."""
    head = (
        "| mode | tools | tool ms | critical path ms | wall p50 ms | wall p95 ms | overhead ms "
        "| overhead % | wall(N)/wall(1) | in nodes ms | between steps ms | tool start skew ms "
        "| all tools overlapped |"
    )
    lines = [head, "|" + " --- |" * head.count(" | ") + " --- |"]
    for r in rows:
        lines.append(
            f"| {r.mode} | {r.tools} | {r.latency_ms:g} | {r.critical_ms:g} | {r.wall_p50_ms:.2f} "
            f"| {r.wall_p95_ms:.2f} | {r.overhead_ms:.2f} "
            f"| {100 * r.overhead_ms / r.wall_p50_ms:.1f} "
            f"| {r.ratio:.2f} | {r.steps_ms:.2f} | {r.wall_p50_ms - r.steps_ms:.2f} "
            f"| {r.start_skew_ms:.2f} | {r.overlapped_runs}/{len(r.walls_ms)} |"
        )
    return "\n".join(lines) + "\n"


def plot(rows: list[Row], path: Path) -> None:
    """Save wall time (p50, band to p95) against the number of tools, one panel per latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latencies = sorted({r.latency_ms for r in rows})
    fig, axes = plt.subplots(1, len(latencies), figsize=(6 * len(latencies), 4), squeeze=False)
    for ax, latency in zip(axes[0], latencies, strict=True):
        for mode in sorted({r.mode for r in rows}):
            sel = [r for r in rows if (r.mode, r.latency_ms) == (mode, latency)]
            ns = [r.tools for r in sel]
            ax.plot(ns, [r.wall_p50_ms for r in sel], marker="o", label=f"{mode} wall p50")
            ax.fill_between(
                ns, [r.wall_p50_ms for r in sel], [r.wall_p95_ms for r in sel], alpha=0.2
            )
        ax.axhline(sel[0].critical_ms, ls="--", c="k", label="critical path")
        ax.set(xscale="log", xlabel="parallel tools", ylabel="ms", ylim=(0, None))
        ax.set(title=f"tool latency {latency:g} ms (p50, band to p95)")
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    """Run the benchmark; print the table and write it with a plot to `--out`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30, help="recorded runs per configuration")
    parser.add_argument("--latency-ms", type=float, default=200.0, help="tool latency besides 0")
    parser.add_argument("--out", type=Path, default=Path("evals/results"))
    args = parser.parse_args()
    rows = run_benchmark(args.reps, (0.0, args.latency_ms))
    table = markdown(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "overhead.md").write_text(table)
    plot(rows, args.out / "overhead.png")
    print(table)  # noqa: T201
    print(f"wrote {args.out / 'overhead.md'} and {args.out / 'overhead.png'}")  # noqa: T201


if __name__ == "__main__":
    main()
