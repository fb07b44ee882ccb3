import asyncio
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from evals.harness.dataset import NUMBER, Question, failed_checks
from evals.harness.dataset import fact_found as found
from evals.simulated.service_data import CAPITAL_OF, ENDPOINTS, WEATHER, answer
from tools import SHOP
from tools.calculator import evaluate
from tools.query_database import run_query
from tools.search_docs import DOCS_DIR
from tools.shop_db import reset_database

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "evals" / "dataset.jsonl"
WRITERS = {"open_ticket", "request_refund"}
TOOLS = {"query_database", "search_docs", "calculator", "http_get"} | WRITERS
KEYS = {"id", "group", "question", "route", "tools", "services", "facts", "reference"}
OPTIONAL = {"sql", "service_calls", "calc", "docs", "writes", "db_checks"}
MINIMUMS = {"direct": 12, "one_tool": 16, "multi_tool": 24, "chain": 12, "write": 6}
JACCARD = 0.7  # share of all the content words two questions use
CONTAINED = 0.9  # share of the shorter question's content words the other has
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "i", "in", "is", "it", "me", "of", "on", "or", "our", "the", "their", "them", "there",
    "this", "to", "us", "was", "we", "what", "when", "where", "which", "who", "why", "with",
    "you", "your", "s",
})  # fmt: skip
FORBIDDEN = {
    "what is the total amount of acme corp's delivered orders, and how many days do gold "
    "members have to ask for a refund?",
    "how many urgent support tickets are open, and what is the first-response target for "
    "urgent tickets?",
}


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]


ROWS = load()


def sources(row: dict[str, Any]) -> dict[str, str]:
    """Recompute every source of a row's facts: SQL, service answers, arithmetic, docs."""
    out = {f"sql {sql}": run_query(sql) for sql in row.get("sql", [])}
    for call in row.get("service_calls", []):
        out[f"service {call}"] = json.dumps(answer(call["service"], call["params"]))
    out |= {f"calc {expr}": repr(evaluate(expr)) for expr in row.get("calc", [])}
    for doc in row.get("docs", []):
        out[f"doc {doc}"] = (DOCS_DIR / doc).read_text(encoding="utf-8")
    if row.get("writes"):
        reset_database()
        out |= asyncio.run(write(row, "source"))
        reset_database()
    return out


async def write(row: dict[str, Any], run: str) -> dict[str, str]:
    """Make a row's changes on the live copy, as tool calls with ids of their own; return
    each change's answer (or, refused, its error)."""
    out = {}
    for number, change in enumerate(row["writes"], 1):
        tool = SHOP.tool(change["tool"])
        assert tool is not None
        call = {"name": tool.name, "args": change["args"], "id": f"call_{run}_{number}"}
        try:
            answer = (await tool.ainvoke({**call, "type": "tool_call"})).content
        except ValueError as err:
            answer = f"{type(err).__name__}: {err}"
        out[f"write {change}"] = str(answer)
    return out


def calls(row: dict[str, Any]) -> int:
    extra = ("sql", "service_calls", "calc", "writes")
    return sum(len(row.get(key, [])) for key in extra) + bool(row.get("docs"))


def test_loads_with_the_required_keys() -> None:
    assert len(ROWS) >= 64
    for row in ROWS:
        assert KEYS <= set(row) <= KEYS | OPTIONAL, row["id"]
        assert isinstance(row["question"], str) and row["question"].strip()
        assert isinstance(row["reference"], str) and row["reference"].strip(), row["id"]
        assert all(isinstance(fact, str) and fact for fact in row["facts"]), row["id"]


def test_ids_are_unique_slugs() -> None:
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) and len(i) <= 40 for i in ids)


def test_group_counts_meet_the_minimums() -> None:
    counts = Counter(row["group"] for row in ROWS)
    assert set(counts) == set(MINIMUMS)
    for group, minimum in MINIMUMS.items():
        assert counts[group] >= minimum, group
    slow = [r for r in ROWS if r["group"] == "multi_tool" and r["services"]]
    assert len(slow) >= 12
    one_tool = {t for r in ROWS if r["group"] == "one_tool" for t in r["tools"]}
    assert one_tool == TOOLS - WRITERS  # a change is asked for in its own group
    assert {s for r in ROWS if r["group"] == "one_tool" for s in r["services"]} == set(ENDPOINTS)


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_route_tools_and_calls_are_consistent(row: dict[str, Any]) -> None:
    tools = set(row["tools"])
    assert tools <= TOOLS
    assert len(tools) == len(row["tools"])
    assert set(row["services"]) <= set(ENDPOINTS)
    assert row["route"] == ("direct" if row["group"] == "direct" else "tools")
    assert (row["route"] == "direct") == (not tools)
    assert ("http_get" in tools) == bool(row["services"])
    assert set(row["services"]) == {c["service"] for c in row.get("service_calls", [])}
    assert ("query_database" in tools) == bool(row.get("sql"))
    assert ("calculator" in tools) == bool(row.get("calc"))
    assert ("search_docs" in tools) == bool(row.get("docs"))
    assert tools & WRITERS == {w["tool"] for w in row.get("writes", [])}
    assert (row["group"] == "write") == bool(row.get("writes")) == bool(row.get("db_checks"))
    n = calls(row)
    expected = {"direct": (0, 0), "one_tool": (1, 1), "multi_tool": (2, 4), "chain": (2, 4)}
    expected["write"] = (1, 3)
    low, high = expected[row["group"]]
    assert low <= n <= high, n
    if row["group"] == "one_tool":
        assert len(tools) == 1


def words(text: str) -> set[str]:
    """The content words of a text, lower-cased (what near-repeats are compared by)."""
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS}


def normalized(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def near_repeat(a: str, b: str) -> bool:
    """Equal once normalized, or mostly the same words: Jaccard >= 0.7, or nine in ten of
    the shorter's (at least five) words in the other."""
    x, y = words(a), words(b)
    if normalized(a) == normalized(b):
        return True
    if not x or not y:
        return False
    shared = len(x & y)
    return shared / len(x | y) >= JACCARD or (
        min(len(x), len(y)) >= 5 and shared / min(len(x), len(y)) >= CONTAINED
    )


def examples() -> list[tuple[str, str]]:
    """Every question the router or the planner learns from: (where, text)."""
    routed = [(f"route example ({label})", text) for label, text in SHOP.route_examples]
    planned = [("plan example", example.question) for example in SHOP.plan_examples]
    return routed + planned + [("forbidden", text) for text in FORBIDDEN]


def test_questions_do_not_leak_training_examples_or_urls() -> None:
    seen = examples()
    assert len(seen) > 90
    closest = []
    for row in ROWS:
        question = row["question"]
        assert not re.search(r"://|127\.0\.0\.1|localhost|/\w+\?", question.lower()), row["id"]
        for where, text in seen:
            x, y = words(question), words(text)
            overlap = len(x & y) / len(x | y) if x | y else 0.0
            closest.append((overlap, row["id"], where, text, near_repeat(question, text)))
    closest.sort(reverse=True)
    leaks = [c for c in closest if c[4]]
    report = "\n".join(
        f"{o:.2f} {qid} ~ {where}: {text!r}" for o, qid, where, text, _ in closest[:8]
    )
    assert not leaks, f"eval questions repeat training examples:\n{report}"


def test_near_repeats_are_caught() -> None:
    assert near_repeat("How many customers are in Ireland?", "how many customers are in ireland")
    assert near_repeat(
        "What is the USD to EUR rate on the FX service today?",
        "what's the USD to EUR rate from the FX service",
    )
    assert not near_repeat("How many customers are in Ireland?", "How many orders were refunded?")


@pytest.mark.parametrize("row", [r for r in ROWS if r["route"] == "tools"], ids=lambda r: r["id"])
def test_facts_are_recomputed_from_their_sources(row: dict[str, Any]) -> None:
    recomputed = sources(row)
    assert row["facts"], "a tool question needs facts"
    for fact in row["facts"]:
        assert any(found(fact, text) for text in recomputed.values()), fact
    # Every source backs a fact, or (in a chain) feeds a later call: an id, a name, a country.
    params = [str(v) for call in row.get("service_calls", []) for v in call["params"].values()]
    params += [str(v) for change in row.get("writes", []) for v in change["args"].values()]
    countries = [code for code, city in CAPITAL_OF.items() if city in params]
    links = row["facts"] + params + countries + NUMBER.findall(" ".join(row.get("calc", [])))
    for name, text in recomputed.items():
        assert "(no rows)" not in text, name
        assert any(found(link, text) for link in links), f"{name} backs no fact"


def test_weather_covers_every_customer_country() -> None:
    countries = set(run_query("SELECT DISTINCT country FROM customers").splitlines()[1:])
    assert countries <= set(CAPITAL_OF)
    assert set(CAPITAL_OF.values()) <= set(WEATHER)
    assert len(WEATHER) >= 12


def test_fact_matching_is_strict_enough() -> None:
    assert found("82725", "SUM | 82725.0")
    assert found("1499261.25", "revenue was $1,499,261.25")
    assert found("35046.97", "35046.9675")
    assert found("10%", "costs 10% of the list price")
    assert not found("10%", "costs 10 dollars")
    assert not found("0.92", "rate 10.92")
    assert not found("17", "17.4 degrees")
    assert found("7", "within 5\u20137 business days")
    assert not found("7", "order 1766")
    assert not found("Platinum", "Gold")


def test_a_date_or_a_code_counts_however_it_is_written() -> None:
    assert found("2026-07-31", "it renews on July 31, 2026.")
    assert found("2026-07-31", "it renews on 31 July 2026")
    assert found("2025-12-01", "due December 1, 2025")
    assert not found("2026-07-03", "it renews on 13 July 2026")
    assert not found("2026-07-03", "it renews on July 31, 2026")
    assert not found("2026-07-31", "it renews on July 30, 2026")
    assert found("in_transit", "the parcel is in transit with DHL")
    assert found("out_for_delivery", "status: out_for_delivery")


WRITES = [r for r in ROWS if r["group"] == "write"]


@pytest.mark.parametrize("row", WRITES, ids=[r["id"] for r in WRITES])
async def test_db_checks_tell_a_change_made_from_none_and_hold_once_however_often_it_runs(
    row: dict[str, Any],
) -> None:
    question = Question(**row)
    reset_database()
    try:
        before = failed_checks(question)
        answers = await write(row, "first")
        refused = all(a.startswith("WriteRefusedError") for a in answers.values())
        # A change the checks would not notice checks nothing; a refusal leaves all as it was.
        assert bool(before) != refused, before
        assert failed_checks(question) == []
        assert await write(row, "first") == answers  # a retried run's calls: no second change
        assert failed_checks(question) == []
    finally:
        reset_database()


def test_every_kind_of_change_is_asked_for() -> None:
    kinds = {w["tool"] for r in WRITES for w in r["writes"]}
    assert kinds == WRITERS
    assert any(r.get("sql") for r in WRITES)  # a chain: a lookup feeds the change
    assert any(len(r["writes"]) > 1 for r in WRITES)
    assert (
        sum(all(c["expect"] == [[0]] for c in r["db_checks"]) for r in WRITES) >= 2
    )  # refusals: an invalid change must leave nothing behind
