"""The scheduler: start each planned call the moment its inputs are ready, and run it.

Owns: the task fetching unit (`task_fetching`) and running one call as its own traced,
timed, streamed child run (`call_tool`). May import: `core`, `engine.language`.
"""
