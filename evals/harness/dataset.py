"""The eval dataset: questions in groups, with facts a correct answer must contain.

A question of the group `write` asks for a change; what the change left in the shop's
live database is checked after the run (`db_checks`: a SELECT and the rows it must give).
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.shop_db import live_database

DATASET = Path(__file__).parents[1] / "dataset.jsonl"
GROUPS = ("direct", "one_tool", "multi_tool", "chain", "write")
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
    writes: list[dict[str, Any]] = field(default_factory=list)  # {"tool", "args"}: the changes
    db_checks: list[dict[str, Any]] = field(default_factory=list)  # {"sql", "expect": rows}


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


def failed_checks(question: Question) -> list[str]:
    """Run the question's database checks on the live copy; return those that fail.

    Each check's SELECT must give exactly the rows in `expect` (lists of values, numbers
    equal to the cent).
    """
    failed = []
    with closing(sqlite3.connect(f"file:{live_database()}?mode=ro", uri=True)) as conn:
        for check in question.db_checks:
            try:
                got = [list(row) for row in conn.execute(check["sql"]).fetchall()]
            except sqlite3.Error as err:
                failed.append(f"{check['sql']} -> {type(err).__name__}: {err}")
                continue
            if not _same_rows(got, check["expect"]):
                failed.append(f"{check['sql']} -> {got}, expected {check['expect']}")
    return failed


def _same_rows(got: list[list[Any]], expected: list[list[Any]]) -> bool:
    return len(got) == len(expected) and all(
        len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
        for a, b in zip(got, expected, strict=True)
    )


def _same(value: Any, expected: Any) -> bool:
    numbers = (int, float)
    if isinstance(value, numbers) and isinstance(expected, numbers):
        return math.isclose(value, expected, abs_tol=0.005)
    return bool(value == expected)
