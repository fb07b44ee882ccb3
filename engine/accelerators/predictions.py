"""Which calls to start before the plan asks for them, read off the question and results.

Four sources: a guessed plan of a question of much the same shape (`round.guesses`,
filled by plan reuse); the calls of the nearest solved plans that name nothing specific
to their own question (a documents search on a topic: a small planner shown the same
example tends to write the same call); the web services the question names, filled
with its values of the kinds the solved plans pass them (`service_calls`: "the weather
service for Oslo" is `weather(city="Oslo")`); and the domain's own hook
(`Domain.speculate`). When a call ends, a named service may start on a value it found
(`result_calls`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from engine.accelerators.examples import index_of
from engine.accelerators.shapes import question_values
from engine.catalogue import Catalogue
from engine.language.parser import PlanParser, Task

NEAREST = 2  # solved plans whose calls are predicted
MIN_SIMILARITY = 0.35  # cosine similarity of the questions, for a solved plan to count
MAX_SERVICE_CALLS = 4  # calls predicted for one named service
# The kinds of value a service parameter takes, as its solved plans pass them.
_KINDS = (
    ("number", re.compile(r"\d+")),
    ("code", re.compile(r"[A-Z]{2,5}")),
    ("name", re.compile(r"[A-Z][\w&.' -]*")),
)


def predicted_calls(
    catalogue: Catalogue, question: str, guesses: Sequence[str] = ()
) -> list[tuple[str, Any]]:
    """Return the calls worth starting before the planner writes them, most likely first.

    `guesses` are whole plans guessed for the question (a cached plan of a question of
    much the same shape): their calls that need no other call's result.
    """
    domain = catalogue.domain
    calls: list[tuple[str, Any]] = []
    for guessed in guesses:
        parser = PlanParser(catalogue.calls.signatures, max_calls=8)
        tasks = [t for t in parser.feed(guessed + "\n") if isinstance(t, Task)]
        calls += [(t.tool, t.args) for t in tasks if not t.deps and "$" not in json.dumps(t.args)]
    for example, score in index_of(catalogue).nearest(question, NEAREST):
        if score < MIN_SIMILARITY:
            continue
        specific = [value.lower() for value in question_values(example.question)]
        parser = PlanParser(catalogue.calls.signatures, max_calls=8)
        for task in (t for t in parser.feed(example.plan + "\n") if isinstance(t, Task)):
            text = json.dumps(task.args).lower()
            if not task.deps and "$" not in text and not any(v in text for v in specific):
                calls.append((task.tool, task.args))
    calls += service_calls(catalogue, question)
    if domain.speculate is not None:
        calls.extend(domain.speculate(question))
    return calls


def kind(value: str) -> str:
    """Return what a value looks like: a number, a code, a name, or other text."""
    return next((name for name, shape in _KINDS if shape.fullmatch(value)), "text")


def service_kinds(catalogue: Catalogue) -> dict[str, tuple[str, ...]]:
    """Return, per web service, the kind of value each parameter takes in the solved plans.

    A service is left out when a parameter never gets a literal value there, or gets free
    text (a search query) or values of two kinds: its calls cannot be read off a question.
    """
    return catalogue.derived("service_kinds", _service_kinds)


def _service_kinds(catalogue: Catalogue) -> dict[str, tuple[str, ...]]:
    calls = catalogue.calls
    seen: dict[str, list[set[str]]] = {}
    for example in catalogue.examples:
        parser = PlanParser(calls.signatures, max_calls=16)
        for task in (t for t in parser.feed(example.plan + "\n") if isinstance(t, Task)):
            service = calls.services.get(task.tool)
            if service is None or task.deps:
                continue
            kinds = seen.setdefault(task.tool, [set() for _ in service.params])
            for param, found in zip(service.params, kinds, strict=True):
                found.add(kind(str(task.args.get(param, ""))))
    return {
        name: tuple(k.pop() for k in kinds)
        for name, kinds in seen.items()
        if all(len(k) == 1 and "text" not in k for k in kinds)
    }


def service_calls(catalogue: Catalogue, question: str) -> list[tuple[str, Any]]:
    """Return the calls of the web services a question names, filled with its values.

    A service counts as named when its name is a word of the question ("the weather
    service", "our CRM"). Its parameters take the question's values, in order, of the
    kinds its solved plans pass them: "USD to JPY on the FX service" is
    `fx(base="USD", quote="JPY")`, "orders 1955 and 1990 on the shipping tracker" two
    `shipping` calls. The first word of a sentence is not taken for a name ("Use ...").
    """
    named = _named(catalogue, question)
    if not named:  # most questions: no values to look for
        return []
    calls: list[tuple[str, Any]] = []
    names = {s.lower() for s in catalogue.calls.services}
    values = [v for v in question_values(question) if v.lower() not in names]
    starts = _sentence_starts(question)
    values = [v for v in values if " " in v or v not in starts]
    for name, params, kinds in named:
        group: list[str] = []
        made: list[tuple[str, Any]] = []
        for value in values:
            found = kind(value)
            if found != kinds[len(group)]:
                group = []  # a value of another kind: the parameters start again
            if found == kinds[len(group)]:
                group.append(value)
            if len(group) == len(params):
                made.append((name, dict(zip(params, group, strict=True))))
                group = []
        calls += list({key(*call): call for call in made}.values())[:MAX_SERVICE_CALLS]
    return calls


def result_calls(catalogue: Catalogue, question: str, data: Any) -> list[tuple[str, Any]]:
    """Return the calls of the services a question names, on what a finished call found.

    "Who placed order 1394? Then pull their health score from our CRM": the query's one
    row has a `name`, and `crm(name)` takes a name, so `crm` starts on it before the
    planner has written that line. A parameter takes a field of a one-row result (or a
    flat JSON object) whose name shares a word with its own (`id` for `order_id`) and
    whose value is of its kind; a service starts only when each parameter has one.
    """
    row = data[0] if isinstance(data, list) and len(data) == 1 else data
    if not isinstance(row, dict):
        return []
    fields = [(str(f), str(v)) for f, v in row.items() if isinstance(v, (str, int))]
    calls = []
    for name, params, kinds in _named(catalogue, question):
        args = {}
        for param, wanted in zip(params, kinds, strict=True):
            found = [v for f, v in fields if _shares_a_word(f, param) and kind(v) == wanted]
            if len(found) == 1:
                args[param] = found[0]
        if len(args) == len(params):
            calls.append((name, args))
    return calls


def _named(
    catalogue: Catalogue, question: str
) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Return each predictable service the question names: its name, params and kinds."""
    known = catalogue.calls.services
    return [
        (name, known[name].params, kinds)
        for name, kinds in service_kinds(catalogue).items()
        if re.search(rf"\b{re.escape(name)}\b", question, re.IGNORECASE)
    ]


def _shares_a_word(field: str, param: str) -> bool:
    return bool(set(field.lower().split("_")) & set(param.lower().split("_")))


def _sentence_starts(question: str) -> set[str]:
    """Return the words that begin a sentence of the question (one pass over it)."""
    text = " ".join(question.split())
    return {m[1] for m in re.finditer(r"(?:^|[.?!:] )([\w-]+)", text)}


def key(tool: str, args: dict[str, Any]) -> str:
    """Return the identity of a call: its tool and its arguments, canonically."""
    return json.dumps([tool, args], sort_keys=True, default=str)
