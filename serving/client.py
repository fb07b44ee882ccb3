"""The client boundary: what nodes ask of a model tier, on any OpenAI-compatible server.

Nodes ask for a choice (`choose`), a streamed plan (`stream_plan`), a streamed answer
(`stream_answer`) or a prompt read ahead of time (`read_prompt`), and never learn which
server answers: how a constraint is requested (vLLM's `structured_outputs`, llama.cpp's
`grammar`, OpenAI's `json_schema`) is decided here, by the backend detected from the
server's `/models` answer (or set in the Context). Every call has one total deadline
(connect, prompt reading and every chunk), and a failure names the tier, the server and
the phase it failed in. `use_models` is the one way to swap the models (scripted ones in
tests, the simulated GPU in evals).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from contextvars import ContextVar
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.constants import TAG_NOSTREAM

from core.callers import caller_id
from core.context import Context, Tier
from core.settings import TierServer, settings
from core.steps import QUEUE_MS
from serving.admission import admitted, server_slots
from serving.compat import CompatChatOpenAI, content_text
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
    "stream_answer",
    "stream_plan",
    "use_models",
]

READ_AHEAD = "read_ahead"  # the tag of a call that only reads a prompt (`read_prompt`)
ModelFactory = Callable[..., BaseChatModel]

# One pooled client per (event loop, base URL): httpx connections belong to a loop.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)
# Chat models are cached with their clients, per loop (a dead loop takes both with it).
_models: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[Any, ...], BaseChatModel]
] = weakref.WeakKeyDictionary()
_backends: dict[str, ConcreteBackend] = {}
_override: ContextVar[tuple[ModelFactory, ConcreteBackend] | None] = ContextVar(
    "model_override", default=None
)


def http_client(base_url: str, timeout: float = 120.0) -> httpx.AsyncClient:
    """Return the pooled async HTTP client for a model server, made once per event loop."""
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    if base_url not in per_loop:
        per_loop[base_url] = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=5.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )
    return per_loop[base_url]


@contextmanager
def use_models(factory: ModelFactory, backend: ConcreteBackend = "openai") -> Iterator[None]:
    """Answer every tier's model calls with `factory(context, tier, **kwargs)` for a while.

    The override lives in a context variable, so it reaches every node of a graph run
    started inside the `with` block, and nothing outside it.
    """
    previous = _override.get()
    _override.set((factory, backend))
    try:
        yield
    finally:
        _override.set(previous)


def chat_model(
    context: Context,
    tier: Tier,
    *,
    max_tokens: int | None = None,
    tools: bool = False,
    server: TierServer | None = None,
) -> BaseChatModel:
    """Return the (cached) chat model of a tier, on its server's pooled HTTP client.

    The server is the operator's (`core.settings`), or `server` (the fallback); the
    answer length and the deadline are the run's. With `tools`, the model also reads
    tool calls a small model wrote as text. The ReAct baseline and the warm-up use this.
    """
    override = _override.get()
    if override is not None:
        return override[0](context, tier, max_tokens=max_tokens, tools=tools)
    where = server or settings().tier(tier)
    tokens = max_tokens or context.max_tokens(tier)
    timeout = context.llm_timeout_seconds
    models = _models.setdefault(asyncio.get_running_loop(), {})
    key = (where.base_url, where.model, tokens, timeout, tools)
    if key not in models:
        models[key] = CompatChatOpenAI(
            model=where.model,
            base_url=where.base_url,
            api_key=_api_key(),  # type: ignore[arg-type]
            max_tokens=tokens,  # type: ignore[call-arg]
            temperature=0,
            timeout=timeout,
            stream_chunk_timeout=timeout,
            max_retries=1,  # a refused connection or a 5xx, within the call's total deadline
            stream_usage=True,  # off by default for non-OpenAI URLs; usage feeds the timings
            http_async_client=http_client(where.base_url, timeout),
            text_tool_calls=tools,
        )
    return models[key]


def _api_key() -> str:
    return os.environ.get("OPENAI_API_KEY") or "not-needed"


async def backend_of(context: Context, tier: Tier) -> ConcreteBackend:
    """Return which server a tier talks to: configured, or detected once from `/models`."""
    override = _override.get()
    if override is not None:
        return override[1]
    operator = settings()
    if operator.llm_backend != "auto":
        return operator.llm_backend
    base_url = operator.tier(tier).base_url
    if base_url not in _backends:
        detected = await _detect_backend(base_url)
        if detected is None:  # no answer (yet): assume a standard server, ask again next time
            return "openai"
        _backends[base_url] = detected
    return _backends[base_url]


async def _detect_backend(base_url: str) -> ConcreteBackend | None:
    """Tell llama.cpp, vLLM and others apart by the `owned_by` of the served models."""
    try:
        response = await http_client(base_url).get(
            f"{base_url}/models", headers={"Authorization": f"Bearer {_api_key()}"}, timeout=5.0
        )
        owners = {m.get("owned_by") for m in response.json().get("data", [])}
    except (httpx.HTTPError, ValueError, AttributeError, TypeError):
        return None
    if "vllm" in owners:
        return "vllm"
    if "me" in owners or "llamacpp" in owners:  # llama-cpp-python / llama.cpp server
        return "llama_cpp"
    return "openai"


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
    if _override.get() is not None:
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
    if _override.get() is not None or backend != "llama_cpp":
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
