"""Speculation: start likely calls of read-only tools before the plan asks for them.

The calls `engine.accelerators.predictions` reads off the question start the moment
the planning step does, in parallel with the planner; when a call ends, a named
service may start on a value it found. At most as many calls start early in a round as
the run may make (`Context.max_tool_calls`), and they hold the run's parallel-call
slots (`max_parallel_tools`) as planned calls do. A call the plan then asks for with
exactly the same tool and arguments adopts the speculative one (its result, its earlier
start); every other speculative call is cancelled and its result dropped, so it never
reaches the answer. A tool not declared read-only is never started this way. Trace runs
of early calls are tagged `speculative`. Each early call's result is handed to the
round's `early` record as it ends (the journal keeps it), and one recorded before a
crash is taken from there instead of run again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from langchain_core.runnables.config import merge_configs

from core.state import ToolResult
from engine.accelerator import Accelerator, PlanRound
from engine.accelerators.predictions import key, predicted_calls, result_calls
from engine.language.parser import Task
from engine.scheduler.call_tool import Outcome, run_tool

RunTool = Callable[[str, dict[str, Any], str], Coroutine[Any, Any, Outcome]]


Canonical = Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]


def as_written(tool: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return a call unchanged: by default two calls are the same when written alike."""
    return tool, args


class Speculation:
    """Calls started early, waiting for the plan to ask for them."""

    def __init__(
        self,
        read_only: Callable[[str], bool],
        run: RunTool,
        same: Canonical = as_written,
        limit: int = 8,
        slots: asyncio.Semaphore | None = None,
    ) -> None:
        """Start nothing yet; `run(tool, args, identifier)` runs one call quietly.

        `read_only(name)` says whether a call may start early (only reads); `same(tool,
        args)` is what a call is compared by (a web service's call: the URL it fetches,
        so `order_id=1866` and `order_id="1866"` are one call); `limit` caps the calls
        started early, whatever a question names; `slots` are the run's parallel-call
        slots (`Context.max_parallel_tools`), which a call started early holds while it
        runs, as a planned one does.
        """
        self.read_only = read_only
        self.run = run
        self.same = same
        self.limit = limit
        self.slots = slots or asyncio.Semaphore(limit)
        self.started = 0
        self.seen: set[str] = set()  # every call started early or asked for: never again
        self.pending: dict[str, asyncio.Task[Outcome]] = {}
        self.running: set[str] = set()  # those holding a slot
        self.hits: list[str] = []

    def start(self, calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
        """Start each predicted call of a read-only tool; return the tools started."""
        started = []
        for tool, args in calls:
            identity = key(*self.same(tool, args))
            if not self.read_only(tool) or identity in self.seen or self.started >= self.limit:
                continue
            self.seen.add(identity)
            self.started += 1
            coroutine = self._in_a_slot(identity, tool, args, f"speculative_{self.started}")
            self.pending[identity] = asyncio.create_task(coroutine, name=f"speculative {tool}")
            started.append(tool)
        return started

    async def _in_a_slot(
        self, identity: str, tool: str, args: dict[str, Any], identifier: str
    ) -> Outcome:
        async with self.slots:
            self.running.add(identity)
            return await self.run(tool, args, identifier)

    def take(self, tool: str, args: dict[str, Any]) -> asyncio.Task[Outcome] | None:
        """Return the speculative call that is exactly this call, if one is under way.

        One still waiting for a slot (none is free) is cancelled: it has gained nothing,
        and the plan's call runs in its place.
        """
        identity = key(*self.same(tool, args))
        self.seen.add(identity)
        task = self.pending.pop(identity, None)
        if task is not None and identity not in self.running and self.slots.locked():
            task.cancel()
            return None
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


class Speculate(Accelerator):
    """Start likely read-only calls early; the plan adopts those it asks for exactly."""

    switch = "speculate"

    def __init__(self, round_: PlanRound) -> None:
        """Start nothing yet; early calls hold the round's parallel-call slots."""
        super().__init__(round_)
        calls = round_.catalogue.calls
        self.speculation = Speculation(
            calls.read_only, self._run_quietly, calls.runs_as,  # a service: the URL it fetches
            limit=round_.context.max_tool_calls, slots=round_.unit.slots,
        )  # fmt: skip
        self.wasted = 0

    async def plan_starts(self) -> None:
        """Start the calls the question predicts (a turn's first round only)."""
        round_ = self.round
        if not round_.done:
            calls = predicted_calls(round_.catalogue, round_.question, round_.guesses)
            self.speculation.start(calls)

    def call_starts(self, task: Task, args: dict[str, Any]) -> Awaitable[Outcome] | None:
        """Hand over the same call started early, if one is under way."""
        return self.speculation.take(task.tool, args)

    async def call_ends(self, result: ToolResult) -> None:
        """Start a named service's call on what a finished call found."""
        if result["ok"]:
            round_ = self.round
            self.speculation.start(result_calls(round_.catalogue, round_.question, result["data"]))

    async def plan_ends(self, results: list[ToolResult]) -> None:
        """Cancel the early calls the plan never asked for."""
        self.wasted = await self.speculation.drop()

    async def cancelled(self) -> None:
        """Cancel every early call."""
        await self.speculation.drop()

    def notes(self) -> dict[str, Any]:
        """Say which early calls were used and how many were wasted."""
        return {"speculative_hits": self.speculation.hits, "speculative_wasted": self.wasted}

    async def _run_quietly(self, tool: str, args: dict[str, Any], identifier: str) -> Outcome:
        """Run an early call: no events and no message until the plan adopts it."""
        round_ = self.round
        planned = {"planned_call": [tool, args]}  # what the plan must ask for to adopt it
        tagged = merge_configs(round_.config, {"tags": ["speculative"], "metadata": planned})
        tool, args = round_.catalogue.calls.runs_as(tool, args)
        if (ended := round_.early.early_result(tool, args)) is not None:
            return ended  # it ended before this round started again (a retried run)
        outcome = await run_tool(
            round_.domain, tool, args, context=round_.context, config=tagged,
            identifier=identifier,
        )  # fmt: skip
        await round_.early.early_call_ends(tool, args, outcome)
        return outcome
