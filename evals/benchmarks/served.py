"""The served path: first event and first token in-process vs through `langgraph dev`.

    make up && .venv/bin/python -m evals.benchmarks.served --runs 10

Asks a greeting (a direct answer: the shortest run, so what the server adds shows) `--runs`
times, one after the other, in three ways: the graph in this process (`astream`), through
`langgraph dev` with `langgraph-sdk` as `make dev` runs it, and the same with the run queue
left to its 0.5 s poll (`DEV_QUEUE_WAKE=0`, `deploy/dev_queue.py`) and one job per worker:
the server as it was before. Prints p50 / max of the time to the first event and to the
first answer token, from the moment the run is asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client

from core.context import Context
from evals.harness.dev_server import langgraph_dev
from evals.harness.stats import percentile
from graphs.fast_agent import graph

QUESTION = "Hello there! How are you today?"
Timing = tuple[float, float]  # ms to the first event, ms to the first answer token


async def in_process() -> Timing:
    """Time one run of the graph in this process."""
    run_input: Any = {"messages": [{"role": "user", "content": QUESTION}]}
    return await _time(
        graph.astream(
            run_input,
            context=Context(),
            stream_mode=["messages", "custom"],
            version="v2",
        ),
        lambda part: part["type"] == "messages" and bool(part["data"][0].content),
    )


def through(url: str) -> Callable[[], Awaitable[Timing]]:
    """Return a function that times one run through the server at `url`."""
    client = get_client(url=url)

    async def run() -> Timing:
        thread = await client.threads.create()
        run_input: Any = {"messages": [{"role": "user", "content": QUESTION}]}
        stream = client.runs.stream(
            thread["thread_id"], "fast_agent",
            input=run_input, stream_mode=["messages-tuple", "custom"],
        )  # fmt: skip
        return await _time(stream, _is_token)

    return run


def _is_token(part: Any) -> bool:
    if part.event != "messages":
        return False
    chunk = part.data[0] if isinstance(part.data, list) and part.data else {}
    return bool(
        isinstance(chunk, dict) and chunk.get("type") == "AIMessageChunk" and chunk.get("content")
    )


async def _time(stream: AsyncIterator[Any], is_token: Callable[[Any], bool]) -> Timing:
    started = time.perf_counter()
    first = token = None
    async for part in stream:
        now = (time.perf_counter() - started) * 1000
        if getattr(part, "event", None) == "metadata":
            continue  # the server's own acknowledgement, before the run starts
        first = now if first is None else first
        if token is None and is_token(part):
            token = now
    if first is None or token is None:
        raise RuntimeError("the run streamed no answer")
    return first, token


async def measure(runs: int, one: Callable[[], Awaitable[Timing]]) -> list[Timing]:
    """Time `runs` runs one after the other, after one untimed run."""
    await one()
    return [await one() for _ in range(runs)]


def summary(name: str, timings: list[Timing]) -> str:
    """Return one table row: p50 and max of both times."""
    first = [t[0] for t in timings]
    token = [t[1] for t in timings]
    return (
        f"| {name} | {percentile(first, 50):,.1f} ms | {max(first):,.1f} ms "
        f"| {percentile(token, 50):,.0f} ms | {max(token):,.0f} ms |"
    )


def main() -> None:
    """Measure the three ways and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("evals/results/served.md"))
    args = parser.parse_args()
    rows = [summary("in-process (`graph.astream`)", asyncio.run(measure(args.runs, in_process)))]
    log = args.out.with_suffix(".log")
    with langgraph_dev(log, jobs=8) as (url, _):
        rows.append(
            summary("`langgraph dev` (`make dev`)", asyncio.run(measure(args.runs, through(url))))
        )
    with langgraph_dev(log, jobs=1, env={"DEV_QUEUE_WAKE": "0"}) as (url, _):
        rows.append(
            summary(
                "`langgraph dev`, 0.5 s queue poll, 1 job (before)",
                asyncio.run(measure(args.runs, through(url))),
            )
        )
    table = [
        f"# The served path: {args.runs} greetings one after the other",
        "",
        "| path | first event p50 | first event max | first token p50 | first token max |",
        "| --- | --- | --- | --- | --- |",
        *rows,
    ]
    args.out.write_text("\n".join(table) + "\n")
    print("\n".join(table))  # noqa: T201


if __name__ == "__main__":
    main()
