"""Turn eval results into the markdown report and one latency waterfall per graph."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

from evals.harness.stats import percentile
from evals.harness.tables import (
    TOOL_GROUPS,
    Row,
    bound_ms,
    bound_table,
    fmt,
    latency_table,
    model_speed,
    of,
    p50,
    planning_table,
    question_table,
    right_table,
    speedup,
    written_bound_ms,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ORDER = ["fast_agent", "react_agent", "react_sequential"]
SIMULATED_NOTE = (
    "Every model call answers as a correct model would (`evals/simulated/gpu.py`): the same "
    "time to first token for every call, the same time a token, tokens counted by one rule "
    "for every graph (4 characters a token; a tool call is counted by the text "
    '`tool(arg="value")`, in a plan line or a ReAct tool call alike). react_agent is '
    "langchain's create_agent asking, each turn, for every call whose inputs it has; "
    "react_sequential is the same graph asking for one call a turn. A service request "
    "waits as long in every graph (its latency is drawn from the seed and the request)."
)


def steps_table(rows: list[Row], graphs: list[str]) -> list[str]:
    """Return streaming, model, tool and overhead figures per graph."""
    lines = [
        "| graph | first event p50 | first answer token p50 | model calls / run | "
        "tools sum / wall (runs with tools) | graph overhead p50 | overhead / e2e p50 | "
        "tokens out / run | prompt tokens cached |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for g in graphs:
        rs = of(rows, g)
        with_tools = [r for r in rs if r["tool_calls"]]
        tsum = sum(r["tools_sum_ms"] for r in with_tools)
        twall = sum(r["tools_wall_ms"] for r in with_tools)
        share = p50(rs, lambda r: 100 * r["overhead_ms"] / r["e2e_ms"] if r["e2e_ms"] else None)
        prompt = sum(r.get("tokens_in", 0) for r in rs)
        cached = f"{sum(r.get('cached_tokens', 0) for r in rs) / prompt:.0%}" if prompt else "–"
        lines.append(
            f"| {g} | {fmt(p50(rs, 'first_event_ms'), ' ms')} "
            f"| {fmt(p50(rs, 'first_token_ms'), ' ms')} "
            f"| {fmt(sum(r['model_calls'] for r in rs) / max(1, len(rs)))} "
            f"| {fmt(tsum, ' ms')} / {fmt(twall, ' ms')} ({fmt(tsum / twall if twall else None)}x) "
            f"| {fmt(p50(rs, 'overhead_ms'), ' ms')} | {fmt(share, ' %')} "
            f"| {fmt(sum(r['tokens_out'] for r in rs) / max(1, len(rs)))} | {cached} |"
        )
    return lines


def per_step_table(rows: list[Row], graphs: list[str]) -> list[str]:
    """Return each step's p50 and p95 per graph: model calls by node, and tool calls."""
    lines = [
        "| graph | step | calls | p50 | p95 | share of all time |",
        "|---|---|---|---|---|---|",
    ]
    for g in graphs:
        spans: dict[str, list[float]] = {}
        for r in of(rows, g):
            for bar in r["waterfall"]:
                label = f"{bar['kind']}: {bar['label']}"
                spans.setdefault(label, []).append((bar["end"] - bar["start"]) * 1000)
        total = sum(r["e2e_ms"] for r in of(rows, g)) or 1.0
        for label, ms in sorted(spans.items(), key=lambda kv: -sum(kv[1])):
            lines.append(
                f"| {g} | {label} | {len(ms)} | {fmt(percentile(ms, 50), ' ms')} "
                f"| {fmt(percentile(ms, 95), ' ms')} | {fmt(100 * sum(ms) / total, ' %')} |"
            )
    return lines


def router_table(rows: list[Row]) -> list[str]:
    """Return routing accuracy and decision time, per deciding path."""
    routed = [r for r in rows if "route" in r]
    if not routed:
        return []
    lines = [
        "| decided by | runs | accuracy | decision p50 | decision max |",
        "|---|---|---|---|---|",
    ]
    for by in ("classifier", "model", "fallback", "all"):
        rs = routed if by == "all" else [r for r in routed if r["route_by"] == by]
        if rs:
            acc = 100 * sum(r["route_ok"] for r in rs) / len(rs)
            times = [r["route_ms"] for r in rs]
            p, worst = fmt(percentile(times, 50), " ms"), fmt(max(times), " ms")
            lines.append(f"| {by} | {len(rs)} | {acc:.0f} % | {p} | {worst} |")
    return lines


Check = tuple[str, float | None, str, Callable[[float], bool], str]


def targets(rows: list[Row], graphs: list[str], speed: dict[str, float]) -> list[str]:
    """Return the issues' targets with the measured values and whether each is met."""
    if "fast_agent" not in graphs:
        return []
    fast = of(rows, "fast_agent")
    checks: list[Check] = []
    goals = {"react_sequential": (2.0, 2.5, 2.0), "react_agent": (1.5, 1.6, 1.5)}
    for base, (overall, multi, chain) in goals.items():
        if base not in graphs:
            continue
        for label, members, goal in (("overall", None, overall),
                                     ("multi_tool", ("multi_tool",), multi),
                                     ("chain", ("chain",), chain)):  # fmt: skip
            value = speedup(of(rows, base, members), of(rows, "fast_agent", members))
            reach = _reach([ceiling(of(rows, base, members), speed, b) for b in BOUNDS], goal)
            label = f"{base} / fast_agent p50 >= {goal}x, {label}"
            checks.append((label, value, "x", _at_least(goal), reach))
    for group in TOOL_GROUPS:
        per = of(rows, "fast_agent", (group,))
        ratios = [r["e2e_ms"] / b for r in per if (b := bound_ms(r, speed))]
        floors = [
            w / b for r in per if (b := bound_ms(r, speed)) and (w := written_bound_ms(r, speed))
        ]
        floor = percentile(floors, 50)
        reach = "1.00x / " + ("–" if floor is None else f"{floor:.2f}x")
        label = f"fast_agent e2e / critical-path bound p50 <= 1.2x, {group}"
        checks.append((label, percentile(ratios, 50), "x", lambda v: v <= 1.2, reach))
    tool_rows = of(rows, "fast_agent", TOOL_GROUPS)
    checks.append(
        (
            "time to first tool start p50, tool questions",
            p50(tool_rows, "first_tool_ms"),
            " ms",
            lambda v: v <= 150,
            "–",
        )
    )
    checks.append(("graph overhead p50", p50(fast, "overhead_ms"), " ms", lambda v: v <= 15, "–"))
    checks.append(
        ("first streamed event p50", p50(fast, "first_event_ms"), " ms", lambda v: v < 50, "–")
    )
    routed = [r for r in fast if "route" in r]
    fast_path = percentile([r["route_ms"] for r in routed if r["route_by"] == "classifier"], 95)
    checks.append(("router fast path p95", fast_path, " ms", lambda v: v < 5, "–"))
    accuracy = 100 * sum(r["route_ok"] for r in routed) / len(routed) if routed else None
    checks.append(("routing accuracy", accuracy, " %", lambda v: v >= 90, "–"))
    errors = float(sum(bool(r["error"]) for r in rows))
    checks.append(("runs that failed (all graphs)", errors, "", lambda v: v == 0, "–"))
    reach = "best reachable: any agent / one that writes its calls"
    lines = [f"| target | measured | met | {reach} |", "|---|---|---|---|"]
    for label, value, unit, ok, reachable in checks:
        met = "–" if value is None else ("yes" if ok(value) else "**no**")
        shown = f"{value:.2f}x" if unit == "x" and value is not None else fmt(value, unit)
        lines.append(f"| {label} | {shown} | {met} | {reachable} |")
    return lines


BOUNDS = (bound_ms, written_bound_ms)


def ceiling(
    base: list[Row], speed: dict[str, float], bound: Callable[..., float | None]
) -> float | None:
    """Return the highest speed-up over `base` an agent could reach (p50 over p50).

    No agent answers a question faster than its bound (`bound_ms`: any agent;
    `written_bound_ms`: one that writes its calls with a model), so no such agent's p50
    is below the bounds' p50: the baseline's p50 over the bounds' p50 caps the ratio.
    """
    bounds = [b for r in base if (b := bound(r, speed))]
    fastest, observed = percentile(bounds, 50), p50(base, "e2e_ms")
    return observed / fastest if fastest and observed else None


def _reach(ceilings: list[float | None], goal: float) -> str:
    cells = ["–" if c is None else f"{c:.2f}x" + (" (below)" if c < goal else "") for c in ceilings]
    return " / ".join(cells)


def _at_least(goal: float) -> Callable[[float], bool]:
    return lambda v: v >= goal


def waterfall(rows: list[Row], graph: str, question_id: str, path: Path) -> None:
    """Draw one run's model and tool calls on a time axis."""
    row = next(r for r in rows if r["graph"] == graph and r["id"] == question_id)
    bars = sorted(row["waterfall"], key=lambda b: b["start"])
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(bars) + 1.6))
    for i, bar in enumerate(bars):
        color = {"model": "#4C72B0", "tool": "#DD8452"}.get(bar["kind"], "#BBBBBB")
        ax.barh(i, (bar["end"] - bar["start"]) * 1000, left=bar["start"] * 1000, color=color)
    ax.set_yticks(range(len(bars)), [f"{b['kind']}: {b['label']}" for b in bars])
    ax.invert_yaxis()
    ax.set_xlabel("ms since the run started")
    ax.set_title(f"{graph} on '{question_id}': {row['e2e_ms']:,.0f} ms end to end")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(rows: list[Row], config: dict[str, Any], out: Path) -> Path:
    """Write report.md and the waterfalls into `out`; return the report's path."""
    present = {r["graph"] for r in rows}
    graphs = [g for g in ORDER if g in present] + sorted(present - set(ORDER))
    speed = model_speed(rows, config)
    simulated = config["backend"] == "simulated"
    title = (
        f"SIMULATED GPU latency model (vLLM-like: TTFT {speed['ttft_ms']:g} ms, "
        f"{speed['per_token_ms']:g} ms/token)"
        if simulated
        else f"{config.get('label', config['backend'])} backend"
    )
    lines = [f"# Eval report: {title}", "", f"Config: `{json.dumps(config, default=str)}`", ""]
    if simulated:
        lines += [SIMULATED_NOTE, ""]
    lines += ["## End-to-end latency", "", *latency_table(rows, graphs), ""]
    lines += [
        "## Over the questions every graph answered right",
        "",
        *right_table(rows, graphs),
        "",
    ]
    lines += [
        "## Critical-path bound",
        "",
        f"The lowest latency any agent could reach per question: its slowest dependent chain "
        f"of the run's measured tool latencies, one time to first token ({speed['ttft_ms']:.0f} "
        f"ms) and the reference answer's tokens ({speed['per_token_ms']:.1f} ms each). "
        "With calls written: also each call waits for its plan line to be written (a first "
        "token and its tokens from the start; after its inputs for a value a reader must "
        "derive), the lowest an agent that writes its calls with a model could reach. Only "
        "calls known without writing them (a reused plan, a speculative hit) go below it.",
        "",
        *bound_table(rows, graphs, speed),
        "",
    ]
    lines += [
        "## Planning and first tool start",
        "",
        "First tool: from the run's first step to its first tool start. Plan tokens: what "
        "the planner wrote (fast_agent), or the tool-calling turns (ReAct). Rounds > 1: "
        "questions where the planner planned again, or ReAct took more than one tool turn.",
        "",
        *planning_table(rows, graphs),
        "",
    ]
    lines += ["## Where the time goes", "", *steps_table(rows, graphs), ""]
    lines += ["## Per step", "", *per_step_table(rows, graphs), ""]
    if router := router_table(of(rows, "fast_agent")):
        lines += ["## Router (fast_agent)", "", *router, ""]
    if rates := config.get("prefix_cache_hit_rate"):
        lines += ["## Prefix cache (server /metrics)", "", "| graph | prompt tokens from cache |"]
        lines += ["|---|---|"]
        lines += [f"| {g} | {'n/a' if r is None else f'{r:.1%}'} |" for g, r in rates.items()]
        lines.append("")
    if goals := targets(rows, graphs, speed):
        lines += ["## Targets", "", *goals, ""]
    if experiments := config.get("langsmith_experiments"):
        lines += ["## LangSmith experiments", "", *[f"- {e}" for e in experiments], ""]
    if errors := [r for r in rows if r["error"]]:
        lines += ["## Errors", "", *[f"- {r['graph']} {r['id']}: {r['error']}" for r in errors], ""]
    lines += ["## Per question", "", *question_table(rows, graphs, speed), ""]
    tool_runs = [r for r in of(rows, "fast_agent", TOOL_GROUPS) if len(r["tool_calls"]) > 1]
    if tool_runs:  # show the run where parallel calls saved the most
        pick = max(tool_runs, key=lambda r: r["tools_sum_ms"] - r["tools_wall_ms"])["id"]
        lines += ["## Waterfalls", ""]
        for g in graphs:
            if any(r["graph"] == g and r["id"] == pick for r in rows):
                waterfall(rows, g, pick, out / f"waterfall_{g}.png")
                lines.append(f"![{g}](waterfall_{g}.png)")
        lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
