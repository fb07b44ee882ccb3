"""The overhead benchmark's table, targets and plot (`evals.benchmarks.overhead` measures)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.context import Context

if TYPE_CHECKING:
    from evals.benchmarks.overhead import Row

TARGET_GRAPH_MS = 15.0  # graph overhead p50 of a tool run, streamed
TARGET_DIRECT_MS = 5.0  # what the graph adds to a direct answer, p50, streamed


def markdown(rows: list[Row]) -> str:
    """Return the rows as a markdown table (0 tools: a direct answer)."""
    head = (
        "| mode | tools | tool ms | critical path ms | wall p50 ms | wall p95 ms | overhead ms "
        "| overhead % | wall(N)/wall(1) | in nodes ms | between steps ms | tool start skew ms "
        "| all tools overlapped |"
    )
    lines = [head, "|" + " --- |" * (head.count(" | ") + 1)]
    for r in rows:
        share = 100 * r.overhead_ms / r.wall_p50_ms if r.wall_p50_ms else 0.0
        overlapped = f"{r.overlapped_runs}/{len(r.walls_ms)}" if r.tools else "–"
        lines.append(
            f"| {r.mode} | {r.tools or 'direct'} | {r.latency_ms:g} | {r.critical_ms:g} "
            f"| {r.wall_p50_ms:.2f} | {r.wall_p95_ms:.2f} | {r.overhead_ms:.2f} | {share:.1f} "
            f"| {r.ratio:.2f} | {r.steps_ms:.2f} | {r.wall_p50_ms - r.steps_ms:.2f} "
            f"| {r.start_skew_ms:.2f} | {overlapped} |"
        )
    return "\n".join(lines) + "\n"


def targets(rows: list[Row], max_calls: int | None = None) -> list[str]:
    """Return the overhead targets (streamed runs) with the measured values.

    Tool runs count up to `max_calls` calls (default: the Context's `max_tool_calls`,
    the most a plan may hold unless configured otherwise); larger runs are shown apart.
    """
    cap = Context().max_tool_calls if max_calls is None else max_calls
    streamed = [r for r in rows if r.mode == "astream"]
    within = [r.overhead_ms for r in streamed if 0 < r.tools <= cap]
    beyond = [r for r in streamed if r.tools > cap]
    direct = [r.overhead_ms for r in streamed if not r.tools]
    checks = [
        (f"graph overhead p50, tool runs of 1 to {cap} calls (worst)", max(within, default=None),
         TARGET_GRAPH_MS),
        *((f"graph overhead p50, {r.tools} calls, {r.latency_ms:g} ms each", r.overhead_ms,
           TARGET_GRAPH_MS) for r in beyond),
        ("what the graph adds to a direct answer, p50", max(direct, default=None),
         TARGET_DIRECT_MS),
    ]  # fmt: skip
    lines = ["| target | measured | goal | met |", "|---|---|---|---|"]
    for label, value, goal in checks:
        met = "–" if value is None else ("yes" if value <= goal else "**no**")
        shown = "–" if value is None else f"{value:.2f} ms"
        lines.append(f"| {label} | {shown} | <= {goal:g} ms | {met} |")
    return lines


def plot(rows: list[Row], path: Path) -> None:
    """Save wall time (p50, band to p95) against the number of tools, one panel per latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tool_rows = [r for r in rows if r.tools]
    latencies = sorted({r.latency_ms for r in tool_rows})
    fig, axes = plt.subplots(1, len(latencies), figsize=(6 * len(latencies), 4), squeeze=False)
    for ax, latency in zip(axes[0], latencies, strict=True):
        for mode in sorted({r.mode for r in tool_rows}):
            sel = [r for r in tool_rows if (r.mode, r.latency_ms) == (mode, latency)]
            ns = [r.tools for r in sel]
            ax.plot(ns, [r.wall_p50_ms for r in sel], marker="o", label=f"{mode} wall p50")
            ax.fill_between(
                ns, [r.wall_p50_ms for r in sel], [r.wall_p95_ms for r in sel], alpha=0.2
            )
        ax.axhline(latency, ls="--", c="k", label="critical path")
        ax.set(xscale="log", xlabel="parallel tools", ylabel="ms", ylim=(0, None))
        ax.set(title=f"tool latency {latency:g} ms (p50, band to p95)")
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
