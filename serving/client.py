"""The client boundary: chat models for any OpenAI-compatible server, quirks kept here.

Nodes ask for a model tier and get a `ChatOpenAI`; what differs between servers
(how structured output is requested, which payloads a server rejects) is decided
by the backend, detected from the server's `/models` answer or set explicitly.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.tool import ToolCall
from langchain_core.outputs import ChatResult
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
# Chat models are cached with their clients, per loop (a dead loop takes both with it).
_models: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], ChatOpenAI]] = (
    weakref.WeakKeyDictionary()
)
_backends: dict[str, ConcreteBackend] = {}


def http_client(base_url: str, timeout: float = 120.0) -> httpx.AsyncClient:
    """Return the pooled async HTTP client for a server, made once per event loop."""
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    if base_url not in per_loop:
        per_loop[base_url] = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=5.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )
    return per_loop[base_url]


_ARGS_KEYS = ("arguments", "parameters")
_JSON_START = re.compile(r"[{\[]")


def parse_text_tool_calls(text: str, tool_names: set[str]) -> list[ToolCall]:
    """Return the tool calls a model wrote as text, as langchain tool calls.

    llama.cpp's server leaves tool calls in the message text when `tool_choice` is
    `auto`: JSON objects like `{"name": ..., "arguments": {...}}`, bare, one per
    line, in a ```json fence or in Qwen's `<tool_call>` tags. Every JSON value in
    the text is read; a call is an object naming a known tool with an object (or a
    JSON string of one) under `arguments` or `parameters`, found at any depth (so
    OpenAI's `{"function": {...}}` wrapping and lists of calls count). Anything
    else is ignored.
    """
    calls: list[ToolCall] = []
    for value in _json_values(text):
        calls.extend(_calls_in(value, tool_names))
    return calls


def _json_values(text: str) -> Iterator[Any]:
    """Yield every top-level JSON object or array embedded in free text."""
    decoder = json.JSONDecoder()
    position = 0
    while match := _JSON_START.search(text, position):
        try:
            value, end = decoder.raw_decode(text, match.start())
        except ValueError:
            position = match.start() + 1
            continue
        yield value
        position = end


def _calls_in(value: Any, tool_names: set[str]) -> Iterator[ToolCall]:
    """Yield the well-formed calls to known tools in a decoded JSON value."""
    if isinstance(value, list):
        for item in value:
            yield from _calls_in(item, tool_names)
        return
    if not isinstance(value, dict):
        return
    name = value.get("name")
    key = next((k for k in _ARGS_KEYS if k in value), None)
    if isinstance(name, str) and name in tool_names and key is not None:
        args = value[key]
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                return
        if isinstance(args, dict):
            yield ToolCall(
                name=name, args=args, id=f"call_{uuid.uuid4().hex[:24]}", type="tool_call"
            )
        return
    for item in value.values():
        yield from _calls_in(item, tool_names)


def _bound_tool_names(kwargs: dict[str, Any]) -> set[str]:
    """Return the names of the tools a request binds (OpenAI format)."""
    names = set()
    for tool in kwargs.get("tools") or []:
        if isinstance(tool, dict):
            name = tool.get("function", {}).get("name") or tool.get("name")
            if isinstance(name, str):
                names.add(name)
    return names


class CompatChatOpenAI(ChatOpenAI):
    """`ChatOpenAI` with the fixes some OpenAI-compatible servers need.

    - It sends `""` rather than `null` as an assistant message's content: llama.cpp's
      server answers HTTP 500 to `content: null` beside tool calls; every server
      accepts `""`, so this applies to all backends.
    - With `text_tool_calls` (set for the open-model servers: llama.cpp returns no
      parsed tool calls for `tool_choice="auto"`, and vLLM's parser only reads the
      model's own `<tool_call>` tags, which small models often leave out), tool calls
      the model wrote as text in a response to a request with tools become real
      `tool_calls`, and the text goes.
    """

    text_tool_calls: bool = False
    """Turn tool calls written in the answer's text into `tool_calls`."""

    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        for message in payload.get("messages", []):
            if message.get("role") == "assistant" and message.get("content") is None:
                message["content"] = ""
        return payload

    # Both paths to a response (a plain request, or a stream aggregated because a
    # streaming callback such as LangGraph's `messages` mode is attached) end in
    # these two methods, before `on_llm_end`: callbacks and callers see real calls.
    def _generate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        result = super()._generate_with_cache(messages, stop, run_manager, **kwargs)
        return self._with_text_tool_calls(result, kwargs)

    async def _agenerate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        result = await super()._agenerate_with_cache(messages, stop, run_manager, **kwargs)
        return self._with_text_tool_calls(result, kwargs)

    def _with_text_tool_calls(self, result: ChatResult, kwargs: dict[str, Any]) -> ChatResult:
        """Move tool calls written as text into `tool_calls`, when enabled and tools are bound."""
        names = _bound_tool_names(kwargs) if self.text_tool_calls else set()
        for generation in result.generations:
            message = generation.message
            if not names or not isinstance(message, AIMessage) or message.tool_calls:
                continue
            calls = parse_text_tool_calls(message.text, names)
            if calls:
                generation.message = message.model_copy(update={"content": "", "tool_calls": calls})
                generation.text = ""
        return result


def tier_settings(context: Context, tier: Tier) -> tuple[str, str, int]:
    """Return (base_url, model, max_tokens) of a tier."""
    return (
        getattr(context, f"{tier}_base_url"),
        getattr(context, f"{tier}_model"),
        getattr(context, f"{tier}_max_tokens"),
    )


def chat_model(
    context: Context,
    tier: Tier,
    *,
    max_tokens: int | None = None,
    backend: ConcreteBackend | None = None,
) -> ChatOpenAI:
    """Return the (cached) chat model of a tier, on the tier's pooled HTTP client.

    Pass the tier's `backend` (from `backend_of`) when the model will call tools:
    on llama.cpp and vLLM the model then also reads tool calls written as text.
    """
    base_url, model, default_max = tier_settings(context, tier)
    tokens = max_tokens or default_max
    text_tool_calls = backend in ("llama_cpp", "vllm")
    models = _models.setdefault(asyncio.get_running_loop(), {})
    key = (base_url, model, tokens, context.llm_timeout_seconds, text_tool_calls)
    if key not in models:
        models[key] = CompatChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=_api_key(),  # type: ignore[arg-type]
            max_tokens=tokens,  # type: ignore[call-arg]
            temperature=0,
            timeout=context.llm_timeout_seconds,
            max_retries=1,
            stream_usage=True,  # off by default for non-OpenAI URLs; usage feeds the timings
            http_async_client=http_client(base_url, context.llm_timeout_seconds),
            text_tool_calls=text_tool_calls,
        )
    return models[key]


def _api_key() -> str:
    return os.environ.get("OPENAI_API_KEY") or "not-needed"


async def backend_of(context: Context, tier: Tier) -> ConcreteBackend:
    """Return which server a tier talks to: configured, or detected once from `/models`."""
    if context.llm_backend != "auto":
        return context.llm_backend
    base_url = getattr(context, f"{tier}_base_url")
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
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    if "vllm" in owners:
        return "vllm"
    if "me" in owners or "llamacpp" in owners:  # llama-cpp-python / llama.cpp server
        return "llama_cpp"
    return "openai"


def response_format(
    backend: ConcreteBackend, name: str, json_schema: dict[str, Any]
) -> dict[str, Any]:
    """Return the `response_format` that makes a backend's decoder enforce a JSON schema.

    llama.cpp takes `{"type": "json_object", "schema": ...}` (its `json_schema` type
    answers HTTP 500); vLLM and OpenAI take `json_schema`.
    """
    if backend == "llama_cpp":
        return {"type": "json_object", "schema": json_schema}
    return {"type": "json_schema", "json_schema": {"name": name, "schema": json_schema}}


def structured_model(
    model: BaseChatModel,
    schema: type[SchemaT],
    backend: ConcreteBackend,
    json_schema: dict[str, Any],
) -> Runnable[LanguageModelInput, SchemaT]:
    """Return a runnable that answers with an instance of `schema`, constrained by the server.

    `json_schema` is what the server's decoder enforces (it may be stricter than
    the pydantic schema, e.g. per-tool argument shapes).
    """
    bound = model.bind(response_format=response_format(backend, schema.__name__, json_schema))

    def parse(message: BaseMessage) -> SchemaT:
        return schema.model_validate(json.loads(str(message.content)))

    return bound | RunnableLambda(parse)


def choice_model(
    model: BaseChatModel, choices: list[str], backend: ConcreteBackend
) -> Runnable[LanguageModelInput, str]:
    """Return a runnable that answers with exactly one of `choices`.

    vLLM constrains the output to the choices themselves (`structured_outputs`
    `choice`): one or two tokens. Other servers get a JSON object `{"choice": ...}`
    whose value the schema limits to the choices.
    """
    if backend == "vllm":
        bound = model.bind(extra_body={"structured_outputs": {"choice": choices}})

        def parse(message: BaseMessage) -> str:
            return str(message.content).strip()

    else:
        schema = {
            "type": "object",
            "properties": {"choice": {"type": "string", "enum": choices}},
            "required": ["choice"],
        }
        bound = model.bind(response_format=response_format(backend, "Choice", schema))

        def parse(message: BaseMessage) -> str:
            return str(json.loads(str(message.content))["choice"])

    def checked(message: BaseMessage) -> str:
        answer = parse(message)
        if answer not in choices:
            raise ValueError(f"the model answered {answer!r}, not one of {choices}")
        return answer

    return bound | RunnableLambda(checked)


@contextmanager
def override_models(
    factory: Callable[..., BaseChatModel], backend: ConcreteBackend = "openai"
) -> Iterator[None]:
    """Answer every tier's model calls with `factory(context, tier, **kwargs)` for a while.

    For evals and benchmarks (simulated or fake models); the nodes look `chat_model`
    and `backend_of` up through this module, so swapping them here reaches every node.
    """

    async def fixed_backend(context: Context, tier: Tier) -> ConcreteBackend:
        return backend

    names = globals()
    saved = {"chat_model": chat_model, "backend_of": backend_of}
    names |= {"chat_model": factory, "backend_of": fixed_backend}
    try:
        yield
    finally:
        names |= saved
