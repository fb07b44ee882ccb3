"""The graph's steps, one module each: route, plan and call, approve, answer.

`route_query` (with its classifier, `route_classifier`), `plan_and_call_tools` (one round of
the plan engine), `approve_calls` (a person's decision on held calls), `answer_directly`
and `synthesize_answer`. May import: `core`, `serving`, `prompts`, `engine`, `deploy`.
"""
