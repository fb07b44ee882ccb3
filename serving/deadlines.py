"""One total deadline per model call, and failures that name the tier, the server and the phase.

A model call may fail in many ways: the server cannot be reached, answers an HTTP error
or a page that is no completion, closes the stream early, or sends nothing useful until
the deadline (connect, prompt reading and every chunk count). Each becomes a
`ModelCallError` that says which tier, which model at which server, doing what, and
whether it failed before its first token or while streaming.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import openai

from core.context import Context, Tier
from core.settings import TierServer
from serving.compat import ModelReplyError


class ModelCallError(RuntimeError):
    """A model call failed: the message names the tier, model, server and phase."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        """`unreachable`: the server could not be reached at all (the fallback may be)."""
        super().__init__(message)
        self.unreachable = unreachable


class _Phase:
    """Where a model call is: waiting for its first token, or streaming."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.first_at: float | None = None

    def first_token(self) -> None:
        if self.first_at is None:
            self.first_at = time.monotonic()

    def describe(self) -> str:
        if self.first_at is None:
            return "before the first token (reading the prompt)"
        return f"while streaming ({self.first_at - self.started:.1f} s to the first token)"


class deadline:  # noqa: N801  # used as `async with deadline(...)`
    """One total deadline for a model call; failures become a `ModelCallError` naming it."""

    def __init__(self, context: Context, tier: Tier, server: TierServer, doing: str) -> None:
        self.context, self.tier, self.server, self.doing = context, tier, server, doing
        self.phase = _Phase()
        self.timeout = asyncio.timeout(context.llm_timeout_seconds)

    async def __aenter__(self) -> _Phase:
        await self.timeout.__aenter__()
        return self.phase

    async def __aexit__(self, kind: Any, error: Any, traceback: Any) -> bool:
        name = who(self.tier, self.server)
        try:
            await self.timeout.__aexit__(kind, error, traceback)
        except TimeoutError:
            raise ModelCallError(
                f"{name} gave no complete answer within {self.context.llm_timeout_seconds:g} s "
                f"while {self.doing}, {self.phase.describe()}"
            ) from None
        if error is None or isinstance(error, asyncio.CancelledError | ModelCallError):
            return False
        unreachable = False
        if isinstance(error, openai.APIConnectionError | httpx.TransportError):
            reason = f"could not be reached ({type(error).__name__})"
            unreachable = self.phase.first_at is None
        elif isinstance(error, openai.APIStatusError):
            reason = f"answered HTTP {error.status_code}: {str(error)[:200]}"
        elif isinstance(error, ModelReplyError | openai.APIError | ValueError):
            reason = str(error)[:300]
        elif isinstance(error, Exception):  # a reply the SDK could not even read
            reason = f"its reply could not be read ({type(error).__name__}: {str(error)[:200]})"
        else:
            return False
        raise ModelCallError(
            f"{name} failed while {self.doing}, {self.phase.describe()}: {reason}",
            unreachable=unreachable,
        ) from error


def who(tier: Tier, server: TierServer) -> str:
    """Name a tier's model and server, for error messages."""
    return f"the {tier} model {server.model!r} at {server.base_url}"
