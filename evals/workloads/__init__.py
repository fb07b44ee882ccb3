"""Workloads: traffic run against the agent, and what it does to the agent and its servers.

Owns: N concurrent runs (`load`), many runs with hostile inputs through `langgraph dev`
(`soak`), oversized refused inputs (`refused_inputs`), crafted questions that could hold
the event loop (`stall`), one caller flooding a model server (`fairness`) and questions
that repeat in shape (`reuse`, which writes `evals/reuse.jsonl`). May import: every
package outside `evals`, `evals.harness` and `evals.simulated`.
"""
