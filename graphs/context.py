"""Run configuration: one dataclass that LangGraph Studio renders as a form."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Literal, get_args

import httpx
from langgraph.runtime import get_runtime

# The embedded llama.cpp servers, one per model: the small one routes and answers
# directly, the large one plans and synthesizes (`serving/llama_cpp.py`).
EMBEDDED_SMALL_URL = "http://127.0.0.1:8081/v1"
EMBEDDED_LARGE_URL = "http://127.0.0.1:8080/v1"

Backend = Literal["auto", "llama_cpp", "vllm", "openai"]
Tier = Literal["router", "planner", "synthesizer"]
TIERS: tuple[Tier, ...] = get_args(Tier)


@dataclass(frozen=True)
class TierSettings:
    """Where one model tier is served, and how long its answers may be."""

    base_url: str
    model: str
    max_tokens: int


@dataclass(kw_only=True)
class Context:
    """Knobs of the fast agent.

    An environment variable named after the upper-cased field (e.g. `PLANNER_MODEL`)
    overrides a default; `LLM_BASE_URL` points every tier whose own `*_BASE_URL` is
    unset at one OpenAI-compatible server.
    """

    router_model: str = field(
        default="qwen2.5-coder-0.5b",
        metadata={
            "description": "Small model that routes unclear queries and answers direct ones."
        },
    )
    router_base_url: str = field(
        default=EMBEDDED_SMALL_URL,
        metadata={"description": "OpenAI-compatible base URL of the router tier."},
    )
    router_max_tokens: int = field(
        default=256, metadata={"description": "Max tokens of a direct answer by the router tier."}
    )
    router_confidence: float = field(
        default=0.85,
        metadata={
            "description": "Classifier probability above which no model call is made to route."
        },
    )
    planner_model: str = field(
        default="qwen2.5-coder-1.5b",
        metadata={"description": "Model that turns a query into parallel tool calls."},
    )
    planner_base_url: str = field(
        default=EMBEDDED_LARGE_URL,
        metadata={"description": "OpenAI-compatible base URL of the planner tier."},
    )
    planner_max_tokens: int = field(
        default=512, metadata={"description": "Max tokens of a tool plan."}
    )
    synthesizer_model: str = field(
        default="qwen2.5-coder-1.5b",
        metadata={"description": "Model that writes the final, streamed answer."},
    )
    synthesizer_base_url: str = field(
        default=EMBEDDED_LARGE_URL,
        metadata={"description": "OpenAI-compatible base URL of the synthesizer tier."},
    )
    synthesizer_max_tokens: int = field(
        default=300, metadata={"description": "Max tokens of the final answer."}
    )
    llm_backend: Backend = field(
        default="auto",
        metadata={
            "description": "Server quirks: auto (ask the server), llama_cpp, vllm or openai."
        },
    )
    llm_timeout_seconds: float = field(
        default=120.0, metadata={"description": "Timeout of one model request."}
    )
    tool_timeout_seconds: float = field(
        default=10.0, metadata={"description": "Timeout of one tool branch."}
    )
    max_parallel_tools: int = field(
        default=4, metadata={"description": "Most tool calls running at the same time."}
    )
    max_tool_calls: int = field(
        default=8,
        metadata={
            "description": "Most tool calls in one turn; calls planned beyond it are not run "
            "(the answer says so)."
        },
    )
    stream_dispatch: bool = field(
        default=True,
        metadata={
            "description": "Start each tool call the moment its line of the plan is written "
            "(off: once the whole plan is)."
        },
    )
    plan_templates: bool = field(
        default=True,
        metadata={
            "description": "Reuse the plan of a solved question of the same shape instead of "
            "asking the planner (and learn from plans that worked)."
        },
    )
    speculate: bool = field(
        default=True,
        metadata={
            "description": "Start likely read-only calls before the plan asks for them; "
            "used only if it asks for exactly that call."
        },
    )
    max_query_chars: int = field(
        default=4000, metadata={"description": "Longest question accepted, in characters."}
    )
    max_plan_rounds: int = field(
        default=3,
        metadata={
            "description": "Most planning rounds: a plan whose calls need earlier results "
            "(a dependent chain) asks for another round."
        },
    )
    http_allowed_origins: str = field(
        default="",
        metadata={
            "description": "Comma-separated origins that http_get may fetch from, as "
            "scheme://host:port (no port: the scheme's default); none: http_get is off."
        },
    )
    http_services: str = field(
        default="",
        metadata={
            "description": "Web services http_get can call, shown to the planner: one per "
            "line, as `- name: GET http://host/path?param=<value> -> what it returns`."
        },
    )

    def __post_init__(self) -> None:
        """Let environment variables override fields still at their defaults."""
        shared_url = os.environ.get("LLM_BASE_URL")
        for f in fields(self):
            if getattr(self, f.name) != f.default:
                continue  # set explicitly: keep it
            raw = os.environ.get(f.name.upper())
            if raw is None and shared_url and f.name.endswith("_base_url"):
                raw = shared_url
            if raw is not None:
                setattr(self, f.name, _parse(raw, type(f.default)))

        if self.llm_backend not in get_args(Backend):
            raise ValueError(f"llm_backend {self.llm_backend!r}: use one of {get_args(Backend)}")
        self.allowed_origins()  # a malformed entry fails here, not at the first http_get

    def tier(self, tier: Tier) -> TierSettings:
        """Return a tier's server, model and answer length."""
        settings = {
            "router": (self.router_base_url, self.router_model, self.router_max_tokens),
            "planner": (self.planner_base_url, self.planner_model, self.planner_max_tokens),
            "synthesizer": (
                self.synthesizer_base_url,
                self.synthesizer_model,
                self.synthesizer_max_tokens,
            ),
        }
        return TierSettings(*settings[tier])

    def allowed_origins(self) -> frozenset[str]:
        """Return the http_get allowlist, each origin as `scheme://host:port` (see `origin_of`).

        Raises:
            ValueError: naming the field, for an entry that is not an http(s) origin.
        """
        origins = set()
        for entry in (e.strip() for e in self.http_allowed_origins.split(",")):
            if not entry:
                continue
            try:
                url = httpx.URL(entry)
                origin = origin_of(url)
                if url.userinfo or url.query or url.fragment or url.raw_path != b"/":
                    raise ValueError("an origin has no user, path, query or fragment")
                origins.add(origin)
            except (ValueError, httpx.InvalidURL) as err:
                raise ValueError(
                    f"http_allowed_origins: {entry!r} is not an origin like "
                    f"https://api.example.com or http://127.0.0.1:8080 ({err})"
                ) from None
        return frozenset(origins)


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: httpx.URL) -> str:
    """Return a URL's origin as `scheme://host:port`: lower-case, the port always written.

    The host is the one the connection goes to (IDNA-encoded; an IPv6 address in brackets).

    Raises:
        ValueError: if the URL is not http(s), has no host, or its port is out of range.
    """
    if url.scheme not in DEFAULT_PORTS:
        scheme = f"not {url.scheme!r}" if url.scheme else "and it has no scheme"
        raise ValueError(f"only http:// and https:// URLs are allowed, {scheme}")
    host = url.raw_host.decode("ascii").lower()
    if not host:
        raise ValueError("the URL has no host")
    port = DEFAULT_PORTS[url.scheme] if url.port is None else url.port
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range")
    return f"{url.scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def _parse(raw: str, kind: type) -> object:
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    return raw


def current_context() -> Context:
    """Return the running graph's Context, or one built from defaults and env vars.

    Tools call this: inside a graph run (the fast agent's branches or the ReAct
    baseline's tool node) it is the run's context; elsewhere, the defaults.
    """
    try:
        context = get_runtime(Context).context
    except (RuntimeError, AttributeError):  # not inside a graph run
        return Context()
    return context if isinstance(context, Context) else Context()
