"""The eval runner on questions that change data: approvals resumed, the database checked."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing
from dataclasses import replace
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import (
    HumanInTheLoopMiddleware,
    ModelRequest,
    ModelResponse,
    ToolErrorMiddleware,
    wrap_model_call,
)

from core.context import Context
from evals.harness.dataset import load_dataset
from evals.harness.experiment import correctness
from evals.harness.runner import GRAPHS, run_one
from evals.run import simulated_gpu
from evals.simulated.gpu import SimulatedModels
from graphs.react_agent import report_tool_error
from serving import client
from tests.support.models import ScriptedChatModel
from tools import SHOP
from tools.shop_db import live_database

QUESTIONS = {q.id: q for q in load_dataset()}
BASE = "http://127.0.0.1:9"  # no web service is called by these questions
WRITES = ["ticket-order1200-vat", "refund-stark-latest-in-full", "refund-1394-more-than-paid"]


def count(sql: str) -> int:
    with closing(sqlite3.connect(f"file:{live_database()}?mode=ro", uri=True)) as conn:
        return int(conn.execute(sql).fetchone()[0])


def changed() -> int:
    """What the eval left in the live copy: new tickets and refund requests."""
    return count("SELECT COUNT(*) FROM support_tickets WHERE id > 600") + count(
        "SELECT COUNT(*) FROM refund_requests"
    )


def approving_baseline() -> Any:
    """create_agent over the shop with langchain's HITL middleware on the shop's policy."""

    @wrap_model_call
    async def use_tier(
        request: ModelRequest[Context],
        handler: Callable[[ModelRequest[Context]], Awaitable[ModelResponse]],
    ) -> ModelResponse:
        model = client.chat_model(Context(), "synthesizer", tools=True)
        return await handler(request.override(model=model))

    return create_agent(
        ScriptedChatModel(answer=""),  # a stand-in: every call goes to the simulated tier
        list(SHOP.tools),
        middleware=[
            use_tier,
            HumanInTheLoopMiddleware(dict(SHOP.interrupt_on)),  # type: ignore[arg-type]
            ToolErrorMiddleware(on_error=report_tool_error),  # as the baseline reports errors
        ],
        context_schema=Context,
        name="react_approving",
    )


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatedModels]:
    monkeypatch.setitem(GRAPHS, "react_approving", approving_baseline())
    with simulated_gpu(BASE, speedup=20) as simulated:
        yield simulated


@pytest.mark.parametrize("graph", ["fast_agent", "react_agent", "react_approving"])
async def test_a_change_is_made_checked_in_the_database_and_undone(
    models: SimulatedModels, graph: str
) -> None:
    for question_id in WRITES:
        question = QUESTIONS[question_id]
        models.begin(graph, question)
        row = await run_one(graph, question, Context(), 60)
        assert row["error"] is None and row["missing"] == [], row
        assert row["db_failed"] == [] and row["correct"], row
        assert changed() == 0  # reset after the run: the next question reads the packaged data
        assert row["approvals"] == 1  # every graph pauses for the change (the refusal too)


async def test_a_run_that_does_not_make_the_change_fails_its_checks(
    models: SimulatedModels,
) -> None:
    question = QUESTIONS["ticket-initech-overheating"]
    lazy = replace(question, writes=[])  # what a model that only talks would do
    models.begin("fast_agent", lazy)
    row = await run_one("fast_agent", lazy, Context(), 60)
    assert row["db_failed"] and not row["correct"]
    assert "support_tickets WHERE id > 600 -> [[0]], expected [[1]]" in row["db_failed"][0]
    scored = correctness(row | {"missing": []}, {"facts": [], "reference": "r"})
    assert scored["score"] is False and "database" in str(scored["comment"])


async def test_a_read_question_runs_as_before(models: SimulatedModels) -> None:
    question = QUESTIONS["customers-ireland"]
    models.begin("react_approving", question)
    row = await run_one("react_approving", question, Context(), 60)
    assert row["correct"] and "db_failed" not in row and "approvals" not in row
