"""Evals and benchmarks: latency and correctness, measured on the graphs' public entry points.

`python -m evals.run` runs the graphs over a dataset (`dataset.jsonl`, `reuse.jsonl`,
`foreign/dataset.jsonl`) and writes the report. Grouped by what each part is:
`harness` (run one question, record, grade, report), `simulated` (the simulated GPU
backend, the oracle it answers from, the stand-in services), `workloads` (traffic run
against the agent: load, soak, hostile and crafted inputs, floods, repeated shapes),
`benchmarks` (one cost of ours measured alone: overhead, the served path, MCP calls, plan
tokens) and `foreign` (a domain of tools nobody here wrote, its questions and grading).
Layers, one way (checked by a unit test): `harness` <- `simulated` <- `workloads`,
`benchmarks`; `run` uses them all. May import every package; only `tests` import `evals`.
"""
