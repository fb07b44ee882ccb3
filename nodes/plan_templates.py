"""Plan reuse: a question shaped like a solved one gets its plan filled in, not written.

A template is a solved question with its names, numbers and codes turned into slots,
and its plan with the same values turned into the same slots ("How much has {1} spent
with us?" -> `... WHERE c.name = '{1}' ...`). A new question that matches a template's
shape word for word, with slot values that look like names, numbers or codes, gets the
template's plan with its own values: no planner call at all (agentic plan caching,
arXiv 2506.14852, filled deterministically). Templates come from the domain's solved
plans and, as runs succeed, from the plans the planner wrote (`TemplateBank.learn`).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from graphs.domain import Domain, PlanExample
from nodes.plan_examples import words
from nodes.render_prompts import usable_examples

# A candidate value: a run of capitalized words ("Acme Corp", "Northwind Aero 13"), a
# number ("2,450", "12%"), or a code ("USD").
_SPAN = re.compile(
    r"\b(?:[A-Z][\w-]*(?:\s+(?:[A-Z0-9][\w-]*|of|&))*|\d[\d,]*(?:\.\d+)?|[A-Z]{2,})\b"
)
_QUESTION_WORDS = frozenset(
    [
        "what",
        "what's",
        "how",
        "how's",
        "which",
        "who",
        "who's",
        "when",
        "where",
        "is",
        "are",
        "does",
        "do",
        "did",
        "can",
        "could",
        "search",
        "find",
        "tell",
        "give",
        "show",
        "list",
        "get",
        "check",
        "look",
        "pull",
        "in",
        "i",
        "and",
        "also",
    ]
)
LIKE = 0.6  # content words two question shapes share (Jaccard) for a guessed plan
_MIN_LITERAL_WORDS = 3  # a template needs this many fixed words besides its slots
_MAX_SLOT_WORDS = 6


@dataclass(frozen=True)
class Template:
    """A question shape (a regex with named slots) and its plan with `{slotN}` holes."""

    pattern: re.Pattern[str]
    plan: str
    numeric: frozenset[str]  # slots written without thousands separators in the plan
    source: str  # the question it came from
    values: int = 0  # how many candidate values its question has
    slot_at: tuple[tuple[str, int], ...] = ()  # each slot and the index of its value
    words: frozenset[str] = frozenset()  # its question's content words, values left out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().rstrip("?.!").strip()).lower()


def question_values(question: str) -> list[str]:
    """Return the question's candidate slot values, leading question words dropped."""
    values = []
    for match in _SPAN.finditer(question):
        words = match[0].split()
        while words and words[0].lower() in _QUESTION_WORDS:
            words = words[1:]
        if words:
            values.append(" ".join(words))
    return values


def make_template(question: str, plan: str) -> Template | None:
    """Turn a solved question into a template, or None when it has no slot or too few words."""
    slots: dict[str, str] = {}  # value as in the question -> slot name
    numeric = set()
    found = question_values(question)
    for value in found:
        plain = value.replace(",", "") if re.fullmatch(r"[\d,.]+", value) else value
        if value in slots or len(value) < 2:
            continue
        if _occurs(value, plan):
            slots[value] = f"slot{len(slots) + 1}"
        elif plain != value and _occurs(plain, plan):
            slots[value] = f"slot{len(slots) + 1}"
            numeric.add(slots[value])
    if not slots:
        return None
    text = _norm(question)
    pattern, filled_plan = re.escape(text), plan
    for value, name in sorted(slots.items(), key=lambda item: -len(item[0])):
        low = re.escape(value.lower())
        pattern = pattern.replace(low, f"(?P<{name}>.+?)", 1).replace(low, f"(?P={name})")
        plain = value.replace(",", "") if name in numeric else value
        filled_plan = _whole(plain).sub("{" + name + "}", filled_plan)
    literal = re.sub(r"\(\?P[<=]\w+>?\.?\+?\??\)", " ", pattern).replace("\\", "")
    if len(literal.split()) < _MIN_LITERAL_WORDS:
        return None
    try:
        compiled = re.compile(f"^{pattern}$")
    except re.error:
        return None
    slot_at = tuple((name, found.index(value)) for value, name in slots.items())
    shape = frozenset(_shape_words(question, found))
    return Template(compiled, filled_plan, frozenset(numeric), question, len(found), slot_at, shape)


def _shape_words(question: str, values: list[str]) -> list[str]:
    """Return a question's content words without its values: what its shape is made of."""
    for value in values:
        question = question.replace(value, " ")
    return words(question)


def guess(template: Template, question: str) -> tuple[float, str] | None:
    """Return how alike the shapes are and the template's plan for the question, or None.

    Alike: as many candidate values, in the same places, and at least `LIKE` of their
    content words in common (Jaccard). A guess only predicts calls to start early
    (`nodes.speculation`); it is never run as the plan.
    """
    found = question_values(question)
    if len(found) != template.values or not template.slot_at:
        return None
    shape = set(_shape_words(question, found))
    union = shape | template.words
    likeness = len(shape & template.words) / len(union) if union else 0.0
    if likeness < LIKE:
        return None
    values = {name: found[at] for name, at in template.slot_at}
    return likeness, _filled(template, values)


def _whole(value: str) -> re.Pattern[str]:
    """Match a value only where it stands alone: "18" is not in "0.18" or "2018"."""
    return re.compile(rf"(?<![\w.]){re.escape(value)}(?![\w])")


def _occurs(value: str, plan: str) -> bool:
    return _whole(value).search(plan) is not None


def fill(template: Template, question: str) -> str | None:
    """Return the template's plan for this question, or None when the shapes differ."""
    match = template.pattern.match(_norm(question))
    if match is None:
        return None
    values = {}
    original = question.strip()
    for name, value in match.groupdict().items():
        start = original.lower().find(value)  # the value as the user wrote it
        written = original[start : start + len(value)] if start >= 0 else value
        if not _looks_like_a_value(written):
            return None
        values[name] = written
    return _filled(template, values)


def _filled(template: Template, values: dict[str, str]) -> str:
    """Return the template's plan with each slot's value (numbers without separators)."""
    plan = template.plan
    for name, value in values.items():
        plain = value.replace(",", "") if name in template.numeric else value
        plan = plan.replace("{" + name + "}", plain.replace('"', ""))
    return plan


def _looks_like_a_value(text: str) -> bool:
    words = text.split()
    if not words or len(words) > _MAX_SLOT_WORDS:
        return False
    return text[0].isupper() or text[0].isdigit()


class TemplateBank:
    """The templates of a domain's solved plans, plus those learned from runs (bounded)."""

    def __init__(self, examples: tuple[PlanExample, ...], capacity: int = 256) -> None:
        """Build templates from the solved plans (a plan that replans is not reused)."""
        self.fixed = [t for e in examples if (t := _reusable(e.question, e.plan))]
        self.learned: OrderedDict[str, Template] = OrderedDict()
        self.capacity = capacity

    def plan_for(self, question: str) -> tuple[str, str] | None:
        """Return (plan, source question) of the first template the question fits."""
        for template in [*reversed(self.learned.values()), *self.fixed]:
            plan = fill(template, question)
            if plan is not None:
                return plan, template.source
        return None

    def guess_for(self, question: str) -> str | None:
        """Return the plan of the template most like the question in shape (`guess`), if any."""
        guesses = [g for t in [*self.learned.values(), *self.fixed] if (g := guess(t, question))]
        return max(guesses, key=lambda g: g[0])[1] if guesses else None

    def learn(self, question: str, plan: str) -> bool:
        """Keep a plan that worked as a template for questions of the same shape."""
        template = _reusable(question, plan)
        if template is None:
            return False
        self.learned[template.pattern.pattern] = template
        self.learned.move_to_end(template.pattern.pattern)
        while len(self.learned) > self.capacity:
            self.learned.popitem(last=False)
        return True


@lru_cache(maxsize=16)
def template_bank(domain: Domain, services: str) -> TemplateBank:
    """Return the template bank of a domain with these services (built once, then learns)."""
    return TemplateBank(tuple(usable_examples(domain, services)))


def _reusable(question: str, plan: str) -> Template | None:
    if "replan()" in plan or "Results:" in plan:
        return None
    return make_template(question, plan)
