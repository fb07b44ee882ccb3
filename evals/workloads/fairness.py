"""Fairness benchmark: how long caller A waits for a model server while caller B floods it.

    python -m evals.workloads.fairness  # a fake 2-slot llama.cpp server, 1 s a call
    python -m evals.workloads.fairness --url http://127.0.0.1:8081/v1 --model qwen2.5-coder-0.5b

B (`key-B`) asks `--flood` questions at once; once they are all waiting, A (`key-A`)
asks one. Each is a run of its own caller, named the way the API server names it
(`configurable.langgraph_auth_user_id`), and goes through the client boundary like a
node's call (`serving.client.stream_answer`), so it waits in admission for a slot. A
call's wait is from when its run asked to when its model call began (the step timer's
clock starts once the call has a slot), so the same figure comes out of any version
of the code. It reports A's wait against one of B's calls (their median length), B's
waits, the calls that failed "busy", and how long B's flood took in all.

The fake server (`evals.simulated.slot_server`) has `--slots` slots and takes `--seconds` an
answer; a real llama.cpp server (`--url`) writes `--tokens` tokens an answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableLambda

from core.context import Context
from core.settings import Settings, use_settings
from core.steps import ModelCallTimer
from evals.harness.stats import median
from evals.simulated.slot_server import SlotServer
from serving import client

A, B = "key-A", "key-B"
QUESTION = "Count from 1 to 400, separated by commas. ({name})"


@dataclass
class Call:
    """One caller's model call: when it asked, began (had a slot) and ended, in seconds."""

    caller: str
    name: str
    asked: float
    began: float | None = None
    ended: float | None = None
    error: str | None = None

    @property
    def wait(self) -> float | None:
        """Seconds from asking to having a slot (None: it never had one)."""
        return None if self.began is None else self.began - self.asked

    @property
    def length(self) -> float | None:
        """Seconds the model call took once it had a slot."""
        return None if self.began is None or self.ended is None else self.ended - self.began


async def call_as(caller: str, name: str, context: Context) -> Call:
    """Ask one question in a run of `caller`; time its wait and its model call."""
    details: dict[str, Any] = {}
    timer = ModelCallTimer(details, lambda _: None)

    async def ask(_: object) -> object:
        message = HumanMessage(QUESTION.format(name=name))
        return await client.stream_answer(context, "synthesizer", [message])

    config: Any = {"configurable": {"langgraph_auth_user_id": caller}, "callbacks": [timer]}
    call = Call(caller, name, time.time())
    try:
        await RunnableLambda(ask).ainvoke(None, config)
    except client.ModelCallError as err:
        call.error = str(err)
    for timed in details.get("model_calls", [])[:1]:
        call.began = timed["start"]
        call.ended = timed["start"] + timed["ms"] / 1000
    return call


async def flood_then_ask(flood: int, context: Context, head_start: float) -> list[Call]:
    """B asks `flood` questions at once; `head_start` s later A asks one. A's call first."""
    floods = [asyncio.create_task(call_as(B, f"B{i}", context)) for i in range(flood)]
    await asyncio.sleep(head_start)
    a = await call_as(A, "A", context)
    return [a, *await asyncio.gather(*floods)]


def summarize(rounds: list[list[Call]]) -> dict[str, Any]:
    """Return the figures of the rounds: A's wait against one of B's calls, and B's."""
    a_calls = [r[0] for r in rounds]
    b_calls = [c for r in rounds for c in r[1:]]
    b_length = median(c.length for c in b_calls)
    a_wait = median(c.wait for c in a_calls)
    floods = [max(c.ended or c.asked for c in r[1:]) - min(c.asked for c in r[1:]) for r in rounds]
    return {
        "rounds": len(rounds),
        "a_wait_s": a_wait,
        "a_waits_s": [c.wait for c in a_calls],
        "b_call_s": b_length,
        "a_wait_in_b_calls": None if a_wait is None or not b_length else a_wait / b_length,
        "a_busy": sum(c.error is not None for c in a_calls),
        "b_busy": sum(c.error is not None for c in b_calls),
        "b_wait_p50_s": median(c.wait for c in b_calls),
        "b_wait_max_s": max((c.wait for c in b_calls if c.wait is not None), default=None),
        "b_flood_s": median(floods),
    }


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(label: str, figures: dict[str, Any]) -> str:
    """Return the figures as one markdown table row (see `HEADER`)."""
    return (
        f"| {label} | {_fmt(figures['a_wait_s'])} | {_fmt(figures['b_call_s'])} "
        f"| {_fmt(figures['a_wait_in_b_calls'], 1)} | {figures['a_busy']}/{figures['rounds']} "
        f"| {figures['b_busy']} | {_fmt(figures['b_wait_p50_s'])} "
        f"| {_fmt(figures['b_wait_max_s'])} | {_fmt(figures['b_flood_s'])} |"
    )


HEADER = (
    "| run | A's wait (s) | one B call (s) | A's wait in B calls | A busy | B busy "
    "| B's wait p50 (s) | B's wait max (s) | B's flood took (s) |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def operator(
    url: str, model: str, *, queue_seconds: float = 600.0, cap: int | None = None
) -> Settings:
    """The operator's settings for the benchmark: every tier on the one llama.cpp server."""
    extra: dict[str, Any] = {}
    if cap is not None:  # a setting the admission before fair shares did not have
        extra["max_slots_per_caller"] = cap
    return Settings(
        router_base_url=url, planner_base_url=url, synthesizer_base_url=url,
        router_model=model, planner_model=model, synthesizer_model=model,
        llm_backend="llama_cpp", max_queue_seconds=queue_seconds, **extra,
    )  # fmt: skip


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """Run the rounds against the fake server or `--url`; print and return the figures."""
    fake = None if args.url else SlotServer(args.slots, args.seconds).start(args.port)
    url = args.url or (fake.url if fake else "")
    context = Context(synthesizer_max_tokens=args.tokens, llm_timeout_seconds=args.timeout)
    rounds = []
    try:
        with use_settings(
            operator(url, args.model, queue_seconds=args.queue_seconds, cap=args.cap)
        ):
            for _ in range(args.rounds):
                rounds.append(await flood_then_ask(args.flood, context, args.head_start))
    finally:
        if fake is not None:
            fake.stop()
    figures = summarize(rounds)
    server = url if args.url else f"fake, {args.slots} slots, {args.seconds:g} s a call"
    print(f"{server}; B floods {args.flood} calls, A asks {args.head_start:g} s later")  # noqa: T201
    print(HEADER)  # noqa: T201
    print(report(args.label, figures))  # noqa: T201
    if args.out:
        calls = [[asdict(c) for c in r] for r in rounds]
        Path(args.out).write_text(json.dumps({"figures": figures, "calls": calls}, indent=1))
    return figures


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a llama.cpp server (default: a fake one)")
    parser.add_argument("--model", default="m", help="the served model's name")
    parser.add_argument("--slots", type=int, default=2, help="the fake server's slots")
    parser.add_argument("--seconds", type=float, default=1.0, help="the fake's time a call")
    parser.add_argument("--port", type=int, default=0, help="the fake's port (0: a free one)")
    parser.add_argument("--flood", type=int, default=8, help="B's calls at once")
    parser.add_argument("--head-start", type=float, default=0.2, help="B's lead over A (s)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=200, help="tokens an answer (real server)")
    parser.add_argument("--timeout", type=float, default=120.0, help="one call's deadline (s)")
    parser.add_argument("--queue-seconds", type=float, default=600.0, help="MAX_QUEUE_SECONDS")
    parser.add_argument("--cap", type=int, help="MAX_SLOTS_PER_CALLER (fair admission only)")
    parser.add_argument("--label", default="this code")
    parser.add_argument("--out", help="write the figures and every call as JSON here")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
