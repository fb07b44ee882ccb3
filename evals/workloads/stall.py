"""Event-loop stalls under crafted questions: the longest a run's own work holds the loop.

A caller who learned a five-slot template (five cities' weather) sends questions of up
to 4,000 characters built to make a backtracking matcher try every way to split them.
Each runs through the fast agent in-process with instant models (`client.use_models`),
as that caller, while a ticker measures how late the event loop wakes it: any work the
run does on the loop (routing, template lookup, guessing calls, naming services) shows
as a stall. Before the linear matcher, one 1,000-character question stalled 19-21 s.

    python -m evals.workloads.stall [--chars 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from itertools import repeat
from typing import Any

from langgraph.store.memory import InMemoryStore

from core.context import Context
from core.settings import Settings, use_settings
from core.stores import use_store
from engine.accelerators.templates import learn
from evals.simulated.instant import FakeChatModel
from evals.simulated.services import ExternalServices
from graphs.fast_agent import graph
from serving import client

CITIES = ("Oslo", "Bergen", "Lima", "Quito", "Cusco")
TEMPLATE_QUESTION = f"What is the weather in {', '.join(CITIES[:4])} and {CITIES[4]} right now?"
TEMPLATE_PLAN = "\n".join(
    [*(f'{i}. weather(city="{c}")' for i, c in enumerate(CITIES, 1)), "6. join()"]
)
CALLER = "key-attacker"


def crafted(chars: int) -> dict[str, str]:
    """Return questions of `chars` characters that nearly fit the template's shape."""
    head = "What is the weather in "

    def fit(body: str) -> str:
        return (head + body * (chars // len(body) + 1))[:chars]

    return {
        "names and commas": fit("Oslo, "),
        "one letter words": fit("A "),
        "blanks": head + " " * (chars - len(head) - 2) + "x!",
        "near miss": (head + "Oslo, Bergen, Lima, Quito and " + "Cusco " * chars)[:chars],
        "and-chain": fit("Oslo and "),
        "question words": fit("What Which How "),
        "digits": fit("1,2,3 "),
    }


def models() -> Any:
    """Instant models: a plan of no call, a short answer."""
    answers = {"planner": "1. join()", "synthesizer": "Done.", "router": "Done."}
    fakes = {tier: FakeChatModel(messages=repeat(text)) for tier, text in answers.items()}
    return lambda context, tier, **_: fakes[tier]


async def longest_stall(question: str) -> tuple[float, float]:
    """Run one question; return (the longest event-loop stall, the run's wall time), in ms."""
    stalls = [0.0]
    done = asyncio.Event()

    async def tick() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            stalls.append((time.perf_counter() - before - 0.001) * 1000)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    run: Any = {"messages": [{"role": "user", "content": question}]}
    await graph.ainvoke(
        run,
        config={"configurable": {"langgraph_auth_user_id": CALLER}},
        context=Context(router_confidence=1.0),  # the planner step always runs
    )
    wall = (time.perf_counter() - started) * 1000
    done.set()
    await ticker
    return max(stalls), wall


async def main(chars: int) -> None:
    """Teach the caller the template, then time every crafted question."""
    with (
        ExternalServices("fast", seed=1) as services,
        use_settings(
            Settings(http_services=services.describe(), http_allowed_origins=services.base_url)
        ),
        use_store(InMemoryStore()) as store,
        client.use_models(models()),
    ):
        learned = await learn(
            store, CALLER, TEMPLATE_QUESTION, TEMPLATE_PLAN,
            conversation=[TEMPLATE_QUESTION], vocabulary="",
        )  # fmt: skip
        assert learned
        await longest_stall("What does the weather service say for Oslo?")  # imports, a pool
        print(f"| crafted question ({chars:,} characters) | longest stall | run |")  # noqa: T201
        print("|---|---:|---:|")  # noqa: T201
        for name, question in crafted(chars).items():
            stall, wall = await longest_stall(question)
            print(f"| {name} | {stall:.1f} ms | {wall:.0f} ms |")  # noqa: T201


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=4000)
    asyncio.run(main(parser.parse_args().chars))
