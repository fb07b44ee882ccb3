import json

import pytest
from langchain_core.messages import HumanMessage

from graphs.context import Context
from graphs.state import State
from nodes.conversation import last_user_text
from nodes.route_query import CLASSIFIER, features, route_query


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
    predicted, confidence = CLASSIFIER.predict(query)
    assert predicted == route
    assert confidence >= Context().router_confidence


def test_features_mark_urls_and_numbers() -> None:
    assert "<url>" in features("get http://x.test/a")
    assert "<num>" in features("what is 12 * 7")


async def test_confident_queries_make_no_model_call(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted()
    state = State(messages=[HumanMessage("Hello there!")])
    runtime = FakeRuntime()
    update = await route_query(state, runtime)  # type: ignore[arg-type]
    assert update["route"] == "direct"
    assert update["route_decided_by"] == "classifier"
    assert models.calls == []
    assert [e["event"] for e in runtime.events] == ["step_start", "step_end"]


async def test_unclear_queries_ask_the_small_model(scripted) -> None:  # type: ignore[no-untyped-def]
    models = scripted(router=[json.dumps({"choice": "tools"})])
    runtime = FakeRuntime(Context(router_confidence=1.01))  # nothing is confident enough
    update = await route_query(State(messages=[HumanMessage("hmm")]), runtime)  # type: ignore[arg-type]
    assert (update["route"], update["route_decided_by"]) == ("tools", "model")
    assert models.calls == ["router"]


def test_a_run_without_a_user_message_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no user message"):
        last_user_text(State(messages=[]))
