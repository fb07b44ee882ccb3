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

from graphs import react_agent
from graphs.context import Context
from serving import client
from tools import TOOLS


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
def fake(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Make every tier a scripted model; record which tier and backend were asked for."""
    asked: dict[str, Any] = {"tiers": [], "backends": []}

    async def llama_cpp_backend(context: Context, tier: str) -> str:
        return "llama_cpp"

    def chat_model(context: Context, tier: str, **kwargs: Any) -> BaseChatModel:
        asked["tiers"].append(tier)
        asked["backends"].append(kwargs.get("backend"))
        return asked["model"]  # type: ignore[no-any-return]

    monkeypatch.setattr(client, "backend_of", llama_cpp_backend)
    monkeypatch.setattr(client, "chat_model", chat_model)
    return asked


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
    context = Context(http_allowed_hosts="api.example.com")

    state = await react_agent.graph.ainvoke(
        {"messages": [{"role": "user", "content": "Customers, and Gold refund window?"}]},
        context=context,
    )

    messages = state["messages"]
    assert messages[-1].text == "42 customers; Gold members have 60 days."
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    assert results["c1"].name == "query_database" and "42" in results["c1"].text
    assert results["c2"].name == "search_docs" and results["c2"].status == "success"
    # One tool per model turn: the second call was made after the first result came back.
    assert len(model.seen) == 3
    assert [m.tool_call_id for m in model.seen[1] if isinstance(m, ToolMessage)] == ["c1"]
    assert [m.tool_call_id for m in model.seen[2] if isinstance(m, ToolMessage)] == ["c1", "c2"]
    # Every turn went to the synthesizer tier, told its backend, with the run's prompt.
    assert fake["tiers"] == ["synthesizer"] * 3
    assert fake["backends"] == ["llama_cpp"] * 3
    assert set(model.bound) == set(TOOLS)
    system = model.seen[0][0]
    assert isinstance(system, SystemMessage)
    assert "CREATE TABLE customers" in system.text and "api.example.com" in system.text


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


def test_the_system_prompt_names_every_tool_and_the_schema() -> None:
    prompt = react_agent.system_prompt(Context(http_allowed_hosts="b.test, a.test"))
    assert all(name in prompt for name in TOOLS)
    assert react_agent.DB_SCHEMA in prompt
    assert "a.test, b.test" in prompt
