"""A foreign-tool eval: a domain of public library functions, its questions and grading.

`python -m evals.foreign.generate` rewrites dataset.jsonl from questions.py;
`python -m evals.run --domain evals.foreign:DOMAIN --dataset evals/foreign/dataset.jsonl`
runs both graphs over it. May import: every package outside `evals`, and `evals.harness`.
"""

from evals.foreign.domain import DOMAIN

__all__ = ["DOMAIN"]
