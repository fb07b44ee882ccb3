"""The plan parser: streamed planner text in, validated tool calls out, one line at a time.

The planner writes a numbered plan, one call a line (LLMCompiler's format, compact):

    1. query_database(sql="SELECT country FROM customers WHERE name = 'Initech'")
    2. search_docs(query="shipping times by country")
    3. http_get(url="http://svc/weather?country=$1.country")
    4. replan()

Every plan ends with `N. join()` (answer from these results) or `N. replan()` (run
these, then plan again with their results, for a value no reference can carry).
Arguments are keyword (or positional, in the tool's order) JSON literals: strings,
numbers (`1.6e-19` too), true/false/null, lists `[1, 2.5]` and objects `{"x": 1}`, each
checked against the tool's schema (`engine.language.schema`). Inside a string, `$N` stands
for call N's result, `$N.field` for one field of it (a column of rows: all its values),
`$N[0]` for an element of a list, and they chain (`$1[0].id`); N must be an earlier
call, so a plan has no cycles.
`PlanParser.feed` returns every call whose line is complete, so the task fetching unit
can start it while the rest of the plan is still being written.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.language.schema import Signature, untyped

# `$N` and its path: `.field` and `[index]` steps, in any order (`$1[0].id`).
REFERENCE = re.compile(r"\$(\d+)((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)")
_LINE = re.compile(r"^\s*(\d+)\s*[.):]\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*;?\s*$", re.DOTALL)
_LITERAL_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False}
REPLAN = "replan"
JOIN = "join"
_END_MARKS = ("Q:", "Results:", "Results so far:", "Question:")
MAX_LINE_CHARS = 4000  # a longer line is an error, not a call


@dataclass(frozen=True)
class Task:
    """One planned call: its number in the plan, the tool, its arguments, its inputs."""

    index: int
    tool: str
    args: dict[str, Any]
    deps: frozenset[int] = field(default_factory=frozenset)

    def references(self) -> list[tuple[int, str]]:
        """Return every `$N` in the arguments (in lists and objects too) with its path."""
        return [(int(m[1]), m[2]) for text in _strings(self.args) for m in REFERENCE.finditer(text)]


def _strings(value: Any) -> Iterator[str]:
    """Yield every string inside a value: itself, or in its lists and objects."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@dataclass(frozen=True)
class PlanError:
    """A line that is not a usable call, and why."""

    line: str
    reason: str
    index: int | None = None  # the number the line claimed, when it had one


class PlanParser:
    """Turn streamed plan text into Tasks, validating each line against the tools.

    Args:
        tools: each call's signature (its arguments' schemas), or only its argument
            names in order (then any literal fits).
        max_calls: calls beyond this many are errors (they are never run).
    """

    def __init__(self, tools: Mapping[str, Signature | list[str]], max_calls: int) -> None:
        """Start an empty plan."""
        self.tools = {
            name: sig if isinstance(sig, Signature) else untyped(name, sig)
            for name, sig in tools.items()
        }
        self.max_calls = max_calls
        self.buffer = ""
        self.tasks: list[Task] = []
        self.errors: list[PlanError] = []
        self.replan = False
        self.text = ""  # everything fed so far
        self.last_index = 0  # the number of the last call line
        self.calls = 0  # call lines counted against max_calls
        self.ended = False  # the plan is over: what follows is ignored

    def feed(self, text: str) -> list[Task | PlanError]:
        """Add streamed text; return the calls (and errors) of the lines it completed."""
        self.text += text
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        if len(self.buffer) > MAX_LINE_CHARS:  # a runaway line: cut it off as an error
            lines.append(self.buffer)
            self.buffer = ""
        return list(self._parse_lines(lines))

    def close(self) -> list[Task | PlanError]:
        """End the plan: parse a last line written without a newline."""
        rest, self.buffer = self.buffer, ""
        return list(self._parse_lines([rest]))

    def _parse_lines(self, lines: Iterable[str]) -> Iterable[Task | PlanError]:
        for raw in lines:
            line = raw.strip()
            if self.ended:
                return
            if line.startswith(_END_MARKS) or (not line and self.calls):
                self.ended = True  # a blank line or the next example's "Q:": the plan is over
                return
            if not line or line.startswith(("#", "Thought", "```")):
                continue
            item = self.parse_line(line)
            if isinstance(item, Task):
                self.tasks.append(item)
            elif item is not None:
                self.errors.append(item)
            if item is not None:
                yield item

    def parse_line(self, line: str) -> Task | PlanError | None:
        """Parse one line; return its Task, a PlanError, or None for `replan()`."""
        if len(line) > MAX_LINE_CHARS:
            return PlanError(line[:200], f"the line is longer than {MAX_LINE_CHARS} characters")
        match = _LINE.match(line)
        if match is None:
            return PlanError(line, 'not a call like `1. tool(arg="value")`')
        index, tool, arg_text = int(match[1]), match[2], match[3]
        if tool in (REPLAN, JOIN):  # the end of the plan: answer, or plan again
            self.replan = tool == REPLAN
            self.ended = True
            return None
        if index <= self.last_index:
            return PlanError(line, f"call number {index} does not follow {self.last_index}")
        self.last_index = index
        if self.calls == self.max_calls:
            return PlanError(line, f"more than {self.max_calls} calls: not run", index)
        self.calls += 1
        if tool not in self.tools:
            return PlanError(line, f"no tool named {tool!r}; tools: {', '.join(self.tools)}", index)
        signature = self.tools[tool]
        try:
            args = parse_args(arg_text, signature.names)
        except ValueError as err:
            return PlanError(line, f"{tool}: {err}", index)
        if problem := signature.check(args):
            return PlanError(line, problem, index)
        task = Task(index, tool, args)
        deps = set()
        for ref, _ in task.references():
            if not 0 < ref < index:
                return PlanError(line, f"${ref} is not an earlier call", index)
            if any(e.index == ref for e in self.errors):
                return PlanError(line, f"${ref} is a call that could not be planned", index)
            deps.add(ref)
        return Task(index, tool, args, frozenset(deps))


def parse_args(text: str, names: list[str]) -> dict[str, Any]:
    """Parse `a="x", b=2` (or positional values, in `names` order) into a dict of literals.

    Raises:
        ValueError: for anything but literal values, unknown or repeated names.
    """
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise ValueError(f"arguments are not literals: {err}") from None
    assert isinstance(call, ast.Call)
    try:
        return _arguments(call, names)
    except RecursionError:
        raise ValueError("arguments are nested too deeply") from None


def _arguments(call: ast.Call, names: list[str]) -> dict[str, Any]:
    if len(call.args) > len(names):
        raise ValueError(f"{len(call.args)} positional arguments, the tool takes {len(names)}")
    args = {name: _literal(node) for name, node in zip(names, call.args, strict=False)}
    for keyword in call.keywords:
        if keyword.arg is None or keyword.arg not in names:
            raise ValueError(f"unknown argument {keyword.arg!r}; arguments: {', '.join(names)}")
        if keyword.arg in args:
            raise ValueError(f"argument {keyword.arg!r} given twice")
        args[keyword.arg] = _literal(keyword.value)
    return args


def _literal(node: ast.expr) -> Any:
    """Return a JSON literal's value: a scalar, or a list or object of literals."""
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict):
        keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
        if not all(isinstance(k, str) for k in keys):
            raise ValueError("an object's keys must be strings")
        return {k: _literal(v) for k, v in zip(keys, node.values, strict=True)}
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        return node.value
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
        return _LITERAL_NAMES[node.id]
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
    ):
        return -node.operand.value
    raise ValueError(f"an argument is not a literal: {ast.unparse(node)[:80]}")
