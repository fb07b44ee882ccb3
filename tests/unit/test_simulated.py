"""The simulated GPU model and its oracle: request shapes, plans, turns, fair token counts."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from core.context import Context
from core.settings import Settings, use_settings
from engine.language.parser import PlanParser
from engine.language.services import plan_calls
from evals.harness.critical_path import TimedCall, chain_of, tokens
from evals.harness.dataset import load_dataset
from evals.harness.report import ceiling
from evals.harness.runner import run_one
from evals.harness.tables import bound_ms, written_bound_ms
from evals.run import simulated_gpu
from evals.simulated.gpu import SimulatedModels, SimulationDriftError
from evals.simulated.oracle import Oracle, call_text
from evals.simulated.services import ExternalServices
from tools import SHOP

QUESTIONS = {q.id: q for q in load_dataset()}
BASE = "http://127.0.0.1:9"
CALLS = plan_calls(SHOP, ExternalServices.describe_at(BASE))
# One question per group, and both kinds of chain: a reference carries the value, or the
# planner must read a result first (a capital from a country code).
DRIFT = ["capital-canada", "customers-ireland", "weather-london-paris", "order1394-crm-health",
         "acme-country-weather"]  # fmt: skip


def oracle(question_id: str) -> Oracle:
    return Oracle(QUESTIONS[question_id], BASE)


# --- the oracle ------------------------------------------------------------------------------


def test_a_value_in_a_result_becomes_a_reference() -> None:
    plan = oracle("order1394-crm-health").plan(1)
    assert plan.splitlines()[1] == '2. crm(name="$1.name")'
    assert plan.endswith("3. join()")
    gbp = oracle("umbrella-spend-gbp").plan(1)  # a one-cell result, and a JSON field
    assert gbp.startswith('1. fx(base="USD", quote="GBP")')  # the slowest call first
    assert '3. calculator(expression="$2 * $1.rate")' in gbp


def test_a_value_read_from_a_result_takes_a_second_round() -> None:
    chain = oracle("acme-country-weather")
    assert len(chain.rounds) == 2
    assert chain.plan(1).splitlines()[-1] == "2. replan()"
    assert chain.plan(2) == '3. weather(city="Washington")\n4. join()'  # after "2. replan()"
    assert chain.plan(3) == "5. join()"  # past the last round: nothing more to call


def test_plans_parse_and_stay_within_the_call_limit() -> None:
    for question in QUESTIONS.values():
        o = Oracle(question, BASE)
        for round_number in range(1, len(o.rounds) + 1):
            parser = PlanParser(CALLS.arg_names, max_calls=Context().max_tool_calls)
            tasks = [*parser.feed(o.plan(round_number)), *parser.close()]
            assert not parser.errors, (question.id, parser.errors)
            assert len(tasks) == len(o.rounds[round_number - 1]), question.id


def test_react_turns_parallel_and_sequential() -> None:
    multi = oracle("acme-crm-spend-refund")
    assert [len(t) for t in multi.turns(sequential=False)] == [3]
    assert [len(t) for t in multi.turns(sequential=True)] == [1, 1, 1]
    chain = oracle("umbrella-spend-gbp")  # the sum and the rate together, then the product
    assert [[c.tool for c in t] for t in chain.turns(sequential=False)] == [
        ["query_database", "http_get"],
        ["calculator"],
    ]
    assert chain.next_turn(2, sequential=False)[0].tool == "calculator"
    assert chain.next_turn(3, sequential=False) == []
    # ReAct writes the values themselves: what the references resolve to
    assert chain.calls[-1].args == {"expression": "44363.25 * 0.79"}


def test_questions_are_answered_in_the_order_asked() -> None:
    order = [c.service[0] if c.service else c.tool for c in oracle("ottawa-weather-cad").order]
    assert order == ["weather", "fx"]
    order = [c.tool for c in oracle("berlin-weather-de-customers").order]
    assert order == ["http_get", "query_database"]


def test_tokens_are_counted_the_same_for_both_graphs() -> None:
    call = oracle("customers-ireland").calls[0]
    line = oracle("customers-ireland").plan(1).splitlines()[0]
    assert line == f"1. {call_text(call.tool, call.args)}"
    text = call_text(call.tool, call.args)  # ReAct's tool call is counted by this same text
    assert tokens(text) == math.ceil(len(text) / 4)


def test_the_answer_needs_its_facts_in_the_evidence() -> None:
    o = oracle("customers-ireland")
    assert o.answer("<result>COUNT(*)\n3</result> How many?") == o.question.reference
    assert "do not give" in o.answer("no results")
    assert oracle("capital-canada").answer("") == QUESTIONS["capital-canada"].reference


def test_the_chain_bound_follows_dependencies() -> None:
    chain = oracle("order1394-crm-health")
    url = chain.calls[1].args["url"]
    runs = [("query_database", chain.calls[0].args, 5.0), ("http_get", {"url": url}, 900.0)]
    assert chain.chain_ms(runs) == 905.0
    multi = oracle("weather-london-paris")
    runs = [("http_get", c.args, ms) for c, ms in zip(multi.calls, (400.0, 300.0), strict=True)]
    assert multi.chain_ms(runs) == 400.0
    assert multi.chain_ms([]) == 0.0


def test_with_calls_written_each_call_also_waits_for_its_line() -> None:
    calls = [
        TimedCall(1, [], tokens=10, reads=False, ms=5.0),  # written by 70 + 9 * 8 = 142 ms
        TimedCall(2, [1], tokens=30, reads=False, ms=100.0),  # its line ends at 302 ms
        TimedCall(3, [1], tokens=5, reads=True, ms=50.0),  # read after 1 ends: 147 + 102
    ]
    assert chain_of(calls) == 105.0  # no model speed: the tools alone
    assert chain_of(calls, ttft_ms=70.0, per_token_ms=8.0) == max(302 + 100, 147 + 102 + 50)


def test_no_agent_beats_the_baselines_p50_over_the_bounds_p50() -> None:
    speed = {"ttft_ms": 70.0, "per_token_ms": 8.0}
    rows = [
        {"e2e_ms": e2e, "answer_tokens": 1, "chain_ms": chain, "calls": [[1, [], 10, False, chain]]}
        for e2e, chain in ((500.0, 100.0), (900.0, 300.0), (2000.0, 900.0))
    ]
    assert ceiling(rows, speed, bound_ms) == 900.0 / (300.0 + 70.0)
    assert ceiling(rows, speed, written_bound_ms) == 900.0 / (142.0 + 300.0 + 70.0)


# --- the model -------------------------------------------------------------------------------


@pytest.fixture
def models() -> Iterator[SimulatedModels]:
    with simulated_gpu(BASE) as installed:
        yield installed


async def test_invoke_and_stream_take_gpu_time(models: SimulatedModels) -> None:
    models.begin("fast_agent", QUESTIONS["capital-canada"])
    model = models(Context(), "router")
    started = time.perf_counter()
    reply = await model.ainvoke([HumanMessage("What's the capital of Canada?")])
    took = time.perf_counter() - started
    assert reply.content == QUESTIONS["capital-canada"].reference
    assert took >= 0.06 and reply.usage_metadata["output_tokens"] == tokens(str(reply.content))
    chunks = [c async for c in model.astream([HumanMessage("What's the capital of Canada?")])]
    assert "".join(str(c.content) for c in chunks) == reply.content and len(chunks) > 3
    assert [r.shape for r in models.requests] == ["direct", "direct"]


async def test_a_request_of_an_unknown_shape_is_drift(models: SimulatedModels) -> None:
    models.begin("fast_agent", QUESTIONS["customers-ireland"])
    planner = models(Context(), "planner")  # a planner request without its grammar
    with pytest.raises(SimulationDriftError, match="drifted"):
        await planner.ainvoke([SystemMessage("plan"), HumanMessage("Q: ?")])
    router = models(Context(), "synthesizer").bind(
        extra_body={"structured_outputs": {"choice": ["direct", "tools"]}}
    )
    with pytest.raises(SimulationDriftError):  # a choice is the router's
        await router.ainvoke([HumanMessage("?")])


async def test_the_graphs_make_the_requests_the_simulation_expects() -> None:
    """Drift check: both graphs, one question per group, the router forced to the model."""
    with (
        ExternalServices(profile="fast") as services,
        simulated_gpu(services.base_url, speedup=10) as models,
        use_settings(
            Settings(http_services=services.describe(), http_allowed_origins=services.base_url)
        ),
    ):
        context = Context(router_confidence=1.0, router_fallback="model")  # the model routes
        rows = []
        for graph in ("fast_agent", "react_agent", "react_sequential"):
            for question_id in DRIFT:
                models.begin(graph, QUESTIONS[question_id])
                rows.append(await run_one(graph, QUESTIONS[question_id], context, 60))
    wrong = [(r["graph"], r["id"], r["error"], r["missing"]) for r in rows if not r["correct"]]
    assert not wrong

    def shapes(graph: str, question_id: str) -> list[tuple[str, str, int]]:
        return [
            (r.tier, r.shape, r.round)
            for r in models.requests
            if (r.graph, r.question) == (graph, question_id)
        ]

    route = ("router", "route", 0)
    answer = ("synthesizer", "answer", 0)
    assert shapes("fast_agent", "capital-canada") == [route, ("router", "direct", 0)]
    assert shapes("fast_agent", "customers-ireland") == [route, ("planner", "plan", 1), answer]
    assert shapes("fast_agent", "weather-london-paris") == [route, ("planner", "plan", 1), answer]
    assert shapes("fast_agent", "order1394-crm-health") == [route, ("planner", "plan", 1), answer]
    assert shapes("fast_agent", "acme-country-weather") == [
        route, ("planner", "plan", 1), ("planner", "plan", 2), answer,
    ]  # fmt: skip
    turn = ("synthesizer", "tool_calls", 0)
    assert shapes("react_agent", "capital-canada") == [turn]
    assert shapes("react_agent", "weather-london-paris") == [turn] * 2  # both calls, then answer
    assert shapes("react_sequential", "weather-london-paris") == [turn] * 3
    assert shapes("react_agent", "order1394-crm-health") == [turn] * 3


def test_a_plan_the_grammar_would_not_allow_is_drift() -> None:
    from evals.simulated.gpu import SimulationDriftError, _check_numbering

    grammar = 'root ::= line1\nline1 ::= "3. " (call "\\n" line2 | "join()" | "replan()")\n'
    _check_numbering(grammar, '3. weather(city="Paris")\n4. join()')
    with pytest.raises(SimulationDriftError, match="first line is 3"):
        _check_numbering(grammar, '1. weather(city="Paris")\n2. join()')
