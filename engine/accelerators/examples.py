"""The plan bank: find the solved plans nearest to a question (dynamic few-shot).

Small planners copy the shape of a plan they are shown far better than they follow
rules (TinyAgent, arXiv 2409.00608). The domain's solved plans are indexed once by
their questions' words (TF-IDF, cosine similarity); the nearest few go into the
planner's user turn, after the cached system prompt.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import TYPE_CHECKING

from core.domain import PlanExample

if TYPE_CHECKING:  # the catalogue compiles this index: a type, not an import cycle
    from engine.catalogue import Catalogue

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "me",
        "of",
        "on",
        "or",
        "our",
        "the",
        "their",
        "them",
        "there",
        "this",
        "to",
        "us",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "you",
        "your",
    ]
)


def words(text: str) -> list[str]:
    """Return the content words of a text, lower-cased, with a crude plural fold."""
    return [
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
        for w in _WORD.findall(text.lower())
        if w not in _STOP
    ]


class ExampleIndex:
    """TF-IDF vectors of the example questions; `nearest` ranks them by cosine similarity."""

    def __init__(self, examples: list[PlanExample]) -> None:
        """Index the examples' questions."""
        self.examples = examples
        docs = [Counter(words(e.question)) for e in examples]
        df = Counter(w for doc in docs for w in doc)
        n = len(docs)
        self.idf = {w: math.log((1 + n) / (1 + c)) + 1 for w, c in df.items()}
        self.vectors = [self._unit(doc) for doc in docs]

    def _unit(self, counts: Counter[str]) -> dict[str, float]:
        vector = {w: c * self.idf.get(w, 0.0) for w, c in counts.items() if w in self.idf}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {w: v / norm for w, v in vector.items()}

    def nearest(self, question: str, k: int) -> list[tuple[PlanExample, float]]:
        """Return the k examples most similar to the question, best first, with scores."""
        query = self._unit(Counter(words(question)))
        scored = [
            (sum(query.get(w, 0.0) * v for w, v in vector.items()), i)
            for i, vector in enumerate(self.vectors)
        ]
        best = sorted(scored, key=lambda s: -s[0])[:k]
        return [(self.examples[i], score) for score, i in best if score > 0]


def index_of(catalogue: Catalogue) -> ExampleIndex:
    """Return the index of a catalogue's solved plans (built once per catalogue)."""
    return catalogue.derived("examples", lambda c: ExampleIndex(list(c.examples)))


def nearest_examples(catalogue: Catalogue, question: str, k: int) -> list[PlanExample]:
    """Return the `k` solved plans nearest the question (none for k = 0)."""
    return [example for example, _ in index_of(catalogue).nearest(question, k)] if k else []
