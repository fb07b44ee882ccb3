"""Every graph over every question, one run at a time: interleaved, or one graph after another."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from core.context import Context
from core.settings import settings
from evals.harness.dataset import Question
from evals.harness.metrics import prefix_cache_hit_rate, scrape
from evals.harness.runner import GRAPHS, Graphs, run_one

Begin = Callable[[str, Question], None]


async def run_locally(
    graphs: list[str],
    questions: list[Question],
    context: Context,
    timeout: float,
    begin: Begin | None,
    config: dict[str, Any],
    by_name: Graphs = GRAPHS,
    order: str = "interleaved",
) -> list[dict[str, Any]]:
    """Run every graph over every question, one run at a time; note prefix-cache hit rates.

    Interleaved (the default), each question is asked of every graph in turn, the graph
    that goes first rotating, so whatever else loads the machine meanwhile falls on all of
    them alike; the hit rate is then the whole run's. Sequential runs one graph over every
    question after the other, which gives each graph's own hit rate on vLLM.
    """
    turns = (
        [[(name, q) for name in _rotated(graphs, i)] for i, q in enumerate(questions)]
        if order == "interleaved"
        else [[(name, q) for q in questions] for name in graphs]
    )
    rows = []
    hit_rates: dict[str, float | None] = {}
    done, total = 0, len(graphs) * len(questions)
    sequential = order == "sequential"
    first = await scrape(settings().planner_base_url)
    for turn in turns:
        before = await scrape(settings().planner_base_url) if sequential else first
        for name, question in turn:
            progress(done, total, f"{name} {question.id}")
            if begin is not None:
                begin(name, question)
            rows.append(await run_one(name, question, context, timeout, by_name))
            done += 1
        if sequential:
            after = await scrape(settings().planner_base_url)
            hit_rates[turn[0][0]] = prefix_cache_hit_rate(before, after)
    progress(total, total, "done")
    if not sequential:
        after = await scrape(settings().planner_base_url)
        hit_rates["all graphs, interleaved"] = prefix_cache_hit_rate(first, after)
    if any(rate is not None for rate in hit_rates.values()):
        config["prefix_cache_hit_rate"] = hit_rates
    return rows


def _rotated(graphs: list[str], by: int) -> list[str]:
    """Return the graphs with the `by`-th (modulo their number) first."""
    start = by % len(graphs)
    return graphs[start:] + graphs[:start]


def progress(done: int, total: int, label: str) -> None:
    """Draw a progress bar on stderr."""
    width = 30
    filled = width * done // total
    bar = "#" * filled + "." * (width - filled)
    print(f"\r[{bar}] {done}/{total} {label:<48}", end="", file=sys.stderr, flush=True)  # noqa: T201
