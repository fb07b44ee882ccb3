"""Soak: many concurrent runs through `langgraph dev`, hostile inputs among them.

    make up && .venv/bin/python -m evals.workloads.soak --runs 200 --concurrency 16
    make stack-soak    # the same through the production stack (`--url`)

Starts `langgraph dev` on a free port (pointed at the configured model servers), or
uses the server at `--url` (the production stack), then sends `--runs` runs,
`--concurrency` at a time, each on its own thread: questions
about a different customer each (so an answer that names another run's customer is a
mixed answer), greetings, and hostile inputs (an oversized question, a run that tries
to set an operator setting, a calculator bomb). It reports errors on the ordinary
runs (target 0), mixed answers (target 0), how each hostile input was refused, the
latency of the runs, and the memory (RSS) of the server and the model servers at the
start and the end. Results: evals/results/soak.md.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk import get_client

from evals.harness.dev_server import langgraph_dev
from evals.harness.stats import percentile
from tools.query_database import DB_PATH

SPEND = "What is {name}'s lifetime spend, and which loyalty tier does that put them in?"
GREETING = "Hi there, I'm {first}! How are you today?"
HOSTILE: dict[str, dict[str, Any]] = {
    "oversized question": {"input": "x" * 100_000},
    "operator setting": {"context": {"planner_base_url": "http://evil.test/v1"}},
    "calculator bomb": {"input": "Use the calculator: what is round(1, -10**7) * 9**9**9?"},
}


@dataclass
class Outcome:
    """What one soak run did."""

    kind: str
    subject: str
    seconds: float = 0.0
    answer: str = ""
    error: str | None = None
    others: list[str] = field(default_factory=list)  # other runs' customers its answer names


def customers(limit: int) -> list[str]:
    """Return customer names from the shop database (each run asks about its own)."""
    with sqlite3.connect(f"file:{DB_PATH}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT name FROM customers ORDER BY id LIMIT ?", (limit,)).fetchall()
    return [name for (name,) in rows]


def rss_mb(pid: int) -> float:
    """Return a process's resident memory in MB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def model_server_pids() -> list[int]:
    """Return the pids of the local model server processes (serving.llama_server)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"serving.llama_server" in status.read_bytes():
                found.append(int(status.parent.name))
        except OSError:
            continue
    return found


async def one_run(url: str, kind: str, subject: str, payload: dict[str, Any]) -> Outcome:
    """Send one run on a new thread; return its answer or its error."""
    client = get_client(url=url)
    outcome = Outcome(kind, subject)
    started = time.perf_counter()
    try:
        thread = await client.threads.create()
        text = str(payload.get("input", ""))
        run_input: Any = {"messages": [{"role": "user", "content": text}]}
        result = await client.runs.wait(
            thread["thread_id"], "fast_agent", input=run_input,
            **{k: v for k, v in payload.items() if k != "input"},
        )  # fmt: skip
        if isinstance(result, dict) and result.get("__error__"):
            outcome.error = str(result["__error__"])[:300]
        else:
            messages = result.get("messages", []) if isinstance(result, dict) else []
            outcome.answer = str(messages[-1]["content"]) if messages else ""
    except httpx.HTTPStatusError as err:
        outcome.error = f"HTTP {err.response.status_code}: {err.response.text[:200]}"
    except Exception as err:  # a failed run is a result too
        outcome.error = f"{type(err).__name__}: {str(err)[:200]}"
    outcome.seconds = time.perf_counter() - started
    return outcome


async def soak(url: str, runs: int, concurrency: int, seed: int) -> list[Outcome]:
    """Send the runs, `concurrency` at a time, hostile ones spread among them."""
    names = customers(runs)
    plan: list[tuple[str, str, dict[str, Any]]] = []
    for i in range(runs - len(HOSTILE)):
        name = names[i % len(names)]
        if i % 2:
            plan.append(("greeting", name, {"input": GREETING.format(first=name.split()[0])}))
        else:
            plan.append(("spend", name, {"input": SPEND.format(name=name)}))
    rng = random.Random(seed)
    for label, payload in HOSTILE.items():
        plan.insert(rng.randrange(len(plan)), ("hostile", label, payload))
    gate = asyncio.Semaphore(concurrency)

    async def guarded(kind: str, subject: str, payload: dict[str, Any]) -> Outcome:
        async with gate:
            return await one_run(url, kind, subject, payload)

    outcomes = await asyncio.gather(*(guarded(*item) for item in plan))
    spend_names = {o.subject for o in outcomes if o.kind == "spend"}
    for o in outcomes:
        if o.kind == "spend":
            o.others = sorted(n for n in spend_names - {o.subject} if _names(o.answer, n))
    return list(outcomes)


def _names(answer: str, name: str) -> bool:
    return len(name) > 6 and name.lower() in answer.lower()


def render(
    outcomes: list[Outcome],
    memory: dict[str, tuple[float, float]],
    wall: float,
    server: str = "langgraph dev",
) -> str:
    """Return the soak report."""
    ordinary = [o for o in outcomes if o.kind != "hostile"]
    errors = [o for o in ordinary if o.error]
    mixed = [o for o in ordinary if o.others]
    spend = [o for o in ordinary if o.kind == "spend"]
    named = sum(_names(o.answer, o.subject) for o in spend)
    seconds = [o.seconds * 1000 for o in ordinary if not o.error]
    lines = [
        f"# Soak: concurrent runs through {server}, hostile inputs among them",
        "",
        f"{len(outcomes)} runs in {wall:.0f} s ({len(outcomes) / wall * 60:.1f} runs/min).",
        "",
        "| | value |",
        "| --- | --- |",
        f"| ordinary runs | {len(ordinary)} ({len(spend)} tool questions, "
        f"{len(ordinary) - len(spend)} greetings) |",
        f"| errors on ordinary runs | {len(errors)} |",
        f"| mixed answers (naming another run's customer) | {len(mixed)} |",
        f"| tool answers naming their own customer | {named} of {len(spend)} |",
        f"| latency p50 / p95 | {percentile(seconds, 50) or 0:,.0f} ms / "
        f"{percentile(seconds, 95) or 0:,.0f} ms |",
    ]
    for name, (start, end) in memory.items():
        lines.append(f"| RSS {name} | {start:,.0f} MB at the start, {end:,.0f} MB at the end |")
    lines += ["", "Hostile inputs:", ""]
    for o in (o for o in outcomes if o.kind == "hostile"):
        result = o.error or f"answered: {o.answer[:160]!r}"
        lines.append(f"- {o.subject}: {result} ({o.seconds * 1000:,.0f} ms)")
    for o in errors[:10]:
        lines.append(f"- error ({o.kind}, {o.subject}): {o.error}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the soak and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="evals/results/soak.md")
    parser.add_argument("--url", help="send the runs to this server instead of langgraph dev")
    parser.add_argument(
        "--server-pid", type=int, action="append", default=[],
        help="with --url: a server process whose memory to report (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        if args.url:
            url, server = args.url, f"the server at {args.url}"
            pids = {f"server {pid}": pid for pid in args.server_pid}
        else:
            log = Path(args.out).with_suffix(".log")
            url, process = stack.enter_context(langgraph_dev(log, jobs=args.concurrency))
            server, pids = "langgraph dev", {"langgraph dev": process.pid}
        pids |= {f"model server {pid}": pid for pid in model_server_pids()}
        start = {name: rss_mb(pid) for name, pid in pids.items()}
        began = time.perf_counter()
        outcomes = asyncio.run(soak(url, args.runs, args.concurrency, args.seed))
        wall = time.perf_counter() - began
        memory = {name: (start[name], rss_mb(pid)) for name, pid in pids.items()}
    report = render(outcomes, memory, wall, server)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)  # a fresh checkout has none
    Path(args.out).write_text(report)
    print(report)  # noqa: T201
    ordinary = [o for o in outcomes if o.kind != "hostile"]
    return 0 if not any(o.error or o.others for o in ordinary) else 1


if __name__ == "__main__":
    sys.exit(main())
