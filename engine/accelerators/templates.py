"""Plan reuse: a question shaped like a solved one gets its plan filled in, not written.

A new question whose shape (`engine.accelerators.shapes`) is a template's, word for
word, with values of the slots' kinds, gets the template's plan with its own values:
no planner call at all (agentic plan caching, arXiv 2506.14852, filled
deterministically). Matching is a dictionary lookup on the shape.

Who teaches whom (`learned_templates`, `learn`): the domain's reviewed solved plans are
every caller's, and come first; a plan learned from a caller's run serves only that
caller, from the LangGraph store under the caller's namespace (so every worker of a
server shares it, and the server's auth scopes it). A learned plan never carries text
from the conversation beyond its own question's shape. An operator promotes a learned
plan by adding it to the domain's solved plans. `plan_templates=false` or
`speculate=false` in a run: it teaches nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from langgraph.store.base import BaseStore

from core.domain import PlanExample
from core.state import ToolResult
from engine.accelerator import Accelerator, PlanRound
from engine.accelerators.shapes import (
    MAX_QUESTION_CHARS,
    Template,
    make_template,
    read_shape,
)
from engine.catalogue import Catalogue
from engine.language.parser import PlanParser, Task

_TOKEN = re.compile(r"[a-z0-9]+")
CAPACITY = 256  # learned templates kept per caller
NAMESPACE = "plan_templates"  # under the caller's identity in the store


class PlanTemplates(Accelerator):
    """A solved question's plan, filled with this question's values: no planner call."""

    switch = "plan_templates"

    def __init__(self, round_: PlanRound) -> None:
        """Nothing reused yet."""
        super().__init__(round_)
        self.reused: tuple[str, str] | None = None

    @classmethod
    def wanted(cls, round_: PlanRound) -> bool:
        """Only a turn's first round: later ones continue a plan."""
        return round_.context.plan_templates and not round_.done

    async def plan_starts(self) -> str | None:
        """Return the plan of the first template the question fits (and guess one)."""
        round_ = self.round
        bank = bank_of(round_.catalogue)
        learned = await learned_templates(round_.store, round_.caller)
        if round_.context.speculate and (guessed := bank.guess_for(round_.question, learned)):
            round_.guesses.append(guessed)  # its calls may start early
        found = bank.plan_for(round_.question, learned)
        if found is not None and _only_reads(round_, found[0]):
            self.reused = found
        return self.reused[0] if self.reused else None

    async def plan_ends(self, results: list[ToolResult]) -> None:
        """Learn a planner's plan whose calls all worked, for this caller only."""
        round_ = self.round
        new = [r for r in results if r["index"] not in {d["index"] for d in round_.done}]
        parser = round_.parser
        worked = new and not parser.errors and not parser.replan and all(r["ok"] for r in new)
        if self.reused is None and round_.context.speculate and worked and _only_reads(round_):
            await learn(
                round_.store, round_.caller, round_.question, parser.text,
                conversation=[_said(m) for m in round_.state.messages],
                vocabulary=round_.catalogue.planner_system(1),
            )  # fmt: skip

    def notes(self) -> dict[str, Any]:
        """Say where the plan came from."""
        if self.reused is None:
            return {}
        return {"plan_source": "template", "template": self.reused[1]}


def _only_reads(round_: PlanRound, plan: str | None = None) -> bool:
    """Whether every call of a plan (the round's own, by default) only reads.

    A tool with side effects is never reused from a template: its call is written by
    the planner, for this question, and goes through its approval.
    """
    calls = round_.catalogue.calls
    if plan is None:
        return all(calls.read_only(t.tool) for t in round_.parser.tasks)
    parser = PlanParser(calls.signatures, max_calls=32)
    return all(calls.read_only(t.tool) for t in parser.feed(plan + "\n") if isinstance(t, Task))


def bank_of(catalogue: Catalogue) -> TemplateBank:
    """Return the domain's reviewed templates (built once per catalogue)."""
    return catalogue.derived("templates", lambda c: TemplateBank(c.examples))


def _said(message: Any) -> str:
    """Return all a message says: its content, and the arguments of its tool calls."""
    return f"{message.content} {json.dumps(getattr(message, 'tool_calls', []), default=str)}"


class TemplateBank:
    """The domain's reviewed templates (every caller's), and a caller's learned ones."""

    def __init__(self, examples: Iterable[PlanExample]) -> None:
        """Build templates from the solved plans (a plan that replans is not reused)."""
        self.fixed = [t for e in examples if (t := reusable(e.question, e.plan))]
        self._by_key: dict[str, list[Template]] = {}
        for template in self.fixed:
            self._by_key.setdefault(template.key, []).append(template)

    def plan_for(self, question: str, learned: Sequence[Template] = ()) -> tuple[str, str] | None:
        """Return (plan, source question) of the first template the question fits.

        The domain's own templates come first: a learned one never overrides them.
        """
        shape = read_shape(question)
        mine = [t for t in reversed(learned) if t.key == shape.key]
        for template in [*self._by_key.get(shape.key, ()), *mine]:
            plan = template.fill(shape)
            if plan is not None:
                return plan, template.source
        return None

    def guess_for(self, question: str, learned: Sequence[Template] = ()) -> str | None:
        """Return the plan of the template most like the question in shape, if any."""
        shape = read_shape(question)
        guesses = [g for t in [*learned, *self.fixed] if (g := t.guess(shape))]
        return max(guesses, key=lambda g: g[0])[1] if guesses else None


@lru_cache(maxsize=4096)
def reusable(question: str, plan: str) -> Template | None:
    """Return the template of a solved question, or None (a plan that replans is not one)."""
    if "replan()" in plan or "Results:" in plan:
        return None
    return make_template(question, plan)


def carries_conversation(template: Template, conversation: Iterable[str], vocabulary: str) -> bool:
    """Whether a plan holds words of the conversation that its question's shape does not pin.

    Its slots are filled from each new question, and its question's own words are the
    key it is found by; any other word the plan shares with the conversation (a name
    said two turns back, a tool result's text) that the domain's prompt does not hold
    would be carried to later questions, so such a plan is not learned.
    """
    plan_words = set(_TOKEN.findall(re.sub(r"\{slot\d+\}", " ", template.plan).lower()))
    said = {w for text in conversation for w in _TOKEN.findall(text.lower())}
    pinned = set(_TOKEN.findall(template.source.lower())) | _vocabulary(vocabulary)
    return bool(plan_words & (said - pinned))


@lru_cache(maxsize=16)
def _vocabulary(text: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(text.lower()))


def _namespace(owner: str) -> tuple[str, ...]:
    return (owner, NAMESPACE)


async def learned_templates(store: BaseStore, owner: str) -> list[Template]:
    """Return the templates learned from this caller's runs, oldest first."""
    items = await store.asearch(_namespace(owner), limit=CAPACITY)
    items.sort(key=lambda item: item.updated_at)
    found = []
    for item in items:
        question, plan = item.value.get("question"), item.value.get("plan")
        if isinstance(question, str) and isinstance(plan, str):
            template = reusable(question[:MAX_QUESTION_CHARS], plan)
            if template is not None:
                found.append(template)
    return found


async def learn(
    store: BaseStore,
    owner: str,
    question: str,
    plan: str,
    *,
    conversation: Iterable[str],
    vocabulary: str,
) -> bool:
    """Keep a plan that worked as this caller's template for questions of the same shape.

    Returns whether it was kept: not when it has no slot, replans, or carries words of
    the conversation its shape does not pin (`carries_conversation`).
    """
    template = reusable(question, plan)
    if template is None or carries_conversation(template, conversation, vocabulary):
        return False
    fixed = [f for s, f in zip(template.slots, template.fixed, strict=True) if s is None]
    key = hashlib.sha256(json.dumps([template.key, fixed]).encode()).hexdigest()[:32]
    namespace = _namespace(owner)
    await store.aput(namespace, key, {"question": question, "plan": plan})
    items = await store.asearch(namespace, limit=CAPACITY + 16)
    for item in sorted(items, key=lambda i: i.updated_at)[: max(0, len(items) - CAPACITY)]:
        await store.adelete(namespace, item.key)
    return True
