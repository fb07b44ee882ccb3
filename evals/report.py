"""Turn eval results into the markdown report and one latency waterfall per graph."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

Row = dict[str, Any]
MULTI = ("multi_tool", "chain")


def pct(values: list[float], q: float) -> float | None:
    """Return the q-th percentile (nearest rank), or None for no values."""
    data = sorted(v for v in values if v is not None)
    if not data:
        return None
    return data[min(len(data) - 1, max(0, math.ceil(q / 100 * len(data)) - 1))]


def fmt(value: float | None, unit: str = "") -> str:
    """Format a number for a table cell; a dash for none."""
    if value is None:
        return "–"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return text + unit


def _of(rows: list[Row], graph: str, groups: tuple[str, ...] | None = None) -> list[Row]:
    return [r for r in rows if r["graph"] == graph and (groups is None or r["group"] in groups)]


def _speedup(base: list[Row], fast: list[Row]) -> float | None:
    b, f = pct([r["e2e_ms"] for r in base], 50), pct([r["e2e_ms"] for r in fast], 50)
    return b / f if b and f else None


def latency_table(rows: list[Row], graphs: list[str]) -> list[str]:
    """Return per-group and overall p50/p95 end-to-end latency and correctness."""
    columns = ["group", "n"] + [f"{g} {c}" for g in graphs for c in ("p50", "p95", "correct")]
    columns += ["speedup p50"] if len(graphs) == 2 else []
    lines = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    groups: list[tuple[str, tuple[str, ...] | None]] = [
        (g, (g,)) for g in ("direct", "one_tool", "multi_tool", "chain")
    ]
    groups += [("multi-tool (multi_tool + chain)", MULTI), ("overall", None)]
    for label, members in groups:
        per = {g: _of(rows, g, members) for g in graphs}
        if not any(per.values()):
            continue
        n = max(len(v) for v in per.values())
        cells = ""
        for g in graphs:
            e2e = [r["e2e_ms"] for r in per[g]]
            ok = sum(r["correct"] for r in per[g])
            cells += (
                f" {fmt(pct(e2e, 50), ' ms')} | {fmt(pct(e2e, 95), ' ms')} | {ok}/{len(per[g])} |"
            )
        if len(graphs) == 2:
            s = _speedup(per[graphs[1]], per[graphs[0]])
            cells += f" {fmt(s, 'x')} |"
        lines.append(f"| {label} | {n} |{cells}")
    return lines


def steps_table(rows: list[Row], graphs: list[str]) -> list[str]:
    """Return streaming, model, tool and overhead figures per graph."""
    lines = [
        "| graph | first event p50 | first answer token p50 | model calls / run | "
        "tools sum / wall (runs with tools) | graph overhead p50 | overhead / e2e p50 | "
        "tokens out / run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for g in graphs:
        rs = _of(rows, g)
        with_tools = [r for r in rs if r["tool_calls"]]
        tsum = sum(r["tools_sum_ms"] for r in with_tools)
        twall = sum(r["tools_wall_ms"] for r in with_tools)
        share = pct([100 * r["overhead_ms"] / r["e2e_ms"] for r in rs if r["e2e_ms"]], 50)
        lines.append(
            f"| {g} | {fmt(pct([r['first_event_ms'] for r in rs], 50), ' ms')} "
            f"| {fmt(pct([r['first_token_ms'] for r in rs], 50), ' ms')} "
            f"| {fmt(sum(r['model_calls'] for r in rs) / max(1, len(rs)))} "
            f"| {fmt(tsum, ' ms')} / {fmt(twall, ' ms')} ({fmt(tsum / twall if twall else None)}x) "
            f"| {fmt(pct([r['overhead_ms'] for r in rs], 50), ' ms')} | {fmt(share, ' %')} "
            f"| {fmt(sum(r['tokens_out'] for r in rs) / max(1, len(rs)))} |"
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
        for r in _of(rows, g):
            for bar in r["waterfall"]:
                label = f"{bar['kind']}: {bar['label']}"
                spans.setdefault(label, []).append((bar["end"] - bar["start"]) * 1000)
        total = sum(r["e2e_ms"] for r in _of(rows, g)) or 1.0
        for label, ms in sorted(spans.items(), key=lambda kv: -sum(kv[1])):
            lines.append(
                f"| {g} | {label} | {len(ms)} | {fmt(pct(ms, 50), ' ms')} "
                f"| {fmt(pct(ms, 95), ' ms')} | {fmt(100 * sum(ms) / total, ' %')} |"
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
    for by in ("classifier", "model", "all"):
        rs = routed if by == "all" else [r for r in routed if r["route_by"] == by]
        if rs:
            acc = 100 * sum(r["route_ok"] for r in rs) / len(rs)
            times = [r["route_ms"] for r in rs]
            p50, worst = fmt(pct(times, 50), " ms"), fmt(max(times), " ms")
            lines.append(f"| {by} | {len(rs)} | {acc:.0f} % | {p50} | {worst} |")
    return lines


def targets(rows: list[Row], graphs: list[str]) -> list[str]:
    """Return the issue's targets with the measured values and whether each is met."""
    if graphs != ["fast_agent", "react_agent"]:
        return []
    fast, base = _of(rows, "fast_agent"), _of(rows, "react_agent")
    multi = _speedup(_of(rows, "react_agent", MULTI), _of(rows, "fast_agent", MULTI))
    overall = _speedup(base, fast)
    share = pct([100 * r["overhead_ms"] / r["e2e_ms"] for r in fast if r["e2e_ms"]], 50)
    overhead = pct([r["overhead_ms"] for r in fast], 50)
    first = pct([r["first_event_ms"] for r in fast], 50)
    routed = [r for r in fast if "route" in r]
    acc = 100 * sum(r["route_ok"] for r in routed) / len(routed) if routed else None
    fast_path = pct([r["route_ms"] for r in routed if r["route_by"] == "classifier"], 95)
    checks: list[tuple[str, float | None, str, Callable[[float], bool]]] = [
        ("fast vs baseline p50, multi-tool groups", multi, "x", lambda v: v >= 3),
        ("fast vs baseline p50, overall", overall, "x", lambda v: v >= 2),
        ("graph overhead p50 (share of e2e)", share, " %", lambda v: v <= 5),
        ("graph overhead p50", overhead, " ms", lambda v: v <= 15),
        ("first streamed event p50", first, " ms", lambda v: v < 50),
        ("router fast path p95", fast_path, " ms", lambda v: v < 5),
        ("routing accuracy", acc, " %", lambda v: v >= 90),
    ]
    lines = ["| target | measured | met |", "|---|---|---|"]
    for label, value, unit, ok in checks:
        met = "–" if value is None else ("yes" if ok(value) else "**no**")
        lines.append(f"| {label} | {fmt(value, unit)} | {met} |")
    return lines


def waterfall(rows: list[Row], graph: str, question_id: str, path: Path) -> None:
    """Draw one run's model and tool calls on a time axis."""
    row = next(r for r in rows if r["graph"] == graph and r["id"] == question_id)
    bars = sorted(row["waterfall"], key=lambda b: b["start"])
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(bars) + 1.6))
    for i, bar in enumerate(bars):
        color = "#4C72B0" if bar["kind"] == "model" else "#DD8452"
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
    graphs = sorted({r["graph"] for r in rows}, key=["fast_agent", "react_agent"].index)
    simulated = config["backend"] == "simulated"
    title = (
        "SIMULATED GPU latency model (vLLM-like: TTFT 70 ms, 8 ms/token)"
        if simulated
        else f"{config.get('label', config['backend'])} backend"
    )
    errors = [r for r in rows if r["error"]]
    lines = [f"# Eval report: {title}", "", f"Config: `{json.dumps(config, default=str)}`", ""]
    lines += ["## End-to-end latency", "", *latency_table(rows, graphs), ""]
    lines += ["## Where the time goes", "", *steps_table(rows, graphs), ""]
    lines += ["## Per step", "", *per_step_table(rows, graphs), ""]
    if router := router_table(_of(rows, "fast_agent")):
        lines += ["## Router (fast_agent)", "", *router, ""]
    if rates := config.get("prefix_cache_hit_rate"):
        lines += ["## Prefix cache (server /metrics)", "", "| graph | prompt tokens from cache |"]
        lines += ["|---|---|"]
        lines += [f"| {g} | {'n/a' if r is None else f'{r:.1%}'} |" for g, r in rates.items()]
        lines.append("")
    if goals := targets(rows, graphs):
        lines += ["## Targets", "", *goals, ""]
    if errors:
        lines += (
            ["## Errors", ""] + [f"- {r['graph']} {r['id']}: {r['error']}" for r in errors] + [""]
        )
    tool_runs = [r for r in _of(rows, "fast_agent", MULTI) if len(r["tool_calls"]) > 1]
    if tool_runs:  # show the run where parallel branches saved the most
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
