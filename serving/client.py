"""The client boundary: chat models for any OpenAI-compatible server, quirks kept here.

Nodes ask for a model tier and get a `ChatOpenAI`; what differs between servers
(how structured output is requested, which payloads a server rejects) is decided
by the backend, detected from the server's `/models` answer or set explicitly.
"""

from __future__ import annotations

import asyncio
import json
import os
import weakref
from typing import Any, Literal, TypeVar

import httpx
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from graphs.context import Context

Tier = Literal["router", "planner", "synthesizer"]
ConcreteBackend = Literal["llama_cpp", "vllm", "openai"]
SchemaT = TypeVar("SchemaT", bound=BaseModel)

# One pooled client per (event loop, base URL): httpx connections belong to a loop.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)
_backends: dict[str, ConcreteBackend] = {}
_models: dict[tuple[Any, ...], ChatOpenAI] = {}


def http_client(base_url: str, timeout: float = 120.0) -> httpx.AsyncClient:
    """Return the pooled async HTTP client for a server, made once per event loop."""
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    if base_url not in per_loop:
        per_loop[base_url] = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=5.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )
    return per_loop[base_url]


class CompatChatOpenAI(ChatOpenAI):
    """`ChatOpenAI` that sends `""` rather than `null` as an assistant message's content.

    llama.cpp's server answers HTTP 500 to `content: null` beside tool calls; every
    server accepts `""`, so this applies to all backends.
    """

    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        for message in payload.get("messages", []):
            if message.get("role") == "assistant" and message.get("content") is None:
                message["content"] = ""
        return payload


def tier_settings(context: Context, tier: Tier) -> tuple[str, str, int]:
    """Return (base_url, model, max_tokens) of a tier."""
    return (
        getattr(context, f"{tier}_base_url"),
        getattr(context, f"{tier}_model"),
        getattr(context, f"{tier}_max_tokens"),
    )


def chat_model(context: Context, tier: Tier, *, max_tokens: int | None = None) -> ChatOpenAI:
    """Return the (cached) chat model of a tier, on the tier's pooled HTTP client."""
    base_url, model, default_max = tier_settings(context, tier)
    tokens = max_tokens or default_max
    loop = asyncio.get_running_loop()
    key = (id(loop), base_url, model, tokens, context.llm_timeout_seconds)
    if key not in _models:
        _models[key] = CompatChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=_api_key(base_url),  # type: ignore[arg-type]
            max_tokens=tokens,  # type: ignore[call-arg]
            temperature=0,
            timeout=context.llm_timeout_seconds,
            max_retries=1,
            stream_usage=True,  # off by default for non-OpenAI URLs; usage feeds the timings
            http_async_client=http_client(base_url, context.llm_timeout_seconds),
        )
    return _models[key]


def _api_key(base_url: str) -> str:
    return os.environ.get("OPENAI_API_KEY") or "not-needed"


async def backend_of(context: Context, tier: Tier) -> ConcreteBackend:
    """Return which server a tier talks to: configured, or detected once from `/models`."""
    if context.llm_backend != "auto":
        return context.llm_backend
    base_url = getattr(context, f"{tier}_base_url")
    if base_url not in _backends:
        _backends[base_url] = await _detect_backend(base_url)
    return _backends[base_url]


async def _detect_backend(base_url: str) -> ConcreteBackend:
    """Tell llama.cpp, vLLM and others apart by the `owned_by` of the served models."""
    try:
        response = await http_client(base_url).get(
            f"{base_url}/models", headers={"Authorization": f"Bearer {_api_key(base_url)}"}
        )
        owners = {m.get("owned_by") for m in response.json().get("data", [])}
    except (httpx.HTTPError, ValueError, AttributeError):
        return "openai"  # the most standard behaviour; errors surface on the real call
    if "vllm" in owners:
        return "vllm"
    if "me" in owners or "llamacpp" in owners:  # llama-cpp-python / llama.cpp server
        return "llama_cpp"
    return "openai"


def structured_model(
    model: BaseChatModel,
    schema: type[SchemaT],
    backend: ConcreteBackend,
    json_schema: dict[str, Any],
) -> Runnable[LanguageModelInput, SchemaT]:
    """Return a runnable that answers with an instance of `schema`, constrained by the server.

    `json_schema` is what the server's decoder enforces (it may be stricter than
    the pydantic schema, e.g. per-tool argument shapes). llama.cpp enforces it
    through `response_format={"type": "json_object", "schema": ...}` (its
    `json_schema` type answers HTTP 500); vLLM and OpenAI take `json_schema`.
    """
    if backend == "llama_cpp":
        response_format: dict[str, Any] = {"type": "json_object", "schema": json_schema}
    else:
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": json_schema},
        }
    bound = model.bind(response_format=response_format)

    def parse(message: BaseMessage) -> SchemaT:
        return schema.model_validate(json.loads(str(message.content)))

    return bound | RunnableLambda(parse)
