"""Node: route a query to a direct answer or to tools, cheaply.

A naive Bayes classifier trained at import on `route_examples.tsv` decides in
well under a millisecond when it is confident; otherwise the small model picks,
with its output constrained to the two routes (vLLM: a `choice`
constraint, one token or two).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, cast, get_args

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.constants import TAG_NOSTREAM
from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from graphs.context import Context
from graphs.state import Route, State
from nodes import prompts
from nodes.conversation import last_user_text
from nodes.steps import note, step
from serving import client

EXAMPLES_PATH = Path(__file__).with_name("route_examples.tsv")
_WORD = re.compile(r"[a-z0-9]+(?:[.'-][a-z0-9]+)*")


def features(text: str) -> list[str]:
    """Return the words and word pairs of a text, plus shape markers (URL, number)."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    marks = ["<url>"] if "http://" in lowered or "https://" in lowered else []
    marks += ["<num>"] if any(w[0].isdigit() for w in words) else []
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)] + marks


class RouteClassifier:
    """Multinomial naive Bayes over words and word pairs, with add-one smoothing."""

    def __init__(self, examples: list[tuple[Route, str]]) -> None:
        """Count features per route."""
        self.counts: dict[str, Counter[str]] = {"direct": Counter(), "tools": Counter()}
        docs: Counter[str] = Counter(label for label, _ in examples)
        for label, text in examples:
            self.counts[label].update(features(text))
        self.log_prior = {r: math.log(docs[r] / len(examples)) for r in self.counts}
        self.vocab = set().union(*self.counts.values())
        self.totals = {r: sum(c.values()) for r, c in self.counts.items()}

    def predict(self, text: str) -> tuple[Route, float]:
        """Return the likelier route and its posterior probability."""
        known = [f for f in features(text) if f in self.vocab]
        scores = {
            route: self.log_prior[route]
            + sum(math.log((counts[f] + 1) / (self.totals[route] + len(self.vocab))) for f in known)
            for route, counts in self.counts.items()
        }
        best: Route = max(scores, key=lambda r: scores[r])  # type: ignore[arg-type]
        total = sum(math.exp(s - scores[best]) for s in scores.values())
        return best, 1.0 / total


def load_examples(path: Path = EXAMPLES_PATH) -> list[tuple[Route, str]]:
    """Read `label<TAB>text` lines."""
    rows = (line.split("\t", 1) for line in path.read_text().splitlines() if line.strip())
    return [(label, text) for label, text in rows if label in ("direct", "tools")]  # type: ignore[misc]


CLASSIFIER = RouteClassifier(load_examples())


@step("route_query", first=True)
async def route_query(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Decide between a direct answer and tools; record which path decided."""
    context = runtime.context
    query = last_user_text(state)
    route, confidence = CLASSIFIER.predict(query)
    decided_by = "classifier"
    if confidence < context.router_confidence:
        model = client.chat_model(context, "router", max_tokens=16)
        backend = await client.backend_of(context, "router")
        router = client.choice_model(model, list(get_args(Route)), backend)
        answer = await router.with_config(tags=[TAG_NOSTREAM]).ainvoke(
            [SystemMessage(prompts.ROUTER_SYSTEM), HumanMessage(query)]
        )
        route, decided_by = cast(Route, answer), "model"
    note(route=route, decided_by=decided_by, confidence=round(confidence, 3))
    return {
        "route": route,
        "route_decided_by": decided_by,
        "plan": [],
        "plan_round": 0,
        "needs_followup": False,
        "tool_results": Overwrite([]),
    }
