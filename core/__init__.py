"""The ground every package stands on: domains, run state and knobs, operator settings.

Owns: `Domain` (tools, knowledge, examples), the graph `State`, the run's `Context`
knobs, the operator's `Settings`, who a run's caller is (`callers`), the store of what
outlives a run (`stores`), what each process holds for itself (`resources`), and the
per-step timing record (`steps`). May import: the standard library, LangChain and
LangGraph; nothing of this project.
"""
