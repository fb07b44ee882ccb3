"""What an agent is about, in one place: its tools, what they reach, and its examples.

A `Domain` is everything that changes when you put your own tools behind the
template. Every prompt (router, planner, synthesizer, direct answer, the ReAct
baseline) is generated from it, the router's classifier learns from its routing
examples, and the planner is shown its solved plans. The shop is `tools.SHOP`;
build the graphs for another domain with `graphs.fast_agent.build_graph(domain)` and
`graphs.react_agent.build_graph(domain)`.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from langchain_core.tools import BaseTool

Route = Literal["direct", "tools"]


@dataclass(frozen=True)
class PlanExample:
    """A solved question: the plan a good planner writes for it (plan-language lines)."""

    question: str
    plan: str


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: prompts are cached per domain
class Domain:
    """An agent's tools and the knowledge its prompts carry.

    Attributes:
        name: who the assistant works for, e.g. "Northwind Devices".
        description: one paragraph: who the assistant is and what it can look up.
        knowledge: what a planner must know to use the tools well (a database schema,
            naming rules, where which facts live); shown to the planner, the synthesizer
            and the ReAct baseline alike.
        tools: the tools, as LangChain tools; each says in `metadata["read_only"]`
            whether it only reads (only those are ever started speculatively), and a
            tool that changes things may say how (`side_effects`).
        route_examples: (route, question) pairs the router's classifier learns from.
        plan_examples: solved plans; the planner sees them, questions of the same shape
            reuse them, and the calls of the nearest ones may start early.
        speculate: optional: calls worth starting from the question alone, before the
            plan asks for them (read-only tools only; used only if the plan asks for
            exactly that call).
        interrupt_on: the tools a person approves before a call of theirs runs, in the
            shape langchain's `HumanInTheLoopMiddleware` takes (`{"refund": True}`, or a
            config with `allowed_decisions` and a `description`); both graphs pause on
            them with the same request.
    """

    name: str
    description: str
    knowledge: str
    tools: tuple[BaseTool, ...]
    route_examples: tuple[tuple[Route, str], ...] = ()
    plan_examples: tuple[PlanExample, ...] = ()
    speculate: Callable[[str], list[tuple[str, dict[str, Any]]]] | None = None
    interrupt_on: Mapping[str, bool | Mapping[str, Any]] = field(default_factory=dict)
    tool_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        """Check the domain once, where it is declared: names unique, tools documented."""
        names = tuple(tool.name for tool in self.tools)
        object.__setattr__(self, "tool_names", names)
        if len(set(names)) != len(names):
            raise ValueError(f"domain {self.name!r}: two tools share a name: {names}")
        for tool in self.tools:
            if not (tool.description or "").strip():
                raise ValueError(f"tool {tool.name!r} has no description: the planner needs one")
        unknown = sorted(set(self.interrupt_on) - set(names))
        if unknown:
            raise ValueError(f"interrupt_on names no tool of the domain: {unknown}")
        bad = [label for label, _ in self.route_examples if label not in ("direct", "tools")]
        if bad:
            raise ValueError(f"route examples: labels must be direct or tools, not {bad[:3]}")

    def with_tools(self, tools: Iterable[BaseTool]) -> Domain:
        """Return this domain with more tools (e.g. an MCP server's), checked as any domain is.

        Everything else (knowledge, examples) stays; a tool whose name is taken is an error.
        """
        return dataclasses.replace(self, tools=(*self.tools, *tools))

    def tool(self, name: str) -> BaseTool | None:
        """Return the tool with this name, or None."""
        return next((t for t in self.tools if t.name == name), None)

    def arg_names(self) -> dict[str, list[str]]:
        """Return each tool's argument names, in its signature's order."""
        return {tool.name: list(tool.args) for tool in self.tools}

    def needs_approval(self, name: str) -> bool:
        """Whether a person approves a call of this tool before it runs."""
        return bool(self.interrupt_on.get(name))

    def is_read_only(self, name: str) -> bool:
        """Whether a tool declared that it only reads (and may be started speculatively)."""
        tool = self.tool(name)
        return bool(tool is not None and (tool.metadata or {}).get("read_only"))

    def tools_text(self) -> str:
        """Return the tools as prompt lines: `- name(arg, ...): description`."""
        return "\n".join(
            f"- {tool.name}({', '.join(tool.args)}): {inspect.cleandoc(tool.description)}"
            for tool in self.tools
        )


def read_only(tool: BaseTool) -> BaseTool:
    """Declare that a tool only reads (no side effects): it may then be started speculatively.

    Use it above `@tool`. A tool without it is never started before the plan asks for it.
    """
    tool.metadata = {**(tool.metadata or {}), "read_only": True}
    return tool


def side_effects(tool: BaseTool, *, destructive: bool = True, idempotent: bool = False) -> BaseTool:
    """Declare that a tool changes things, and how (what approving a call needs to know).

    Such a tool is never started speculatively (as any tool without `read_only`).

    Args:
        tool: the tool.
        destructive: whether a call may destroy or overwrite something (MCP's
            `destructiveHint`; true unless the tool only adds).
        idempotent: whether calling it twice with the same arguments does no more
            than calling it once (MCP's `idempotentHint`).
    """
    effects = {"read_only": False, "destructive": destructive, "idempotent": idempotent}
    tool.metadata = {**(tool.metadata or {}), **effects}
    return tool


def load_route_examples(path: Path) -> tuple[tuple[Route, str], ...]:
    """Read `route<TAB>question` lines (blank lines and `#` comments skipped)."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep or label not in ("direct", "tools"):
            raise ValueError(f"{path}:{number}: expected `direct|tools<TAB>question`")
        examples.append((label, text.strip()))
    return tuple(examples)  # type: ignore[arg-type]


def load_plan_examples(path: Path) -> tuple[PlanExample, ...]:
    """Read solved plans: blocks of a `Q: question` line and its plan lines, blank-separated."""
    examples = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#")]
        if not lines:
            continue
        if not lines[0].startswith("Q: "):
            raise ValueError(f"{path}: a block must start with `Q: `, not {lines[0][:60]!r}")
        examples.append(PlanExample(lines[0][3:].strip(), _with_end("\n".join(lines[1:]))))
    return tuple(examples)


def _with_end(plan: str) -> str:
    """Return a plan that ends as every plan must: with `N. join()` or `N. replan()`."""
    plan = plan.strip()
    last = plan.splitlines()[-1] if plan else ""
    if last.endswith(("join()", "replan()")):
        return plan
    number = re.match(r"\s*(\d+)\.", last)
    return f"{plan}\n{int(number[1]) + 1 if number else 1}. join()".strip()
