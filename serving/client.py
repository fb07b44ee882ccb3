"""The client boundary: what nodes ask of a model tier, on any OpenAI-compatible server.

Nodes ask for a choice (`choose`), a streamed plan (`stream_plan`) or a streamed answer
(`stream_answer`), and never learn which server answers: how a constraint is requested
(vLLM's `structured_outputs`, llama.cpp's `grammar`, OpenAI's `json_schema`) is decided
here, by the backend detected from the server's `/models` answer (or set in the
Context). Every call has one total deadline (connect, prompt reading and every chunk),
and a failure names the tier, the server and the phase it failed in. `use_models` is
the one way to swap the models (scripted ones in tests, the simulated GPU in evals).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langgraph.constants import TAG_NOSTREAM

from graphs.context import Context, Tier
from serving.compat import CompatChatOpenAI, ModelReplyError, content_text

ConcreteBackend = Literal["llama_cpp", "vllm", "openai"]
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


class ModelCallError(RuntimeError):
    """A model call failed: the message names the tier, model, server and phase."""


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
    context: Context, tier: Tier, *, max_tokens: int | None = None, tools: bool = False
) -> BaseChatModel:
    """Return the (cached) chat model of a tier, on the tier's pooled HTTP client.

    With `tools`, the model also reads tool calls a small model wrote as text (on the
    open-model servers). The ReAct baseline and the warm-up use this directly.
    """
    override = _override.get()
    if override is not None:
        return override[0](context, tier, max_tokens=max_tokens, tools=tools)
    settings = context.tier(tier)
    tokens = max_tokens or settings.max_tokens
    timeout = context.llm_timeout_seconds
    models = _models.setdefault(asyncio.get_running_loop(), {})
    key = (settings.base_url, settings.model, tokens, timeout, tools)
    if key not in models:
        models[key] = CompatChatOpenAI(
            model=settings.model,
            base_url=settings.base_url,
            api_key=_api_key(),  # type: ignore[arg-type]
            max_tokens=tokens,  # type: ignore[call-arg]
            temperature=0,
            timeout=timeout,
            stream_chunk_timeout=timeout,
            max_retries=1,  # a refused connection or a 5xx, within the call's total deadline
            stream_usage=True,  # off by default for non-OpenAI URLs; usage feeds the timings
            http_async_client=http_client(settings.base_url, timeout),
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
    if context.llm_backend != "auto":
        return context.llm_backend
    base_url = context.tier(tier).base_url
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


def choice_request(backend: ConcreteBackend, choices: Sequence[str]) -> dict[str, Any]:
    """Return the request fields that make a backend answer with exactly one of `choices`.

    vLLM and llama.cpp constrain the output to the words themselves (one or two tokens);
    others get a JSON object `{"choice": ...}` whose schema limits it to the choices.
    """
    if backend == "vllm":
        return {"extra_body": {"structured_outputs": {"choice": list(choices)}}}
    if backend == "llama_cpp":
        return {"extra_body": {"grammar": "root ::= " + " | ".join(f'"{c}"' for c in choices)}}
    schema = {
        "type": "object",
        "properties": {"choice": {"type": "string", "enum": list(choices)}},
        "required": ["choice"],
        "additionalProperties": False,
    }
    return {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "Choice", "schema": schema, "strict": True},
        }
    }


def grammar_request(backend: ConcreteBackend, grammar: str) -> dict[str, Any]:
    """Return the request fields that make a backend's decoder follow a GBNF grammar.

    Servers without grammars (OpenAI and others) get nothing: the caller parses and
    validates what comes back.
    """
    if backend == "vllm":
        return {"extra_body": {"structured_outputs": {"grammar": grammar}}}
    if backend == "llama_cpp":
        return {"extra_body": {"grammar": grammar}}
    return {}


async def choose(
    context: Context, tier: Tier, messages: Sequence[BaseMessage], choices: Sequence[str]
) -> str | None:
    """Ask a tier to pick one of `choices`; return it, or None if the answer is not one.

    Raises:
        ModelCallError: the server failed or missed the deadline.
    """
    backend = await backend_of(context, tier)
    model = chat_model(context, tier, max_tokens=16).bind(**choice_request(backend, choices))
    async with _deadline(context, tier, "choosing") as phase:
        reply = await model.with_config(tags=[TAG_NOSTREAM]).ainvoke(list(messages))
        phase.first_token()
    text = str(reply.content).strip()
    if backend not in ("vllm", "llama_cpp"):
        text = _json_choice(text)
    return text if text in choices else None


def _json_choice(text: str) -> str:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return str(value.get("choice", "")) if isinstance(value, dict) else text


async def stream_plan(
    context: Context, tier: Tier, messages: Sequence[BaseMessage], grammar: str
) -> AsyncIterator[str]:
    """Stream a tier's plan as text deltas, its grammar enforced where the server can.

    The deltas stay out of the user-facing `messages` stream (the call is tagged
    `nostream`); the step's callback handler still times the call.

    Raises:
        ModelCallError: the server failed, cut the stream short or missed the deadline.
    """
    backend = await backend_of(context, tier)
    model = chat_model(context, tier).bind(**grammar_request(backend, grammar))
    async with _deadline(context, tier, "planning") as phase:
        async for chunk in model.with_config(tags=[TAG_NOSTREAM]).astream(list(messages)):
            text = chunk.text
            if text:
                phase.first_token()
                yield text


async def stream_answer(context: Context, tier: Tier, messages: Sequence[BaseMessage]) -> AIMessage:
    """Stream a tier's answer: its tokens reach the `messages` stream as they come.

    Raises:
        ModelCallError: the server failed, cut the stream short, streamed an empty answer
            or missed the deadline.
    """
    answer: AIMessageChunk | None = None
    async with _deadline(context, tier, "answering") as phase:
        async for chunk in chat_model(context, tier).astream(list(messages)):
            if chunk.text:
                phase.first_token()
            answer = chunk if answer is None else answer + chunk
    if answer is None or not content_text(answer.content).strip():
        raise ModelCallError(f"{_who(context, tier)} streamed an empty answer")
    return AIMessage(
        content=content_text(answer.content), id=answer.id, usage_metadata=answer.usage_metadata
    )


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


class _deadline:  # noqa: N801  # used as `async with _deadline(...)`
    """One total deadline for a model call; failures become a `ModelCallError` naming it."""

    def __init__(self, context: Context, tier: Tier, doing: str) -> None:
        self.context, self.tier, self.doing = context, tier, doing
        self.phase = _Phase()
        self.timeout = asyncio.timeout(context.llm_timeout_seconds)

    async def __aenter__(self) -> _Phase:
        await self.timeout.__aenter__()
        return self.phase

    async def __aexit__(self, kind: Any, error: Any, traceback: Any) -> bool:
        try:
            await self.timeout.__aexit__(kind, error, traceback)
        except TimeoutError:
            raise ModelCallError(
                f"{_who(self.context, self.tier)} gave no complete answer within "
                f"{self.context.llm_timeout_seconds:g} s while {self.doing}, "
                f"{self.phase.describe()}"
            ) from None
        if error is None or isinstance(error, asyncio.CancelledError | ModelCallError):
            return False
        if isinstance(error, openai.APIConnectionError | httpx.TransportError):
            reason = f"could not be reached ({type(error).__name__})"
        elif isinstance(error, openai.APIStatusError):
            reason = f"answered HTTP {error.status_code}: {str(error)[:200]}"
        elif isinstance(error, ModelReplyError | openai.APIError | ValueError):
            reason = str(error)[:300]
        elif isinstance(error, Exception):  # a reply the SDK could not even read
            reason = f"its reply could not be read ({type(error).__name__}: {str(error)[:200]})"
        else:
            return False
        raise ModelCallError(
            f"{_who(self.context, self.tier)} failed while {self.doing}, "
            f"{self.phase.describe()}: {reason}"
        ) from error


def _who(context: Context, tier: Tier) -> str:
    settings = context.tier(tier)
    return f"the {tier} model {settings.model!r} at {settings.base_url}"
