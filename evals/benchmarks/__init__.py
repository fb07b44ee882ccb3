"""Benchmarks: one cost of ours measured alone; the speed goals live here, not in unit tests.

Owns: the graph's own overhead over 0 to 16 instant calls (`overhead`, its table and plot
in `overhead_report`), the served path against in-process (`served`), a call through MCP
(`mcp_overhead`) and the plan language's tokens against JSON plans (`plan_tokens`). May
import: every package outside `evals`, `evals.harness` and `evals.simulated`.
"""
