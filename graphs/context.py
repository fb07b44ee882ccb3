"""Run configuration: one dataclass that LangGraph Studio renders as a form."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Literal, get_args

from langgraph.runtime import get_runtime

# The embedded llama.cpp servers: one process per tier keeps each tier's prompt prefix warm.
EMBEDDED_ROUTER_URL = "http://127.0.0.1:8081/v1"
EMBEDDED_PLANNER_URL = "http://127.0.0.1:8082/v1"
EMBEDDED_SYNTHESIZER_URL = "http://127.0.0.1:8080/v1"

Backend = Literal["auto", "llama_cpp", "vllm", "openai"]


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
        default=EMBEDDED_ROUTER_URL,
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
        default=EMBEDDED_PLANNER_URL,
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
        default=EMBEDDED_SYNTHESIZER_URL,
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
        default=4, metadata={"description": "Most tool calls one plan may fan out."}
    )
    max_plan_rounds: int = field(
        default=3,
        metadata={
            "description": "Most planning rounds: a plan whose calls need earlier results "
            "(a dependent chain) asks for another round."
        },
    )
    http_allowed_hosts: str = field(
        default="",
        metadata={"description": "Comma-separated hosts that http_get may fetch from (none: off)."},
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

    def allowed_hosts(self) -> set[str]:
        """Return the http_get allowlist as a set of lower-case host names."""
        return {h.strip().lower() for h in self.http_allowed_hosts.split(",") if h.strip()}


def _parse(raw: str, kind: type) -> object:
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
