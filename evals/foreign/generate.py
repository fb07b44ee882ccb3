"""Write the foreign eval's dataset: run each question's plan with the real tools, keep the facts.

    python -m evals.foreign.generate            # rewrite evals/foreign/dataset.jsonl

Each question's plan (`questions.SPECS`) is parsed here, not by the engine's plan parser
(which does not take lists and objects yet): lines `N. tool(arg=value, ...)`, values as
JSON (arrays, objects, true/false/null, scientific notation), and a reference as a whole
string: `"$N"` (call N's result), `"$N.field"` (a key; over a list of rows, that column),
`"$N[i]"` and `"$N[i].field"` (a row, a row's key), chained (`"$2.solution[0]"`). Facts
are such paths too, read from the results and rounded to their decimals.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.domain import Domain
from evals.foreign.domain import DOMAIN
from evals.foreign.questions import SPECS, Spec

DATASET = Path(__file__).with_name("dataset.jsonl")
DEFAULT_DECIMALS = 2
_CALL = re.compile(r"^\s*(\d+)\.\s*([A-Za-z_]\w*)\((.*)\)\s*$")
_PATH = re.compile(r"^\$(\d+)((?:\[\d+\]|\.[A-Za-z_]\w*)*)$")
_STEP = re.compile(r"\[(\d+)\]|\.([A-Za-z_]\w*)")
_NAMES = {"true": True, "false": False, "null": None}

Call = tuple[str, dict[str, Any]]


def parse_plan(text: str) -> list[Call]:
    """Return a plan's calls in order; `join()` and `replan()` lines end it.

    Raises:
        ValueError: a line that is not a call, is misnumbered, or has a value that is no literal.
    """
    calls: list[Call] = []
    for line in filter(str.strip, text.splitlines()):
        match = _CALL.match(line)
        if match is None:
            raise ValueError(f"not a call line: {line!r}")
        if int(match[1]) != len(calls) + 1:
            raise ValueError(f"line {match[1]} should be numbered {len(calls) + 1}: {line!r}")
        if match[2] in ("join", "replan"):
            break
        node = ast.parse(f"f({match[3]})", mode="eval").body
        assert isinstance(node, ast.Call)
        if node.args or any(k.arg is None for k in node.keywords):
            raise ValueError(f"write every argument by name: {line!r}")
        calls.append((match[2], {k.arg: _literal(k.value) for k in node.keywords if k.arg}))
    return calls


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and not isinstance(node.value, bytes):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _literal(node.operand)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.List):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return {k.value: _literal(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[union-attr]
    raise ValueError(f"not a literal: {ast.unparse(node)}")


def lookup(path: str, results: Sequence[Any]) -> Any:
    """Return what a reference path names in the results (call 1 is `results[0]`).

    Raises:
        LookupError: a path that is not a reference, or names what the result lacks.
    """
    match = _PATH.match(path)
    if match is None or not 0 < int(match[1]) <= len(results):
        raise LookupError(f"not a reference to an earlier call: {path!r}")
    value = results[int(match[1]) - 1]
    for index, key in _STEP.findall(match[2]):
        if index:
            value = value[int(index)]
        elif isinstance(value, list):  # a column of rows
            value = [row[key] for row in value]
        else:
            value = value[key]
    return value


def resolve(args: dict[str, Any], results: Sequence[Any]) -> dict[str, Any]:
    """Replace each argument that is a whole reference with the value it names."""
    return {
        name: lookup(value, results) if isinstance(value, str) and _PATH.match(value) else value
        for name, value in args.items()
    }


async def run_plan(domain: Domain, calls: Sequence[Call]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Run the calls in order with the domain's tools; return each resolved call and result."""
    done: list[dict[str, Any]] = []
    results: list[Any] = []
    for tool_name, planned in calls:
        tool = domain.tool(tool_name)
        if tool is None:
            raise LookupError(f"no tool named {tool_name!r}")
        args = resolve(planned, results)
        results.append(json.loads(await tool.ainvoke(args)))
        call: dict[str, Any] = {"tool": tool_name, "args": args}
        if planned != args:
            call["planned"] = planned  # as the plan writes it, with its references
        done.append(call)
    return done, results


def fact_text(value: Any, decimals: int) -> str:
    """Write a fact as an answer would hold it: a number rounded, else its text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = f"{round(float(value), decimals):.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def computed_fact(spec: str, results: Sequence[Any]) -> tuple[str, str]:
    """Return a fact path's label and its text: `$1.mean:3` is call 1's mean to 3 places."""
    path, _, decimals = spec.partition(":")
    label = _PATH.match(path)
    name = re.sub(r"^(\[\d+\])*\.", "", label[2]) if label else path  # "[0].total": "total"
    return name, fact_text(lookup(path, results), int(decimals or DEFAULT_DECIMALS))


async def row_of(domain: Domain, spec: Spec) -> dict[str, Any]:
    """Return a question's dataset row: its calls run, its facts computed."""
    calls, results = await run_plan(domain, parse_plan(spec.plan))
    if spec.group == "direct":
        facts, reference = list(spec.facts), spec.reference
    else:
        labelled = [computed_fact(fact, results) for fact in spec.facts]
        facts = [text for _, text in labelled]
        reference = "; ".join(f"{name}: {text}" for name, text in labelled) + "."
    tools = list(dict.fromkeys(call["tool"] for call in calls))
    return {
        "id": spec.id,
        "group": spec.group,
        "question": spec.question,
        "route": "direct" if spec.group == "direct" else "tools",
        "tools": tools,
        "services": [],
        "facts": facts,
        "reference": reference,
        "expected_calls": calls,
    }


async def build(domain: Domain = DOMAIN, specs: Sequence[Spec] = SPECS) -> str:
    """Return the dataset's text: one JSON line per question."""
    rows = [await row_of(domain, spec) for spec in specs]
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main() -> int:
    """Rewrite the dataset file."""
    text = asyncio.run(build())
    DATASET.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10))} questions to {DATASET}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
