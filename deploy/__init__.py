"""The operator's side: who may call the served API, what it serves, how servers run it.

Owns: the auth handler (`auth`, `input_size`), the served domain (`served`), the
warm-up of the model servers (`warmup`), and integrations with the API servers and
LangSmith (`dev_queue`, `tracing`). May import: `core`, `serving`, `prompts`; never
the graphs, nodes or the engine's loop.
"""
