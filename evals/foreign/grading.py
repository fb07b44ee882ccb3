"""Grade an agent's calls against a question's expected calls: exactly right, and repeats.

Facts say whether the answer is right; these say whether the calls were. A call is
compared as its tool reads it: the arguments validated by the tool's own schema
(defaults filled in, "2" read as 2.0 where a number is wanted, a record's extra keys
dropped), numbers to 6 significant digits, text in lower case with single spaces.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from pydantic import BaseModel, ValidationError

from core.domain import Domain
from evals.harness.dataset import GROUPS, Question

SIGNIFICANT = 6
SHOWN_CHARS = 160  # of a missing or extra call, in the report


def canonical(domain: Domain, tool: str, args: Any) -> str:
    """Return a call as it is compared: `["tool", {args}]` as its tool's schema reads them."""
    values = args
    schema = getattr(domain.tool(tool), "args_schema", None)
    if isinstance(args, dict) and isinstance(schema, type) and issubclass(schema, BaseModel):
        # a call its tool refuses is compared as written: it cannot equal one that runs
        with suppress(ValidationError):
            values = schema.model_validate(args).model_dump(mode="json")
    return json.dumps([tool, _plain(values)], sort_keys=True)


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(f"{value:.{SIGNIFICANT}g}")
    if isinstance(value, str):
        return " ".join(value.lower().split())
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)


def grade(row: dict[str, Any], question: Question, domain: Domain) -> dict[str, Any]:
    """Return a run's call grades: the calls it ran against the expected ones, and repeats.

    `calls_right`: the run did not fail and the set of calls it ran equals the expected
    set (a direct question expects none). `repeated_calls`: how many calls the run asked
    for that it had asked for already, identically (`row["asked_calls"]`).
    """
    made = {canonical(domain, tool, args) for tool, args, _ in row["tool_runs"]}
    expected = {canonical(domain, c["tool"], c["args"]) for c in question.expected_calls}
    asked = [canonical(domain, tool, args) for tool, args in row.get("asked_calls", [])]
    return {
        "calls_right": not row["error"] and made == expected,
        "calls_missing": sorted(expected - made),
        "calls_extra": sorted(made - expected),
        "repeated_calls": len(asked) - len(set(asked)),
    }


def calls_section(rows: Sequence[dict[str, Any]], graphs: Sequence[str]) -> list[str]:
    """Return the report's section on calls: right and repeated per group, then the misses."""
    lines = [
        "## Calls (against each question's expected calls)",
        "",
        "Calls right: the set of calls the run made equals the expected set, each call as its "
        "tool's schema reads it (defaults filled in, numbers to 6 significant digits, text in "
        "lower case). Repeated: runs whose plans (fast_agent) or tool-calling turns (ReAct) "
        "asked for one identical call more than once.",
        "",
        "| group | " + " | ".join(f"{g} calls right | {g} repeated" for g in graphs) + " |",
        "|---|" + "---|---|" * len(graphs),
    ]
    for label, groups in [*((g, (g,)) for g in GROUPS), ("overall", tuple(GROUPS))]:
        cells = []
        for graph in graphs:
            runs = [r for r in rows if r["graph"] == graph and r["group"] in groups]
            right = sum(bool(r.get("calls_right")) for r in runs)
            repeated = sum(r.get("repeated_calls", 0) > 0 for r in runs)
            cells += [f"{right}/{len(runs)}", f"{repeated}/{len(runs)}"]
        if any(r["group"] in groups for r in rows):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    misses = [r for r in rows if "calls_right" in r and not r["calls_right"]]
    if misses:
        lines += ["", "| graph | question | answer right | missing calls | extra calls |"]
        lines.append("|---|---|---|---|---|")
        for r in misses:
            missing, extra = _shown(r["calls_missing"]), _shown(r["calls_extra"])
            answer = bool(r["correct"])
            lines.append(f"| {r['graph']} | {r['id']} | {answer} | {missing} | {extra} |")
    return [*lines, ""]


def _shown(calls: Sequence[str]) -> str:
    text = "; ".join(c if len(c) <= SHOWN_CHARS else c[:SHOWN_CHARS] + "…" for c in calls)
    return text.replace("|", "\\|") or "–"
