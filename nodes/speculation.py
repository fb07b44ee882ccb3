"""Speculation: start likely calls of read-only tools before the plan asks for them.

Three sources predict calls from the question alone: a cached plan of a question of
much the same shape, its values swapped for this question's (`TemplateBank.guess_for`:
a paraphrase of a solved question, too different for the plan to be reused outright);
the solved plans nearest to it (their calls that name nothing specific to their own
question, such as a documents search on a topic: a small planner shown the same example
tends to write the same call); and the domain's own hook (`Domain.speculate`). They
start the moment the planning step does, in parallel with the planner. A call the plan
then asks for with exactly the same tool and arguments adopts the speculative one (its
result, its earlier start); every other speculative call is cancelled and its result
dropped, so it never reaches the answer. A tool not declared read-only is never started
this way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

from graphs.domain import Domain
from nodes.call_tool import Outcome
from nodes.plan_examples import example_index
from nodes.plan_parser import PlanParser, Task
from nodes.plan_services import plan_calls
from nodes.plan_templates import question_values, template_bank

RunTool = Callable[[str, dict[str, Any], str], Coroutine[Any, Any, Outcome]]


NEAREST = 2  # solved plans whose calls are predicted
MIN_SIMILARITY = 0.35  # cosine similarity of the questions, for a solved plan to count


def predicted_calls(domain: Domain, services: str, question: str) -> list[tuple[str, Any]]:
    """Return the calls worth starting before the planner writes them, most likely first."""
    calls: list[tuple[str, Any]] = []
    parser = PlanParser(plan_calls(domain, services).arg_names, max_calls=8)
    if guessed := template_bank(domain, services).guess_for(question):  # a cached plan's calls
        tasks = [t for t in parser.feed(guessed + "\n") if isinstance(t, Task)]
        calls += [(t.tool, t.args) for t in tasks if not t.deps and "$" not in json.dumps(t.args)]
    for example, score in example_index(domain, services).nearest(question, NEAREST):
        if score < MIN_SIMILARITY:
            continue
        specific = [value.lower() for value in question_values(example.question)]
        parser = PlanParser(domain.arg_names(), max_calls=8)
        for task in (t for t in parser.feed(example.plan + "\n") if isinstance(t, Task)):
            text = json.dumps(task.args).lower()
            if not task.deps and "$" not in text and not any(v in text for v in specific):
                calls.append((task.tool, task.args))
    if domain.speculate is not None:
        calls.extend(domain.speculate(question))
    return calls


def key(tool: str, args: dict[str, Any]) -> str:
    """Return the identity of a call: its tool and its arguments, canonically."""
    return json.dumps([tool, args], sort_keys=True, default=str)


class Speculation:
    """Calls started early, waiting for the plan to ask for them."""

    def __init__(self, read_only: Callable[[str], bool], run: RunTool) -> None:
        """Start nothing yet; `run(tool, args, identifier)` runs one call quietly.

        `read_only(name)` says whether a call may start early (only reads).
        """
        self.read_only = read_only
        self.run = run
        self.pending: dict[str, asyncio.Task[Outcome]] = {}
        self.hits: list[str] = []

    def start(self, calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
        """Start each predicted call of a read-only tool; return the tools started."""
        started = []
        for n, (tool, args) in enumerate(calls, 1):
            identity = key(tool, args)
            if not self.read_only(tool) or identity in self.pending:
                continue
            coroutine = self.run(tool, args, f"speculative_{n}")
            self.pending[identity] = asyncio.create_task(coroutine, name=f"speculative {tool}")
            started.append(tool)
        return started

    def take(self, tool: str, args: dict[str, Any]) -> asyncio.Task[Outcome] | None:
        """Return the speculative call that is exactly this call, if one was started."""
        task = self.pending.pop(key(tool, args), None)
        if task is not None:
            self.hits.append(tool)
        return task

    async def drop(self) -> int:
        """Cancel the calls the plan did not ask for; return how many were wasted."""
        wasted = list(self.pending.values())
        self.pending.clear()
        for task in wasted:
            task.cancel()
        await asyncio.gather(*wasted, return_exceptions=True)
        return len(wasted)
