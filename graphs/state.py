"""Graph state: what flows between the fast agent's nodes."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph import add_messages
from pydantic import BaseModel, Field

Route = Literal["direct", "tools"]


class ToolCall(BaseModel):
    """One planned tool call: which tool, with which arguments."""

    tool: str = Field(description="Name of the tool to call.")
    args: dict[str, Any] = Field(default_factory=dict, description="The tool's arguments.")


class ToolResult(BaseModel):
    """What one tool branch produced: output on success, error otherwise."""

    tool: str
    args: dict[str, Any]
    ok: bool
    output: str
    started_at: float
    ended_at: float


@dataclass
class InputState:
    """The input of a run: the conversation, whose last message is the query."""

    messages: Annotated[list[AnyMessage], add_messages] = field(default_factory=list)


@dataclass
class State(InputState):
    """The full state of a fast-agent run."""

    route: Route | None = None
    route_decided_by: str | None = None  # "classifier" or "model"
    plan: list[ToolCall] = field(default_factory=list)
    plan_round: int = 0
    needs_followup: bool = False  # the plan's calls need results of this round
    tool_results: Annotated[list[ToolResult], operator.add] = field(default_factory=list)
    timings: Annotated[list[dict[str, Any]], operator.add] = field(default_factory=list)


def format_results(results: list[ToolResult]) -> str:
    """Render tool results in a stable order (plan order is not completion order)."""
    blocks = []
    for r in sorted(results, key=lambda r: (r.tool, str(r.args))):
        status = "ok" if r.ok else "FAILED"
        blocks.append(f"## {r.tool} {r.args} ({status})\n{r.output}")
    return "\n\n".join(blocks) or "(no tool was called)"
