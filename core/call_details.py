"""What a tool call spent besides its own work (waiting for a connection, a thread), for its timing.

A tool reports with `add_to_call(wait_ms=...)`; whoever runs the call collects it with
`call_details()` around it: the fast agent adds it to the call's timing entry
(`engine.scheduler.call_tool`). Tools and nodes both import this module, and neither the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_details: ContextVar[dict[str, float] | None] = ContextVar("call_details", default=None)


def add_to_call(**amounts: float) -> None:
    """Add amounts to the running tool call's details (outside `call_details`: nothing).

    An amount reported twice in one call is summed: a fetch that follows a redirect
    waits for a connection twice.
    """
    details = _details.get()
    if details is not None:
        for name, amount in amounts.items():
            details[name] = details.get(name, 0.0) + amount


@contextmanager
def call_details() -> Iterator[dict[str, float]]:
    """Collect what the tool called inside the block reports, into the dict it yields."""
    details: dict[str, float] = {}
    token = _details.set(details)
    try:
        yield details
    finally:
        _details.reset(token)
