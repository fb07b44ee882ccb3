"""The per-run knobs a caller may set, each within bounds: LangGraph Studio's form.

Where the models run and what the tools may reach are the operator's
(`core.settings`, environment only) and are not here, so no run can change them. An
environment variable named after an upper-cased field changes its default (e.g.
`TOOL_TIMEOUT_SECONDS=5`). A value out of bounds, of the wrong type or not a number is
an error naming the field; timeouts, answer lengths and the number of tool calls are
also capped by the operator's settings (`MAX_LLM_TIMEOUT_SECONDS`,
`MAX_TOOL_TIMEOUT_SECONDS`, `MAX_OUTPUT_TOKENS`, `TOOL_CALLS_CEILING`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from typing import Any

from langgraph.runtime import get_runtime

from core.settings import TIERS, Backend, Tier, parse_env, settings

__all__ = ["TIERS", "Backend", "Context", "Tier", "current_context"]


def _knob(default: Any, description: str, low: float, high: float | None = None) -> Any:
    return field(default=default, metadata={"description": description, "min": low, "max": high})


@dataclass(kw_only=True)
class Context:
    """Knobs of one run (see the module docstring)."""

    router_max_tokens: int = _knob(256, "Max tokens of a direct answer.", 16, 4096)
    planner_max_tokens: int = _knob(512, "Max tokens of a plan.", 16, 4096)
    synthesizer_max_tokens: int = _knob(300, "Max tokens of an answer from tool results.", 16, 4096)
    router_confidence: float = _knob(
        0.85,
        "Classifier probability above which no model call is made to route (1: always ask).",
        0.0,
        1.0,
    )
    router_fallback: str = field(
        default="planner",
        metadata={
            "description": "Who decides when the classifier is unsure: planner (it plans, or "
            "writes no call and the question is answered directly) or model (the small "
            "model picks a route first)."
        },
    )
    llm_timeout_seconds: float = _knob(
        120.0, "Deadline of one model call (connect, prompt, every token).", 0.1
    )
    tool_timeout_seconds: float = _knob(10.0, "Timeout of one tool call.", 0.000001)
    max_parallel_tools: int = _knob(4, "Most tool calls running at the same time.", 1, 32)
    max_tool_calls: int = _knob(
        8, "Most tool calls in one turn; more are not run (the answer says so).", 1
    )
    max_plan_rounds: int = _knob(
        3, "Most planning rounds (a round more only for a value no reference carries).", 1, 6
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
            "asking the planner (plans that worked are learned while this or `speculate` is on)."
        },
    )
    nearest_examples: int = _knob(
        0,
        "Solved plans nearest the question repeated in the planner's turn (dynamic few-shot; "
        "all of them are in its cached prompt already).",
        0,
        8,
    )
    answer_while_planning: bool = field(
        default=True,
        metadata={
            "description": "When the router is unsure and the planner decides, start the "
            "direct answer beside it (cancelled once the plan names a call). Never where "
            "both models run in llama.cpp processes on this machine: they share its cores."
        },
    )
    read_ahead: bool = field(
        default=True,
        metadata={
            "description": "While the last calls run, have the synthesizer's server read the "
            "results already in (pays where reading a prompt is slow: CPU servers)."
        },
    )
    speculate: bool = field(
        default=True,
        metadata={
            "description": "Start likely read-only calls before the plan asks for them (from "
            "a cached plan of a question of much the same shape, near solved plans, or a web "
            "service the question names, on its values or a result's); used only if it asks "
            "for exactly that call."
        },
    )

    def __post_init__(self) -> None:
        """Take defaults from the environment, then check every value against its bounds.

        A default (the code's or the environment's) above the operator's ceiling is brought
        down to it; a value the run asked for above it is an error.
        """
        defaulted = {f.name for f in fields(self) if getattr(self, f.name) == f.default}
        for f in fields(self):
            raw = os.environ.get(f.name.upper())
            if raw is not None and f.name in defaulted:
                setattr(self, f.name, parse_env(f.name, raw, type(f.default)))
        operator = settings()
        ceilings: dict[str, float] = {
            "llm_timeout_seconds": operator.max_llm_timeout_seconds,
            "tool_timeout_seconds": operator.max_tool_timeout_seconds,
            "max_tool_calls": operator.tool_calls_ceiling,
        }
        ceilings |= {f"{tier}_max_tokens": operator.max_output_tokens for tier in TIERS}
        if self.router_fallback not in ("planner", "model"):
            raise ValueError(f"router_fallback={self.router_fallback!r}: planner or model")
        for f in fields(self):
            if f.name == "router_fallback":
                continue
            value = getattr(self, f.name)
            if f.name in ceilings and f.name in defaulted and _above(value, ceilings[f.name]):
                setattr(self, f.name, ceilings[f.name])
            _check(f.name, getattr(self, f.name), type(f.default), f.metadata, ceilings)

    def max_tokens(self, tier: Tier) -> int:
        """Return how long a tier's answer may be."""
        limits = {
            "router": self.router_max_tokens,
            "planner": self.planner_max_tokens,
            "synthesizer": self.synthesizer_max_tokens,
        }
        return limits[tier]


def _above(value: Any, ceiling: float) -> bool:
    """Whether a number is above a ceiling (what is no number is left to `_check`)."""
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return numeric and value > ceiling


def _check(name: str, value: Any, kind: type, bounds: Any, ceilings: dict[str, float]) -> None:
    """Raise ValueError naming the field if a value has the wrong type or is out of bounds."""
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name}={value!r}: true or false")
        return
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if not numeric or (kind is int and not isinstance(value, int)):
        raise ValueError(f"{name}={value!r}: a {'whole number' if kind is int else 'number'}")
    if not math.isfinite(value):
        raise ValueError(f"{name}={value!r}: a finite number")
    low, high = bounds.get("min"), bounds.get("max")
    if name in ceilings:
        high = ceilings[name] if high is None else min(high, ceilings[name])
    if low is not None and value < low:
        raise ValueError(f"{name}={value!r}: at least {low:g}")
    if high is not None and value > high:
        limit = " (the operator's limit)" if name in ceilings else ""
        raise ValueError(f"{name}={value!r}: at most {high:g}{limit}")


def current_context() -> Context:
    """Return the running graph's Context, or one built from defaults and env vars.

    Tools call this: inside a graph run (the fast agent's calls or the ReAct
    baseline's tool node) it is the run's context; elsewhere, the defaults.
    """
    try:
        context = get_runtime(Context).context
    except (RuntimeError, AttributeError):  # not inside a graph run
        return Context()
    return context if isinstance(context, Context) else Context()
