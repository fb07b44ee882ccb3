"""One place for a domain: every prompt and both graphs follow it; a second domain works."""

import re
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool

from core.context import Context
from core.domain import Domain, PlanExample, load_plan_examples
from engine.language.grammar import plan_grammar
from engine.language.parser import PlanError, PlanParser
from engine.language.services import parse_services, plan_calls
from graphs import fast_agent, react_agent
from prompts import render as render_prompts
from tests.support.travel import TRAVEL
from tools import SHOP

SERVICES = "- weather: GET http://svc.test/weather?city=<city> -> temp_c\n" + "\n".join(
    f"- {name}: GET http://svc.test/{name}?q=<x> -> y"
    for name in ("crm", "fx", "shipping", "search")
)


def system_prompts(domain: Domain) -> dict[str, str]:
    return {
        "planner": render_prompts.planner_system(domain, "", 8),
        "synthesizer": render_prompts.synthesizer_system(domain, ""),
        "react": render_prompts.react_system(domain, ""),
        "router": render_prompts.router_system(domain),
        "direct": render_prompts.direct_system(domain),
    }


@pytest.mark.parametrize("domain", [SHOP, TRAVEL], ids=["shop", "travel"])
def test_every_prompt_and_the_baseline_see_every_registered_tool(domain: Domain) -> None:
    prompts = system_prompts(domain)
    del prompts["direct"]  # names no tool
    for name in domain.tool_names:
        for which, prompt in prompts.items():
            assert f"- {name}(" in prompt, f"{which} prompt lacks {name}"
        assert f"call-{name.replace('_', '-')} ::=" in plan_grammar(domain, "", 8)
    baseline_tools = react_agent.build_graph(domain).nodes["tools"].bound._tools_by_name  # type: ignore[attr-defined]
    assert set(baseline_tools) == set(domain.tool_names)
    assert domain.name in render_prompts.direct_system(domain)


def test_a_new_domains_prompts_say_nothing_of_the_shop() -> None:
    from evals.foreign import DOMAIN as NUMBERS_DESK

    shop_words = re.compile(
        r"\bSELECT\b|database|web service|documents|\bcapital\b|search_docs", re.I
    )
    for domain in (TRAVEL, NUMBERS_DESK):
        for which, prompt in system_prompts(domain).items():
            assert not shop_words.findall(prompt), f"{domain.name}'s {which} prompt"


def test_the_shops_solved_plans_are_valid_plans_over_its_tools() -> None:
    examples = render_prompts.usable_examples(SHOP, SERVICES)
    assert len(examples) == len(SHOP.plan_examples)  # every service they use is configured
    for example in examples:
        parser = PlanParser(plan_calls(SHOP, SERVICES).arg_names, max_calls=8)
        body = re.sub(r"Results so far:.*?</result>\n", "", example.plan, flags=re.DOTALL)
        items = parser.feed(body + "\n") + parser.close()
        errors = [i for i in items if isinstance(i, PlanError)]
        assert not errors and parser.tasks, (example.question, errors)
        assert example.plan.splitlines()[-1].endswith(("join()", "replan()"))
        assert "@" not in example.plan  # services filled in


def test_examples_that_need_an_unconfigured_service_are_left_out() -> None:
    usable = render_prompts.usable_examples(SHOP, "")
    assert usable and all("http_get" not in e.plan for e in usable)


def test_a_plan_example_file_is_read_and_each_plan_gets_its_end(tmp_path: Any) -> None:
    path = tmp_path / "plans.txt"
    path.write_text('# comment\nQ: one?\n1. f(x="a")\n\nQ: two?\n1. f(x="b")\n2. replan()\n')
    assert load_plan_examples(path) == (
        PlanExample("one?", '1. f(x="a")\n2. join()'),
        PlanExample("two?", '1. f(x="b")\n2. replan()'),
    )


def test_a_domain_is_checked_where_it_is_declared() -> None:
    @tool
    async def nameless(x: str) -> str:
        """Do x."""
        return x

    with pytest.raises(ValueError, match="share a name"):
        Domain("D", "d", "", tools=(nameless, nameless))
    with pytest.raises(ValueError, match="labels must be"):
        Domain("D", "d", "", tools=(nameless,), route_examples=(("maybe", "q"),))  # type: ignore[arg-type]


def test_tools_declare_whether_they_only_read() -> None:
    writers = [name for name in SHOP.tool_names if not SHOP.is_read_only(name)]
    assert writers == ["open_ticket", "request_refund"]
    for name in writers:  # a change says so, is safe to retry by its call id, and is approved
        tool_ = SHOP.tool(name)
        assert tool_ is not None and tool_.metadata is not None
        assert tool_.metadata["side_effects"] and tool_.metadata["idempotent"]
        assert SHOP.needs_approval(name)

    @tool
    async def send_email(to: str) -> str:
        """Send an email."""
        return to

    assert not Domain("D", "d", "", tools=(send_email,)).is_read_only("send_email")


def test_a_multi_argument_tool_gets_a_grammar_with_each_argument() -> None:
    grammar = plan_grammar(TRAVEL, "", 4)
    assert re.search(
        r'call-hotel-rate ::= "hotel_rate\(" "city=" string ", nights=" \(integer \| ref\)',
        grammar,
    )


async def test_the_second_domain_runs_through_the_fast_agent(scripted) -> None:  # type: ignore[no-untyped-def]
    plan = (
        '1. hotel_rate(city="Lisbon", nights=3)\n'
        '2. flight_status(flight="NW100")\n'
        '3. convert_currency(amount="$1.total_eur", to="USD")\n'
        "4. join()"
    )
    scripted(planner=[plan], synthesizer=["384 EUR, about 414.72 USD; NW100 is delayed."])
    graph = fast_agent.build_graph(TRAVEL)
    state = await graph.ainvoke(
        {
            "messages": [
                {
                    "role": "user",
                    "content": "is flight NW100 on time, and 3 nights in Lisbon in USD?",
                }
            ]
        },
        context=Context(),
    )
    results = {r["index"]: r for r in state["tool_results"]}
    assert all(r["ok"] for r in results.values())
    assert results[3]["args"] == {"amount": 384.0, "to": "USD"}
    assert '"amount": 414.72' in results[3]["output"]
    first, second = results[1], results[2]
    assert max(first["started_at"], second["started_at"]) < min(
        first["ended_at"], second["ended_at"]
    )
    assert isinstance(state["messages"][-1], AIMessage)
    assert sum(isinstance(m, ToolMessage) for m in state["messages"]) == 3


def test_web_services_are_calls_of_their_own_that_run_as_a_fetch() -> None:
    [weather, crm] = parse_services(
        "- weather: GET http://svc.test/weather?city=<city> -> temp_c\n"
        "- crm: GET http://svc.test/crm/<customer name>/account -> manager"
    )
    assert weather.signature() == "weather(city)" and crm.params == ("customer_name",)
    assert (
        crm.url({"customer_name": "Acme Corp/x?"})
        == "http://svc.test/crm/Acme%20Corp%2Fx%3F/account"
    )
    calls = plan_calls(SHOP, "- weather: GET http://svc.test/weather?city=<city> -> temp_c")
    assert calls.arg_names["weather"] == ["city"] and calls.read_only("weather")
    assert 'call-weather ::= "weather(" "city=" string ")"' in plan_grammar(
        SHOP, "- weather: GET http://svc.test/weather?city=<city> -> t", 8
    )
    assert "weather(" not in plan_grammar(SHOP, "", 8)
    assert (
        plan_calls(SHOP, "- query_database: GET http://x/<q> -> y").services == {}
    )  # a tool's name
