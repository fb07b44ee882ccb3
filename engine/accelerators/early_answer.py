"""Answer while planning: when the router was unsure, the direct answer starts with the plan.

An unsure router sends the question to the planner, which plans calls or writes none;
with none, the question is answered directly, and without this that answer starts only
once the plan is over: two model calls one after the other. Here the direct answer starts
beside the planner, its tokens held back (nothing reaches the user or the thread). The
moment the plan's first line is not `join()` it is cancelled (the small model wrote a few
tokens for nothing); when the plan has no call, `answer_directly` streams what is already
written, then the rest as it comes. Not where the router's and the planner's models are
separate llama.cpp processes on this machine (the embedded servers): there the two calls
share the cores and each runs several times slower (`serving.chat_models.share_cores`).

The answer is a model call in flight, so it cannot go in the run's state or the store:
it is held in the event loop running the run (a per-process resource, `core.resources`)
under a random key kept in the run's state, so only the run that started it can take
it, and only in the turn it was begun for (the key names the turn; `route_query` drops
an older one when a new question starts); one not taken within `KEEP_SECONDS` is
cancelled. A run resumed elsewhere finds none and asks for the answer again.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from core.context import Context, Tier
from core.resources import PerLoop
from core.state import ToolResult, turn_of
from core.steps import time_apart
from engine.accelerator import Accelerator, PlanRound
from prompts.render import direct_messages
from serving import client

KEEP_SECONDS = 300.0  # an answer its run never took (the run was cancelled) is dropped
_NO_CALL = "1.join()"  # a plan without calls, spaces removed


@dataclass
class EarlyAnswer:
    """A direct answer being written while the planner decides."""

    task: asyncio.Task[AIMessage]
    texts: list[str] = field(default_factory=list)  # the streamed deltas so far
    details: dict[str, Any] = field(default_factory=dict)  # its model call's timing
    started: float = field(default_factory=time.time)
    grew: asyncio.Event = field(default_factory=asyncio.Event)
    shown: bool = False  # some of it reached the user

    def add(self, text: str) -> None:
        """Keep one streamed delta (called by the model call as tokens arrive)."""
        self.texts.append(text)
        self.grew.set()

    async def deltas(self) -> AsyncIterator[str]:
        """Yield every delta, those already written first, until the answer ends.

        Raises:
            Exception: what the model call raised (a `ModelCallError`, say).
        """
        sent = 0
        while True:
            self.grew.clear()
            while sent < len(self.texts):
                yield self.texts[sent]
                sent += 1
            if self.task.done():
                break
            waiter = asyncio.ensure_future(self.grew.wait())
            await asyncio.wait([waiter, self.task], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        for text in self.texts[sent:]:
            yield text
        self.task.result()  # the call's error, if it failed


_held: PerLoop[dict[str, EarlyAnswer]] = PerLoop(dict)


Writer = Callable[[EarlyAnswer], Coroutine[Any, Any, AIMessage]]


def start(write: Writer) -> EarlyAnswer:
    """Start `write(answer)` in the background; return the answer it fills."""
    answer = EarlyAnswer(task=None)  # type: ignore[arg-type]  # the task needs the answer first
    answer.task = asyncio.create_task(write(answer), name="direct answer")
    answer.task.add_done_callback(lambda _: answer.grew.set())
    return answer


def begin(write: Writer, turn: int) -> str:
    """Start `write(answer)` for a turn in the background; return the key that takes it."""
    _drop_stale()
    key = f"{turn}-{uuid.uuid4().hex}"
    _held.get()[key] = start(write)
    return key


def take(key: str | None, turn: int | None = None) -> EarlyAnswer | None:
    """Return the answer begun under `key` (once), or None; with `turn`, only that turn's."""
    if not key or (turn is not None and not key.startswith(f"{turn}-")):
        return None
    return _held.get().pop(key, None)


async def cancel(key: str | None) -> None:
    """Cancel the answer begun under `key`, if any, and wait for it to stop."""
    answer = take(key)
    if answer is not None:
        answer.task.cancel()
        await asyncio.gather(answer.task, return_exceptions=True)


def plans_a_call(plan_text: str) -> bool:
    """Whether a plan being streamed already shows a call (it does not begin `1. join()`)."""
    text = re.sub(r"\s+", "", plan_text)
    return not (_NO_CALL.startswith(text) or text.startswith(_NO_CALL))


def _drop_stale() -> None:
    now, held = time.time(), _held.get()
    for key in [k for k, a in held.items() if now - a.started > KEEP_SECONDS]:
        held.pop(key).task.cancel()


async def write_answer(
    context: Context, tier: Tier, messages: list[BaseMessage], answer: EarlyAnswer
) -> AIMessage:
    """Write a tier's answer into `answer`, kept out of the user's stream until shown."""
    return await client.stream_answer(context, tier, messages, quiet=True, on_text=answer.add)


class AnswerWhilePlanning(Accelerator):
    """Begin the direct answer beside the planner; drop it once the plan names a call."""

    switch = "answer_while_planning"

    def __init__(self, round_: PlanRound) -> None:
        """Nothing begun yet."""
        super().__init__(round_)
        self.key: str | None = None

    @classmethod
    def wanted(cls, round_: PlanRound) -> bool:
        """Only when the planner decides the route, in a turn's first round."""
        decided = round_.state.route_decided_by == "planner"
        return round_.context.answer_while_planning and decided and not round_.done

    async def plan_starts(self) -> None:
        """Begin the direct answer, its tokens held back; never on the planner's cores."""
        round_ = self.round
        if await client.share_cores(round_.context, "router", "planner"):
            return  # both would run at a fraction of their speed: the plan decides first
        messages = direct_messages(round_.state, round_.context, round_.domain)
        write = partial(_answer_early, round_.context, messages)
        self.key = begin(write, turn_of(round_.state.messages))

    async def plan_grows(self, text: str) -> None:
        """Drop the answer the moment the plan shows a call: this is no direct answer."""
        if self.key and plans_a_call(text):
            await cancel(self.key)
            self.key = None

    async def plan_ends(self, results: list[ToolResult]) -> None:
        """Drop the answer when the plan's calls gave results to answer from."""
        if any(r["index"] not in {d["index"] for d in self.round.done} for r in results):
            await cancel(self.key)
            self.key = None

    async def cancelled(self) -> None:
        """Drop the answer."""
        await cancel(self.key)

    def notes(self) -> dict[str, Any]:
        """Say whether the answer is still held for `answer_directly`."""
        return {"answer_while_planning": self.key is not None}

    def state(self) -> dict[str, Any]:
        """Hand the held answer's key to `answer_directly`."""
        return {"early_answer": self.key}


async def _answer_early(
    context: Context, messages: list[BaseMessage], answer: EarlyAnswer
) -> AIMessage:
    """Write the direct answer quietly, timed apart for `answer_directly` to report."""
    time_apart(answer.details)
    return await write_answer(context, "router", messages, answer)
