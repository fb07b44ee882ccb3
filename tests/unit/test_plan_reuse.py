"""Plan reuse and speculation: nearest examples, slot filling, the exact-call rule."""

import asyncio
from typing import Any

import pytest
from langchain_core.tools import tool
from langgraph.store.memory import InMemoryStore

from core.context import Context
from core.domain import Domain, PlanExample, read_only
from core.settings import Settings, use_settings
from engine.accelerators.examples import ExampleIndex
from engine.accelerators.predictions import (
    predicted_calls,
    result_calls,
    service_calls,
    service_kinds,
)
from engine.accelerators.shapes import make_template
from engine.accelerators.speculation import Speculation
from engine.accelerators.templates import TemplateBank, learn, learned_templates
from engine.catalogue import catalogue_for
from engine.scheduler.call_tool import Outcome
from evals.simulated.services import ExternalServices
from graphs.fast_agent import build_graph
from tools import SHOP

SPEND = PlanExample(
    "How much has Acme Corp spent with us in 2024?",
    '1. query_database(sql="SELECT SUM(amount) FROM orders o JOIN customers c ON '
    "c.id = o.customer_id WHERE c.name = 'Acme Corp' AND strftime('%Y', order_date) = '2024'\")"
    "\n2. join()",
)


NOTHING_SAID: dict[str, Any] = {"conversation": [], "vocabulary": ""}


def test_the_nearest_solved_questions_come_first() -> None:
    index = ExampleIndex(list(SHOP.plan_examples))
    [(best, score)] = index.nearest(
        "Which loyalty tier is Globex Industries in, by lifetime spend?", 1
    )
    assert "loyalty tier" in best.question and score > 0.3


def test_a_question_of_the_same_shape_gets_the_plan_with_its_own_values() -> None:
    bank = TemplateBank((SPEND,))
    plan, source = bank.plan_for("How much has Globex Industries spent with us in 2025?")  # type: ignore[misc]
    assert "c.name = 'Globex Industries'" in plan and "= '2025'" in plan
    assert "Acme" not in plan and source == SPEND.question


@pytest.mark.parametrize(
    "question",
    [
        "How much has the company with the biggest order spent with us in 2024?",  # not a name
        "How much has Acme Corp spent with us?",  # another shape
        "How much did Acme Corp spend with us in 2024?",
    ],
)
def test_other_shapes_and_non_values_get_no_template(question: str) -> None:
    assert TemplateBank((SPEND,)).plan_for(question) is None


def test_a_value_inside_another_number_is_not_a_slot() -> None:
    template = make_template("What is 18% of 2,450?", '1. calculator(expression="2450 * 0.18")')
    assert template is not None and "0.18" in template.plan  # "18" only as a whole number
    assert (
        TemplateBank((PlanExample(template.source, template.plan),)).plan_for(
            "What is 7% of 1,000?"
        )
        is None
    )


async def test_plans_that_worked_are_learned_and_replans_are_not() -> None:
    store, bank = InMemoryStore(), TemplateBank(())
    assert await learn(store, "key-a", SPEND.question, SPEND.plan, **NOTHING_SAID)
    learned = await learned_templates(store, "key-a")
    assert bank.plan_for("How much has Initech spent with us in 2023?", learned) is not None
    assert not await learn(
        store, "key-a", "Which country is Acme Corp in?",
        '1. query_database(sql="x")\n2. replan()', **NOTHING_SAID,
    )  # fmt: skip


def test_a_question_of_much_the_same_shape_gets_a_guess_not_a_plan() -> None:
    bank = TemplateBank((SPEND,))
    near = "How much has Globex Industries spent with us so far in 2025?"
    assert bank.plan_for(near) is None  # not the same shape word for word: no reused plan
    guessed = bank.guess_for(near)  # but its calls may start early
    assert guessed is not None and "'Globex Industries'" in guessed and "'2025'" in guessed
    assert bank.guess_for("How many tickets has Globex Industries opened in 2025?") is None
    assert bank.guess_for("How much has Globex Industries spent with us?") is None  # one value


def test_a_guessed_plan_predicts_its_calls() -> None:
    bank = TemplateBank((SPEND,))
    question = "How much has Initech spent with us so far in 2023?"
    guessed = bank.guess_for(question)
    assert guessed is not None
    calls = predicted_calls(catalogue_for(SHOP, ""), question, [guessed])
    [sql] = [args["sql"] for tool, args in calls if tool == "query_database"][:1]
    assert "'Initech'" in sql and "'2023'" in sql


def test_entity_free_calls_of_near_examples_are_predicted() -> None:
    calls = predicted_calls(catalogue_for(SHOP, ""), "How many urgent tickets are open right now?")
    assert ("search_docs", {"query": "first response time urgent tickets"}) in calls
    assert all("Acme" not in str(args) for _, args in calls)


SERVICES = "\n".join([
    "- weather: GET http://127.0.0.1:9/weather?city=<city> -> temp_c",
    "- fx: GET http://127.0.0.1:9/fx?base=<currency>&quote=<currency> -> rate",
    "- shipping: GET http://127.0.0.1:9/track?order_id=<order id> -> status",
    "- search: GET http://127.0.0.1:9/search?q=<query> -> results",
])  # fmt: skip


def test_service_parameters_take_the_kinds_of_value_the_solved_plans_pass() -> None:
    kinds = service_kinds(catalogue_for(SHOP, SERVICES))
    assert kinds["weather"] == ("name",) and kinds["fx"] == ("code", "code")
    assert kinds["shipping"] == ("number",)
    assert "search" not in kinds  # a free-text query cannot be read off a question


@pytest.mark.parametrize(
    ("question", "calls"),
    [
        ("Is it raining in Lisbon, says the weather service?", [("weather", {"city": "Lisbon"})]),
        (
            "What do the FX service's CAD to NOK and EUR to SEK rates look like?",
            [("fx", {"base": "CAD", "quote": "NOK"}), ("fx", {"base": "EUR", "quote": "SEK"})],
        ),
        (
            "Compare the weather in Lima and in Cape Town.",
            [("weather", {"city": "Lima"}), ("weather", {"city": "Cape Town"})],
        ),
        (
            "Where are orders 88 and 91? Check shipping.",
            [("shipping", {"order_id": "88"}), ("shipping", {"order_id": "91"})],
        ),
    ],
)
def test_a_named_service_is_called_with_the_questions_values(
    question: str, calls: list[tuple[str, dict[str, str]]]
) -> None:
    assert service_calls(catalogue_for(SHOP, SERVICES), question) == calls


@pytest.mark.parametrize(
    "question",
    [
        "How warm is it in Lisbon today?",  # no service named
        "What does the weather service say for order 1394?",  # a number, not a city
        "Search the web for Lisbon's population.",  # free text: never predicted
        "Use the weather service for my city.",  # a sentence's first word is no name
    ],
)
def test_no_call_is_read_off_a_question_that_does_not_give_it(question: str) -> None:
    assert service_calls(catalogue_for(SHOP, SERVICES), question) == []


def test_any_name_fills_a_name_parameter_and_is_dropped_if_not_asked_for() -> None:
    # Only the kind is checked: a customer's name passes for a city. The plan asks for
    # the city it found, so this call is wasted (cancelled, its result never used).
    question = "What's the weather service saying where Acme Corp is based?"
    assert service_calls(catalogue_for(SHOP, SERVICES), question) == [
        ("weather", {"city": "Acme Corp"})
    ]


def test_a_named_services_call_starts_with_the_planning_step() -> None:
    calls = predicted_calls(
        catalogue_for(SHOP, SERVICES), "What's the JPY to USD rate on the FX service?"
    )
    assert ("fx", {"base": "JPY", "quote": "USD"}) in calls


@tool
async def send_email(to: str) -> str:
    """Send an email (a side effect)."""
    return to


@read_only
@tool
async def lookup(q: str) -> str:
    """Look something up."""
    return q


async def test_only_read_only_tools_start_early_and_only_exact_calls_are_used() -> None:
    domain = Domain("D", "d", "", tools=(lookup, send_email))
    ran: list[tuple[str, Any]] = []

    async def run(name: str, args: dict[str, Any], identifier: str) -> Outcome:
        ran.append((name, args))
        await asyncio.sleep(0.01)
        return Outcome("out", None, "ok", 0.0, 1.0)

    speculation = Speculation(domain.is_read_only, run)
    assert speculation.start([("send_email", {"to": "x"}), ("lookup", {"q": "a"})]) == ["lookup"]
    assert speculation.take("lookup", {"q": "b"}) is None  # not the same call
    early = speculation.take("lookup", {"q": "a"})
    assert early is not None and (await early).output == "out"
    assert speculation.take("lookup", {"q": "a"}) is None  # used once
    speculation.start([("lookup", {"q": "c"})])
    assert await speculation.drop() == 1  # never asked for: cancelled
    assert all(name == "lookup" for name, _ in ran)  # send_email never ran


async def test_a_dropped_speculative_result_never_reaches_the_answer(scripted) -> None:  # type: ignore[no-untyped-def]
    hits: list[str] = []

    @read_only
    @tool
    async def note(q: str) -> str:
        """Note something."""
        hits.append(q)
        return f"SPECULATIVE {q}"

    domain = Domain(
        "D", "d", "", tools=(note,),
        route_examples=(("tools", "note this please"), ("direct", "hello")),
        speculate=lambda question: [("note", {"q": question}), ("note", {"q": "used"})],
    )  # fmt: skip
    models = scripted(planner=['1. note(q="used")\n2. join()'], synthesizer=["Done."])
    state = await build_graph(domain).ainvoke(
        {"messages": [{"role": "user", "content": "note this please"}]},
        context=Context(router_confidence=0.0),
    )
    [result] = state["tool_results"]
    assert result["args"] == {"q": "used"} and sorted(hits) == ["note this please", "used"]
    [plan] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    assert (plan["speculative_hits"], plan["speculative_wasted"]) == (["note"], 1)
    [call] = [t for t in state["timings"] if t["step"] == "call_tool"]
    assert call["speculative"] is True
    synthesizer_prompt = [p for tier, p in models.prompts if tier == "synthesizer"][0]
    assert "SPECULATIVE used" in synthesizer_prompt
    assert "SPECULATIVE note this please" not in synthesizer_prompt


async def test_a_template_question_needs_no_planner(scripted) -> None:  # type: ignore[no-untyped-def]
    domain = Domain(
        "D", "d", "", tools=SHOP.tools, plan_examples=(SPEND,),
        route_examples=(("tools", "how much has x spent"), ("direct", "hello")),
    )  # fmt: skip
    models = scripted(synthesizer=["Globex spent a lot."])
    state = await build_graph(domain).ainvoke(
        {
            "messages": [
                {"role": "user", "content": "How much has Globex Industries spent with us in 2025?"}
            ]
        },
        context=Context(router_confidence=0.0),
    )
    assert models.calls == ["synthesizer"]  # no planner call
    [plan] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    assert plan["plan_source"] == "template" and state["tool_results"][0]["ok"]


async def test_the_nearest_solved_plans_can_be_repeated_for_the_planner(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(planner=["1. join()"], router=["ok"])
    await build_graph(SHOP).ainvoke(
        {"messages": [{"role": "user", "content": "How many urgent tickets are open now?"}]},
        context=Context(nearest_examples=1, speculate=False, plan_templates=False),
    )
    planner_prompt = [p for tier, p in models.prompts if tier == "planner"][0]
    assert "Solved questions like this one:" in planner_prompt
    assert "first response time urgent tickets" in planner_prompt.split("Solved questions")[1]


async def ask_with_services(question: str) -> dict[str, Any]:
    """Run the shop's graph on a question, with the stand-in web services configured."""
    with (
        ExternalServices("fast", seed=1) as services,
        use_settings(
            Settings(http_services=services.describe(), http_allowed_origins=services.base_url)
        ),
    ):
        return await build_graph(SHOP).ainvoke(
            {"messages": [{"role": "user", "content": question}]},
            context=Context(router_confidence=0.0, plan_templates=False),
        )


async def test_a_named_services_early_call_is_the_one_the_plan_runs(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(planner=['1. weather(city="Oslo")\n2. join()'], synthesizer=["Cold."])
    state = await ask_with_services("What does the weather service say for Oslo and for Bergen?")
    [result] = state["tool_results"]
    assert result["ok"] and result["args"] == {"city": "Oslo"}
    [plan] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    assert plan["speculative_hits"] == ["weather"] and plan["speculative_wasted"] >= 1  # Bergen
    [call] = [t for t in state["timings"] if t["step"] == "call_tool"]
    assert call["speculative"] is True
    answer_prompt = [p for tier, p in models.prompts if tier == "synthesizer"][0]
    assert "city: Oslo" in answer_prompt and "city: Bergen" not in answer_prompt  # dropped


CRM = "What's the CRM health score of the customer who placed order 1394?"


@pytest.mark.parametrize(
    ("data", "calls"),
    [
        ([{"name": "Initech"}], [("crm", {"name": "Initech"})]),  # one row, a field `name`
        ({"name": "Initech", "country": "US"}, [("crm", {"name": "Initech"})]),  # an object
        ([{"name": "Initech"}, {"name": "Globex"}], []),  # which row is the planner's call
        ([{"orders": 4}], []),  # no field like the parameter
        ([{"name": "4"}], []),  # a number is no name
    ],
)
def test_a_result_fills_a_named_services_parameter_from_its_field(
    data: Any, calls: list[tuple[str, dict[str, str]]]
) -> None:
    services = "- crm: GET http://127.0.0.1:9/crm?name=<customer name> -> health_score"
    assert result_calls(catalogue_for(SHOP, services), CRM, data) == calls
    assert (
        result_calls(catalogue_for(SHOP, services), "Who placed order 1394?", data) == []
    )  # not named


async def test_a_named_services_call_starts_on_the_value_a_result_found(scripted) -> None:  # type: ignore[no-untyped-def]
    sql = (
        "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE c.name = 'Initech' ORDER BY o.order_date DESC LIMIT 1"
    )
    plan = f'1. query_database(sql="{sql}")\n2. shipping(order_id="$1.id")\n3. join()'
    scripted(planner=[plan], synthesizer=["On its way."])
    state = await ask_with_services(
        "Find Initech's latest order and check it with the shipping tracker."
    )
    rows, tracked = state["tool_results"]
    assert tracked["args"] == {"order_id": rows["data"][0]["id"]}  # a number, not text
    [plan_step] = [t for t in state["timings"] if t["step"] == "plan_and_call_tools"]
    assert plan_step["speculative_hits"] == ["shipping"]  # the same URL: the same call
    assert plan_step["speculative_wasted"] == 0


async def ran(name: str, args: dict[str, Any], identifier: str) -> Outcome:
    return Outcome("out", None, "ok", 0.0, 1.0)


async def test_a_call_asked_for_once_is_never_started_early_again() -> None:
    speculation = Speculation(lambda name: True, ran)
    assert speculation.start([("lookup", {"q": "a"})]) == ["lookup"]
    assert speculation.take("lookup", {"q": "a"}) is not None
    assert speculation.take("lookup", {"q": "b"}) is None  # the plan ran this one itself
    assert speculation.start([("lookup", {"q": "a"}), ("lookup", {"q": "b"})]) == []
    assert await speculation.drop() == 0


async def test_no_more_calls_start_early_than_the_limit() -> None:
    speculation = Speculation(lambda name: True, ran, limit=2)
    many = [("lookup", {"q": str(n)}) for n in range(5)]
    assert speculation.start(many) == ["lookup", "lookup"]
    assert speculation.start([("lookup", {"q": "late"})]) == []
    assert await speculation.drop() == 2


async def test_calls_started_early_share_the_runs_parallel_slots(scripted) -> None:  # type: ignore[no-untyped-def]
    running, most = 0, 0

    @read_only
    @tool
    async def probe(q: str) -> str:
        """Probe something slowly."""
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.02)
        running -= 1
        return q

    domain = Domain(
        "D", "d", "", tools=(probe,),
        route_examples=(("tools", "probe this please"), ("direct", "hello")),
        speculate=lambda question: [("probe", {"q": str(n)}) for n in range(16)],
    )  # fmt: skip
    scripted(planner=['1. probe(q="0")\n2. probe(q="x")\n3. join()'], synthesizer=["Done."])
    state = await build_graph(domain).ainvoke(
        {"messages": [{"role": "user", "content": "probe this please"}]},
        context=Context(router_confidence=0.0, max_parallel_tools=1, max_tool_calls=16),
    )
    assert most == 1  # 16 guessed calls and the plan's own, one at a time
    assert [r["ok"] for r in state["tool_results"]] == [True, True]


async def test_a_call_still_waiting_for_a_slot_is_not_adopted() -> None:
    slots = asyncio.Semaphore(1)
    speculation = Speculation(lambda name: True, ran, slots=slots)
    async with slots:  # every slot is taken (by the plan's own call, say)
        speculation.start([("lookup", {"q": "a"})])
        await asyncio.sleep(0)
        assert speculation.take("lookup", {"q": "a"}) is None  # it runs as the plan's call
    assert await speculation.drop() == 0
