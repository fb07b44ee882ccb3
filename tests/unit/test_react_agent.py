"""The sequential ReAct baseline with a scripted tool-calling model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable

from core.context import Context
from core.settings import Settings, use_settings
from graphs import react_agent
from prompts.render import react_system
from serving import client
from tests.support.travel import TRAVEL
from tools import SHOP


class ToolCallingFake(BaseChatModel):
    """Answers from a script of AIMessages; records what each call was sent."""

    script: list[AIMessage]
    seen: list[list[BaseMessage]] = []
    bound: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "tool-calling-fake"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, AIMessage]:
        self.bound = [t.name for t in tools]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        if not self.script:
            raise AssertionError("the model was called more often than scripted")
        return ChatResult(generations=[ChatGeneration(message=self.script.pop(0))])


def call(name: str, args: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


@pytest.fixture
def fake() -> Any:
    """Make every tier a scripted tool-calling model; record which tiers were asked for."""
    asked: dict[str, Any] = {"tiers": [], "tools": []}

    def factory(context: Context, tier: str, **kwargs: Any) -> BaseChatModel:
        asked["tiers"].append(tier)
        asked["tools"].append(kwargs.get("tools"))
        return asked["model"]  # type: ignore[no-any-return]

    with client.use_models(factory, backend="llama_cpp"):
        yield asked


async def test_two_tools_run_in_turn_and_the_scripted_answer_ends_the_run(
    fake: dict[str, Any],
) -> None:
    fake["model"] = model = ToolCallingFake(
        script=[
            AIMessage("", tool_calls=[call("query_database", {"sql": "SELECT 41 + 1"}, "c1")]),
            AIMessage("", tool_calls=[call("search_docs", {"query": "gold refund days"}, "c2")]),
            AIMessage("42 customers; Gold members have 60 days."),
        ]
    )
    services = "- crm: GET http://crm.test/account?name=<name> -> x"
    with use_settings(Settings(http_services=services)):
        state = await react_agent.graph.ainvoke(
            {"messages": [{"role": "user", "content": "Customers, and Gold refund window?"}]},
            context=Context(),
        )

    messages = state["messages"]
    assert messages[-1].text == "42 customers; Gold members have 60 days."
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    assert results["c1"].name == "query_database" and "42" in results["c1"].text
    assert results["c2"].name == "search_docs" and results["c2"].status == "success"
    # The model asked for one tool per turn: the second came after the first result.
    assert len(model.seen) == 3
    assert [m.tool_call_id for m in model.seen[1] if isinstance(m, ToolMessage)] == ["c1"]
    assert [m.tool_call_id for m in model.seen[2] if isinstance(m, ToolMessage)] == ["c1", "c2"]
    # Every turn went to the synthesizer tier, reading tool calls, with the run's prompt.
    assert fake["tiers"] == ["synthesizer"] * 3
    assert fake["tools"] == [True] * 3
    assert set(model.bound) == set(SHOP.tool_names)
    system = model.seen[0][0]
    assert isinstance(system, SystemMessage)
    assert "CREATE TABLE customers" in system.text and "http://crm.test/account" in system.text


async def test_a_failing_tool_call_reaches_the_model_as_an_error(fake: dict[str, Any]) -> None:
    fake["model"] = model = ToolCallingFake(
        script=[
            AIMessage("", tool_calls=[call("query_database", {"sql": "DROP TABLE orders"}, "c1")]),
            AIMessage("I cannot do that."),
        ]
    )
    state = await react_agent.graph.ainvoke(
        {"messages": [{"role": "user", "content": "Drop the orders table."}]}, context=Context()
    )

    (result,) = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert result.status == "error" and "not authorized" in result.text
    assert result in model.seen[1]
    assert state["messages"][-1].text == "I cannot do that."


def test_the_system_prompt_shares_the_planners_context() -> None:
    prompt = react_system(SHOP, "")
    assert all(f"- {name}(" in prompt for name in SHOP.tool_names)
    assert "CREATE TABLE orders" in prompt


async def test_the_baseline_builds_for_another_domain(fake: dict[str, Any]) -> None:
    fake["model"] = model = ToolCallingFake(
        script=[
            AIMessage("", tool_calls=[call("flight_status", {"flight": "NW100"}, "c1")]),
            AIMessage("NW100 is delayed."),
        ]
    )
    graph = react_agent.build_graph(TRAVEL)
    state = await graph.ainvoke(
        {"messages": [{"role": "user", "content": "NW100?"}]}, context=Context()
    )
    assert state["messages"][-1].text == "NW100 is delayed."
    assert set(model.bound) == set(TRAVEL.tool_names)
    assert "Northwind Travel Desk" in model.seen[0][0].text
