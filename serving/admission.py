"""Admission: a llama.cpp server gets no more model calls at once than it has slots, shared fairly.

A llama.cpp server decodes `total_slots` requests together and queues the rest inside,
where nothing tells them apart from a server that hangs: with 16 runs at once on 4 slots
of a 2-core machine, most calls spent their whole deadline in that queue (89 of 197
runs of the soak failed that way). So each call first waits here for one of the
server's slots; its own deadline starts once it has one. vLLM schedules and batches
what it is sent, and other servers say nothing of their capacity: their calls go
straight through.

The slots are shared between callers (`core.callers.caller_id`: an API key behind the
served API). Each caller's calls wait in a line of their own, first come first served;
a slot that comes free goes to the waiting caller that holds the fewest of the server's
slots (of those, the one whose last turn is longest ago; a caller that was idle first).
So one caller's flood of calls cannot push another's to the back: a newcomer waits for
one of the flood's calls to end, not for all of them. The operator may also cap how many
slots one caller holds at once (`MAX_SLOTS_PER_CALLER`), which keeps slots free for
newcomers at the cost of leaving them idle when one caller is alone.

The gate lives in one process. When several API processes share a server (`make stack`
runs two), each would admit all its slots and the server would get several times as many
calls as it decodes: through the two-process stack, 62 of 197 runs failed so, their
deadlines spent in the server's queue. So the operator says how many processes share the
model servers (`API_PROCESSES`; `make stack` sets it from its `--workers`) and each
process admits its share, `slots // API_PROCESSES`, at least one: together never more
than the server's slots (a remainder stays idle: give the server a multiple of the
processes), and never fewer than one each. The share is fixed, not lent: a process with
idle slots does not give them to a busy one, which is the price of no shared queue.
Fairness between callers, and `MAX_SLOTS_PER_CALLER`, hold within each process.

The wait is bounded (the operator's `MAX_QUEUE_SECONDS`) and fails with a message that
says the server is busy, not that it is broken. A call cancelled while it waits leaves
its line and takes no slot with it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import weakref
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from core.settings import settings
from serving.deadlines import ModelCallError

_slots: dict[str, int | None] = {}  # base URL -> its llama.cpp slots (None: no limit)
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, FairGate]] = (
    weakref.WeakKeyDictionary()
)


async def server_slots(http: httpx.AsyncClient, base_url: str) -> int | None:
    """Return how many requests a llama.cpp server decodes at once (`/props`), once per URL.

    None (no limit) when the server does not say; asked again next time if it did not answer.
    """
    if base_url in _slots:
        return _slots[base_url]
    root = base_url.removesuffix("/").removesuffix("/v1")
    try:
        response = await http.get(f"{root}/props", timeout=5.0)
        slots = response.json().get("total_slots") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    _slots[base_url] = slots if isinstance(slots, int) and slots > 0 else None
    return _slots[base_url]


def share_of(slots: int, processes: int) -> int:
    """Return the slots one of `processes` API processes admits: an equal share, at least 1."""
    return max(1, slots // max(1, processes))


@dataclass(eq=False)
class _Waiter:
    """One call waiting in its caller's line."""

    caller: str
    ticket: int  # arrival order
    granted: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class FairGate:
    """The slots of one server, handed out in turn to the callers waiting for them.

    Invariant: after every change, no slot is free while a caller under its cap waits.
    A caller's record (slots held, line, last turn) goes once it holds and waits for none.
    """

    def __init__(self, slots: int, per_caller: int | None = None) -> None:
        """`slots` at once in all; at most `per_caller` of them for one caller (None: no cap)."""
        self.slots = slots
        self.per_caller = per_caller
        self.held: Counter[str] = Counter()
        self.lines: dict[str, deque[_Waiter]] = {}
        self.last_turn: dict[str, int] = {}  # when a caller last got a slot (a ticket)
        self._tickets = itertools.count()

    @property
    def free(self) -> int:
        """How many slots no call holds."""
        return self.slots - self.held.total()

    def capped(self, caller: str) -> bool:
        """Whether a caller holds all the slots the operator lets one caller hold."""
        return self.per_caller is not None and self.held[caller] >= self.per_caller

    async def acquire(self, caller: str) -> None:
        """Wait for a slot, in the caller's line; cancelled, leave the line (or the slot)."""
        if self.free > 0 and not self.capped(caller):
            self._grant(caller)  # the invariant: whoever waits now is capped
            return
        waiter = _Waiter(caller, next(self._tickets))
        self.lines.setdefault(caller, deque()).append(waiter)
        try:
            await waiter.granted
        except BaseException:
            if waiter.granted.done() and not waiter.granted.cancelled():
                self.release(caller)  # granted as it was cancelled: hand the slot on
            else:
                self._leave(waiter)
            raise

    def release(self, caller: str) -> None:
        """Give a slot back; it goes to the next caller in turn."""
        self.held[caller] -= 1
        if self.held[caller] <= 0:
            del self.held[caller]
        self._forget_if_idle(caller)
        self._hand_out()

    def _grant(self, caller: str) -> None:
        self.held[caller] += 1
        self.last_turn[caller] = next(self._tickets)

    def _leave(self, waiter: _Waiter) -> None:
        line = self.lines.get(waiter.caller)
        if line is not None and waiter in line:
            line.remove(waiter)
            if not line:
                del self.lines[waiter.caller]
        self._forget_if_idle(waiter.caller)

    def _forget_if_idle(self, caller: str) -> None:
        if caller not in self.held and caller not in self.lines:
            self.last_turn.pop(caller, None)

    def _turn_order(self, caller: str) -> tuple[int, int, int]:
        """Who goes first: fewest slots held, then the longest since its last turn."""
        return (self.held[caller], self.last_turn.get(caller, -1), self.lines[caller][0].ticket)

    def _hand_out(self) -> None:
        """Grant the free slots to the waiting callers, in turn (`_turn_order`)."""
        while self.free > 0:
            turns = [c for c, line in self.lines.items() if line and not self.capped(c)]
            if not turns:
                return
            caller = min(turns, key=self._turn_order)
            line = self.lines[caller]
            waiter = line.popleft()
            if not line:
                del self.lines[caller]
            if waiter.granted.done():  # cancelled, and not yet out of its line
                self._forget_if_idle(caller)
                continue
            self._grant(caller)
            waiter.granted.set_result(None)


@asynccontextmanager
async def admitted(
    base_url: str, slots: int | None, name: str, caller: str
) -> AsyncIterator[float]:
    """Hold one of this process's share of `slots` for `caller` while the block runs.

    No limit when `slots` is None; the share is `share_of(slots, API_PROCESSES)`.

    Yields:
        How long the call waited for its slot, in milliseconds.

    Raises:
        ModelCallError: no slot came free for this caller within `MAX_QUEUE_SECONDS`.
    """
    if slots is None:
        yield 0.0
        return
    operator = settings()
    gates = _gates.setdefault(asyncio.get_running_loop(), {})
    if base_url not in gates:
        share = share_of(slots, operator.api_processes)
        gates[base_url] = FairGate(share, operator.max_slots_per_caller or None)
    gate = gates[base_url]
    wait = operator.max_queue_seconds
    started = time.monotonic()
    try:
        async with asyncio.timeout(wait):
            await gate.acquire(caller)
    except TimeoutError:
        raise ModelCallError(_busy(name, gate, caller, wait)) from None
    try:
        yield (time.monotonic() - started) * 1000
    finally:
        gate.release(caller)


def _busy(name: str, gate: FairGate, caller: str, wait: float) -> str:
    """Say why no slot came: the server was full, or this caller held its share."""
    if gate.capped(caller):
        why = (
            f"your calls hold {gate.held[caller]} of its {gate.slots} slots, the most one "
            "caller may (MAX_SLOTS_PER_CALLER)"
        )
    else:
        processes = settings().api_processes
        each = f" from each of {processes} API processes" if processes > 1 else ""
        why = f"{gate.slots} calls at once{each}, MAX_QUEUE_SECONDS"
    return (
        f"{name} is busy: no free slot within {wait:g} s ({why}); try again later or "
        "serve fewer runs at once"
    )
