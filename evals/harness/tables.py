"""The eval report's speed tables: latency per group, ratios, the critical-path bound, planning.

Every table takes the rows of `evals.harness.runner.measure` (with `chain_ms` from
`evals.run.add_bounds`) and the graphs in report order; the first graph is the one
compared (the fast agent), each other graph is a baseline it is compared with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from evals.harness.critical_path import TimedCall, chain_of
from evals.harness.stats import percentile

Row = dict[str, Any]
GROUPS: list[tuple[str, tuple[str, ...] | None]] = [
    ("direct", ("direct",)),
    ("one_tool", ("one_tool",)),
    ("multi_tool", ("multi_tool",)),
    ("chain", ("chain",)),
    ("tool questions", ("one_tool", "multi_tool", "chain")),
    ("write", ("write",)),  # changes, approved: e2e includes the pause and the resume
    ("overall", None),
]
TOOL_GROUPS = ("one_tool", "multi_tool", "chain")
SHORT = {"fast_agent": "fast", "react_agent": "react", "react_sequential": "sequential"}


def fmt(value: float | None, unit: str = "") -> str:
    """Format a number for a table cell; a dash for none."""
    if value is None:
        return "–"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return text + unit


def of(rows: list[Row], graph: str, groups: tuple[str, ...] | None = None) -> list[Row]:
    """Return one graph's rows, of some groups (None: all)."""
    return [r for r in rows if r["graph"] == graph and (groups is None or r["group"] in groups)]


def p50(rows: list[Row], key: str | Callable[[Row], float | None]) -> float | None:
    """Return the median of a row field (or of a function of a row)."""
    values = [key(r) if callable(key) else r.get(key) for r in rows]
    return percentile(values, 50)


def speedup(base: list[Row], fast: list[Row]) -> float | None:
    """Return the baseline's p50 end-to-end over the fast graph's."""
    b, f = p50(base, "e2e_ms"), p50(fast, "e2e_ms")
    return b / f if b and f else None


def ratio_columns(graphs: Sequence[str]) -> list[str]:
    """Return the ratio columns' headers: the first graph against each other one."""
    return [f"{SHORT.get(g, g)} / {SHORT.get(graphs[0], graphs[0])} p50" for g in graphs[1:]]


def _table(columns: list[str], lines: list[str]) -> list[str]:
    return ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|", *lines]


def latency_table(rows: list[Row], graphs: list[str]) -> list[str]:
    """Return per-group p50/p95 end-to-end latency, correctness and the speed ratios."""
    columns = ["group", "n"] + [f"{g} {c}" for g in graphs for c in ("p50", "p95", "correct")]
    lines = []
    for label, members in GROUPS:
        per = {g: of(rows, g, members) for g in graphs}
        if not any(per.values()):
            continue
        cells = [label, str(max(len(v) for v in per.values()))]
        for g in graphs:
            e2e = [r["e2e_ms"] for r in per[g]]
            right = sum(bool(r["correct"]) for r in per[g])
            cells += [fmt(percentile(e2e, 50), " ms"), fmt(percentile(e2e, 95), " ms")]
            cells.append(f"{right}/{len(per[g])}")
        cells += [fmt(speedup(per[g], per[graphs[0]]), "x") for g in graphs[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return _table(columns + ratio_columns(graphs), lines)


def right_table(rows: list[Row], graphs: list[str]) -> list[str]:
    """Return p50 over the questions every graph answered right, and right answers a minute."""
    columns = ["group", "right in all"] + [f"{g} p50 (right)" for g in graphs]
    columns += ratio_columns(graphs) + [f"{g} right/min" for g in graphs]
    lines = []
    for label, members in GROUPS:
        per = {g: of(rows, g, members) for g in graphs}
        if not any(per.values()):
            continue
        ids = set.intersection(*({r["id"] for r in per[g] if r["correct"]} for g in graphs))
        right = {g: [r for r in per[g] if r["id"] in ids] for g in graphs}
        cells = [label, str(len(ids))] + [fmt(p50(right[g], "e2e_ms"), " ms") for g in graphs]
        cells += [fmt(speedup(right[g], right[graphs[0]]), "x") for g in graphs[1:]]
        for g in graphs:
            minutes = sum(r["e2e_ms"] for r in per[g]) / 60_000
            per_min = sum(bool(r["correct"]) for r in per[g]) / minutes if minutes else None
            cells.append(fmt(per_min))
        lines.append("| " + " | ".join(cells) + " |")
    return _table(columns, lines)


def bound_ms(row: Row, speed: dict[str, float]) -> float | None:
    """Return the lowest latency any agent could reach on a row's question at this speed.

    Its slowest dependent chain of (measured) tool latencies, one time to first token,
    and the reference answer's tokens.
    """
    if "chain_ms" not in row:
        return None
    return float(row["chain_ms"]) + _answer_ms(row, speed)


def written_bound_ms(row: Row, speed: dict[str, float]) -> float | None:
    """Return the lowest latency an agent that writes its calls with a model could reach.

    As `bound_ms`, with each call also waiting for its line to be written (a first
    token, then its tokens; a call whose value a reader derives, after its inputs).
    """
    if "calls" not in row:
        return None
    calls = [TimedCall(*c) for c in row["calls"]]
    return chain_of(calls, speed["ttft_ms"], speed["per_token_ms"]) + _answer_ms(row, speed)


def _answer_ms(row: Row, speed: dict[str, float]) -> float:
    """Return the reference answer's time at this speed: a first token, then its tokens."""
    return speed["ttft_ms"] + (int(row["answer_tokens"]) - 1) * speed["per_token_ms"]


def bound_table(rows: list[Row], graphs: list[str], speed: dict[str, float]) -> list[str]:
    """Return per group the bounds' p50 and each graph's e2e as a multiple of the bound (p50)."""
    columns = ["group", "bound p50", "bound with calls written p50"]
    columns += [f"{g} e2e / bound p50" for g in graphs]
    lines = []
    for label, members in GROUPS:
        per = {g: of(rows, g, members) for g in graphs}
        if not any(per.values()):
            continue
        bounds = [bound_ms(r, speed) for r in per[graphs[0]]]
        written = [written_bound_ms(r, speed) for r in per[graphs[0]]]
        cells = [label, fmt(percentile(bounds, 50), " ms"), fmt(percentile(written, 50), " ms")]
        for g in graphs:
            ratios = [r["e2e_ms"] / b for r in per[g] if (b := bound_ms(r, speed))]
            cells.append(fmt(percentile(ratios, 50), "x"))
        lines.append("| " + " | ".join(cells) + " |")
    return _table(columns, lines)


def planning_table(rows: list[Row], graphs: list[str]) -> list[str]:
    """Return per tool group: first tool start, plan tokens, new rounds, reused and wasted work.

    Template plans are the fast agent's plans filled in from a solved question of the same
    shape (no planner call); unused speculative calls ran before the plan and were dropped.
    """
    first = graphs[0]
    columns = ["group"] + [f"{g} first tool p50" for g in graphs]
    columns += [f"{g} plan tokens p50" for g in graphs] + [f"{g} rounds > 1" for g in graphs]
    columns += [f"{first} template plans", f"{first} unused speculative calls"]
    lines = []
    for label, members in GROUPS:
        if members is None or "direct" in members:
            continue
        per = {g: of(rows, g, members) for g in graphs}
        if not any(per.values()):
            continue
        cells = [label] + [fmt(p50(per[g], "first_tool_ms"), " ms") for g in graphs]
        cells += [fmt(p50(per[g], "plan_tokens")) for g in graphs]
        for g in graphs:
            again = sum(r["rounds"] > 1 for r in per[g])
            cells.append(f"{again}/{len(per[g])}")
        templates = sum(r.get("plan_source") == "template" for r in per[first])
        cells += [f"{templates}/{len(per[first])}"]
        cells += [str(sum(r.get("speculative_wasted", 0) for r in per[first]))]
        lines.append("| " + " | ".join(cells) + " |")
    return _table(columns, lines)


def question_table(rows: list[Row], graphs: list[str], speed: dict[str, float]) -> list[str]:
    """Return one line per question: the bound, each graph's e2e, and the planner's figures."""
    first = graphs[0]
    columns = ["question", "group", "bound"] + [f"{SHORT.get(g, g)} e2e" for g in graphs]
    columns += [f"{SHORT.get(first, first)} {c}" for c in ("plan tokens", "first tool", "rounds")]
    by = {(r["graph"], r["id"]): r for r in rows}
    lines = []
    for row in of(rows, first):
        qid = row["id"]
        cells = [qid, row["group"], fmt(bound_ms(row, speed), " ms")]
        cells += [fmt(by[g, qid]["e2e_ms"], " ms") if (g, qid) in by else "–" for g in graphs]
        mark = "" if all(by[g, qid]["correct"] for g in graphs if (g, qid) in by) else " (wrong)"
        cells[0] += mark
        cells += [fmt(row["plan_tokens"]), fmt(row["first_tool_ms"], " ms"), str(row["rounds"])]
        lines.append("| " + " | ".join(cells) + " |")
    return _table(columns, lines)


def model_speed(rows: list[Row], config: dict[str, Any]) -> dict[str, float]:
    """Return the model speed the bound assumes: the simulation's, else the runs' medians."""
    if "model_speed" in config:
        return dict(config["model_speed"])
    ttft = percentile([t for r in rows for t in r["ttft_ms"]], 50) or 0.0
    itl = percentile([g for r in rows for g in r["itl_ms"]], 50) or 0.0
    return {"ttft_ms": ttft, "per_token_ms": itl}
