"""Read every tier's stable prompt prefix once, so the first question finds it warm.

A server keeps the prompts it has read in its prefix cache; the system prompts of
the planner and the synthesizer (about 1,000 tokens each) cost 15-30 s to read cold
on 2 CPU cores and nothing once cached. `make up` runs this after starting the
embedded servers; the integration tests run it before timing anything.

    python -m deploy.warmup [--if-changed]

With `--if-changed` (what `make up` and so `make demo` use), servers that already read
these very prompts are left alone: a warm-up request takes a slot of its own, so run
again it pushed the last question out of the server's slots (the demo asked again had
its planner re-read the question: first answer token 4.4 s instead of 3.1 s).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from core.context import Context, Tier
from core.domain import Domain
from core.settings import TIERS, settings
from deploy.served import served_domain
from prompts import render as render_prompts
from serving import client
from serving.llama_cpp import RUN_DIR


def stable_prompts(context: Context, domain: Domain) -> list[tuple[str, Tier, str]]:
    """Return (name, tier, system prompt) of every prompt prefix the graphs reuse.

    The baseline's (`react_agent`) is read with the domain's tools bound, as
    `create_agent` sends it: a server puts the tools' schemas into the prompt.
    """
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
    context: Context,
    domain: Domain | None = None,
    timeout: float = 600.0,
    only: frozenset[str] | None = None,
) -> dict[str, float]:
    """Send each stable prompt once (one output token); return the seconds each took.

    One at a time: prompts read in parallel on one CPU server only slow each other.
    `only` names the prompts to read (all of them by default).
    """
    domain = domain or served_domain()
    seconds = {}
    for name, tier, system in stable_prompts(context, domain):
        if only is not None and name not in only:
            continue
        model: Any = client.chat_model(context, tier, max_tokens=1, tools=name == "react_agent")
        if name == "react_agent":
            model = model.bind_tools(list(domain.tools))
        started = time.perf_counter()
        async with asyncio.timeout(timeout):
            await model.ainvoke([SystemMessage(system), HumanMessage("hi")])
        seconds[name] = time.perf_counter() - started
    return seconds


def warm_stamp(context: Context, domain: Domain, run_dir: Path = RUN_DIR) -> str | None:
    """Return what a warm-up read: the running servers' pids and the prompts (None: no pids).

    Servers another checkout started leave no pid file here, so they are always warmed.
    """
    pids = sorted(pid.read_text().strip() for pid in run_dir.glob("llama-cpp-*.pid"))
    if not pids:
        return None
    urls = [settings().tier(tier).base_url for tier in TIERS]
    read = [pids, stable_prompts(context, domain), urls]
    return hashlib.sha256(json.dumps(read).encode()).hexdigest()


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def main(argv: list[str] | None = None, run_dir: Path = RUN_DIR) -> int:
    """Warm up the configured servers and print what each prompt cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--if-changed", action="store_true",
        help="skip servers that already read these prompts (same pids, same prompts)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    context, stamp_file = Context(), run_dir / "warm"
    stamp = warm_stamp(context, served_domain(), run_dir)
    if args.if_changed and stamp is not None and _read(stamp_file) == stamp:
        print("warm: these servers have read these prompts already")  # noqa: T201
        return 0
    try:
        for name, took in asyncio.run(warm_up(context)).items():
            print(f"warm: {name} prompt read in {took:.1f} s")  # noqa: T201
    except Exception as err:  # one clear line, not a traceback
        print(f"warm-up failed: {type(err).__name__}: {err}", file=sys.stderr)  # noqa: T201
        return 1
    if stamp is not None:
        stamp_file.write_text(stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
