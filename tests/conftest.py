"""Shared test setup: tracing off, no analytics, and scripted chat models for unit tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

os.environ["LANGSMITH_TRACING"] = "false"
os.environ["LANGSMITH_TEST_TRACKING"] = "false"
os.environ["LANGGRAPH_CLI_NO_ANALYTICS"] = "1"
os.environ["LANGGRAPH_NO_VERSION_CHECK"] = "true"


class ScriptedModels:
    """Stands in for `serving.client.chat_model`: each tier answers from its own script."""

    def __init__(self, **scripts: list[str]) -> None:
        self.scripts = {tier: list(answers) for tier, answers in scripts.items()}
        self.calls: list[str] = []
        self.prompts: list[tuple[str, str]] = []  # (tier, every message sent, as text)

    def __call__(self, context: Any, tier: str, **kwargs: Any) -> Any:
        self.calls.append(tier)
        if not self.scripts.get(tier):
            raise AssertionError(f"unexpected call to the {tier} model")
        model = GenericFakeChatModel(messages=iter([AIMessage(self.scripts[tier].pop(0))]))
        return model.with_listeners(on_start=lambda run: self.record(tier, run.inputs))

    def record(self, tier: str, inputs: dict[str, Any]) -> None:
        messages = inputs.get("messages", [[]])[0]
        self.prompts.append((tier, "\n".join(str(getattr(m, "content", m)) for m in messages)))


@pytest.fixture(autouse=True)
def context_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's own settings (PLANNER_MODEL, LLM_BASE_URL, ...) out of the tests."""
    from dataclasses import fields

    from graphs.context import Context

    for f in fields(Context):
        monkeypatch.delenv(f.name.upper(), raising=False)
    monkeypatch.delenv("LLM_BASE_URL", raising=False)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[ScriptedModels]]:
    """Install scripted models: call the fixture's value with per-tier answer lists."""
    from serving import client

    async def openai_backend(context: Any, tier: str) -> str:
        return "openai"

    monkeypatch.setattr(client, "backend_of", openai_backend)

    def install(**scripts: list[str]) -> ScriptedModels:
        models = ScriptedModels(**scripts)
        monkeypatch.setattr(client, "chat_model", models)
        return models

    yield install  # type: ignore[misc]
