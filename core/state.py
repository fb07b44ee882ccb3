"""Graph state: what flows between the fast agent's nodes, in plain checkpointable types.

Per-turn fields (`tool_results`, `timings`) carry the turn they belong to and keep only
the newest turn's entries (`this_turn`): a new question starts them afresh whichever
node runs first, so no node has to reset them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from langchain_core.messages import AnyMessage, HumanMessage
from langgraph.graph import add_messages

Route = Literal["direct", "tools"]
CallStatus = Literal["ok", "error", "timeout", "unresolved", "dropped", "rejected"]


class ToolResult(TypedDict):
    """What one planned call produced: its text for the models and its data for references."""

    index: int  # the call's number in the plan ($index refers to it)
    tool: str
    args: dict[str, Any]
    ok: bool
    status: CallStatus
    output: str  # what the models read (an error message when not ok)
    data: Any  # JSON-able value behind the output (rows, a JSON object, a number) or None
    started_at: float
    ended_at: float
    turn: NotRequired[int]  # stamped when the node returns it


def this_turn(existing: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append entries; once entries of a newer turn arrive, drop those of older turns."""
    if not new:
        return existing
    turn = max(entry.get("turn", 0) for entry in new)
    return [e for e in existing if e.get("turn", 0) >= turn] + list(new)


class HeldCall(TypedDict):
    """A planned call held for a person's approval (or waiting on one that is)."""

    index: int
    tool: str
    args: dict[str, Any]
    deps: list[int]


def turn_key(messages: list[AnyMessage]) -> str:
    """Return a short key unique to this turn (its user message), stable across rounds."""
    human = next(m for m in reversed(messages) if isinstance(m, HumanMessage))
    seed = f"{human.id}-{turn_of(messages)}"
    return hashlib.sha256(seed.encode()).hexdigest()[:10]


def turn_of(messages: list[AnyMessage]) -> int:
    """Return the turn a conversation is at: its number of user messages."""
    return sum(isinstance(m, HumanMessage) for m in messages)


def current(entries: list[Any], messages: list[AnyMessage]) -> list[Any]:
    """Return the entries (tool results, timings) of the conversation's current turn."""
    turn = turn_of(messages)
    return [e for e in entries if e.get("turn", turn) == turn]


@dataclass
class InputState:
    """The input of a run: the conversation, whose last user message is the query."""

    messages: Annotated[list[AnyMessage], add_messages] = field(default_factory=list)


@dataclass
class State(InputState):
    """The full state of a fast-agent run.

    Read `tool_results` and `timings` through `current(...)`: until a turn writes its
    first entry, the previous turn's are still there.
    """

    route: Route | None = None
    route_decided_by: str | None = None  # "classifier" or "model"
    replan: bool = False  # the last plan asked for another round
    early_answer: str | None = None  # the key of a direct answer begun while planning
    awaiting: list[HeldCall] = field(default_factory=list)  # calls held for approval
    tool_results: Annotated[list[ToolResult], this_turn] = field(default_factory=list)
    timings: Annotated[list[dict[str, Any]], this_turn] = field(default_factory=list)
