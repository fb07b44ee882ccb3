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

from core.domain import Domain
from engine.language.schema import Schema, Signature
from engine.language.services import plan_calls

_COMMON = r"""string ::= "\"" char* "\""
char ::= [^"\\\n] | "\\" ["\\nt/]
integer ::= "-"? [0-9]+
number ::= "-"? [0-9]+ ("." [0-9]+)? ([eE] [-+]? [0-9]+)?
boolean ::= "true" | "false"
null ::= "null"
ref ::= "\"$" [0-9]+ ("." [a-zA-Z_] [a-zA-Z0-9_]* | "[" [0-9]+ "]")* "\""
json ::= string | number | boolean | null | json-list | json-object
json-list ::= "[" (json (", " json)*)? "]"
json-object ::= "{" (string ": " json (", " string ": " json)*)? "}"
"""
_SCALARS = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


def _rule(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", name).strip("-").lower() or "x"


class _Rules:
    """GBNF rules for JSON-schema values, named after where they stand (`fx-base`)."""

    def __init__(self) -> None:
        self.rules: dict[str, str] = {}

    def value(self, schema: Schema, name: str, depth: int = 0) -> str:
        """Return a GBNF expression for a value of `schema`; a reference fits any."""
        if not schema or depth > 6:
            return "json"
        if "enum" in schema:
            options = " | ".join(_quoted(json.dumps(v)) for v in schema["enum"])
            return f"({options} | ref)"
        if "const" in schema:
            return _quoted(json.dumps(schema["const"]))
        for key in ("anyOf", "oneOf"):
            if key in schema:
                kinds = [self.value(s, f"{name}-{i}", depth + 1) for i, s in enumerate(schema[key])]
                return "(" + " | ".join(dict.fromkeys(kinds)) + ")"
        kind = schema.get("type")
        if isinstance(kind, list):
            return self.value({"anyOf": [{**schema, "type": k} for k in kind]}, name, depth)
        if kind == "string":
            return "string"
        if kind in _SCALARS:
            return f"({_SCALARS[kind]} | ref)"
        if kind == "null":
            return "null"
        if kind == "array":
            item = self.value(schema.get("items") or {}, f"{name}-item", depth + 1)
            return self._add(name, f'"[" ({item} (", " {item})*)? "]" | ref')
        if kind == "object" and schema.get("properties"):
            return self._add(name, self._object(schema, name, depth) + " | ref")
        return "json"

    def _object(self, schema: Schema, name: str, depth: int) -> str:
        properties: dict[str, Schema] = schema["properties"]
        required = [p for p in properties if p in schema.get("required", [])]
        optional = [p for p in properties if p not in required]

        def field(prop: str) -> str:
            value = self.value(properties[prop], f"{name}-{prop}", depth + 1)
            return f"{_quoted(json.dumps(prop) + ': ')} {value}"

        if not required:  # any of the fields, in any order (the parser checks the rest)
            one = "(" + " | ".join(field(p) for p in optional) + ")"
            return f'"{{" ({one} (", " {one})*)? "}}"'
        pieces = [field(required[0])] + [f'", " {field(p)}' for p in required[1:]]
        pieces += [f'(", " {field(p)})?' for p in optional]
        return '"{" ' + " ".join(pieces) + ' "}"'

    def _add(self, name: str, body: str) -> str:
        rule = f"v-{_rule(name)}"
        while rule in self.rules and self.rules[rule] != body:
            rule += "-x"
        self.rules[rule] = body
        return rule


def _quoted(text: str) -> str:
    """Return text as a GBNF string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tool_rule(signature: Signature, rules: _Rules | None = None) -> str:
    """Return the GBNF right-hand side of one call: `name(a=..., b=...)`.

    Required arguments come first, in their order; optional ones may be left out.
    """
    rules = rules or _Rules()
    names = signature.names
    ordered = [a for a in names if a in signature.required]
    ordered += [a for a in names if a not in signature.required]
    pieces = []
    for i, arg in enumerate(ordered):
        value = rules.value(signature.schema(arg), f"{signature.name}-{arg}")
        piece = f'"{", " if i else ""}{arg}=" {value}'
        pieces.append(piece if arg in signature.required else f"({piece})?")
    return " ".join([f'"{signature.name}("', *pieces, '")"'])


@lru_cache(maxsize=64)
def plan_grammar(
    domain: Domain, services: str, max_calls: int, min_calls: int = 0, first: int = 1
) -> str:
    """Return the GBNF grammar of a plan of at most `max_calls` calls, numbered from `first`.

    A later round numbers on from the calls before it (`first`: the number after its
    `replan()` line), as the parser and the results shown to the planner do.

    The calls are the domain's tools and the configured services (`engine.language.services`).
    With `min_calls`, the plan may not `join()` before that many calls (it may always
    `replan()`): a question of three parts gets at least three calls, where a small
    planner would otherwise stop after the first.
    """
    rules = _Rules()
    calls, lines_of_calls = [], []
    for name, signature in plan_calls(domain, services).signatures.items():
        rule = f"call-{_rule(name)}"
        calls.append(rule)
        lines_of_calls.append(f"{rule} ::= {tool_rule(signature, rules)}")
    # Every plan ends with `N. join()` (answer with these results) or `N. replan()` (plan
    # again once they are in): a marked end, as in LLMCompiler, that small models keep to.
    lines = []
    for n in range(1, max_calls + 2):
        more = f'call "\\n" line{n + 1} | ' if n <= max_calls else ""
        end = '"join()" | "replan()"' if n > min(min_calls, max_calls) else '"replan()"'
        lines.append(f'line{n} ::= "{first + n - 1}. " ({more}{end})')
    head = ["root ::= line1", *lines, f"call ::= {' | '.join(calls)}"]
    values = [f"{rule} ::= {body}" for rule, body in rules.rules.items()]
    return "\n".join([*head, *lines_of_calls, *values, _COMMON.strip()]) + "\n"


def literal(value: Any) -> str:
    """Write a value as the plan language does (JSON literals)."""
    return json.dumps(value, ensure_ascii=False)
