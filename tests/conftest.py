"""Shared test setup: tracing off, no analytics, no developer settings, scripted models."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from tests.support.models import ScriptedModels

os.environ["LANGSMITH_TRACING"] = "false"
os.environ["LANGSMITH_TEST_TRACKING"] = "false"
os.environ["LANGGRAPH_CLI_NO_ANALYTICS"] = "1"
os.environ["LANGGRAPH_NO_VERSION_CHECK"] = "true"


@pytest.fixture(autouse=True)
def context_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's own settings (PLANNER_MODEL, LLM_BASE_URL, ...) out of the tests."""
    from core.context import Context

    for f in fields(Context):
        monkeypatch.delenv(f.name.upper(), raising=False)
    monkeypatch.delenv("LLM_BASE_URL", raising=False)


@pytest.fixture(autouse=True, scope="session")
def shop_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Give the session its own live copy of the shop's database (`tools.shop_db`)."""
    path = tmp_path_factory.mktemp("shop") / "shop.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHOP_DB_PATH", str(path))
        yield path


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[None]:
    """Give each test its own store of learned plans (`core.stores`)."""
    from langgraph.store.memory import InMemoryStore

    from core.stores import use_store

    with use_store(InMemoryStore()):
        yield


@pytest.fixture
def scripted() -> Iterator[Callable[..., ScriptedModels]]:
    """Answer every tier from a script: call the fixture's value with per-tier answer lists.

    The models are installed with `serving.client.use_models`, the one way to swap them.
    """
    from serving import client

    stack: list[object] = []

    def install(delay: float = 0.0, **scripts: list[str]) -> ScriptedModels:
        models = ScriptedModels(delay=delay, **scripts)
        manager = client.use_models(models, backend="openai")
        manager.__enter__()
        stack.append(manager)
        return models

    yield install
    for manager in reversed(stack):
        manager.__exit__(None, None, None)  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the time each part of the suite took: unit tests, and each server's tests."""
    spent: dict[str, float] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            nodeid, duration = getattr(report, "nodeid", ""), getattr(report, "duration", 0.0)
            if not nodeid:
                continue
            part = nodeid.split("/")[1] if nodeid.startswith("tests/") else "other"
            for server in ("embedded", "vllm-cpu"):
                if f"[{server}" in nodeid:
                    part += f" [{server}]"
            spent[part] = spent.get(part, 0.0) + duration
    if spent:
        terminalreporter.write_sep("-", "time by part")
        for part, seconds in sorted(spent.items()):
            terminalreporter.write_line(f"{part}: {seconds:.0f} s")
