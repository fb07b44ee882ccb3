"""What a correct model writes for one eval question: its route, plan, tool calls and answer.

The oracle reads the dataset's ground truth (SQL, service calls, arithmetic, documents;
for a domain of its own, a question's `expected_calls` with their references as planned)
and works out how the calls depend on each other by running them: a service parameter
or an operand that an earlier call's result holds becomes a reference (`$1.name`, `$2.rate`),
one only a reader can derive (the capital of a country code, a threshold in a
document) sends the planner to a second round (`replan()`). The same structure gives
ReAct's turns and the critical-path bound. Values the question itself states are
literals; only dependent chains (group `chain`) take values from results, and changes
(group `write`: the dataset's `writes`, after the lookups) an id or a name a lookup found.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from engine.language.grammar import literal
from engine.language.parser import REFERENCE
from evals.harness.critical_path import TimedCall, chain_of, tokens
from evals.harness.dataset import NUMBER, Question, missing_facts, normalize
from evals.simulated.service_data import answer as service_answer
from evals.simulated.sources import Service, derived, docs_query, mentions, reference, rows, stem
from evals.simulated.sources import cues as cues_of
from tools.calculator import evaluate
from tools.query_database import run_query
from tools.search_docs import search

LOOKUPS = ("query_database", "search_docs")
SERVICE_PATHS = {"crm": "crm/account", "shipping": "shipping/track"}
NOT_FOUND = "The tool results do not give me that, so I cannot answer it reliably."


def call_text(tool: str, args: dict[str, Any]) -> str:
    """Write a call as the plan language does; ReAct's tool calls are counted by this text too."""
    return f"{tool}({', '.join(f'{name}={literal(value)}' for name, value in args.items())})"


@dataclass(frozen=True)
class Call:
    """One tool call a correct agent makes, numbered from 1 (a call's inputs come before it)."""

    number: int
    tool: str
    args: dict[str, Any]  # the values, as ReAct writes them and references resolve to
    planned: dict[str, Any]  # as the planner writes them: `$N` refers to call number N
    deps: frozenset[int] = frozenset()  # the calls whose results it needs
    reads: bool = False  # it needs a value a reader derives from a result: a second round
    service: Service | None = None  # an http_get's endpoint and parameters

    def data(self) -> Any:
        """Return the call's result as references see it: rows, a JSON object, or None."""
        if self.tool == "query_database":
            return rows(run_query(self.args["sql"]))
        if self.service is not None:
            return service_answer(*self.service)
        return None

    def text(self) -> str:
        """Return the call's result as text (what a reader can derive values from)."""
        if self.tool == "search_docs":
            return search(self.args["query"])
        if self.tool == "calculator":
            return str(evaluate(self.args["expression"]))
        return str(self.data())


@dataclass
class Oracle:
    """A correct model's words for one question, given where the web services listen."""

    question: Question
    services_url: str
    calls: list[Call] = field(init=False)

    def __post_init__(self) -> None:
        """Work out the question's calls and how they depend on each other."""
        q = self.question
        self.calls = []
        for sql in q.sql:
            self._add("query_database", {"sql": sql})
        if q.docs:
            self._add("search_docs", {"query": docs_query(q)})
        for service in q.service_calls:
            self._add_service(service["service"], service["params"])
        for expression in q.calc:
            self._add_calc(expression)
        for call in q.expected_calls:  # a domain's own tools (evals/foreign), as written
            planned = call.get("planned", call["args"])
            texts = [value for value in planned.values() if isinstance(value, str)]
            deps = {int(m[1]) for text in texts for m in REFERENCE.finditer(text)}
            self._add(call["tool"], call["args"], planned, deps)
        for change in q.writes:
            self._add_write(change["tool"], change["args"])

    # --- building the calls -------------------------------------------------------------------

    def _add(self, tool: str, args: dict[str, Any], planned: dict[str, Any] | None = None,
             deps: set[int] | None = None, reads: bool = False,
             service: Service | None = None) -> None:  # fmt: skip
        number = len(self.calls) + 1
        frozen = frozenset(deps or ())
        self.calls.append(Call(number, tool, args, planned or args, frozen, reads, service))

    def _add_service(self, service: str, params: dict[str, Any]) -> None:
        """ReAct fetches the URL with http_get; the planner calls the service by name."""
        url = f"{self.services_url}/{SERVICE_PATHS.get(service, service)}?"
        literal_parts, planned, deps, reads = [], {}, set(), False
        for name, value in params.items():
            source, ref, read = self._source(str(value))
            deps |= source
            reads |= read
            literal_parts.append(f"{name}={urllib.parse.quote_plus(str(value))}")
            planned[name] = ref or str(value)
        self._add(
            "http_get", {"url": url + "&".join(literal_parts)}, planned, deps, reads,
            (service, {k: str(v) for k, v in params.items()}),
        )  # fmt: skip

    def _add_calc(self, expression: str) -> None:
        deps: set[int] = set()
        reads = False
        pieces, last = [], 0
        for match in NUMBER.finditer(expression):
            source, ref, read = self._source(match[0])
            deps |= source
            reads |= read
            pieces += [expression[last : match.start()], ref or match[0]]
            last = match.end()
        planned = "".join([*pieces, expression[last:]])
        self._add("calculator", {"expression": expression}, {"expression": planned}, deps, reads)

    def _add_write(self, tool: str, args: dict[str, Any]) -> None:
        """A change: a value the question does not state but a result holds is a reference."""
        planned: dict[str, Any] = {}
        deps: set[int] = set()
        for name, value in args.items():
            planned[name] = value
            if mentions(self.question.question, str(value)):
                continue
            for call in self.calls:
                ref = reference(call.data(), call.number, str(value))
                if ref is not None:
                    planned[name] = ref
                    deps.add(call.number)
                    break
        self._add(tool, args, planned, deps)

    def _source(self, value: str) -> tuple[set[int], str | None, bool]:
        """Return where a value comes from: (calls it needs, a reference or None, read?).

        Stated in the question (or any question outside a chain): a literal. Held by an
        earlier result's data: a reference. Stated in, or derived from, an earlier
        result's text (a capital from a country code): read, in a second round. Else a
        literal the question implies (euros: EUR).
        """
        if self.question.group != "chain" or mentions(self.question.question, value):
            return set(), None, False
        for call in self.calls:
            ref = reference(call.data(), call.number, value)
            if ref is not None:
                return {call.number}, ref, False
        readers = {c.number for c in self.calls if mentions(c.text(), value)}
        readers = readers or {
            c.number for c in self.calls if derived(c.text(), value, self.question.question)
        }
        return readers, None, bool(readers)

    # --- what the model says --------------------------------------------------------------------

    @cached_property
    def order(self) -> list[Call]:
        """Return the calls in the order the question asks for them, inputs first.

        A model writes the calls in the question's order (as the planner's examples
        do): each call is placed by the first question word among its own cues (the
        words of its arguments no other call shares); a call waits for its inputs.
        """
        words = re.findall(r"[a-z0-9]+", normalize(self.question.question))
        cues = {c.number: cues_of(c.tool, c.args, c.service) for c in self.calls}

        def position(call: Call) -> float:
            own = cues[call.number] - set().union(*(v for k, v in cues.items() if k != call.number))
            hits = [i for i, w in enumerate(words) if stem(w) in own]
            return min(hits, default=len(words))

        pending = sorted(self.calls, key=lambda c: (position(c), c.number))
        placed: list[Call] = []
        while pending:
            ready = next(c for c in pending if c.deps <= {p.number for p in placed})
            placed.append(ready)
            pending.remove(ready)
        return placed

    @cached_property
    def rounds(self) -> list[list[Call]]:
        """Return the planner's rounds: the calls references can feed, then those read first."""
        first: list[Call] = []
        for call in self.order:
            if not call.reads and call.deps <= {c.number for c in first}:
                first.append(call)
        rest = [c for c in self.order if c not in first]
        return [first, rest] if rest else [first]

    @cached_property
    def plan_rounds(self) -> list[list[Call]]:
        """Return the rounds as the planner writes them: the slowest calls (web services) first.

        The planner's prompt asks for it: a call starts as soon as its line is written, so
        the longest ones start first. A call still comes after the calls it refers to.
        """
        ordered: list[list[Call]] = []
        placed: set[int] = set()
        for calls in self.rounds:
            pending, written = list(calls), []
            while pending:
                ready = [c for c in pending if c.deps <= placed]
                call = next((c for c in ready if c.service is not None), ready[0])
                written.append(call)
                placed.add(call.number)
                pending.remove(call)
            ordered.append(written)
        return ordered

    def turns(self, sequential: bool) -> list[list[Call]]:
        """Return ReAct's tool-calling turns: one call each, or every call whose inputs are in."""
        if sequential:
            return [[c] for c in self.order]
        turns: list[list[Call]] = []
        done: set[int] = set()
        while len(done) < len(self.calls):
            turn = [c for c in self.order if c.number not in done and c.deps <= done]
            turns.append(turn)
            done |= {c.number for c in turn}
        return turns

    def plan(self, round_number: int) -> str:
        """Return the plan text of a planning round (1-based); past the last: only `join()`.

        Numbering runs on across rounds, and a later round may refer to earlier results.
        """
        rounds = self.plan_rounds
        index: dict[int, int] = {}
        number = 0
        for calls_of_round in rounds:  # each round's `replan()` line takes a number too
            for call in calls_of_round:
                number += 1
                index[call.number] = number
            number += 1
        calls = rounds[round_number - 1] if round_number <= len(rounds) else []
        before = sum(len(r) + 1 for r in rounds[: round_number - 1])
        lines = [
            f"{index[c.number]}. "
            + call_text(
                c.service[0] if c.service else c.tool,  # a web service is called by name
                {k: _renumber(v, index) for k, v in c.planned.items()},
            )
            for c in calls
        ]
        end = "replan()" if round_number < len(rounds) else "join()"
        lines.append(f"{before + len(calls) + 1}. {end}")
        return "\n".join(lines)

    def next_turn(self, done: int, sequential: bool) -> list[Call]:
        """Return ReAct's next tool calls after `done` results: none means it answers now."""
        for turn in self.turns(sequential):
            if done <= 0:
                return turn
            done -= len(turn)
        return []

    def answer(self, evidence: str) -> str:
        """Return the reference answer if the evidence (question and results) holds its facts."""
        if self.question.route == "direct" or not missing_facts(self.question, evidence):
            return self.question.reference
        return NOT_FOUND

    def chain_ms(self, durations: Sequence[tuple[str, dict[str, Any], float]]) -> float:
        """Return the slowest dependent chain of tool latencies, given a run's measured calls."""
        return chain_of(self.timed_calls(durations))

    def timed_calls(
        self, durations: Sequence[tuple[str, dict[str, Any], float]]
    ) -> list[TimedCall]:
        """Return the oracle's calls, each with its inputs, its plan line's tokens and latency.

        Each of the oracle's calls takes the duration of the run's call with the same tool
        and arguments (URLs compared unquoted), else of the next unmatched call of that
        tool; a call the run did not make counts as instant.
        """
        left = list(durations)
        took: dict[int, float] = {}
        for exact in (True, False):  # every exact match first, then by tool
            for call in self.calls:
                match = next(
                    (d for d in left if d[0] == call.tool
                     and (not exact or _plain(d[1]) == _plain(call.args))),
                    None,
                )  # fmt: skip
                if call.number not in took and match is not None:
                    left.remove(match)
                    took[call.number] = match[2]
        return [
            TimedCall(
                c.number,
                sorted(c.deps),
                tokens(call_text(c.service[0] if c.service else c.tool, c.planned)),
                c.reads,
                took.get(c.number, 0.0),
            )
            for c in self.calls
        ]


def _renumber(value: Any, index: dict[int, int]) -> Any:
    if not isinstance(value, str):
        return value
    return REFERENCE.sub(lambda m: f"${index[int(m[1])]}{m[2]}", value)


def _plain(args: dict[str, Any]) -> dict[str, Any]:
    return {k: urllib.parse.unquote_plus(v) if isinstance(v, str) else v for k, v in args.items()}
