"""The router: the classifier decides what it is sure of; the small model, the rest."""

import json

import pytest
from langchain_core.messages import HumanMessage

from core.context import Context
from core.state import State
from nodes.route_classifier import RouteClassifier, classifier_for, cross_validate, features
from nodes.route_query import route_query
from prompts.conversation import InvalidInputError, last_user_text
from tests.support.travel import TRAVEL
from tools import SHOP


class FakeRuntime:
    def __init__(self, context: Context | None = None) -> None:
        self.context = context or Context()
        self.events: list[dict[str, object]] = []
        self.stream_writer = self.events.append


@pytest.mark.parametrize(
    ("query", "route"),
    [
        ("Hi! Who are you?", "direct"),
        ("thanks a lot, bye", "direct"),
        ("How many orders did Globex Industries place in 2025?", "tools"),
        ("What is the restocking fee for an opened laptop?", "tools"),
        ("Which customers have open urgent support tickets?", "tools"),
    ],
)
def test_classifier_is_confident_on_clear_queries(query: str, route: str) -> None:
    predicted, confidence = classifier_for(SHOP).predict(query)
    assert predicted == route
    assert confidence >= Context().router_confidence


def test_features_mark_urls_and_numbers() -> None:
    assert "<url>" in features("get http://x.test/a")
    assert "<num>" in features("what is 12 * 7")


def test_each_domain_trains_its_own_classifier() -> None:
    assert classifier_for(TRAVEL).predict("is flight NW100 on time?")[0] == "tools"
    assert classifier_for(TRAVEL) is classifier_for(TRAVEL)
    with pytest.raises(ValueError, match="both routes"):
        RouteClassifier([("tools", "only one kind")])


def test_cross_validation_reports_accuracy_and_coverage() -> None:
    scores = cross_validate(SHOP.route_examples, threshold=0.85)
    assert 0.8 < scores["accuracy"] <= 1 and 0.5 < scores["coverage"] <= 1


def test_cross_validation_on_fewer_examples_trains_on_both_routes() -> None:
    few = cross_validate(SHOP.route_examples, threshold=0.85, train_size=4)  # 2 of each route
    every = cross_validate(SHOP.route_examples, threshold=0.85)
    assert 0 < few["accuracy"] < every["accuracy"]


async def route(
    query: str, context: Context | None = None
) -> tuple[dict[str, object], FakeRuntime]:
    runtime = FakeRuntime(context)
    update = await route_query(State(messages=[HumanMessage(query)]), runtime, domain=SHOP)  # type: ignore[arg-type]
    return update, runtime


async def test_confident_queries_make_no_model_call(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted()
    update, runtime = await route("Hello there!")
    assert (update["route"], update["route_decided_by"]) == ("direct", "classifier")
    assert models.calls == []
    assert [e["event"] for e in runtime.events] == ["step_start", "step_end"]


async def test_unclear_queries_ask_the_small_model(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(router=[json.dumps({"choice": "direct"})])
    update, _ = await route("hmm", Context(router_confidence=1.0, router_fallback="model"))
    assert (update["route"], update["route_decided_by"]) == ("direct", "model")
    assert models.calls == ["router"]


async def test_a_malformed_model_answer_falls_back_to_tools(scripted) -> None:  # type: ignore[no-untyped-def]
    scripted(router=["maybe? {not json"])
    update, _ = await route("hmm", Context(router_confidence=1.0, router_fallback="model"))
    assert (update["route"], update["route_decided_by"]) == ("tools", "fallback")


async def test_by_default_the_planner_decides_what_the_classifier_is_unsure_of(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted()
    update, _ = await route("hmm", Context(router_confidence=1.0))
    assert (update["route"], update["route_decided_by"]) == ("tools", "planner")
    assert models.calls == []  # no model call to route


def test_a_run_without_a_user_message_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="no user message"):
        last_user_text(State(messages=[]), Context())
