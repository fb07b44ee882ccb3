"""Plan templates with many callers: owned, typed, never carried over, linear in time."""

from __future__ import annotations

import time
from typing import Any

from langgraph.store.memory import InMemoryStore

from core.context import Context
from core.domain import Domain, PlanExample
from core.stores import use_store
from engine.accelerators.shapes import make_template, read_shape
from engine.accelerators.templates import TemplateBank, learn, learned_templates
from graphs.fast_agent import build_graph
from tools import SHOP

SPEND_SQL = (
    "SELECT SUM(amount) AS spend FROM orders o JOIN customers c ON c.id = o.customer_id "
    "WHERE c.name = '{name}' AND strftime('%Y', order_date) = '{year}'"
)
NOTHING_SAID: dict[str, Any] = {"conversation": [], "vocabulary": ""}


def spend_plan(name: str, year: str) -> str:
    return f'1. query_database(sql="{SPEND_SQL.format(name=name, year=year)}")\n2. join()'


DOMAIN = Domain(
    "D", "d", "", tools=SHOP.tools,
    route_examples=(("tools", "how much has x spent"), ("direct", "hello")),
)  # fmt: skip


async def ask(question: str, caller: str, messages: list[Any] | None = None, **knobs: Any) -> Any:
    return await build_graph(DOMAIN).ainvoke(
        {"messages": [*(messages or []), {"role": "user", "content": question}]},
        config={"configurable": {"langgraph_auth_user_id": caller}},
        context=Context(router_confidence=0.0, **knobs),
    )


def plan_step(state: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in state["timings"] if t["step"] == "plan_and_call_tools")


async def test_a_plan_learned_from_one_callers_run_serves_only_that_caller(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(
        planner=[spend_plan("Acme Corp", "2024"), spend_plan("Initech", "2023")],
        synthesizer=["a", "b", "c"],
    )
    await ask("How much has Acme Corp spent with us in 2024?", "key-a")
    mine = await ask("How much has Globex Industries spent with us in 2025?", "key-a")
    assert plan_step(mine)["plan_source"] == "template"
    theirs = await ask("How much has Initech spent with us in 2023?", "key-b")
    assert plan_step(theirs)["plan_source"] == "planner"  # key A's plan never reached key B
    assert models.calls.count("planner") == 2


async def test_a_plan_holding_an_earlier_turns_words_is_not_learned(scripted) -> None:  # type: ignore[no-untyped-def]
    said = [
        {"role": "user", "content": "I work at Bluebird Legal LLC."},
        {"role": "assistant", "content": "Noted."},
    ]
    carried = (
        '1. query_database(sql="SELECT SUM(amount) AS spend FROM orders o JOIN customers c ON '
        "c.id = o.customer_id WHERE c.name = 'Bluebird Legal LLC' AND strftime('%Y', "
        "order_date) = '2024'\")\n2. join()"
    )
    scripted(planner=[carried, carried], synthesizer=["a", "b"])
    await ask("How much has my company spent with us in 2024?", "key-a", said)
    again = await ask("How much has my company spent with us in 2025?", "key-a")
    assert plan_step(again)["plan_source"] == "planner"
    store = InMemoryStore()
    template = make_template("How much has my company spent with us in 2024?", carried)
    assert template is not None and "Bluebird" in template.plan
    assert not await learn(
        store, "key-a", template.source, carried,
        conversation=[m["content"] for m in said], vocabulary="",
    )  # fmt: skip


async def test_a_learned_plan_never_overrides_the_domains_own() -> None:
    own = PlanExample("What is 18% of 2,450?", '1. calculator(expression="2450 * 0.18")\n2. join()')
    store = InMemoryStore()
    poisoned = '1. calculator(expression="1900 + 0")\n2. join()'
    assert await learn(store, "key-a", "What is 18% of 1,900?", poisoned, **NOTHING_SAID)
    learned = await learned_templates(store, "key-a")
    found = TemplateBank((own,)).plan_for("What is 18% of 5,000?", learned)
    assert found is not None and found[0] == '1. calculator(expression="5000 * 0.18")\n2. join()'


def test_a_value_of_another_kind_does_not_fill_a_slot() -> None:
    bank = TemplateBank(
        (
            PlanExample(
                "How much has Acme Corp spent with us in 2024?", spend_plan("Acme Corp", "2024")
            ),
        )
    )
    assert bank.plan_for("How much has Initech spent with us in 2023?") is not None
    for question in (
        "How much has X' OR '1'='1 spent with us in 2024?",  # not one value: another shape
        "How much has Initech spent with us in Q3?",  # a name where a number was
        "How much has 1234 spent with us in 2024?",  # a number where a name was
        'How much has Initech" spent with us in 2024?',
    ):
        assert bank.plan_for(question) is None, question


def test_a_slot_value_is_escaped_for_sql_and_the_plan_string() -> None:
    template = make_template(
        "How much has Acme Corp spent with us in 2024?", spend_plan("Acme Corp", "2024")
    )
    assert template is not None
    from engine.accelerators.shapes import _filled

    plan = _filled(template, {"slot1": 'O\'Hara "Co"', "slot2": "2023"})
    assert "c.name = 'O''Hara \\\"Co\\\"'" in plan


async def test_switched_off_templates_neither_serve_nor_learn(scripted) -> None:  # type: ignore[no-untyped-def]
    scripted(planner=[spend_plan("Acme Corp", "2024")] * 4, synthesizer=["a"] * 4)
    store = InMemoryStore()
    with use_store(store):
        await ask("How much has Acme Corp spent with us in 2024?", "key-a", plan_templates=False)
        await ask("How much has Acme Corp spent with us in 2024?", "key-a", speculate=False)
        assert await learned_templates(store, "key-a") == []
        await ask("How much has Acme Corp spent with us in 2024?", "key-a")
        assert len(await learned_templates(store, "key-a")) == 1
        off = await ask(
            "How much has Initech spent with us in 2023?", "key-a", plan_templates=False
        )
        assert plan_step(off)["plan_source"] == "planner"


async def test_a_long_crafted_question_against_a_five_slot_template_ends_at_once() -> None:
    cities = ["Oslo", "Bergen", "Lima", "Quito", "Cusco"]
    question = f"What is the weather in {', '.join(cities[:4])} and {cities[4]} right now?"
    plan = "\n".join(f'{i}. weather(city="{c}")' for i, c in enumerate(cities, 1)) + "\n6. join()"
    store = InMemoryStore()
    assert await learn(store, "key-a", question, plan, **NOTHING_SAID)
    learned = await learned_templates(store, "key-a")
    assert len(learned[0].kinds) == 5
    bank = TemplateBank(())
    crafted = [
        "What is the weather in " + "Oslo, " * 660 + "and Lima right now?",
        "What is the weather in " + "A " * 1985,
        "What is the weather in " + " " * 3970 + "x!",
        "What is the weather in Oslo, Bergen, Lima, Quito and " + "Cusco " * 650,
    ]
    for text in crafted:
        started = time.perf_counter()
        assert bank.plan_for(text[:4000], learned) is None
        assert read_shape(text[:4000]).key
        # Backtracking over this text used to take hours; reading it once takes milliseconds.
        assert time.perf_counter() - started < 1.0
