"""Speculation: start likely calls of read-only tools before the plan asks for them.

Four sources predict calls from the question alone: a cached plan of a question of
much the same shape, its values swapped for this question's (`TemplateBank.guess_for`:
a paraphrase of a solved question, too different for the plan to be reused outright);
the solved plans nearest to it (their calls that name nothing specific to their own
question, such as a documents search on a topic: a small planner shown the same example
tends to write the same call); the web services the question names, filled with its
values of the kinds the solved plans pass them (`service_calls`: "the weather service
for Oslo" is `weather(city="Oslo")`); and the domain's own hook (`Domain.speculate`). They
start the moment the planning step does, in parallel with the planner; and when a call
ends, a named service may start on a value it found (`result_calls`). At most as many
calls start early in a round as the run may make (`Context.max_tool_calls`). A call the plan
then asks for with exactly the same tool and arguments adopts the speculative one (its
result, its earlier start); every other speculative call is cancelled and its result
dropped, so it never reaches the answer. A tool not declared read-only is never started
this way.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Coroutine, Sequence
from functools import lru_cache
from typing import Any

from core.domain import Domain
from engine.accelerators.examples import example_index
from engine.accelerators.templates import Template, TemplateBank, question_values
from engine.language.parser import PlanParser, Task
from engine.language.services import plan_calls
from engine.scheduler.call_tool import Outcome
from prompts.render import usable_examples

RunTool = Callable[[str, dict[str, Any], str], Coroutine[Any, Any, Outcome]]


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
    domain: Domain,
    services: str,
    question: str,
    bank: TemplateBank | None = None,
    learned: Sequence[Template] = (),
) -> list[tuple[str, Any]]:
    """Return the calls worth starting before the planner writes them, most likely first.

    `bank` (with the caller's `learned` templates) guesses from a cached plan of a
    question of much the same shape; None when the run does not use templates.
    """
    calls: list[tuple[str, Any]] = []
    parser = PlanParser(plan_calls(domain, services).signatures, max_calls=8)
    guessed = bank.guess_for(question, learned) if bank is not None else None
    if guessed:  # a cached plan's calls
        tasks = [t for t in parser.feed(guessed + "\n") if isinstance(t, Task)]
        calls += [(t.tool, t.args) for t in tasks if not t.deps and "$" not in json.dumps(t.args)]
    for example, score in example_index(domain, services).nearest(question, NEAREST):
        if score < MIN_SIMILARITY:
            continue
        specific = [value.lower() for value in question_values(example.question)]
        parser = PlanParser(domain.arg_names(), max_calls=8)
        for task in (t for t in parser.feed(example.plan + "\n") if isinstance(t, Task)):
            text = json.dumps(task.args).lower()
            if not task.deps and "$" not in text and not any(v in text for v in specific):
                calls.append((task.tool, task.args))
    calls += service_calls(domain, services, question)
    if domain.speculate is not None:
        calls.extend(domain.speculate(question))
    return calls


def kind(value: str) -> str:
    """Return what a value looks like: a number, a code, a name, or other text."""
    return next((name for name, shape in _KINDS if shape.fullmatch(value)), "text")


@lru_cache(maxsize=16)
def service_kinds(domain: Domain, services: str) -> dict[str, tuple[str, ...]]:
    """Return, per web service, the kind of value each parameter takes in the solved plans.

    A service is left out when a parameter never gets a literal value there, or gets free
    text (a search query) or values of two kinds: its calls cannot be read off a question.
    """
    calls = plan_calls(domain, services)
    seen: dict[str, list[set[str]]] = {}
    for example in usable_examples(domain, services):
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


def service_calls(domain: Domain, services: str, question: str) -> list[tuple[str, Any]]:
    """Return the calls of the web services a question names, filled with its values.

    A service counts as named when its name is a word of the question ("the weather
    service", "our CRM"). Its parameters take the question's values, in order, of the
    kinds its solved plans pass them: "USD to JPY on the FX service" is
    `fx(base="USD", quote="JPY")`, "orders 1955 and 1990 on the shipping tracker" two
    `shipping` calls. The first word of a sentence is not taken for a name ("Use ...").
    """
    named = _named(domain, services, question)
    if not named:  # most questions: no values to look for
        return []
    calls: list[tuple[str, Any]] = []
    names = {s.lower() for s in plan_calls(domain, services).services}
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


def result_calls(domain: Domain, services: str, question: str, data: Any) -> list[tuple[str, Any]]:
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
    for name, params, kinds in _named(domain, services, question):
        args = {}
        for param, wanted in zip(params, kinds, strict=True):
            found = [v for f, v in fields if _shares_a_word(f, param) and kind(v) == wanted]
            if len(found) == 1:
                args[param] = found[0]
        if len(args) == len(params):
            calls.append((name, args))
    return calls


def _named(
    domain: Domain, services: str, question: str
) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Return each predictable service the question names: its name, params and kinds."""
    known = plan_calls(domain, services).services
    return [
        (name, known[name].params, kinds)
        for name, kinds in service_kinds(domain, services).items()
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


Canonical = Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]


def as_written(tool: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return a call unchanged: by default two calls are the same when written alike."""
    return tool, args


class Speculation:
    """Calls started early, waiting for the plan to ask for them."""

    def __init__(
        self,
        read_only: Callable[[str], bool],
        run: RunTool,
        same: Canonical = as_written,
        limit: int = 8,
        slots: asyncio.Semaphore | None = None,
    ) -> None:
        """Start nothing yet; `run(tool, args, identifier)` runs one call quietly.

        `read_only(name)` says whether a call may start early (only reads); `same(tool,
        args)` is what a call is compared by (a web service's call: the URL it fetches,
        so `order_id=1866` and `order_id="1866"` are one call); `limit` caps the calls
        started early, whatever a question names; `slots` are the run's parallel-call
        slots (`Context.max_parallel_tools`), which a call started early holds while it
        runs, as a planned one does.
        """
        self.read_only = read_only
        self.run = run
        self.same = same
        self.limit = limit
        self.slots = slots or asyncio.Semaphore(limit)
        self.started = 0
        self.seen: set[str] = set()  # every call started early or asked for: never again
        self.pending: dict[str, asyncio.Task[Outcome]] = {}
        self.running: set[str] = set()  # those holding a slot
        self.hits: list[str] = []

    def start(self, calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
        """Start each predicted call of a read-only tool; return the tools started."""
        started = []
        for tool, args in calls:
            identity = key(*self.same(tool, args))
            if not self.read_only(tool) or identity in self.seen or self.started >= self.limit:
                continue
            self.seen.add(identity)
            self.started += 1
            coroutine = self._in_a_slot(identity, tool, args, f"speculative_{self.started}")
            self.pending[identity] = asyncio.create_task(coroutine, name=f"speculative {tool}")
            started.append(tool)
        return started

    async def _in_a_slot(
        self, identity: str, tool: str, args: dict[str, Any], identifier: str
    ) -> Outcome:
        async with self.slots:
            self.running.add(identity)
            return await self.run(tool, args, identifier)

    def take(self, tool: str, args: dict[str, Any]) -> asyncio.Task[Outcome] | None:
        """Return the speculative call that is exactly this call, if one is under way.

        One still waiting for a slot (none is free) is cancelled: it has gained nothing,
        and the plan's call runs in its place.
        """
        identity = key(*self.same(tool, args))
        self.seen.add(identity)
        task = self.pending.pop(identity, None)
        if task is not None and identity not in self.running and self.slots.locked():
            task.cancel()
            return None
        if task is not None:
            self.hits.append(tool)
        return task

    async def drop(self) -> int:
        """Cancel the calls the plan did not ask for; return how many were wasted."""
        wasted = list(self.pending.values())
        self.pending.clear()
        for task in wasted:
            task.cancel()
        await asyncio.gather(*wasted, return_exceptions=True)
        return len(wasted)
