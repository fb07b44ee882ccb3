"""Two API keys against a real `langgraph dev`: key B reaches nothing of key A's, on any endpoint.

The server starts with `API_KEYS=keyA,keyB` and its models pointed at a closed port:
nothing here needs a model (runs are queued for later, or refused before they start),
so these tests run without the embedded servers and are not repeated per model server.
The server's own body cap is set as `.env.example` recommends. Every call is recorded;
the table of endpoints and status codes is written to `build/auth_endpoints.md`.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from evals.harness.dev_server import ROOT, langgraph_dev

CLOSED = "http://127.0.0.1:9/v1"  # the discard port: a model call here fails at once
LATER = 3600  # runs queued this many seconds ahead never start during the tests
TABLE = ROOT / "build" / "auth_endpoints.md"
BODY_LIMIT = 2_000_000


def port_in_range(first: int = 2100, last: int = 2199) -> int:
    """Return a port free on 127.0.0.1 in this project's range for these tests."""
    for port in range(first, last + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


@pytest.fixture(autouse=True)
def served_by() -> Iterator[None]:
    """No model servers here (the conftest's `served_by` would start them)."""
    yield


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`langgraph dev` with two API keys and no reachable model; yield its URL."""
    env = {"API_KEYS": "keyA,keyB", "LLM_BASE_URL": CLOSED, "FALLBACK_BASE_URL": ""}
    env["HTTP_MAX_REQUEST_BODY_BYTES"] = str(BODY_LIMIT)  # as .env.example recommends
    env |= {f"{tier}_BASE_URL": CLOSED for tier in ("ROUTER", "PLANNER", "SYNTHESIZER")}
    log = tmp_path_factory.mktemp("auth") / "dev.log"
    with langgraph_dev(log, jobs=None, env=env, port=port_in_range()) as (url, _):
        yield url


ROWS: list[tuple[str, str, str, int]] = []


@pytest.fixture(scope="module", autouse=True)
def table() -> Iterator[None]:
    """Write every recorded call (endpoint, caller, what, status) as a Markdown table."""
    yield
    lines = ["| endpoint | caller | what | status |", "|---|---|---|---:|"]
    lines += [f"| `{e}` | {who} | {what} | {status} |" for e, who, what, status in ROWS]
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text("\n".join(lines) + "\n")


class Caller:
    """One API key's HTTP client; every call is recorded in the table."""

    def __init__(self, url: str, name: str, headers: dict[str, str]) -> None:
        self.name = name
        self.http = httpx.AsyncClient(base_url=url, headers=headers, timeout=30)

    async def call(
        self, method: str, endpoint: str, what: str, path: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        response = await self.http.request(method, path or endpoint, **kwargs)
        ROWS.append((f"{method} {endpoint}", self.name, what, response.status_code))
        return response

    async def expect(
        self, status: int | tuple[int, ...], method: str, endpoint: str, what: str, **kwargs: Any
    ) -> Any:
        response = await self.call(method, endpoint, what, **kwargs)
        wanted = status if isinstance(status, tuple) else (status,)
        assert response.status_code in wanted, (method, endpoint, what, response.text[:300])
        return response.json() if response.content else None


@pytest.fixture
async def callers(server: str) -> AsyncIterator[tuple[Caller, Caller]]:
    a, b = (
        Caller(server, "A", {"x-api-key": "keyA"}),
        Caller(server, "B", {"x-api-key": "keyB"}),
    )
    yield a, b
    await a.http.aclose()
    await b.http.aclose()


def human(text: str) -> dict[str, Any]:
    return {"type": "human", "content": [{"type": "text", "text": text}]}


async def queued_run(a: Caller, thread: str, assistant: str = "fast_agent") -> dict[str, Any]:
    """Queue a run for an hour from now (it never starts here): a run without a model."""
    body = {"assistant_id": assistant, "input": {"messages": [human("hi")]}, "after_seconds": LATER}
    run: dict[str, Any] = await a.expect(
        200,
        "POST",
        "/threads/{id}/runs",
        "queue own run",
        path=f"/threads/{thread}/runs",
        json=body,
    )
    return run


async def test_assistants_are_the_callers_own(callers: tuple[Caller, Caller]) -> None:
    a, b = callers
    made = await a.expect(
        200,
        "POST",
        "/assistants",
        "create own",
        json={"graph_id": "fast_agent", "name": "A's", "context": {"max_plan_rounds": 2}},
    )
    mine, at = made["assistant_id"], f"/assistants/{made['assistant_id']}"
    assert made["metadata"]["owner"].startswith("key-")

    # B: not found, not listed, not changed, not run
    await b.expect(404, "GET", "/assistants/{id}", "A's assistant", path=at)
    for sub in ("graph", "schemas", "subgraphs"):
        await b.expect(404, "GET", f"/assistants/{{id}}/{sub}", "A's", path=f"{at}/{sub}")
    found = await b.expect(200, "POST", "/assistants/search", "all", json={"limit": 100})
    assert mine not in {x["assistant_id"] for x in found}
    assert all(x["metadata"].get("owner") != made["metadata"]["owner"] for x in found)
    assert "system" in {x["metadata"].get("created_by") for x in found}  # the graphs' own
    forged = await b.expect(
        200,
        "POST",
        "/assistants/search",
        "by A's owner",
        json={"metadata": {"owner": made["metadata"]["owner"]}},
    )
    assert forged == []
    count_b = await b.expect(200, "POST", "/assistants/count", "all", json={})
    count_a = await a.expect(200, "POST", "/assistants/count", "all", json={})
    assert count_a >= count_b + 1
    await b.expect(
        404,
        "PATCH",
        "/assistants/{id}",
        "rename A's, replace context",
        path=at,
        json={"name": "B's now", "context": {"max_plan_rounds": 1}},
    )
    await b.expect(404, "POST", "/assistants/{id}/versions", "A's", path=f"{at}/versions", json={})
    await b.expect(
        404, "POST", "/assistants/{id}/latest", "A's", path=f"{at}/latest", json={"version": 1}
    )
    await b.expect(
        409,
        "POST",
        "/assistants",
        "A's id, if_exists=do_nothing",
        json={"assistant_id": mine, "graph_id": "fast_agent", "if_exists": "do_nothing"},
    )
    thread_b = (await b.expect(200, "POST", "/threads", "own", json={}))["thread_id"]
    run_on_a = {"assistant_id": mine, "input": {"messages": [human("hi")]}, "after_seconds": LATER}
    await b.expect(
        404,
        "POST",
        "/threads/{id}/runs",
        "on A's assistant",
        path=f"/threads/{thread_b}/runs",
        json=run_on_a,
    )
    await b.expect(404, "POST", "/runs", "stateless, on A's assistant", json=run_on_a)
    await b.expect(
        404, "POST", "/runs/crons", "on A's assistant", json={**run_on_a, "schedule": "0 0 1 1 *"}
    )
    await b.expect(404, "DELETE", "/assistants/{id}", "A's", path=at)

    # A: everything still there, and all of it works
    got = await a.expect(200, "GET", "/assistants/{id}", "own", path=at)
    assert got["name"] == "A's" and got["context"] == {"max_plan_rounds": 2}
    await a.expect(200, "PATCH", "/assistants/{id}", "own", path=at, json={"name": "A's v2"})
    versions = await a.expect(
        200, "POST", "/assistants/{id}/versions", "own", path=f"{at}/versions", json={}
    )
    assert [v["version"] for v in versions] == [2, 1]
    await a.expect(
        200, "POST", "/assistants/{id}/latest", "own", path=f"{at}/latest", json={"version": 1}
    )
    thread_a = (await a.expect(200, "POST", "/threads", "own", json={}))["thread_id"]
    run = await queued_run(a, thread_a, assistant=mine)
    await a.expect(
        202,
        "POST",
        "/threads/{id}/runs/{run}/cancel",
        "own",
        path=f"/threads/{thread_a}/runs/{run['run_id']}/cancel",
    )
    await a.expect((200, 204), "DELETE", "/assistants/{id}", "own", path=at)


async def test_the_graphs_own_assistants_are_everyones_to_run_and_nobodys_to_change(
    callers: tuple[Caller, Caller],
) -> None:
    a, b = callers
    system = await b.expect(
        200,
        "POST",
        "/assistants/search",
        "the graphs'",
        json={"graph_id": "fast_agent", "metadata": {"created_by": "system"}},
    )
    assert len(system) == 1
    at = f"/assistants/{system[0]['assistant_id']}"
    for caller in (a, b):
        await caller.expect(200, "GET", "/assistants/{id}", "the graphs'", path=at)
        await caller.expect(
            404,
            "PATCH",
            "/assistants/{id}",
            "the graphs'",
            path=at,
            json={"name": "mine now", "context": {"max_plan_rounds": 1}},
        )
        await caller.expect(
            404,
            "POST",
            "/assistants/{id}/latest",
            "the graphs'",
            path=f"{at}/latest",
            json={"version": 1},
        )
        await caller.expect(404, "DELETE", "/assistants/{id}", "the graphs'", path=at)
        thread = (await caller.expect(200, "POST", "/threads", "own", json={}))["thread_id"]
        run = await queued_run(caller, thread, assistant=system[0]["assistant_id"])
        await caller.expect(
            202,
            "POST",
            "/threads/{id}/runs/{run}/cancel",
            "own",
            path=f"/threads/{thread}/runs/{run['run_id']}/cancel",
        )
    again = await a.expect(200, "GET", "/assistants/{id}", "the graphs'", path=at)
    assert again["name"] == system[0]["name"] and again["version"] == system[0]["version"]

    # An assistant that claims to be the graphs' own is its maker's, seen by nobody else.
    await b.expect(
        200,
        "POST",
        "/assistants",
        "claiming created_by=system",
        json={"graph_id": "fast_agent", "metadata": {"created_by": "system"}},
    )
    seen = await a.expect(
        200,
        "POST",
        "/assistants/search",
        "the graphs'",
        json={"graph_id": "fast_agent", "metadata": {"created_by": "system"}},
    )
    assert [x["assistant_id"] for x in seen] == [system[0]["assistant_id"]]


async def test_threads_and_runs_are_the_callers_own(callers: tuple[Caller, Caller]) -> None:
    a, b = callers
    thread = await a.expect(200, "POST", "/threads", "own", json={"metadata": {"t": 1}})
    tid, at = thread["thread_id"], f"/threads/{thread['thread_id']}"
    run = await queued_run(a, tid)
    run_at = f"{at}/runs/{run['run_id']}"

    await b.expect(404, "GET", "/threads/{id}", "A's", path=at)
    await b.expect(404, "PATCH", "/threads/{id}", "A's", path=at, json={"metadata": {"t": 2}})
    await b.expect(404, "GET", "/threads/{id}/state", "A's", path=f"{at}/state")
    await b.expect(404, "GET", "/threads/{id}/history", "A's", path=f"{at}/history")
    await b.expect(404, "POST", "/threads/{id}/history", "A's", path=f"{at}/history", json={})
    joined = await b.call(
        "GET", "/threads/{id}/stream", "join A's: SSE error 404", path=f"{at}/stream"
    )
    assert "event: error" in joined.text and "404: Thread not found" in joined.text
    await b.expect(
        409, "POST", "/threads/{id}/copy", "A's (the server says 409)", path=f"{at}/copy"
    )
    await b.expect(
        403,
        "POST",
        "/threads/{id}/state",
        "write A's state",
        path=f"{at}/state",
        json={"values": {"messages": [human("B was here")]}},
    )
    found = await b.expect(200, "POST", "/threads/search", "all", json={"limit": 100})
    assert tid not in {t["thread_id"] for t in found}
    assert await b.expect(200, "POST", "/threads/count", "all", json={}) == len(found)
    await b.expect(404, "GET", "/threads/{id}/runs", "A's", path=f"{at}/runs")
    await b.expect(404, "GET", "/threads/{id}/runs/{run}", "A's", path=run_at)
    await b.expect(404, "GET", "/threads/{id}/runs/{run}/join", "A's", path=f"{run_at}/join")
    joined = await b.call(
        "GET", "/threads/{id}/runs/{run}/stream", "A's: SSE error", path=f"{run_at}/stream"
    )
    assert "event: error" in joined.text and "404" in joined.text, joined.text[:300]
    await b.expect(404, "POST", "/threads/{id}/runs/{run}/cancel", "A's", path=f"{run_at}/cancel")
    # cancelling every pending run cancels only B's own (404 when B has none)
    await b.expect((204, 404), "POST", "/runs/cancel", "every pending run", json={"status": "all"})
    await b.expect(
        404,
        "POST",
        "/threads/{id}/runs",
        "a run on A's thread",
        path=f"{at}/runs",
        json={
            "assistant_id": "fast_agent",
            "input": {"messages": [human("hi")]},
            "after_seconds": LATER,
        },
    )
    for mode in ("stream", "wait"):
        await b.expect(
            404,
            "POST",
            f"/threads/{{id}}/runs/{mode}",
            "a run on A's thread",
            path=f"{at}/runs/{mode}",
            json={"assistant_id": "fast_agent", "input": {"messages": [human("hi")]}},
        )
    await b.expect(
        409,
        "POST",
        "/threads",
        "A's id, if_exists=do_nothing",
        json={"thread_id": tid, "if_exists": "do_nothing"},
    )
    await b.expect(404, "DELETE", "/threads/{id}/runs/{run}", "A's", path=run_at)
    await b.expect(404, "POST", "/threads/prune", "A's", json={"thread_ids": [tid]})
    await b.expect(404, "DELETE", "/threads/{id}", "A's", path=at)

    got = await a.expect(200, "GET", "/threads/{id}", "own", path=at)
    assert got["metadata"]["t"] == 1
    runs = await a.expect(200, "GET", "/threads/{id}/runs", "own", path=f"{at}/runs")
    assert [r["run_id"] for r in runs] == [run["run_id"]] and runs[0]["status"] == "pending"
    await a.expect(200, "PATCH", "/threads/{id}", "own", path=at, json={"metadata": {"t": 3}})
    await a.expect(
        403,
        "POST",
        "/threads/{id}/state",
        "write own state",
        path=f"{at}/state",
        json={"values": {"messages": [human("direct")]}},
    )
    await a.expect(202, "POST", "/threads/{id}/runs/{run}/cancel", "own", path=f"{run_at}/cancel")
    await a.expect(204, "DELETE", "/threads/{id}", "own", path=at)


async def test_crons_are_the_callers_own(callers: tuple[Caller, Caller]) -> None:
    a, b = callers
    body = {
        "assistant_id": "fast_agent",
        "schedule": "0 0 1 1 *",
        "input": {"messages": [human("yearly report")]},
    }
    cron = await a.expect(200, "POST", "/runs/crons", "own", json=body)
    at = f"/runs/crons/{cron['cron_id']}"
    thread = (await a.expect(200, "POST", "/threads", "own", json={}))["thread_id"]
    await a.expect(
        200,
        "POST",
        "/threads/{id}/runs/crons",
        "own",
        path=f"/threads/{thread}/runs/crons",
        json=body,
    )
    await b.expect(
        404,
        "POST",
        "/threads/{id}/runs/crons",
        "on A's thread",
        path=f"/threads/{thread}/runs/crons",
        json=body,
    )

    found = await b.expect(200, "POST", "/runs/crons/search", "all", json={})
    assert cron["cron_id"] not in {c["cron_id"] for c in found}
    assert await b.expect(200, "POST", "/runs/crons/count", "all", json={}) == len(found)
    await b.expect(404, "GET", "/runs/crons/{id}", "A's", path=at)
    await b.expect(404, "PATCH", "/runs/crons/{id}", "A's", path=at, json={"schedule": "* * * * *"})
    await b.expect(404, "DELETE", "/runs/crons/{id}", "A's", path=at)

    mine = await a.expect(200, "POST", "/runs/crons/search", "own", json={})
    assert cron["cron_id"] in {c["cron_id"] for c in mine}
    await a.expect(200, "GET", "/runs/crons/{id}", "own", path=at)
    await a.expect(200, "PATCH", "/runs/crons/{id}", "own", path=at, json={"schedule": "0 0 2 1 *"})
    await a.expect((200, 204), "DELETE", "/runs/crons/{id}", "own", path=at)


async def test_store_items_live_under_the_callers_identity(callers: tuple[Caller, Caller]) -> None:
    a, b = callers
    # A caller learns its identity from what it owns (or from a refusal naming it).
    me = (await a.expect(200, "POST", "/threads", "own", json={}))["metadata"]["owner"]
    item = {"namespace": [me, "notes"], "key": "k", "value": {"text": "A's note"}}
    await a.expect(204, "PUT", "/store/items", "own namespace", json=item)

    get = {"namespace": f"{me}.notes", "key": "k"}
    await b.expect(403, "GET", "/store/items", "A's item", params=get)
    await b.expect(
        403, "POST", "/store/items/search", "under A's identity", json={"namespace_prefix": [me]}
    )
    everything = await b.expect(
        200, "POST", "/store/items/search", "no prefix", json={"namespace_prefix": []}
    )
    assert everything["items"] == []
    await b.expect(403, "POST", "/store/namespaces", "under A's identity", json={"prefix": [me]})
    listed = await b.expect(200, "POST", "/store/namespaces", "no prefix", json={})
    assert listed["namespaces"] == []
    await b.expect(
        403, "PUT", "/store/items", "overwrite A's", json={**item, "value": {"text": "B's"}}
    )
    await b.expect(
        403, "DELETE", "/store/items", "A's", json={"namespace": [me, "notes"], "key": "k"}
    )
    await b.expect(
        403,
        "PUT",
        "/store/items",
        "a namespace without an identity",
        json={"namespace": ["notes"], "key": "k", "value": {}},
    )

    got = await a.expect(200, "GET", "/store/items", "own", params=get)
    assert got["value"] == {"text": "A's note"}
    found = await a.expect(
        200, "POST", "/store/items/search", "no prefix", json={"namespace_prefix": []}
    )
    assert [i["key"] for i in found["items"]] == ["k"]
    listed = await a.expect(200, "POST", "/store/namespaces", "no prefix", json={})
    assert listed["namespaces"] == [[me, "notes"]]
    await a.expect(
        204, "DELETE", "/store/items", "own", json={"namespace": [me, "notes"], "key": "k"}
    )


async def test_oversized_inputs_are_refused_before_anything_is_stored(
    callers: tuple[Caller, Caller],
) -> None:
    a, _ = callers
    thread = (await a.expect(200, "POST", "/threads", "own", json={}))["thread_id"]
    runs = f"/threads/{thread}/runs"
    earlier = [{"type": "human", "content": "x" * 150_000}, {"type": "ai", "content": "y" * 60_000}]
    too_long = {"assistant_id": "fast_agent", "input": {"messages": [*earlier, human("and?")]}}
    too_many = {"assistant_id": "fast_agent", "input": {"messages": [human("q")] * 201}}
    args = {
        "type": "ai",
        "content": "",
        "tool_calls": [{"id": "1", "name": "query_database", "args": {"sql": "z" * 200_001}}],
    }
    in_args = {"assistant_id": "fast_agent", "input": {"messages": [args, human("q")]}}
    command = {"assistant_id": "fast_agent", "command": {"update": {"messages": earlier}}}
    refusals = [
        (
            "POST",
            "/threads/{id}/runs",
            "earlier turns of 210,000 chars",
            runs,
            too_long,
            "MAX_INPUT_CHARS",
        ),
        ("POST", "/threads/{id}/runs", "201 messages", runs, too_many, "MAX_INPUT_MESSAGES"),
        (
            "POST",
            "/threads/{id}/runs/stream",
            "tool-call args of 200,001 chars",
            f"{runs}/stream",
            in_args,
            "MAX_INPUT_CHARS",
        ),
        (
            "POST",
            "/threads/{id}/runs/wait",
            "a command's state update",
            f"{runs}/wait",
            command,
            "MAX_INPUT_CHARS",
        ),
        (
            "POST",
            "/runs/wait",
            "stateless, 201 messages",
            "/runs/wait",
            too_many,
            "MAX_INPUT_MESSAGES",
        ),
        (
            "POST",
            "/runs/crons",
            "a cron's input",
            "/runs/crons",
            {**too_long, "schedule": "0 0 1 1 *"},
            "MAX_INPUT_CHARS",
        ),
        (
            "POST",
            "/assistants",
            "a 300,000-char name",
            "/assistants",
            {"graph_id": "fast_agent", "name": "n" * 300_000},
            "MAX_INPUT_CHARS",
        ),
        (
            "POST",
            "/threads",
            "metadata of 300,000 chars",
            "/threads",
            {"metadata": {"note": "m" * 300_000}},
            "MAX_INPUT_CHARS",
        ),
        (
            "PUT",
            "/store/items",
            "a value of 300,000 chars",
            "/store/items",
            None,
            "MAX_INPUT_CHARS",
        ),
    ]
    me = (await a.expect(200, "GET", "/threads/{id}", "own", path=f"/threads/{thread}"))[
        "metadata"
    ]["owner"]
    store_item = {"namespace": [me, "big"], "key": "k", "value": {"v": "s" * 300_000}}
    for method, endpoint, what, path, body, named in refusals:
        response = await a.call(method, endpoint, what, path=path, json=body or store_item)
        assert response.status_code == 413 and named in response.text, (what, response.text[:300])
    body = {"assistant_id": "fast_agent", "input": {"messages": [human("b" * 3_000_000)]}}
    response = await a.call("POST", "/threads/{id}/runs", "a 3 MB body", path=runs, json=body)
    assert response.status_code == 413 and "Request body too large" in response.text
    assert await a.expect(200, "GET", "/threads/{id}/runs", "own", path=runs) == []
    state = await a.expect(
        200, "GET", "/threads/{id}/state", "own", path=f"/threads/{thread}/state"
    )
    assert not state["values"]
    made = await a.expect(
        201,
        "POST",
        "/threads",
        "with supersteps (state written directly)",
        json={
            "supersteps": [{"updates": [{"values": {"messages": earlier}, "as_node": "__input__"}]}]
        },
    )
    assert "only through runs" in made["detail"]


async def test_a_caller_cannot_set_an_operator_setting_through_the_api(
    callers: tuple[Caller, Caller],
) -> None:
    a, _ = callers
    thread = (await a.expect(200, "POST", "/threads", "own", json={}))["thread_id"]
    runs = f"/threads/{thread}/runs"
    run = {"assistant_id": "fast_agent", "input": {"messages": [human("hi")]}}
    refused = [
        (
            "/threads/{id}/runs",
            runs,
            {**run, "context": {"planner_base_url": "http://evil.test/v1"}},
            403,
            "planner_base_url",
        ),
        (
            "/threads/{id}/runs",
            runs,
            {**run, "config": {"configurable": {"http_allowed_origins": "http://evil.test"}}},
            403,
            "http_allowed_origins",
        ),
        (
            "/threads/{id}/runs",
            runs,
            {**run, "context": {"max_input_chars": 10**9}},
            403,
            "MAX_INPUT_CHARS",
        ),
        (
            "/threads/{id}/runs",
            runs,
            {**run, "context": {"max_plan_rounds": 99}},
            422,
            "max_plan_rounds=99",
        ),
        (
            "/runs/crons",
            "/runs/crons",
            {**run, "schedule": "0 0 1 1 *", "context": {"router_base_url": "http://x"}},
            403,
            "router_base_url",
        ),
        (
            "/assistants",
            "/assistants",
            {"graph_id": "fast_agent", "context": {"synthesizer_base_url": "http://x"}},
            403,
            "synthesizer_base_url",
        ),
    ]
    for endpoint, path, body, status, named in refused:
        response = await a.call("POST", endpoint, f"sets {named}", path=path, json=body)
        assert response.status_code == status and named in response.text, response.text[:300]
    made = await a.expect(200, "POST", "/assistants", "own", json={"graph_id": "fast_agent"})
    at = f"/assistants/{made['assistant_id']}"
    response = await a.call(
        "PATCH",
        "/assistants/{id}",
        "knob out of bounds",
        path=at,
        json={"context": {"max_plan_rounds": 99}},
    )
    assert response.status_code == 422 and "max_plan_rounds" in response.text
    assert await a.expect(200, "GET", "/threads/{id}/runs", "own", path=runs) == []


async def test_a_request_without_a_key_is_refused(server: str) -> None:
    """`langgraph dev` lets Studio's `x-auth-scheme: langsmith` past `authenticate`; not here."""
    studio = Caller(server, "no key, Studio's scheme", {"x-auth-scheme": "langsmith"})
    bare = Caller(server, "no key", {})
    try:
        for caller in (bare, studio):
            await caller.expect(401, "POST", "/assistants/search", "all", json={})
            await caller.expect(401, "POST", "/threads", "create", json={})
            await caller.expect(401, "POST", "/store/namespaces", "all", json={})
    finally:
        await studio.http.aclose()
        await bare.http.aclose()
