"""The interface a speed-up plugs into: the core loop's events, and the round they belong to.

An `Accelerator` sees one planning round (`PlanRound`) and hears its events: the plan
starts (it may hand over a plan written without the planner), the plan grows, a call
is about to start (it may hand over the same call already under way), a call ends, the
plan is written (every line parsed), the plan's calls have all ended, the round is
cancelled. It owns its own clean-up, adds
its own notes, timings and state, and is on when its Context switch is.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from langchain_core.runnables import RunnableConfig
from langgraph.store.base import BaseStore

from core.context import Context
from core.domain import Domain
from core.state import State, ToolResult
from engine.catalogue import Catalogue
from engine.language.parser import PlanParser, Task
from engine.scheduler.call_tool import Outcome
from engine.scheduler.task_fetching import TaskFetchingUnit


class EarlyCalls:
    """What a round keeps of the calls started before its plan asks for them: by default nothing.

    `engine.journal` keeps them durably, so a round started again after a crash takes
    an early call's result instead of running it again.
    """

    def early_result(self, tool: str, args: dict[str, Any]) -> Outcome | None:
        """Return the result of this early call if it ended before (None: run it)."""
        return None

    async def early_call_ends(self, tool: str, args: dict[str, Any], outcome: Outcome) -> None:
        """An early call ended (before the plan adopted or dropped it)."""


@dataclass
class PlanRound:
    """One round of planning and calls: what the core loop and every accelerator share."""

    state: State
    context: Context
    config: RunnableConfig
    catalogue: Catalogue
    question: str
    done: list[ToolResult]  # results of the turn's earlier rounds
    number: int  # 1 for the turn's first round
    run_key: str  # unique to the turn
    caller: str  # whose run this is (`core.callers`)
    store: BaseStore  # what outlives the run (`core.stores`)
    thread: str | None  # the thread a server keeps the run's state in (None: no checkpoints)
    parser: PlanParser
    unit: TaskFetchingUnit
    timings: list[dict[str, Any]] = field(default_factory=list)
    guesses: list[str] = field(default_factory=list)  # plans an accelerator guessed
    approved: set[int] = field(default_factory=set)  # calls a person approved: run them
    kind: str = "plan"  # "approved": the round runs the calls a person approved
    early: EarlyCalls = field(default_factory=EarlyCalls)  # kept by the journal if on

    @property
    def domain(self) -> Domain:
        """Return the domain the round plans for."""
        return self.catalogue.domain


class Accelerator:
    """A speed-up: every event does nothing unless a subclass says otherwise."""

    switch: ClassVar[str] = ""  # the Context field that turns it on

    def __init__(self, round_: PlanRound) -> None:
        """Plug into one round."""
        self.round = round_

    @classmethod
    def wanted(cls, round_: PlanRound) -> bool:
        """Whether it runs in this round: its switch is on (override to narrow it)."""
        return bool(getattr(round_.context, cls.switch, False))

    async def plan_starts(self) -> str | None:
        """The plan starts: return a plan written without the planner, or None."""
        return None

    async def plan_grows(self, text: str) -> None:
        """The planner wrote more: `text` is the plan so far."""

    def call_starts(self, task: Task, args: dict[str, Any]) -> Awaitable[Outcome] | None:
        """A call is about to run: return the same call already under way, or None."""
        return None

    async def call_ends(self, result: ToolResult) -> None:
        """A call ended, before the calls waiting for its result start."""

    async def plan_written(self) -> None:
        """The plan is complete: every line is parsed and its calls are started or queued."""

    async def plan_ends(self, results: list[ToolResult]) -> None:
        """Every call of the plan ended: `results` are the round's and earlier ones."""

    async def cancelled(self) -> None:
        """The round failed or was cancelled: stop whatever is under way."""

    def notes(self) -> dict[str, Any]:
        """Return what the step's timing entry should say of it."""
        return {}

    def timings(self) -> list[dict[str, Any]]:
        """Return timing entries of its own (`state.timings`)."""
        return []

    def state(self) -> dict[str, Any]:
        """Return what it adds to the graph state's update."""
        return {}
