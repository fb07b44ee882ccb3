"""The client boundary: what nodes ask of a model tier, on any OpenAI-compatible server.

Nodes ask for a choice (`choose`), a streamed plan (`stream_plan`), a streamed answer
(`stream_answer`) or a prompt read ahead of time (`read_prompt`), and never learn which
server answers: how a constraint is requested (vLLM's `structured_outputs`, llama.cpp's
`grammar`, OpenAI's `json_schema`) is decided here, by the backend detected from the
server's `/models` answer (or set in the Context). Every call has one total deadline
(connect, prompt reading and every chunk), and a failure names the tier, the server and
the phase it failed in. Which model answers (and `use_models`, the one way to swap the
models) is `serving.chat_models`'s, re-exported here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.constants import TAG_NOSTREAM

from core.callers import caller_id
from core.context import Context, Tier
from core.settings import TierServer, settings
from core.steps import QUEUE_MS
from serving.admission import admitted, server_slots
from serving.chat_models import (
    backend_of,
    chat_model,
    http_client,
    share_cores,
    swapped,
    use_models,
)
from serving.compat import content_text
from serving.constraints import ConcreteBackend, choice_request, grammar_request, json_choice
from serving.deadlines import ModelCallError, deadline, who

__all__ = [
    "ConcreteBackend",
    "ModelCallError",
    "backend_of",
    "chat_model",
    "choice_request",
    "choose",
    "grammar_request",
    "http_client",
    "read_prompt",
    "share_cores",
    "stream_answer",
    "stream_plan",
    "use_models",
]

READ_AHEAD = "read_ahead"  # the tag of a call that only reads a prompt (`read_prompt`)


async def choose(
    context: Context, tier: Tier, messages: Sequence[BaseMessage], choices: Sequence[str]
) -> str | None:
    """Ask a tier to pick one of `choices`; return it, or None if the answer is not one.

    Raises:
        ModelCallError: the server failed or missed the deadline (and so did the fallback).
    """
    backend = await backend_of(context, tier)
    for server in _servers(tier):
        model = chat_model(context, tier, max_tokens=16, server=server)
        bound = model.bind(**choice_request(backend, choices)).with_config(tags=[TAG_NOSTREAM])
        try:
            async with (
                await _slot(tier, server, backend) as queue_ms,
                deadline(context, tier, server, "choosing") as phase,
            ):
                reply = await bound.with_config(_queued(queue_ms)).ainvoke(list(messages))
                phase.first_token()
        except ModelCallError as err:
            if err.unreachable and server is not _servers(tier)[-1]:
                continue  # the fallback's turn
            raise
        break
    text = str(reply.content).strip()
    if backend not in ("vllm", "llama_cpp"):
        text = json_choice(text)
    return text if text in choices else None


async def stream_plan(
    context: Context, tier: Tier, messages: Sequence[BaseMessage], grammar: str
) -> AsyncIterator[str]:
    """Stream a tier's plan as text deltas, its grammar enforced where the server can.

    The deltas stay out of the user-facing `messages` stream (the call is tagged
    `nostream`); the step's callback handler still times the call.

    Raises:
        ModelCallError: the server failed, cut the stream short, streamed an empty plan
            (nothing but blanks) or missed the deadline.
    """
    backend = await backend_of(context, tier)
    servers = _servers(tier)
    for server in servers:
        model = chat_model(context, tier, server=server).bind(**grammar_request(backend, grammar))
        wrote = False
        try:
            async with (
                await _slot(tier, server, backend) as queue_ms,
                deadline(context, tier, server, "planning") as phase,
            ):
                config = _queued(queue_ms) | {"tags": [TAG_NOSTREAM]}
                async for chunk in model.with_config(config).astream(list(messages)):
                    if chunk.text:
                        phase.first_token()
                        wrote = wrote or not chunk.text.isspace()
                        yield chunk.text
        except ModelCallError as err:
            if err.unreachable and server is not servers[-1]:
                continue  # nothing was written yet: the fallback's turn
            raise
        if not wrote:
            raise ModelCallError(f"{who(tier, server)} streamed an empty plan")
        return


async def stream_answer(
    context: Context,
    tier: Tier,
    messages: Sequence[BaseMessage],
    *,
    quiet: bool = False,
    on_text: Callable[[str], None] | None = None,
) -> AIMessage:
    """Stream a tier's answer: its tokens reach the `messages` stream as they come.

    `quiet` keeps them out of that stream (an answer not yet known to be wanted);
    `on_text` receives each text delta.

    Raises:
        ModelCallError: the server failed, cut the stream short, streamed an empty answer
            or missed the deadline.
    """
    backend = await backend_of(context, tier)
    servers = _servers(tier)
    for server in servers:
        answer: AIMessageChunk | None = None
        try:
            async with (
                await _slot(tier, server, backend) as queue_ms,
                deadline(context, tier, server, "answering") as phase,
            ):
                config = _queued(queue_ms) | ({"tags": [TAG_NOSTREAM]} if quiet else {})
                model = chat_model(context, tier, server=server)
                model = model.with_config(config)  # type: ignore[assignment]
                async for chunk in model.astream(list(messages)):
                    if chunk.text:
                        phase.first_token()
                        if on_text is not None:
                            on_text(chunk.text)
                    answer = chunk if answer is None else answer + chunk
        except ModelCallError as err:
            if err.unreachable and server is not servers[-1]:
                continue
            raise
        if answer is None or not content_text(answer.content).strip():
            raise ModelCallError(f"{who(tier, server)} streamed an empty answer")
        return AIMessage(
            content=content_text(answer.content), id=answer.id, usage_metadata=answer.usage_metadata
        )
    raise AssertionError("unreachable: the last server raises")  # pragma: no cover


async def read_prompt(context: Context, tier: Tier, messages: Sequence[BaseMessage]) -> bool:
    """Have a tier's server read a prompt now, for a later call that starts the same way.

    One output token, thrown away: what stays is the prompt in the server's prefix cache
    (llama.cpp's slots, vLLM's prefix caching), so the later call reads only what follows
    it. Only the tier's own server reads it (a fallback would read it for nothing), and
    not models swapped in by `use_models`, which have no prompt cache. Returns whether a
    server read it.

    Raises:
        ModelCallError: the server failed or missed the deadline.
    """
    if swapped():
        return False
    backend = await backend_of(context, tier)
    server = settings().tier(tier)
    model = chat_model(context, tier, max_tokens=1, server=server)
    async with (
        await _slot(tier, server, backend) as queue_ms,
        deadline(context, tier, server, "reading ahead") as phase,
    ):
        config = _queued(queue_ms) | {"tags": [TAG_NOSTREAM, READ_AHEAD]}
        await model.with_config(config).ainvoke(list(messages))
        phase.first_token()
    return True


async def _slot(
    tier: Tier, server: TierServer, backend: ConcreteBackend
) -> AbstractAsyncContextManager[float]:
    """Return the wait for a free slot on a llama.cpp server, in the caller's line.

    Entered, it yields how long the call waited, in ms (`serving.admission`).
    """
    caller = caller_id()
    if swapped() or backend != "llama_cpp":
        return admitted(server.base_url, None, who(tier, server), caller)
    slots = await server_slots(http_client(server.base_url), server.base_url)
    return admitted(server.base_url, slots, who(tier, server), caller)


def _queued(queue_ms: float) -> RunnableConfig:
    """Return the config that hands a call's wait for its slot to its timing (`queue_ms`)."""
    return {"metadata": {QUEUE_MS: round(queue_ms, 1)}}


def _servers(tier: Tier) -> list[TierServer]:
    """Return the tier's server, then the operator's fallback (if one is set)."""
    operator = settings()
    fallback = operator.fallback()
    return [operator.tier(tier), *([fallback] if fallback is not None else [])]
