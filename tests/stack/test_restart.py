"""Restarts: the whole stack keeps a thread, its history and its interrupt; Postgres under load."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import APIStatusError

from tests.stack.conftest import StackUnderTest, results_dir

QUESTION = "How many customers do we have in Canada?"
GREETING = "Hi there! How are you today?"
PAUSE = "plan_and_call_tools"
BOUND = 900.0  # no step waits longer than this (the model servers may be shared and busy)
FINAL = {"success", "error", "interrupted", "timeout"}


def ask(text: str = QUESTION) -> dict[str, Any]:
    """A run's input: one user message."""
    return {"messages": [{"role": "user", "content": text}]}


def record(name: str, values: dict[str, Any]) -> None:
    """Keep what a test measured in build/stack-test/<name>.json and print it."""
    (results_dir() / f"{name}.json").write_text(json.dumps(values, indent=2, default=str))
    print(f"\n{name}: {json.dumps(values, default=str)}")  # noqa: T201


async def test_a_restart_of_the_whole_stack_keeps_a_thread_its_history_and_its_interrupt(
    stack_under_test: StackUnderTest,
) -> None:
    client = get_client(url=stack_under_test.url, api_key=stack_under_test.keys[0])
    thread = await client.threads.create()
    thread_id = thread["thread_id"]
    # Paused before planning: the router decides without a model, so the interrupt is
    # pending at once, and the only model calls are those of the run resumed after.
    await asyncio.wait_for(
        client.runs.wait(thread_id, "fast_agent", input=ask(), interrupt_before=[PAUSE]), BOUND
    )
    before = await client.threads.get_state(thread_id)
    history = await client.threads.get_history(thread_id, limit=100)
    assert before["next"] == [PAUSE], before["next"]
    # Aegra ends a run stopped by `interrupt_before` as `success` and leaves its thread
    # `idle` (LangGraph's server: `interrupted`); the pause itself is the thread's `next`.
    status = (await client.threads.get(thread_id))["status"]

    stack = stack_under_test.stack
    began = time.monotonic()
    stack.down()
    down = time.monotonic() - began
    took = stack.up()
    record("restart", {"down_s": down, "up": took, "paused_thread_status": status})

    after = await client.threads.get_state(thread_id)
    assert after["values"] == before["values"] and after["next"] == [PAUSE]
    assert after["checkpoint"] == before["checkpoint"]
    again = await client.threads.get_history(thread_id, limit=100)
    assert [h["checkpoint"] for h in again] == [h["checkpoint"] for h in history]
    assert (await client.threads.get(thread_id))["status"] == status

    # Aegra refuses `input=None` (422) and a `resume` command on a thread it left `idle`;
    # a run from the paused checkpoint resumes it.
    paused_at = after["checkpoint"]["checkpoint_id"]
    resumed = await asyncio.wait_for(
        client.runs.wait(thread_id, "fast_agent", input=None, checkpoint_id=paused_at), BOUND
    )
    assert isinstance(resumed, dict) and not resumed.get("__error__"), resumed
    messages = resumed["messages"]
    assert messages[-1]["type"] == "ai" and messages[-1]["content"].strip(), messages[-1]
    assert (await client.threads.get_state(thread_id))["next"] == []


def ready(url: str) -> int:
    """The status of the API's `/ready` (0: no answer)."""
    try:
        with urllib.request.urlopen(f"{url}/ready", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


async def test_runs_survive_or_fail_clearly_when_postgres_restarts_under_load(
    stack_under_test: StackUnderTest,
) -> None:
    clients = [get_client(url=stack_under_test.url, api_key=k) for k in stack_under_test.keys]
    runs = []
    for i in range(4):
        client = clients[i % 2]
        thread = await client.threads.create()
        run = await client.runs.create(thread["thread_id"], "fast_agent", input=ask(GREETING))
        runs.append((client, thread["thread_id"], run["run_id"]))
    client, thread_id, run_id = runs[0]
    deadline = time.monotonic() + BOUND
    while (await client.runs.get(thread_id, run_id))["status"] == "pending":
        assert time.monotonic() < deadline, "no run started"
        await asyncio.sleep(0.5)

    postgres = stack_under_test.stack.postgres
    stopped_at = time.monotonic()
    postgres.stop("fast")
    during = client.threads.create()
    try:
        await asyncio.wait_for(during, 30)
        outage = "a thread was created while Postgres was down"
    except APIStatusError as err:
        outage = f"HTTP {err.status_code} in {time.monotonic() - stopped_at:.1f} s"
    except TimeoutError:
        pytest.fail("a request hung while Postgres was down")
    await asyncio.sleep(max(0.0, 5 - (time.monotonic() - stopped_at)))
    postgres.start()
    back_at = time.monotonic()
    while ready(stack_under_test.url) != 200:
        assert time.monotonic() - back_at < 60, "the API did not recover after Postgres"
        await asyncio.sleep(0.5)
    recovered = time.monotonic() - back_at

    outcomes = []
    for client, thread_id, run_id in runs:
        deadline = time.monotonic() + BOUND
        while (status := (await client.runs.get(thread_id, run_id))["status"]) not in FINAL:
            assert time.monotonic() < deadline, f"run {run_id} still {status} after {BOUND} s"
            await asyncio.sleep(1)
        outcomes.append(status)
    record(
        "postgres-restart",
        {"outage_request": outage, "api_ready_after_s": recovered, "runs": outcomes},
    )
    assert set(outcomes) <= {"success", "error"}, outcomes
