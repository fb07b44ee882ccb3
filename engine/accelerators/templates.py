"""Plan reuse: a question shaped like a solved one gets its plan filled in, not written.

A question is read as its *shape* (its text with each name, number and code taken out)
and its values. A template is a solved question's shape, with the values that its plan
uses turned into typed slots ("How much has {name} spent with us in {number}?" ->
`... WHERE c.name = '{slot1}' ...`). A new question whose shape is the same, word for
word, and whose values are of the slots' kinds gets the template's plan with its own
values: no planner call at all (agentic plan caching, arXiv 2506.14852, filled
deterministically). Matching is a dictionary lookup on the shape, in time linear in
the question, whatever it holds: no pattern ever backtracks over a caller's text.

Who teaches whom (`learned_templates`, `learn`): the domain's reviewed solved plans are
every caller's, and come first; a plan learned from a caller's run serves only that
caller, from the LangGraph store under the caller's namespace (so every worker of a
server shares it, and the server's auth scopes it). A learned plan never carries text
from the conversation beyond its own question's shape. An operator promotes a learned
plan by adding it to the domain's solved plans.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from langgraph.store.base import BaseStore

from core.domain import Domain, PlanExample
from engine.accelerators.examples import words
from prompts.render import planner_system, usable_examples

# A candidate value: a run of capitalized words ("Acme Corp", "Northwind Aero 13"), a
# number ("2,450", "12%"), or a code ("USD"). Read on text whose whitespace is single
# spaces, so no part of it can try more than one way to match a run of blanks.
_SPAN = re.compile(r"\b(?:[A-Z][\w-]*(?: (?:[A-Z0-9][\w-]*|of|&))*|\d[\d,]*(?:\.\d+)?|[A-Z]{2,})\b")
_QUESTION_WORDS = frozenset(
    ("what", "what's", "how", "how's", "which", "who", "who's", "when", "where", "is", "are")
    + ("does", "do", "did", "can", "could", "search", "find", "tell", "give", "show", "list")
    + ("get", "check", "look", "pull", "in", "i", "and", "also")
)
# The kinds of value a slot takes; a value of another kind does not fill it.
_KINDS = (
    ("number", re.compile(r"\d[\d,]*(?:\.\d+)?")),
    ("code", re.compile(r"[A-Z]{2,5}")),
    ("name", re.compile(r"[A-Z][\w&.' -]*")),
)
_TOKEN = re.compile(r"[a-z0-9]+")
LIKE = 0.6  # content words two question shapes share (Jaccard) for a guessed plan
MAX_QUESTION_CHARS = 4000  # longer questions are not matched at all
_MIN_LITERAL_WORDS = 3  # a template needs this many fixed words besides its slots
_MAX_SLOT_WORDS = 6
_MAX_TEMPLATE_CHARS = 400  # a longer question is not made a template
_MAX_TEMPLATE_VALUES = 12
CAPACITY = 256  # learned templates kept per caller
NAMESPACE = "plan_templates"  # under the caller's identity in the store


def kind(value: str) -> str:
    """Return what a value looks like: a number, a code, a name, or other text."""
    return next((name for name, shape in _KINDS if shape.fullmatch(value)), "text")


@dataclass(frozen=True)
class Shape:
    """A question read as its fixed text and its values, in order."""

    key: str  # its text without values, lower-cased: what templates are looked up by
    values: tuple[str, ...]
    words: frozenset[str]  # its content words without the values


def read_shape(question: str) -> Shape:
    """Return a question's shape: one pass over its text (spaces made single first)."""
    text = " ".join(question[:MAX_QUESTION_CHARS].split())
    pieces, values, at = [], [], 0
    for match in _SPAN.finditer(text):
        start, span = match.start(), match[0].split(" ")
        lead = 0
        while lead < len(span) and span[lead].lower() in _QUESTION_WORDS:  # "What", "Which Acme"
            start += len(span[lead]) + 1
            lead += 1
        value = " ".join(span[lead:])
        if not value:
            continue
        pieces.append(text[at:start].lower())
        values.append(value)
        at = match.end()
    pieces.append(text[at:].rstrip("?.! ").lower())
    content = words(" ".join(pieces))
    return Shape("\x00".join(pieces), tuple(values), frozenset(content))


def question_values(question: str) -> list[str]:
    """Return the question's candidate slot values, leading question words dropped."""
    return list(read_shape(question).values)


@dataclass(frozen=True)
class Template:
    """A question's shape and its plan with `{slotN}` holes, one slot a value it uses."""

    key: str
    plan: str
    slots: tuple[str | None, ...]  # per value of the question: its slot, or None (fixed)
    fixed: tuple[str, ...]  # per value: as written, lower-cased (must match where fixed)
    kinds: tuple[tuple[str, str], ...]  # each slot's kind of value
    numeric: frozenset[str]  # slots written without thousands separators in the plan
    source: str  # the question it came from
    words: frozenset[str] = frozenset()

    def fill(self, shape: Shape) -> str | None:
        """Return the plan for a question of this shape, or None if a value does not fit."""
        if shape.key != self.key:
            return None
        given: dict[str, str] = {}
        kinds = dict(self.kinds)
        for slot, fixed, value in zip(self.slots, self.fixed, shape.values, strict=True):
            if slot is None:
                fits = value.lower() == fixed
            else:  # of its kind, not too long, and the same where the question repeats it
                fits = len(value.split()) <= _MAX_SLOT_WORDS and kind(value) == kinds[slot]
                fits = fits and given.setdefault(slot, value) == value
            if not fits:
                return None
        return _filled(self, given)

    def guess(self, shape: Shape) -> tuple[float, str] | None:
        """Return how alike the shapes are and the plan with this question's values, or None.

        Alike: as many values, with the slots' kinds in the same places, and at least
        `LIKE` of their content words in common (Jaccard). A guess only predicts calls to
        start early (`engine.accelerators.speculation`); it is never run as the plan.
        """
        if len(shape.values) != len(self.slots) or not self.kinds:
            return None
        union = shape.words | self.words
        likeness = len(shape.words & self.words) / len(union) if union else 0.0
        if likeness < LIKE:
            return None
        given, kinds = {}, dict(self.kinds)
        for slot, value in zip(self.slots, shape.values, strict=True):
            if slot is not None and slot not in given:
                if kind(value) != kinds[slot]:
                    return None
                given[slot] = value
        return likeness, _filled(self, given)


def make_template(question: str, plan: str) -> Template | None:
    """Turn a solved question into a template, or None when it has no slot or too few words."""
    shape = read_shape(question)
    if len(question) > _MAX_TEMPLATE_CHARS or len(shape.values) > _MAX_TEMPLATE_VALUES:
        return None
    slots: dict[str, str] = {}  # value as in the question -> slot name
    numeric = set()
    for value in shape.values:
        plain = value.replace(",", "") if re.fullmatch(r"[\d,.]+", value) else value
        if value in slots or len(value) < 2 or kind(value) == "text":
            continue
        if _occurs(value, plan):
            slots[value] = f"slot{len(slots) + 1}"
        elif plain != value and _occurs(plain, plan):
            slots[value] = f"slot{len(slots) + 1}"
            numeric.add(slots[value])
    literal = [w for w in shape.key.replace("\x00", " ").split() if w.strip("?.,!")]
    if not slots or len(literal) < _MIN_LITERAL_WORDS:
        return None
    filled_plan = plan
    for value, name in sorted(slots.items(), key=lambda item: -len(item[0])):
        plain = value.replace(",", "") if name in numeric else value
        filled_plan = _whole(plain).sub("{" + name + "}", filled_plan)
    return Template(
        key=shape.key,
        plan=filled_plan,
        slots=tuple(slots.get(v) for v in shape.values),
        fixed=tuple(v.lower() for v in shape.values),
        kinds=tuple((name, kind(value)) for value, name in slots.items()),
        numeric=frozenset(numeric),
        source=question,
        words=shape.words,
    )


def _whole(value: str) -> re.Pattern[str]:
    """Match a value only where it stands alone: "18" is not in "0.18" or "2018"."""
    return re.compile(rf"(?<![\w.]){re.escape(value)}(?![\w])")


def _occurs(value: str, plan: str) -> bool:
    return _whole(value).search(plan) is not None


def _filled(template: Template, values: dict[str, str]) -> str:
    """Return the template's plan with each slot's value, escaped where it stands.

    A value goes into a string of the plan language (JSON escapes), and inside SQL
    quotes (`'{slot1}'`) its quotes are doubled too. Values of the three kinds hold no
    quote today; the escaping keeps that true whatever `_SPAN` comes to accept.
    """
    plan = template.plan
    for name, value in values.items():
        plain = value.replace(",", "") if name in template.numeric else value
        quoted = json.dumps(plain)[1:-1]
        plan = plan.replace("'{" + name + "}'", "'" + quoted.replace("'", "''") + "'")
        plan = plan.replace("{" + name + "}", quoted)
    return plan


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


@lru_cache(maxsize=16)
def template_bank(domain: Domain, services: str) -> TemplateBank:
    """Return the reviewed templates of a domain with these services (built once)."""
    return TemplateBank(usable_examples(domain, services))


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


def domain_vocabulary(domain: Domain, services: str) -> str:
    """Return the text whose words a learned plan may hold: the planner's system prompt."""
    return planner_system(domain, services, 1)


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
