"""kill -9 of the worker running a multi-tool run: another worker finishes it, nothing is lost."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from langgraph_sdk import get_client

from evals.simulated.services import ROUTES
from tests.stack.conftest import StackUnderTest, key, results_dir

QUESTION = (
    "Compare the weather in Oslo and London, and what's the USD to EUR rate on the FX service?"
)
BOUND = 900.0  # no step of the test waits longer than this (the model servers may be busy)


@dataclass
class Crash:
    """What the crash did, in seconds from the kill (`t_*`)."""

    run_id: str = ""
    killed_pid: int = 0
    survivor_pids: list[int] = field(default_factory=list)
    answered_before_kill: list[tuple[str, str]] = field(default_factory=list)
    recorded_before_kill: list[tuple[str, str]] = field(default_factory=list)  # in the journal
    in_flight_at_kill: list[tuple[str, str]] = field(default_factory=list)
    t_first_call: float = 0.0  # the first call's answer, before the kill (negative)
    t_picked_up: float | None = None  # another worker holds the run's lease
    t_answer: float | None = None  # the rejoined stream ends with the answer
    status: str = ""
    first_stream: str = ""  # what became of the stream opened before the kill
    joined_events: int = 0
    joined_answer: str = ""
    state_answer: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def client_for(under_test: StackUnderTest, index: int = 0) -> Any:
    """An SDK client through the balancer with one of the test's API keys."""
    return get_client(url=under_test.url, api_key=under_test.keys[index])


def answer_of(values: Any) -> str:
    """The last AI message's text in a `values` payload, if any."""
    messages = values.get("messages", []) if isinstance(values, dict) else []
    ai = [m for m in messages if isinstance(m, dict) and m.get("type") == "ai"]
    return str(ai[-1].get("content") or "") if ai else ""


def worker_pid(under_test: StackUnderTest, run_id: str) -> int | None:
    """The pid of the API process whose worker holds the run's lease (None: nobody)."""
    rows = under_test.stack.postgres.query(
        f"SELECT coalesce(claimed_by, '') FROM runs WHERE run_id = '{run_id}'"
    )
    claimed = rows[0][0] if rows and rows[0] else ""
    if not claimed:
        return None
    instance = claimed.rsplit("-worker-", 1)[0]  # "<host>-<pid>-worker-<n>"
    return int(instance.rsplit("-", 1)[1])


def recorded_calls(under_test: StackUnderTest, thread_id: str) -> list[tuple[str, str]]:
    """The calls the run's journal (`engine.journal`, in the Postgres store) holds as ended.

    Each as the stand-in services count it: a planned service call by its name and
    arguments, a call started early by the URL it fetched (`http_get`).
    """
    rows = under_test.stack.postgres.query(
        "SELECT value->>'tool', value->'args' FROM store "
        f"WHERE prefix LIKE '%.journal.{thread_id}' AND value ? 'tool'"
    )
    calls = set()
    for tool, args_text in rows:
        args = json.loads(args_text)
        if tool == "http_get":
            url = urlsplit(args["url"])
            tool, args = ROUTES.get(url.path.rstrip("/"), url.path), dict(parse_qsl(url.query))
        calls.add((tool, "&".join(f"{k}={v}" for k, v in sorted(args.items()))))
    return sorted(calls)


async def wait_for(predicate: Any, timeout: float, every: float = 0.2) -> Any:
    """Poll `predicate()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := await asyncio.to_thread(predicate):
            return found
        await asyncio.sleep(every)
    raise AssertionError(f"not within {timeout:.0f} s")


@pytest.fixture(scope="module")
async def crash(stack_under_test: StackUnderTest) -> Crash:
    """Stream a multi-tool run, kill -9 its worker once a call is answered, rejoin."""
    under_test, services = stack_under_test, stack_under_test.services
    client = client_for(under_test)
    thread = await client.threads.create()
    record = Crash()
    got_run_id = asyncio.Event()

    async def first_stream() -> None:
        try:
            async for part in client.runs.stream(
                thread["thread_id"], "fast_agent",
                input={"messages": [{"role": "user", "content": QUESTION}]},
                stream_mode=["values", "custom"], on_disconnect="continue",
            ):  # fmt: skip
                if part.event == "metadata":
                    record.run_id = part.data["run_id"]
                    got_run_id.set()
                elif part.event == "error":
                    record.first_stream = f"error event: {part.data}"
                    return
            record.first_stream = "ended"
        except Exception as err:  # the stream's server may be the one killed
            record.first_stream = f"broken: {type(err).__name__}"

    streaming = asyncio.create_task(first_stream())
    await asyncio.wait_for(got_run_id.wait(), 60)
    before = len(services.calls)

    def first_answer() -> bool:  # the first tool call of this run is answered
        with services.answered:
            return services.answered.wait_for(
                lambda: any(c.answered for c in services.calls[before:]), timeout=BOUND
            )

    assert await asyncio.to_thread(first_answer), "no tool call was answered"
    # A call has ended for the run once the journal holds it (the worker may die between
    # the service's answer and that write): kill once one has.
    await wait_for(lambda: recorded_calls(under_test, thread["thread_id"]), 30)
    record.killed_pid = await wait_for(lambda: worker_pid(under_test, record.run_id), 30)
    record.recorded_before_kill = recorded_calls(under_test, thread["thread_id"])
    with services.lock:
        calls = services.calls[before:]
        record.answered_before_kill = [key(c) for c in calls if c.answered]
        record.in_flight_at_kill = [key(c) for c in calls if not c.answered]
    killed_at = time.monotonic()
    os.kill(record.killed_pid, signal.SIGKILL)
    pids = [api.pid() for api in under_test.stack.apis]
    record.survivor_pids = [p for p in pids if p and p != record.killed_pid]

    def picked_up() -> bool:
        pid = worker_pid(under_test, record.run_id)
        return pid is not None and pid != record.killed_pid

    async def rejoin() -> None:
        async for part in client.runs.join_stream(
            thread["thread_id"], record.run_id, stream_mode=["values", "custom"]
        ):
            record.joined_events += 1
            if part.event == "values" and (text := answer_of(part.data)):
                record.joined_answer = text

    await wait_for(picked_up, BOUND, every=0.5)
    record.t_picked_up = time.monotonic() - killed_at
    await asyncio.wait_for(rejoin(), BOUND)
    record.t_answer = time.monotonic() - killed_at
    await asyncio.wait_for(streaming, 60)
    run = await client.runs.get(thread["thread_id"], record.run_id)
    record.status = run["status"]
    state = await client.threads.get_state(thread["thread_id"])
    record.state_answer = answer_of(state["values"])
    with services.lock:
        ran = Counter(key(c) for c in services.calls[before:])
    record.counts = {f"{e}?{p}": n for (e, p), n in ran.items()}
    (results_dir() / "crash.json").write_text(json.dumps(record.__dict__, indent=2, default=str))
    print(f"\ncrash timeline: {json.dumps(record.__dict__, default=str)}")  # noqa: T201
    return record


async def test_the_run_finishes_on_the_other_worker(crash: Crash) -> None:
    assert crash.status == "success", crash
    assert crash.survivor_pids and crash.t_picked_up is not None
    assert crash.answered_before_kill, "the kill came before any tool call was answered"


async def test_the_client_rejoins_the_stream_and_gets_the_answer(crash: Crash) -> None:
    assert crash.joined_events > 0
    assert crash.joined_answer.strip(), crash
    assert crash.joined_answer == crash.state_answer  # no answer lost or replaced
    assert crash.first_stream, "the stream opened before the kill never ended"


async def test_each_tool_call_ended_before_the_kill_ran_once(crash: Crash) -> None:
    counts = {tuple(k.split("?", 1)): n for k, n in crash.counts.items()}
    assert crash.recorded_before_kill, "the kill came before the journal held any call"
    again = {k: counts[k] for k in crash.recorded_before_kill if counts.get(k, 0) > 1}
    assert not again, f"recorded as ended before the kill and run again: {again}"
