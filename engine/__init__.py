"""The plan engine: a streamed plan's calls run the moment their lines and inputs are ready.

Owns: the core loop (`loop`: stream the plan, parse each line, hand it to the task
fetching unit, collect results, decide to answer or plan again), the interface its
speed-ups plug into (`accelerator`), what is compiled once per domain and settings
(`catalogue`), the plan language (`language`), the scheduler (`scheduler`) and the
speed-ups themselves (`accelerators`). May import: `core`, `serving`, `prompts` (the
loop and catalogue only; `language` imports nothing of `prompts`); never `nodes` or
`graphs`.
"""
