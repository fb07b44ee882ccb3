"""Which chat model answers a tier: the operator's server on a pooled client, or swapped ones.

A tier's model talks to the operator's server (`core.settings`) through one pooled HTTP
client per event loop and base URL; which backend that server is (vLLM, llama.cpp, any
other OpenAI-compatible one) is configured or detected once from its `/models` answer.
`use_models` is the one way to swap the models (scripted ones in tests, the simulated
GPU in evals). The clients, models and detected backends are per-process resources
(`core.resources`).
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpx
from langchain_core.language_models import BaseChatModel

from core.context import Context, Tier
from core.resources import PerLoop, PerProcess
from core.settings import TierServer, settings
from serving.compat import CompatChatOpenAI
from serving.constraints import ConcreteBackend

ModelFactory = Callable[..., BaseChatModel]
_LOOPBACK = ("127.0.0.1", "localhost", "::1")

# One pooled client per (event loop, base URL): httpx connections belong to a loop.
_clients: PerLoop[dict[str, httpx.AsyncClient]] = PerLoop(dict)
# Chat models are cached with their clients, per loop (a dead loop takes both with it).
_models: PerLoop[dict[tuple[object, ...], BaseChatModel]] = PerLoop(dict)
_backends: PerProcess[dict[str, ConcreteBackend]] = PerProcess(dict)
_override: ContextVar[tuple[ModelFactory, ConcreteBackend] | None] = ContextVar(
    "model_override", default=None
)


def swapped() -> bool:
    """Whether the models are swapped (`use_models`) in this context."""
    return _override.get() is not None


def http_client(base_url: str, timeout: float = 120.0) -> httpx.AsyncClient:
    """Return the pooled async HTTP client for a model server, made once per event loop."""
    per_loop = _clients.get()
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
    models = _models.get()
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
    backends = _backends.get()
    if base_url not in backends:
        detected = await _detect_backend(base_url)
        if detected is None:  # no answer (yet): assume a standard server, ask again next time
            return "openai"
        backends[base_url] = detected
    return backends[base_url]


async def share_cores(context: Context, *tiers: Tier) -> bool:
    """Whether these tiers' models run in separate llama.cpp processes on this machine.

    The embedded servers: each process spreads every call over all the cores, so two
    calls at once, one in each, outnumber the cores and slow each other several times over
    (on 2 cores a 1.5B call beside a 0.5B one took 9.9 s, alone 1.8 s). Tiers on one
    server are batched by it instead, and servers elsewhere (a GPU) have their own compute.
    """
    operator = settings()
    urls = {operator.tier(tier).base_url for tier in tiers}
    local = all(urllib.parse.urlsplit(url).hostname in _LOOPBACK for url in urls)
    if len(urls) < 2 or not local or _override.get() is not None:
        return False
    return all([await backend_of(context, tier) == "llama_cpp" for tier in tiers])


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
