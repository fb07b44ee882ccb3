"""Read the answer's prompt ahead: results already in reach the server while calls still run.

On a CPU a model reads a new prompt token in 15-30 ms, and the synthesizer's new tokens
are mostly tool results (about 150 on a two-call question: 2.5 s before its first
token). While the last calls of a plan run, the server has nothing to do: the results
in by then, in call order, are sent as the start of the answer's prompt in a one-token
request (`serving.client.read_prompt`). The server keeps that prefix cached, and the
answer reads only the results that came after it and the question.

One read at a time, each only when more results are in than the last one read; the
answer waits for a read under way (llama.cpp would give the answer another slot and it
would read everything again). A read that fails costs the answer nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from core.state import ToolResult
from core.steps import time_apart
from engine.accelerator import Accelerator, PlanRound
from prompts.render import answer_messages
from serving import client
from serving.client import READ_AHEAD as STEP  # one name: the step, the tag, the report

log = logging.getLogger(__name__)

Read = Callable[[list[ToolResult]], Awaitable[bool]]


class ReadAhead:
    """Send the answer's prompt ahead each time more results are in and calls still run.

    Args:
        read: has the server read the answer's prompt with these results (True if one did).
    """

    def __init__(self, read: Read) -> None:
        """Start with nothing read."""
        self.read = read
        self.sent = 0  # results in the last prompt sent
        self.reading: asyncio.Task[None] | None = None
        self.timings: list[dict[str, Any]] = []  # one entry per read, for `state.timings`

    def update(self, ready: Sequence[ToolResult], pending: bool) -> None:
        """Note the results in so far (in call order, with no gap) and whether calls still run."""
        if not pending or len(ready) <= self.sent:
            return  # the answer is next, or nothing new to read
        if self.reading is not None and not self.reading.done():
            return  # one at a time: the next result to end tries again
        self.sent = len(ready)
        self.reading = asyncio.create_task(self._read(list(ready)), name=STEP)

    async def finish(self) -> None:
        """Wait for the read under way, if any: the answer's prompt starts where it ends."""
        if self.reading is not None:
            await self.reading

    async def cancel(self) -> None:
        """Stop the read under way (the run was cancelled or failed)."""
        if self.reading is not None:
            self.reading.cancel()
            await asyncio.gather(self.reading, return_exceptions=True)

    async def _read(self, results: list[ToolResult]) -> None:
        details: dict[str, Any] = {}
        time_apart(details)  # its model call is this entry's, not the planning step's
        start = time.time()
        try:
            read = await self.read(results)
        except Exception as err:  # noqa: BLE001  # whatever went wrong, the answer goes on
            log.warning("reading the answer's prompt ahead failed: %s", err)
            read, details["error"] = False, str(err)
        if read or "error" in details:
            end = time.time()
            self.timings.append(
                {"step": STEP, "start": start, "end": end, "ms": (end - start) * 1000,
                 "results": len(results), **details}
            )  # fmt: skip


class ReadAheadResults(Accelerator):
    """While the last calls run, the synthesizer's server reads the results already in."""

    switch = "read_ahead"

    def __init__(self, round_: PlanRound) -> None:
        """Nothing read yet."""
        super().__init__(round_)
        self.reader = ReadAhead(self._read)

    async def call_ends(self, result: ToolResult) -> None:
        """Send the results in so far, unless another round is planned (it reads them).

        Looked at once the unit has the result (next turn of the event loop).
        """
        asyncio.get_running_loop().call_soon(self._update)

    async def plan_written(self) -> None:
        """Send the results already in, if calls still run."""
        self._update()

    def _update(self) -> None:
        round_ = self.round
        if round_.parser.ended and not round_.parser.replan:
            self.reader.update(round_.unit.ready(), round_.unit.running_calls() > 0)

    async def plan_ends(self, results: list[ToolResult]) -> None:
        """Wait for the read under way: the answer's prompt starts where it ends."""
        await self.reader.finish()

    async def cancelled(self) -> None:
        """Stop the read under way."""
        await self.reader.cancel()

    def timings(self) -> list[dict[str, Any]]:
        """Return one entry per read."""
        return self.reader.timings

    async def _read(self, results: list[ToolResult]) -> bool:
        round_ = self.round
        messages = answer_messages(round_.state, round_.domain, results, question=None)
        return await client.read_prompt(round_.context, "synthesizer", messages)
