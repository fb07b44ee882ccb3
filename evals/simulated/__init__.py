"""The simulated world: a GPU-served model's latency model, and stand-ins for outside services.

Owns: the chat models that answer as a correct model would, at a GPU's speed (`gpu`),
what a correct model writes for a question (`oracle`, with `sources`), instant models
(`instant`), the stand-in web services and what they know (`services`, `service_data`)
and a busy llama.cpp server's stand-in (`slot_server`). May import: every package outside
`evals`, and `evals.harness`.
"""
