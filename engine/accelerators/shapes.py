"""Question shapes: a question's fixed words and its values, and templates made of them.

A question is read as its *shape* (its text with each name, number and code taken out)
and its values. A template is a solved question's shape, with the values that its plan
uses turned into typed slots ("How much has {name} spent with us in {number}?" ->
`... WHERE c.name = '{slot1}' ...`). Reading a shape is one pass over the text, in time
linear in the question, whatever it holds: no pattern ever backtracks over a caller's
text. Plan reuse (`engine.accelerators.templates`) and speculation read shapes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from engine.accelerators.examples import words

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
LIKE = 0.6  # content words two question shapes share (Jaccard) for a guessed plan
MAX_QUESTION_CHARS = 4000  # longer questions are not matched at all
_MIN_LITERAL_WORDS = 3  # a template needs this many fixed words besides its slots
_MAX_SLOT_WORDS = 6
_MAX_TEMPLATE_CHARS = 400  # a longer question is not made a template
_MAX_TEMPLATE_VALUES = 12


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
