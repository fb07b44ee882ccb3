"""Read every tier's stable prompt prefix once, so the first question finds it warm.

A server keeps the prompts it has read in its prefix cache; the system prompts of
the planner and the synthesizer (about 1,000 tokens each) cost 15-30 s to read cold
on 2 CPU cores and nothing once cached. `make up` runs this after starting the
embedded servers; the integration tests run it before timing anything.

    python -m graphs.warmup
"""

from __future__ import annotations

import asyncio
import sys
import time

from langchain_core.messages import HumanMessage, SystemMessage

from graphs.context import Context, Tier
from graphs.domain import Domain
from graphs.settings import settings
from nodes import render_prompts
from serving import client
from tools import SHOP


def stable_prompts(context: Context, domain: Domain) -> list[tuple[str, Tier, str]]:
    """Return (name, tier, system prompt) of every prompt prefix the graphs reuse."""
    services = settings().http_services
    # The baseline's prompt first: it shares most of its prefix with the synthesizer's, and
    # read after it, llama.cpp gave it the synthesizer's slot, whose own instructions then
    # dropped out of the cache (the first answer re-read them: 10.4 s instead of 7.2 s).
    return [
        ("react_agent", "synthesizer", render_prompts.react_system(domain, services)),
        (
            "planner",
            "planner",
            render_prompts.planner_system(domain, services, context.max_tool_calls),
        ),
        ("synthesizer", "synthesizer", render_prompts.synthesizer_system(domain, services)),
        ("answer_directly", "router", render_prompts.direct_system(domain)),
        ("route_query", "router", render_prompts.router_system(domain)),
    ]


async def warm_up(
    context: Context, domain: Domain = SHOP, timeout: float = 600.0
) -> dict[str, float]:
    """Send each stable prompt once (one output token); return the seconds each took.

    One at a time: prompts read in parallel on one CPU server only slow each other.
    """
    seconds = {}
    for name, tier, system in stable_prompts(context, domain):
        model = client.chat_model(context, tier, max_tokens=1)
        started = time.perf_counter()
        async with asyncio.timeout(timeout):
            await model.ainvoke([SystemMessage(system), HumanMessage("hi")])
        seconds[name] = time.perf_counter() - started
    return seconds


def main() -> int:
    """Warm up the configured servers and print what each prompt cost."""
    try:
        for name, took in asyncio.run(warm_up(Context())).items():
            print(f"warm: {name} prompt read in {took:.1f} s")  # noqa: T201
    except Exception as err:  # one clear line, not a traceback
        print(f"warm-up failed: {type(err).__name__}: {err}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
