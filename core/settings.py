"""The operator's settings: where the models are and what the tools may reach.

Read from environment variables only (an upper-cased field name each, e.g.
`PLANNER_BASE_URL`; `LLM_BASE_URL` points every tier whose own `*_BASE_URL` is unset
at one server), never from a run: whoever can start a run is a caller, and a caller
must not send the operator's API key to a server of its choosing, nor open a host the
operator never allowed. The per-run knobs a caller may set are in `core.context`.
In-process code (tests, evals, benchmarks) swaps them with `use_settings`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args

import httpx

# The embedded llama.cpp servers, one per model: the small one routes and answers
# directly, the large one plans and synthesizes (`serving/llama_cpp.py`).
EMBEDDED_SMALL_URL = "http://127.0.0.1:8081/v1"
EMBEDDED_LARGE_URL = "http://127.0.0.1:8080/v1"
DEFAULT_PORTS = {"http": 80, "https": 443}

Backend = Literal["auto", "llama_cpp", "vllm", "openai"]
Tier = Literal["router", "planner", "synthesizer"]
TIERS: tuple[Tier, ...] = get_args(Tier)


@dataclass(frozen=True)
class TierServer:
    """Where one model tier is served."""

    base_url: str
    model: str


def _doc(text: str) -> dict[str, str]:
    return {"description": text}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What only the operator sets (environment variables); see the module docstring."""

    router_model: str = field(default="qwen2.5-coder-0.5b", metadata=_doc("Router tier model."))
    router_base_url: str = field(default=EMBEDDED_SMALL_URL, metadata=_doc("Router server."))
    planner_model: str = field(default="qwen2.5-coder-1.5b", metadata=_doc("Planner model."))
    planner_base_url: str = field(default=EMBEDDED_LARGE_URL, metadata=_doc("Planner server."))
    synthesizer_model: str = field(default="qwen2.5-coder-1.5b", metadata=_doc("Answer model."))
    synthesizer_base_url: str = field(default=EMBEDDED_LARGE_URL, metadata=_doc("Its server."))
    fallback_model: str = field(default="", metadata=_doc("Model for a tier whose server is down."))
    fallback_base_url: str = field(default="", metadata=_doc("Its server (empty: no fallback)."))
    llm_backend: Backend = field(
        default="auto",
        metadata=_doc("Server quirks: auto (ask the server), llama_cpp, vllm, openai."),
    )
    max_llm_timeout_seconds: float = field(
        default=180.0,
        metadata=_doc(
            "Longest model-call deadline a run may ask for: the longest one call holds a "
            "server's slot, so the longest another caller waits for its turn."
        ),
    )
    max_tool_timeout_seconds: float = field(
        default=60.0, metadata=_doc("Longest tool-call timeout a run may ask for.")
    )
    max_queue_seconds: float = field(
        default=600.0,
        metadata=_doc(
            "Longest a model call waits for a free slot on a busy llama.cpp server before it "
            "fails (the wait is not part of the call's own deadline)."
        ),
    )
    max_output_tokens: int = field(
        default=1024, metadata=_doc("Most tokens a run may ask one model answer for.")
    )
    max_slots_per_caller: int = field(
        default=0,
        metadata=_doc(
            "Most of a llama.cpp server's slots one caller's calls hold at once (0: no cap; "
            "callers still take turns for the slots that come free)."
        ),
    )
    api_processes: int = field(
        default=1,
        metadata=_doc(
            "How many API processes share the model servers (`make stack` sets it): each "
            "admits its share of a llama.cpp server's slots, slots // API_PROCESSES (at least 1)."
        ),
    )
    tool_calls_ceiling: int = field(
        default=16, metadata=_doc("Most tool calls a run may ask for (its `max_tool_calls`).")
    )
    max_query_chars: int = field(default=4000, metadata=_doc("Longest question accepted."))
    max_input_messages: int = field(
        default=200,
        metadata=_doc(
            "Most messages a run's input (and a cron's) may carry, earlier turns included."
        ),
    )
    max_input_chars: int = field(
        default=200_000,
        metadata=_doc(
            "Most characters of text one request may store: a run's whole input (every "
            "message, any content shape, tool-call arguments), a thread's or assistant's "
            "fields, a store item."
        ),
    )
    http_allowed_origins: str = field(
        default="",
        metadata=_doc(
            "Comma-separated origins http_get may fetch, as scheme://host:port (no port: the "
            "scheme's default); none: http_get is off."
        ),
    )
    http_services: str = field(
        default="",
        metadata=_doc(
            "Web services for the planner, one a line: "
            "`- name: GET http://host/path?param=<value> -> what it returns`."
        ),
    )
    mcp_servers: str = field(
        default="",
        metadata=_doc(
            "MCP servers whose tools join the domain: a JSON object of name -> connection, as "
            'langchain-mcp-adapters takes it: {"files": {"transport": "stdio", "command": '
            '"npx", "args": [...]}, "crm": {"transport": "streamable_http", "url": '
            '"https://crm.example.com/mcp"}}; empty: none.'
        ),
    )

    def __post_init__(self) -> None:
        """Check every value; a bad one is an error naming its environment variable."""
        if self.llm_backend not in get_args(Backend):
            raise ValueError(f"LLM_BACKEND={self.llm_backend!r}: use one of {get_args(Backend)}")
        for name in ("max_llm_timeout_seconds", "max_tool_timeout_seconds", "max_queue_seconds"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name.upper()}={value!r}: a number of seconds above 0")
        for name in (
            "api_processes",
            "tool_calls_ceiling",
            "max_query_chars",
            "max_input_messages",
            "max_input_chars",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name.upper()}={value!r}: a whole number of at least 1")
        for name, low in (("max_output_tokens", 16), ("max_slots_per_caller", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name.upper()}={value!r}: a whole number of at least {low}")
        self.allowed_origins()  # a malformed entry fails here, not at the first http_get
        self.mcp_connections()

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Return the settings the environment gives (defaults for what it does not)."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None and f.name.endswith("_base_url") and f.name != "fallback_base_url":
                raw = env.get("LLM_BASE_URL")
            if raw is not None:
                values[f.name] = parse_env(f.name, raw, type(f.default))
        return cls(**values)  # type: ignore[arg-type]

    def tier(self, tier: Tier) -> TierServer:
        """Return where a tier is served."""
        servers = {
            "router": TierServer(self.router_base_url, self.router_model),
            "planner": TierServer(self.planner_base_url, self.planner_model),
            "synthesizer": TierServer(self.synthesizer_base_url, self.synthesizer_model),
        }
        return servers[tier]

    def fallback(self) -> TierServer | None:
        """Return the server tiers fall back to when theirs cannot be reached, if any."""
        if not self.fallback_base_url:
            return None
        return TierServer(self.fallback_base_url, self.fallback_model or self.planner_model)

    def allowed_origins(self) -> frozenset[str]:
        """Return the http_get allowlist, each origin as `scheme://host:port` (see `origin_of`).

        Raises:
            ValueError: naming the variable, for an entry that is not an http(s) origin.
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
                    f"HTTP_ALLOWED_ORIGINS: {entry!r} is not an origin like "
                    f"https://api.example.com or http://127.0.0.1:8080 ({err})"
                ) from None
        return frozenset(origins)

    def mcp_connections(self) -> dict[str, dict[str, Any]]:
        """Return the MCP servers to connect to: name -> connection (see `tools.mcp`).

        Only the shape is checked here: a JSON object of objects, each with a transport
        it names and what that transport needs (a command and its arguments, or a URL).

        Raises:
            ValueError: naming the variable (and the server), for a value of another shape.
        """
        if not self.mcp_servers.strip():
            return {}
        try:
            servers = json.loads(self.mcp_servers)
        except ValueError as err:  # the value may hold secrets (headers, env): not echoed
            raise ValueError(f"MCP_SERVERS: not JSON ({err})") from None
        if not isinstance(servers, dict):
            raise ValueError('MCP_SERVERS: a JSON object of servers, {"name": {...}, ...}')
        for name, connection in servers.items():
            problem = _mcp_connection_problem(name, connection)
            if problem:
                raise ValueError(f"MCP_SERVERS: server {name[:60]!r}: {problem}")
        return servers


# The transports langchain-mcp-adapters connects over (`sessions.create_session`).
MCP_TRANSPORTS = ("stdio", "streamable_http", "streamable-http", "http", "sse", "websocket")


def _mcp_connection_problem(name: str, connection: object) -> str:
    """Return what is wrong with one MCP server's entry, or "" (see `mcp_connections`)."""
    if not name.strip():
        return "a server needs a name"
    if not isinstance(connection, dict):
        return "its connection is a JSON object"
    transport = connection.get("transport")
    if transport not in MCP_TRANSPORTS:
        given = (
            f"transport {str(transport)[:40]!r}" if "transport" in connection else "no transport"
        )
        return f"{given}: use one of {', '.join(MCP_TRANSPORTS)}"
    key = "command" if transport == "stdio" else "url"
    if not isinstance(connection.get(key), str) or not connection[key].strip():
        return f"a {transport} server needs {key!r} (a string)"
    if transport == "stdio":
        args = connection.get("args")
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            return "a stdio server needs 'args' (a list of strings, [] for none)"
        return ""
    schemes = ("ws://", "wss://") if transport == "websocket" else ("http://", "https://")
    if not connection["url"].startswith(schemes):
        return f"its 'url' does not start with {' or '.join(schemes)}"
    return ""


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


def parse_env(name: str, raw: str, kind: type) -> object:
    """Read one environment variable as its field's type, or say which variable is wrong."""
    try:
        if kind is bool:
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError:
        raise ValueError(f"{name.upper()}={raw!r}: not a {kind.__name__}") from None
    return raw


_override: ContextVar[Settings | None] = ContextVar("settings_override", default=None)


def settings() -> Settings:
    """Return the settings in force: those `use_settings` installed, else the environment's."""
    return _override.get() or Settings.from_env()


@contextmanager
def use_settings(replacement: Settings) -> Iterator[Settings]:
    """Use other settings in this context (and the graph runs it starts) for a while."""
    previous = _override.get()
    _override.set(replacement)
    try:
        yield replacement
    finally:
        _override.set(previous)
