"""Where the values of a correct model's calls come from: results, documents, the question.

The oracle (`evals.simulated.oracle`) asks these: which result's data holds a value (a reference),
which text states or implies it (a second planning round), which search finds a
document's facts, and which words of the question a call answers (the calls' order).
"""

from __future__ import annotations

import math
import re
from typing import Any

from evals.harness.dataset import NUMBER, Question, fact_found, normalize
from evals.simulated.service_data import CAPITAL_OF
from tools.search_docs import load_sections, search

Service = tuple[str, dict[str, str]]  # an http_get's endpoint and parameters


def docs_query(question: Question) -> str:
    """Return the search a correct model writes: one that finds the facts its documents hold.

    Tries, in order, the title of each section of the question's documents that holds a
    fact, that title with the words of the fact's line, and the question itself; the first search
    whose results hold every such fact wins (else the question).
    """
    sections = [s for s in load_sections() if s.doc in question.docs]
    facts = [f for f in question.facts if any(fact_found(f, s.text) for s in sections)]
    holding = [s for s in sections if any(fact_found(f, s.text) for f in facts)]
    lines = [  # the words of the fact's line, not its numbers: the model does not know them
        " ".join([s.title, *re.findall(r"[A-Za-z]{3,}", line)])
        for s in holding
        for line in s.text.splitlines()
        if any(fact_found(f, line) for f in facts)
    ]
    for query in [*(s.title for s in holding), *lines, question.question]:
        if all(fact_found(f, search(query)) for f in facts):
            return query
    return question.question


def rows(table: str) -> list[dict[str, str]]:
    """Parse `run_query`'s pipe-separated table into rows of text cells."""
    header, *lines = table.splitlines()
    columns = header.split(" | ")
    return [
        dict(zip(columns, line.split(" | ", len(columns) - 1), strict=False))
        for line in lines
        if line != "(no rows)" and not line.startswith("... (first")
    ]


def same(a: Any, b: str) -> bool:
    """Whether a result's value is the value wanted: equal numbers, or equal text (any case)."""
    try:
        return math.isclose(float(a), float(b))
    except (TypeError, ValueError):
        return str(a).strip().lower() == b.strip().lower()


def reference(data: Any, number: int, value: str) -> str | None:
    """Return `$N.field` (or `$N` for a one-cell result) where call N's data holds the value."""
    if isinstance(data, list) and len(data) == 1:
        row = data[0]
        for column, cell in row.items():
            if not same(cell, value):
                continue
            if column.isidentifier():
                return f"${number}.{column}"
            return f"${number}" if len(row) == 1 else None
    if isinstance(data, dict):
        for key, item in data.items():
            if not isinstance(item, dict | list) and same(item, value):
                return f"${number}.{key}"
    return None


def mentions(text: str, value: str) -> bool:
    """Whether a text states a value: a number as a whole number, else as whole words."""
    value, text = normalize(value), normalize(text)
    if NUMBER.fullmatch(value):
        return any(math.isclose(float(m), float(value)) for m in NUMBER.findall(text))
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text) is not None


def derived(text: str, value: str, question: str) -> bool:
    """Whether a reader derives a value from a result: a capital, or a word the question lacks."""
    text = normalize(text)
    if any(city == value and mentions(text, code) for code, city in CAPITAL_OF.items()):
        return True
    asked = set(re.findall(r"[a-z0-9]+", normalize(question)))
    stems = {w[:5] for w in re.findall(r"[a-z]{4,}", normalize(value)) if w not in asked}
    return any(w[:5] in stems for w in re.findall(r"[a-z]{4,}", text))


SERVICE_CUES = {
    "weather": "weather", "crm": "crm", "fx": "rate fx", "shipping": "shipping tracker",
    "search": "web search",
}  # fmt: skip
TABLE_CUES = {
    "customers": "customer", "orders": "order", "support_tickets": "ticket",
    "products": "product price",
}  # fmt: skip
_STOP = frozenset({
    "the", "and", "with", "for", "from", "how", "many", "what", "which", "who", "our", "their",
    "its", "this", "that", "does", "have", "has", "much", "long", "after", "into", "over",
    "user", "guide",
})  # fmt: skip


def stem(word: str) -> str:
    """Return the crude stem words are matched by: the first five characters."""
    return word[:5]


def cues(tool: str, args: dict[str, Any], service: Service | None) -> set[str]:
    """Return the stems of the words a call's arguments share with the question it serves.

    A query's cues are its quoted values, the tables it reads and its numbers; a web
    service's, the service and its parameters; any other call's, its arguments' words.
    """
    text = " ".join(str(v) for v in args.values())
    if tool == "query_database":
        tables = [cue for table, cue in TABLE_CUES.items() if table in text]
        text = " ".join([*re.findall(r"'([^']*)'", text), *NUMBER.findall(text), *tables])
    if service is not None:
        endpoint, params = service
        text = " ".join([SERVICE_CUES.get(endpoint, endpoint), *params.values()])
    words = re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", normalize(text))
    return {stem(w) for w in words if (len(w) > 2 or w.isdigit()) and w not in _STOP}
