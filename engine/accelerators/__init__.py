"""The speed-ups that plug into the core loop; each one module, its switch, its clean-up.

The loop runs every accelerator in `ACCELERATORS` whose Context switch is on (see
`engine.accelerator.Accelerator` for the events). Remove one by deleting its module
and its line here. May import: `core`, `serving`, `engine.language`,
`engine.scheduler`, `engine.accelerator`.
"""
