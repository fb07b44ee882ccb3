"""Durable steps: each round's plan and each call's result recorded as they end.

A server retries a run whose worker died, and resumes one that paused for approval;
either way the step runs again from its start. With the journal, it does not decode a
plan that was written whole again, nor run a call that had ended: the plan (as its lines
complete, marked whole once it is) and every result (as it ends) are put in the run's
store (`core.stores`: Postgres on a production server) under the caller's namespace and
the thread, keyed by the turn and the call's number, and a round started again takes
them from there. A plan cut off mid-way is written again (at temperature 0, most often
the same); a recorded result is used only for a call of the same tool and arguments.
A call started early (`engine.accelerators.speculation`, read-only tools only) is
recorded as it ends too, by its tool and arguments, before the plan asks for it: a round
started again takes its result instead of running it. A call that had started but not
ended runs again: read-only tools may; a tool with side effects gets the same call id
(`call_<turn>_<N>`) as its idempotency key and must honour it. Runs with no thread (no
checkpointer: the CLI, the evals) keep no journal. A new turn forgets the older ones.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable
from typing import Any

from langgraph.store.base import BaseStore

from core.state import ToolResult
from engine.accelerator import Accelerator, EarlyCalls, PlanRound
from engine.language.parser import Task
from engine.scheduler.call_tool import Outcome

NAMESPACE = "journal"


def namespace(caller: str, thread: str) -> tuple[str, ...]:
    """Return where a thread's journal lives: under its caller, as the auth handler scopes."""
    return (caller, NAMESPACE, thread)


class Journal(Accelerator, EarlyCalls):
    """Record the plan and each result; hand them back to a round started again."""

    def __init__(self, round_: PlanRound) -> None:
        """Nothing read yet; the round's early calls are kept here."""
        super().__init__(round_)
        round_.early = self
        self.where = namespace(round_.caller, round_.thread or "")
        self.prefix = f"{round_.run_key}."
        self.recorded: dict[str, dict[str, Any]] = {}
        self.replayed = False
        self.lines = 0  # plan lines recorded so far

    @classmethod
    def wanted(cls, round_: PlanRound) -> bool:
        """Only runs a server can resume: those on a thread."""
        return round_.thread is not None

    async def plan_starts(self) -> str | None:
        """Read what this turn recorded; hand back this round's plan if it was written."""
        items = await self.round.store.asearch(self.where, limit=1000)
        self.recorded = {i.key: i.value for i in items if i.key.startswith(self.prefix)}
        found = self.recorded.get(self._key(self.round.kind, self.round.number), {})
        plan = found.get("text")
        self.replayed = isinstance(plan, str) and found.get("whole") is True
        return plan if self.replayed else None

    async def plan_grows(self, text: str) -> None:
        """Record the plan each time a line of it is complete."""
        lines = len(self.round.parser.tasks) + len(self.round.parser.errors)
        if lines > self.lines:
            self.lines = lines
            await self._record_plan(whole=False)

    def call_starts(self, task: Task, args: dict[str, Any]) -> Awaitable[Outcome] | None:
        """Hand back the call's result if it ended before, with the same arguments."""
        found = self.recorded.get(self._key("call", task.index), {})
        result = found.get("result")
        if not result or found.get("tool") != task.tool or found.get("args") != args:
            return None
        outcome = Outcome(
            result["output"], result["data"], result["status"], result["started_at"],
            result["ended_at"],
        )  # fmt: skip
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        done.set_result(outcome)
        return done

    def early_result(self, tool: str, args: dict[str, Any]) -> Outcome | None:
        """Hand back an early call's result if it ended before this round started again."""
        found = self.recorded.get(self._early_key(tool, args), {})
        if found.get("tool") != tool or found.get("args") != args:
            return None
        ended = found["outcome"]
        return Outcome(ended["output"], ended["data"], "ok", ended["started"], ended["ended"])

    async def early_call_ends(self, tool: str, args: dict[str, Any], outcome: Outcome) -> None:
        """Record an early call that succeeded (one that failed may as well run again)."""
        if outcome.status != "ok":
            return
        ended = {"output": outcome.output, "data": outcome.data}
        ended |= {"started": outcome.started, "ended": outcome.ended}
        value = {"tool": tool, "args": args, "outcome": ended}
        await self.round.store.aput(self.where, self._early_key(tool, args), value)

    async def plan_written(self) -> None:
        """Record the plan as whole, so a round started again does not decode it again."""
        if not self.replayed:
            await self._record_plan(whole=True)

    async def _record_plan(self, whole: bool) -> None:
        key = self._key(self.round.kind, self.round.number)
        value = {"text": self.round.parser.text, "whole": whole}
        await self.round.store.aput(self.where, key, value)

    async def call_ends(self, result: ToolResult) -> None:
        """Record the result before any call that waits for it starts."""
        value = {"tool": result["tool"], "args": result["args"], "result": dict(result)}
        await self.round.store.aput(self.where, self._key("call", result["index"]), value)

    def _key(self, kind: str, number: int) -> str:
        return f"{self.prefix}{kind}.{number}"

    def _early_key(self, tool: str, args: dict[str, Any]) -> str:
        call = json.dumps([tool, args], sort_keys=True, default=str)
        return f"{self.prefix}early.{hashlib.sha256(call.encode()).hexdigest()[:24]}"


async def forget_older_turns(store: BaseStore, caller: str, thread: str, run_key: str) -> int:
    """Delete a thread's journal entries of turns before this one; return how many."""
    where = namespace(caller, thread)
    items = await store.asearch(where, limit=1000)
    old = [i.key for i in items if not i.key.startswith(f"{run_key}.")]
    await asyncio.gather(*(store.adelete(where, key) for key in old))
    return len(old)
