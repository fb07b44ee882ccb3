"""Evals and benchmarks: latency and correctness, measured on the graphs' public entry points.

The harness (`run`, `runner`, `recorder`, `report`, `tables`, `stats`, `dataset`), the
simulated GPU backend and stand-in services (`simulated`, `oracle`, `services`), the
workloads (`dataset.jsonl`, `reuse`, `foreign/`) and the benchmarks (`overhead`, `load`,
`soak`, `served`, `stall`, `fairness`, `mcp_overhead`, `refused_inputs`, `plan_tokens`).
May import every package.
"""
