"""The plan language as a GBNF grammar, so a server's decoder can only write valid plans.

Built from the tools' argument schemas: numbered lines `N. tool(arg=value, ...)` in
order, at most `max_calls` of them, each argument of its schema's type, and an
optional `N. replan()` last. The client boundary hands it to servers that enforce
grammars while decoding; elsewhere the plan parser validates what comes back.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from graphs.domain import Domain
from nodes.plan_services import plan_calls

_VALUES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
}
_COMMON = r"""string ::= "\"" char* "\""
char ::= [^"\\\n] | "\\" ["\\nt]
integer ::= "-"? [0-9]+
number ::= "-"? [0-9]+ ("." [0-9]+)?
boolean ::= "true" | "false"
value ::= string | number | boolean"""


def _rule(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", name).strip("-").lower() or "x"


def _value(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, str) and kind in _VALUES:
        return _VALUES[kind]
    return "value"  # unions, enums of mixed types, anything else: any literal


def tool_rule(name: str, args: dict[str, dict[str, Any]], required: list[str]) -> str:
    """Return the GBNF right-hand side of one tool's call: `name(a=..., b=...)`.

    Required arguments come first, in their order; optional ones may be left out.
    """
    ordered = [a for a in args if a in required] + [a for a in args if a not in required]
    pieces = []
    for i, arg in enumerate(ordered):
        piece = f'"{", " if i else ""}{arg}=" {_value(args[arg])}'
        pieces.append(piece if arg in required else f"({piece})?")
    return " ".join([f'"{name}("', *pieces, '")"'])


@lru_cache(maxsize=64)
def plan_grammar(
    domain: Domain, services: str, max_calls: int, min_calls: int = 0, first: int = 1
) -> str:
    """Return the GBNF grammar of a plan of at most `max_calls` calls, numbered from `first`.

    A later round numbers on from the calls before it (`first`: the number after its
    `replan()` line), as the parser and the results shown to the planner do.

    The calls are the domain's tools and the configured services (`nodes.plan_services`).
    With `min_calls`, the plan may not `join()` before that many calls (it may always
    `replan()`): a question of three parts gets at least three calls, where a small
    planner would otherwise stop after the first.
    """
    rules = []
    calls = []
    for tool in domain.tools:
        args: dict[str, dict[str, Any]] = dict(tool.args)
        required = _required(tool)
        name = f"call-{_rule(tool.name)}"
        calls.append(name)
        rules.append(f"{name} ::= {tool_rule(tool.name, args, required)}")
    for service in plan_calls(domain, services).services.values():
        name = f"service-{_rule(service.name)}"
        calls.append(name)
        string_args = {param: {"type": "string"} for param in service.params}
        rules.append(f"{name} ::= {tool_rule(service.name, string_args, list(service.params))}")
    # Every plan ends with `N. join()` (answer with these results) or `N. replan()` (plan
    # again once they are in): a marked end, as in LLMCompiler, that small models keep to.
    lines = []
    for n in range(1, max_calls + 2):
        more = f'call "\\n" line{n + 1} | ' if n <= max_calls else ""
        end = '"join()" | "replan()"' if n > min(min_calls, max_calls) else '"replan()"'
        lines.append(f'line{n} ::= "{first + n - 1}. " ({more}{end})')
    head = ["root ::= line1", *lines, f"call ::= {' | '.join(calls)}"]
    return "\n".join([*head, *rules, _COMMON]) + "\n"


def _required(tool: Any) -> list[str]:
    """Return a tool's required argument names (all of them, when its schema says nothing)."""
    schema = tool.tool_call_schema
    if isinstance(schema, dict):
        return list(schema.get("required", tool.args))
    return list(schema.model_json_schema().get("required", tool.args))


def literal(value: Any) -> str:
    """Write a value as the plan language does (JSON literals)."""
    return json.dumps(value, ensure_ascii=False)
