"""The foreign eval's dataset: generated from its plans, facts computed, nothing leaked."""

import asyncio
import json
import re
from collections import Counter
from typing import Any

import pytest
from pydantic import BaseModel

from evals.foreign import DOMAIN
from evals.foreign.generate import DATASET as FOREIGN
from evals.foreign.generate import build, parse_plan, run_plan
from evals.foreign.questions import SPECS
from evals.harness.dataset import DATASET, fact_found, load_dataset
from prompts.render import question_parts

ROWS = [json.loads(line) for line in FOREIGN.read_text().splitlines() if line.strip()]
MINIMUMS = {"direct": 4, "one_tool": 14, "multi_tool": 12, "chain": 10}
STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by can do does for from how i in is it me of on or our the their "
        "them there this to us was we what when where which who why with you your s",
    )
)


def test_the_file_is_what_the_generator_writes() -> None:
    """Edit questions.py, then run `python -m evals.foreign.generate`."""
    assert FOREIGN.read_text(encoding="utf-8") == asyncio.run(build())


def test_it_loads_as_eval_questions_and_the_shop_dataset_still_does() -> None:
    questions = load_dataset(FOREIGN)
    assert [q.id for q in questions] == [spec.id for spec in SPECS]
    assert all(q.expected_calls for q in questions if q.route == "tools")
    assert not any(q.expected_calls for q in load_dataset(DATASET))


def test_groups_sizes_and_shapes() -> None:
    assert 40 <= len(ROWS) <= 60
    assert len({row["id"] for row in ROWS}) == len(ROWS)
    counts = Counter(row["group"] for row in ROWS)
    assert set(counts) == set(MINIMUMS)
    for group, minimum in MINIMUMS.items():
        assert counts[group] >= minimum, group
    sizes = {"direct": (0, 0), "one_tool": (1, 1), "multi_tool": (2, 4), "chain": (2, 4)}
    for row in ROWS:
        low, high = sizes[row["group"]]
        assert low <= len(row["expected_calls"]) <= high, row["id"]
        assert row["route"] == ("direct" if row["group"] == "direct" else "tools")
        referring = [call for call in row["expected_calls"] if "planned" in call]
        assert bool(referring) == (row["group"] == "chain"), row["id"]


def test_one_call_questions_in_several_sentences_or_clauses_are_well_represented() -> None:
    """The splitter this engine had asked for a call per sentence: these need one call."""
    split = [
        r for r in ROWS
        if r["group"] == "one_tool"
        and (len(re.split(r"(?<=[.?!])\s+", r["question"].strip())) > 1 or " and " in r["question"])
    ]  # fmt: skip
    assert len(split) >= 6, [r["id"] for r in split]
    forced = [
        r["id"]
        for r in ROWS
        if len(question_parts(r["question"])) > max(1, len(r["expected_calls"]))
    ]
    assert len(forced) <= 4, forced  # two questions one call answers ("the slope, and how strong")


def test_parallel_calls_of_one_tool_are_well_represented() -> None:
    same_tool = [
        row for row in ROWS
        if row["group"] == "multi_tool"
        and max(Counter(c["tool"] for c in row["expected_calls"]).values()) > 1
    ]  # fmt: skip
    assert len(same_tool) >= 6


def test_chains_refer_into_rows_columns_and_whole_results() -> None:
    planned = [
        value
        for row in ROWS
        for call in row["expected_calls"]
        for value in call.get("planned", {}).values()
        if isinstance(value, str) and value.startswith("$")
    ]
    assert any(re.fullmatch(r"\$\d+\[\d+\]\.\w+", value) for value in planned)  # a row's field
    assert "$1.interest" in planned and "$1" in planned  # a column of rows; all the rows


def test_every_tool_is_asked_for() -> None:
    used = {call["tool"] for row in ROWS for call in row["expected_calls"]}
    assert used == set(DOMAIN.tool_names)


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_calls_are_valid_and_every_fact_is_computed_from_them(row: dict[str, Any]) -> None:
    spec = next(spec for spec in SPECS if spec.id == row["id"])
    calls = parse_plan(spec.plan)
    done, results = asyncio.run(run_plan(DOMAIN, calls))
    assert done == row["expected_calls"]
    for call in row["expected_calls"]:
        schema = DOMAIN.tool(call["tool"]).args_schema  # type: ignore[union-attr]
        assert isinstance(schema, type) and issubclass(schema, BaseModel)
        schema.model_validate(call["args"])  # as the tool reads it
    if row["route"] == "direct":
        assert not results
        return
    assert row["facts"] and all(fact.startswith("$") for fact in spec.facts)
    texts = [json.dumps(result) for result in results]
    for fact in row["facts"]:
        assert any(fact_found(fact, text) for text in texts), fact


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS}


def near_repeat(a: str, b: str) -> bool:
    """As the shop's dataset test judges it: mostly the same content words."""
    x, y = words(a), words(b)
    if not x or not y:
        return " ".join(a.lower().split()) == " ".join(b.lower().split())
    shared = len(x & y)
    return shared / len(x | y) >= 0.7 or (
        min(len(x), len(y)) >= 5 and shared / min(len(x), len(y)) >= 0.9
    )


def test_no_question_repeats_a_routing_example_or_a_solved_plan() -> None:
    seen = [text for _, text in DOMAIN.route_examples]
    seen += [example.question for example in DOMAIN.plan_examples]
    assert len(seen) >= 55
    leaks = [
        (row["id"], text) for row in ROWS for text in seen if near_repeat(row["question"], text)
    ]
    assert not leaks
    plans = {example.plan for example in DOMAIN.plan_examples}
    for spec in SPECS:
        assert not spec.plan or f"{spec.plan}\n" not in "\n".join(plans), spec.id


def test_near_repeats_are_caught() -> None:
    assert near_repeat("Convert 10 km to miles", "convert 10 km to miles!")
    assert near_repeat("What is the gcd of 48 and 180?", "gcd of 48 and 180")
    assert not near_repeat("Convert 10 km to miles", "Convert a 5 km run to miles")
