"""The stack serves both graphs behind the project's auth: keys, caller isolation, refusals."""

from __future__ import annotations

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import APIStatusError

from tests.stack.conftest import StackUnderTest

HI = {"messages": [{"role": "user", "content": "hi"}]}


async def test_both_graphs_are_served_and_a_request_needs_a_key(
    stack_under_test: StackUnderTest,
) -> None:
    client = get_client(url=stack_under_test.url, api_key=stack_under_test.keys[0])
    graphs = {a["graph_id"] for a in await client.assistants.search()}
    assert graphs >= {"fast_agent", "react_agent"}
    async with httpx.AsyncClient(base_url=stack_under_test.url, timeout=10) as http:
        anonymous = await http.post("/threads/search", json={})
        wrong = await http.post("/threads/search", json={}, headers={"x-api-key": "nope"})
    assert anonymous.status_code == 401 and wrong.status_code == 401


async def test_a_caller_sees_only_its_own_threads(stack_under_test: StackUnderTest) -> None:
    alice = get_client(url=stack_under_test.url, api_key=stack_under_test.keys[0])
    bob = get_client(url=stack_under_test.url, api_key=stack_under_test.keys[1])
    thread = await alice.threads.create()
    with pytest.raises(APIStatusError) as seen:
        await bob.threads.get(thread["thread_id"])
    assert seen.value.status_code == 404
    assert thread["thread_id"] not in {t["thread_id"] for t in await bob.threads.search()}
    with pytest.raises(APIStatusError) as seen:
        await bob.runs.create(thread["thread_id"], "fast_agent", input=HI)
    assert seen.value.status_code == 404
    assert await alice.runs.list(thread["thread_id"]) == []


@pytest.mark.parametrize(
    ("extra", "status", "named"),
    [
        ({"context": {"planner_base_url": "http://evil.test/v1"}}, 403, "planner_base_url"),
        ({"config": {"configurable": {"http_allowed_origins": "http://evil.test"}}}, 403,
         "http_allowed_origins"),
        ({"context": {"max_plan_rounds": 99}}, 422, "max_plan_rounds=99"),
        ({"context": {"no_such_knob": 1}}, 403, "no_such_knob"),
    ],
)  # fmt: skip
async def test_a_caller_cannot_set_an_operator_setting(
    stack_under_test: StackUnderTest, extra: dict[str, object], status: int, named: str
) -> None:
    client = get_client(url=stack_under_test.url, api_key=stack_under_test.keys[0])
    thread = await client.threads.create()
    with pytest.raises(APIStatusError) as seen:
        await client.runs.create(thread["thread_id"], "fast_agent", input=HI, **extra)  # type: ignore[arg-type]
    assert seen.value.status_code == status, seen.value
    assert named in str(seen.value.body or seen.value), seen.value
    assert await client.runs.list(thread["thread_id"]) == []  # nothing was queued


async def test_an_assistant_cannot_carry_an_operator_setting(
    stack_under_test: StackUnderTest,
) -> None:
    client = get_client(url=stack_under_test.url, api_key=stack_under_test.keys[0])
    with pytest.raises(APIStatusError) as seen:
        await client.assistants.create("fast_agent", context={"synthesizer_base_url": "http://x"})
    assert seen.value.status_code == 403
    assert "synthesizer_base_url" in str(seen.value.body or seen.value)
