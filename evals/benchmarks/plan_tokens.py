"""Plan tokens: the plan language against the JSON plans it replaced, on the domain's solved plans.

    make up && .venv/bin/python -m evals.benchmarks.plan_tokens

Each solved plan of the domain (those that end in `join()`) is counted by the planner
model's own tokenizer (llama.cpp's `/tokenize`) in three forms: as written (web services
as calls of their own), with each service call spelled out as `http_get` on its URL, and
as the JSON object the planner used to write (`{"calls": [{"tool": ..., "args": ...}],
"followup": false}`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import urllib.request
from typing import Any

from core.domain import Domain
from core.settings import settings
from engine.language.parser import PlanParser, Task
from engine.language.services import as_fetch, plan_calls
from evals.simulated.services import ExternalServices
from prompts.render import usable_examples
from tools import SHOP


def count_tokens(server: str, text: str) -> int:
    """Return how many tokens the llama.cpp server at `server` makes of `text`."""
    request = urllib.request.Request(
        f"{server}/tokenize",
        data=json.dumps({"content": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return len(json.load(response)["tokens"])


def plan_forms(domain: Domain, services: str) -> list[dict[str, str]]:
    """Return each complete solved plan in its three forms: services, urls, json."""
    calls = plan_calls(domain, services)
    forms = []
    for example in usable_examples(domain, services):
        if "replan()" in example.plan:
            continue
        parsed = PlanParser(calls.arg_names, 16).feed(example.plan + "\n")
        tasks = [task for task in parsed if isinstance(task, Task)]
        lines, objects = [], []
        for task in tasks:
            tool: str
            args: dict[str, Any]
            if task.tool in calls.services:
                tool, args = as_fetch(calls.services[task.tool], task.args)
            else:
                tool, args = task.tool, task.args
            spelled = ", ".join(f"{name}={json.dumps(value)}" for name, value in args.items())
            lines.append(f"{task.index}. {tool}({spelled})")
            objects.append({"tool": tool, "args": args})
        lines.append(f"{len(tasks) + 1}. join()")
        forms.append(
            {
                "services": example.plan,
                "urls": "\n".join(lines),
                "json": json.dumps({"calls": objects, "followup": False}),
            }
        )
    return forms


def main() -> None:
    """Print the mean and median tokens of each form."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = settings().tier("planner").base_url.removesuffix("/v1")
    parser.add_argument("--server", default=default, help="llama.cpp server of the planner")
    args = parser.parse_args()
    services = ExternalServices.describe_at("http://127.0.0.1:9100")
    forms = plan_forms(SHOP, services)
    lines = [f"{len(forms)} solved plans, tokens by the planner's tokenizer:"]
    for form in ("json", "urls", "services"):
        counts = [count_tokens(args.server, plan[form]) for plan in forms]
        mean, median = statistics.mean(counts), statistics.median(counts)
        lines.append(f"  {form:<9} mean {mean:5.1f}  median {median:5.1f}")
    print("\n".join(lines))  # noqa: T201


if __name__ == "__main__":
    main()
