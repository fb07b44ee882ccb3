"""The eval dataset: questions in groups, with facts a correct answer must contain."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATASET = Path(__file__).with_name("dataset.jsonl")
GROUPS = ("direct", "one_tool", "multi_tool", "chain")
NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")  # fmt: skip


@dataclass(frozen=True)
class Question:
    """One eval question and what its answer is checked against."""

    id: str
    group: str
    question: str
    route: str
    tools: list[str]
    services: list[str]
    facts: list[str]
    reference: str
    sql: list[str] = field(default_factory=list)
    service_calls: list[dict[str, Any]] = field(default_factory=list)
    calc: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    # A domain's own tools (evals/foreign): the calls a correct agent makes, in order, each
    # {"tool", "args"} with values as they run, and "planned" when the plan refers to a result.
    expected_calls: list[dict[str, Any]] = field(default_factory=list)


def load_dataset(path: Path = DATASET) -> list[Question]:
    """Read the JSON-lines dataset."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Question(**json.loads(line)) for line in lines if line.strip()]


def normalize(text: str) -> str:
    """Return what facts are compared with: lower case, no "$", no thousands separators.

    A code's underscores read as spaces ("in_transit" is "in transit").
    """
    text = text.lower().replace("$", "").replace("\u2013", "-").replace("_", " ")
    return re.sub(r"(?<=\d),(?=\d{3})", "", text)


def _spelled_dates(fact: str) -> list[str]:
    """An ISO date as people write it too: "july 31, 2026", "july 31 2026", "31 july 2026"."""
    match = ISO_DATE.fullmatch(fact)
    if not match or not 1 <= int(match[2]) <= 12:
        return [fact]
    year, month, day = match[1], MONTHS[int(match[2]) - 1], str(int(match[3]))
    return [fact, f"{month} {day}, {year}", f"{month} {day} {year}", f"{day} {month} {year}"]


def fact_found(fact: str, text: str) -> bool:
    """Match a number as a whole number (rounded to the fact's decimals); else a substring."""
    fact, text = normalize(fact), normalize(text)
    bare = fact.removesuffix("%")
    if NUMBER.fullmatch(bare) and not (bare != fact and f"{bare}%" not in text):
        decimals = len(bare.partition(".")[2])
        for match in NUMBER.finditer(text):
            value = float(match.group())
            if value == float(bare) or (decimals and round(value, decimals) == float(bare)):
                return True
        return False
    return any(re.search(rf"(?<!\d){re.escape(form)}", text) for form in _spelled_dates(fact))


def missing_facts(question: Question, answer: str) -> list[str]:
    """Return the facts the answer lacks (empty: the answer is correct)."""
    return [fact for fact in question.facts if not fact_found(fact, answer)]
