"""Tool signatures for the plan language: each argument's JSON schema, checked and shown.

A `Signature` is a tool's arguments, in order, each with its JSON schema (the same one
`create_agent` hands the model: a pydantic model's `model_json_schema()`, or the dict
an MCP tool carries), its `$ref`s inlined. From it come the compact form the planner
reads (`sum_of(values: list[number], start: number = 0)`), the check every planned
argument passes (`check`: the parser's, before a call starts), and the GBNF rule a
grammar server decodes it with (`engine.language.grammar`). A wrong type is an error
naming the tool and the argument.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import BaseTool

Schema = dict[str, Any]
ANY: Schema = {}
# A whole reference: `$2`, `$1.rate`, `$1[0].id`, `$3.rows[2]`.
WHOLE_REFERENCE = re.compile(r"\s*\$\d+(?:\.[A-Za-z_]\w*|\[\d+\])*\s*")
_MAX_DEPTH = 8  # of inlined `$ref`s and nested values


@dataclass(frozen=True)
class Signature:
    """A tool's arguments in order, each with its JSON schema, and which are required."""

    name: str
    args: tuple[tuple[str, Schema], ...]
    required: frozenset[str]

    @property
    def names(self) -> list[str]:
        """Return the argument names, in order."""
        return [name for name, _ in self.args]

    def schema(self, arg: str) -> Schema:
        """Return one argument's schema (any value for an unknown name)."""
        return dict(self.args).get(arg, ANY)

    def text(self) -> str:
        """Return the call as the planner reads it: `name(a: type, b: type = default)`."""
        return (
            f"{self.name}({', '.join(_arg_text(n, s, n in self.required) for n, s in self.args)})"
        )

    def described(self) -> list[str]:
        """Return `arg: description` for each argument whose schema describes it."""
        return [f"{n}: {s['description']}" for n, s in self.args if s.get("description")]

    def check(self, args: dict[str, Any]) -> str | None:
        """Return why the arguments do not fit (naming the tool and argument), or None."""
        missing = [n for n in self.names if n in self.required and n not in args]
        if missing:
            return f"{self.name}: argument {missing[0]!r} is required"
        for name, value in args.items():
            problem = check(value, self.schema(name))
            if problem:
                return f"{self.name}: argument {name!r} {problem}"
        return None


def signature_of(tool: BaseTool) -> Signature:
    """Return a tool's signature, from the schema its tool calls are made with."""
    schema: Any = tool.tool_call_schema
    if isinstance(schema, dict):
        raw: Schema = schema
    elif hasattr(schema, "model_json_schema"):
        raw = schema.model_json_schema()
    else:  # a pydantic v1 model
        raw = schema.schema()
    defs = raw.get("$defs") or raw.get("definitions") or {}
    properties = raw.get("properties") or {}
    names = list(properties) or list(tool.args)
    args = tuple((n, _inline(properties.get(n, {}), defs, 0)) for n in names)
    return Signature(tool.name, args, frozenset(raw.get("required", names)))


def strings(name: str, params: tuple[str, ...]) -> Signature:
    """Return the signature of a call whose arguments are all required strings (a service)."""
    return Signature(name, tuple((p, {"type": "string"}) for p in params), frozenset(params))


def untyped(name: str, names: list[str]) -> Signature:
    """Return a signature that knows only argument names (any literal fits each)."""
    return Signature(name, tuple((n, ANY) for n in names), frozenset(names))


def _inline(schema: Any, defs: dict[str, Any], depth: int) -> Schema:
    """Return a schema with its `$ref`s replaced by their definitions (depth-bounded)."""
    if not isinstance(schema, dict):
        return ANY
    if "$ref" in schema:
        target = defs.get(str(schema["$ref"]).rsplit("/", 1)[-1])
        if depth >= _MAX_DEPTH or not isinstance(target, dict):
            return ANY
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return _inline(merged, defs, depth + 1)
    out: Schema = {}
    for key, value in schema.items():
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {k: _inline(v, defs, depth + 1) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _inline(value, defs, depth + 1)
        elif key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
            out[key] = [_inline(v, defs, depth + 1) for v in value]
        else:
            out[key] = value
    return out


def type_text(schema: Schema, depth: int = 0) -> str:
    """Return a schema as a short type: `number`, `list[string]`, `"a"|"b"`, `{x: number}`."""
    if depth > _MAX_DEPTH:
        return "any"
    if "enum" in schema:
        return "|".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            kinds = [type_text(s, depth + 1) for s in schema[key] if s.get("type") != "null"]
            optional = any(s.get("type") == "null" for s in schema[key])
            return "|".join(dict.fromkeys(kinds)) + (" or null" if optional else "")
    kind = schema.get("type")
    if isinstance(kind, list):
        return "|".join(str(k) for k in kind)
    if kind == "array":
        return f"list[{type_text(schema.get('items') or {}, depth + 1)}]"
    if kind == "object" and schema.get("properties"):
        needed = set(schema.get("required", []))
        fields = [
            f"{n}{'' if n in needed else '?'}: {type_text(s, depth + 1)}"
            for n, s in schema["properties"].items()
        ]
        return "{" + ", ".join(fields) + "}"
    if kind == "object":
        return "object"
    return str(kind) if kind else "any"


def _arg_text(name: str, schema: Schema, required: bool) -> str:
    text = f"{name}: {type_text(schema)}"
    if not required and "default" in schema:
        return f"{text} = {json.dumps(schema['default'])}"
    return text if required else f"{text} = null"


def is_reference(value: Any) -> bool:
    """Whether a value is one whole reference to an earlier call's result (`$1.rate`)."""
    return isinstance(value, str) and WHOLE_REFERENCE.fullmatch(value) is not None


def check(value: Any, schema: Schema, depth: int = 0) -> str | None:
    """Return why a planned value does not fit its schema, or None.

    A whole reference (`"$1.ids"`) fits any schema: its value is known only when call 1
    ends (`conform` checks it then). References inside a longer string make a string.
    """
    if not schema or is_reference(value) or depth > _MAX_DEPTH:
        return None
    for key in ("anyOf", "oneOf"):
        if key in schema:
            problems = [check(value, s, depth + 1) for s in schema[key]]
            return None if any(p is None for p in problems) else problems[0]
    if "enum" in schema and value not in schema["enum"]:
        return f"must be one of {', '.join(json.dumps(v) for v in schema['enum'])}"
    if "const" in schema and value != schema["const"]:
        return f"must be {json.dumps(schema['const'])}"
    kind = schema.get("type")
    kinds: list[str] = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds and not any(_is(value, k) for k in kinds):
        return f"must be {' or '.join(_NAMES.get(k, k) for k in kinds)}, not {_shown(value)}"
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            if problem := check(item, schema["items"], depth + 1):
                return f"item {i} {problem}"
    if isinstance(value, dict):
        return _check_object(value, schema, depth)
    return None


def _check_object(value: dict[str, Any], schema: Schema, depth: int) -> str | None:
    properties = schema.get("properties") or {}
    for name in schema.get("required", []):
        if name not in value:
            return f"lacks the field {name!r}"
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            if problem := check(item, properties[name], depth + 1):
                return f"field {name!r} {problem}"
        elif extra is False:
            return f"has no field {name!r}; fields: {', '.join(properties)}"
        elif isinstance(extra, dict) and (problem := check(item, extra, depth + 1)):
            return f"field {name!r} {problem}"
    return None


_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


def _is(value: Any, kind: str) -> bool:
    if kind == "integer":
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            or (isinstance(value, float) and value.is_integer())
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    types: dict[str, Any] = {
        "string": str, "boolean": bool, "array": list, "object": dict, "null": type(None),
    }  # fmt: skip
    return isinstance(value, types.get(kind, object))


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def conform(value: Any, schema: Schema) -> Any:
    """Return a resolved reference's value in the shape its argument takes.

    A column of rows (a list) fills a list argument as it is, a text argument as its
    values joined (`"Oslo, Bergen"`), and a one-value list a single value; a number
    written as text fills a number argument.
    """
    kinds = _kinds(schema)
    if isinstance(value, dict) and "object" not in kinds and kinds & {"string"}:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and "array" not in kinds:
        if len(value) == 1 and not kinds & {"string"}:
            return conform(value[0], schema)
        if kinds & {"string"} or not kinds:
            return ", ".join(v if isinstance(v, str) else json.dumps(v) for v in value)
    if isinstance(value, str) and kinds and kinds <= {"number", "integer", "null"}:
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            return value
        return int(number) if "integer" in kinds and number.is_integer() else number
    if not isinstance(value, list) and kinds == {"array"}:
        return [value]
    return value


def _kinds(schema: Schema) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    found: set[str] = set()
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, []):
            found |= _kinds(option)
    return found
