"""The served API's handlers with fake callers: who owns what, what is refused, and why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langgraph_sdk import Auth
from langgraph_sdk.auth.types import StudioUser

from core.settings import Settings, use_settings
from deploy import auth as guard

A, B = guard.identity_of("keyA"), guard.identity_of("keyB")


class User:
    """What the server hands a handler for a request `authenticate` accepted."""

    def __init__(self, identity: str) -> None:
        self.identity = identity
        self.display_name = identity
        self.is_authenticated = True
        self.permissions: list[str] = []


def ctx(resource: str, action: str, identity: str = A) -> Auth.types.AuthContext:
    user = StudioUser(identity) if identity == "langgraph-studio-user" else User(identity)
    return Auth.types.AuthContext(
        permissions=[],
        user=user,  # type: ignore[arg-type]
        resource=resource,  # type: ignore[arg-type]
        action=action,  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
def two_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("API_KEYS", "keyA,keyB")
    with use_settings(Settings(max_input_messages=5, max_input_chars=1000)):
        yield


async def refused(handler: Any, context: Auth.types.AuthContext, value: Any) -> Any:
    with pytest.raises(Auth.exceptions.HTTPException) as raised:
        await handler(context, value)
    return raised.value


def run(messages: list[Any], **kwargs: Any) -> dict[str, Any]:
    return {"metadata": {}, "kwargs": {"input": {"messages": messages}, **kwargs}}


async def test_a_run_is_stamped_with_its_owner_and_limited_to_the_callers_threads() -> None:
    value = run([{"type": "human", "content": "hi"}])
    value["metadata"]["owner"] = B  # a forged owner is overwritten
    assert await guard.on_run(ctx("threads", "create_run"), value) == {"owner": A}
    assert value["metadata"]["owner"] == A


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (run([{"type": "human", "content": "x" * 2000}]), "MAX_INPUT_CHARS"),
        (run([{"type": "ai", "content": "x" * 990}, {"type": "human", "content": "q"}]),
         "MAX_INPUT_CHARS"),  # an earlier turn counts
        (run([{"type": "human", "content": [{"type": "text", "text": "x" * 2000}]}]),
         "MAX_INPUT_CHARS"),  # content parts
        (run([{"type": "ai", "content": "", "tool_calls": [{"name": "t", "args": {"q": "x" * 2000},
              "id": "1"}]}]), "MAX_INPUT_CHARS"),  # tool-call arguments
        (run([], command={"update": {"messages": [{"type": "human", "content": "x" * 2000}]}}),
         "MAX_INPUT_CHARS"),  # a state update through a command
        (run([{"type": "human", "content": "q"}] * 6), "MAX_INPUT_MESSAGES"),
        ({"metadata": {"note": "x" * 2000}, "kwargs": {}}, "MAX_INPUT_CHARS"),
    ],
)  # fmt: skip
async def test_an_oversized_run_is_refused_before_it_is_stored(
    value: dict[str, Any], named: str
) -> None:
    err = await refused(guard.on_run, ctx("threads", "create_run"), value)
    assert err.status_code == 413 and named in str(err.detail)


async def test_a_run_may_not_set_the_input_ceilings() -> None:
    value = run([{"type": "human", "content": "hi"}], context={"max_input_chars": 10**9})
    err = await refused(guard.on_run, ctx("threads", "create_run"), value)
    assert err.status_code == 403 and "MAX_INPUT_CHARS" in str(err.detail)


async def test_a_direct_state_update_is_refused_a_metadata_update_is_owned() -> None:
    state_write = {"thread_id": "t"}  # all the server shows of POST /threads/{id}/state
    err = await refused(guard.on_thread_update, ctx("threads", "update"), state_write)
    assert err.status_code == 403 and "only through runs" in str(err.detail)
    patch = {"thread_id": "t", "metadata": {"owner": B, "topic": "x"}}
    assert await guard.on_thread_update(ctx("threads", "update"), patch) == {"owner": A}
    assert patch["metadata"] == {"owner": A, "topic": "x"}
    big = {"thread_id": "t", "metadata": {"note": "x" * 2000}}
    assert (await refused(guard.on_thread_update, ctx("threads", "update"), big)).status_code == 413


async def test_threads_are_the_callers_own_and_bounded() -> None:
    search = {"metadata": {"owner": A}, "limit": 10}
    assert await guard.on_threads(ctx("threads", "search", B), search) == {"owner": B}
    assert search["metadata"] == {"owner": B}
    big = {"thread_id": "t", "metadata": {"note": "x" * 2000}}
    assert (await refused(guard.on_threads, ctx("threads", "create"), big)).status_code == 413


async def test_an_assistant_is_owned_and_cannot_pass_for_the_graphs_own() -> None:
    value: dict[str, Any] = {"graph_id": "fast_agent", "metadata": {"created_by": "system"}}
    assert await guard.on_assistant_create(ctx("assistants", "create"), value) == {"owner": A}
    assert value["metadata"] == {"owner": A, "created_by": A}
    patch: dict[str, Any] = {"assistant_id": "x", "metadata": {"created_by": "system"}}
    assert await guard.on_assistant_update(ctx("assistants", "update", B), patch) == {"owner": B}
    assert patch["metadata"] == {"owner": B, "created_by": B}


async def test_a_caller_reads_its_own_assistants_and_the_graphs_changes_only_its_own() -> None:
    readable = {"$or": [{"owner": B}, {"created_by": "system"}]}
    for action in ("read", "search"):
        assert await guard.on_assistant_read(ctx("assistants", action, B), {}) == readable
    assert await guard.on_assistant_delete(ctx("assistants", "delete", B), {}) == {"owner": B}


async def test_an_assistant_is_checked_like_a_run() -> None:
    bad = {"graph_id": "fast_agent", "context": {"planner_base_url": "http://evil.test/v1"}}
    err = await refused(guard.on_assistant_create, ctx("assistants", "create"), bad)
    assert err.status_code == 403 and "planner_base_url" in str(err.detail)
    big = {"graph_id": "fast_agent", "name": "x" * 2000}
    err = await refused(guard.on_assistant_update, ctx("assistants", "update"), big)
    assert err.status_code == 413


async def test_a_cron_is_owned_and_its_run_checked() -> None:
    cron: dict[str, Any] = {
        "payload": {"input": {"messages": [{"type": "human", "content": "hi"}]}},
        "schedule": "0 0 1 1 *",
        "metadata": {},
    }
    assert await guard.on_crons(ctx("crons", "create"), cron) == {"owner": A}
    assert cron["metadata"] == {"owner": A}
    assert await guard.on_crons(ctx("crons", "search", B), {"metadata": {}}) == {"owner": B}
    many = {"payload": {"input": {"messages": [{"content": "q"}] * 6}}, "metadata": {}}
    err = await refused(guard.on_crons, ctx("crons", "create"), many)
    assert err.status_code == 413 and "MAX_INPUT_MESSAGES" in str(err.detail)
    setting = {"payload": {"config": {"configurable": {"router_model": "x"}}}, "metadata": {}}
    assert (await refused(guard.on_crons, ctx("crons", "update"), setting)).status_code == 403


@pytest.mark.parametrize("action", ["put", "get", "delete", "search", "list_namespaces"])
async def test_the_store_reaches_only_namespaces_under_the_callers_identity(action: str) -> None:
    own = {"namespace": (A, "notes"), "key": "k", "value": {"v": 1}}
    assert await guard.on_store(ctx("store", action), own) is None
    assert own["namespace"] == (A, "notes")
    for namespace in ((B, "notes"), ("notes",), ("notes", A)):
        err = await refused(guard.on_store, ctx("store", action), {"namespace": namespace})
        assert err.status_code == 403 and repr(A) in str(err.detail)


@pytest.mark.parametrize("action", ["search", "list_namespaces"])
async def test_searching_without_a_prefix_is_narrowed_to_the_caller(action: str) -> None:
    for prefix in ((), None):
        value: dict[str, Any] = {"namespace": prefix}
        await guard.on_store(ctx("store", action, B), value)
        assert value["namespace"] == (B,)


async def test_a_store_item_without_a_namespace_or_too_big_is_refused() -> None:
    err = await refused(guard.on_store, ctx("store", "put"), {"namespace": (), "key": "k"})
    assert err.status_code == 403
    big = {"namespace": (A, "notes"), "key": "k", "value": {"v": "x" * 2000}}
    err = await refused(guard.on_store, ctx("store", "put"), big)
    assert err.status_code == 413 and "store item" in str(err.detail)


async def test_a_request_no_key_vouches_for_is_refused_everywhere() -> None:
    """`langgraph dev` lets Studio's `x-auth-scheme: langsmith` requests past `authenticate`."""
    studio = "langgraph-studio-user"
    handlers = [
        (guard.on_run, "threads", "create_run", run([])),
        (guard.on_threads, "threads", "read", {"thread_id": "t"}),
        (guard.on_assistant_read, "assistants", "search", {}),
        (guard.on_crons, "crons", "search", {}),
        (guard.on_store, "store", "list_namespaces", {"namespace": None}),
    ]
    for handler, resource, action, value in handlers:
        err = await refused(handler, ctx(resource, action, studio), value)
        assert err.status_code == 401, handler


async def test_without_api_keys_everyone_is_one_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("API_KEYS")
    value: dict[str, Any] = {"namespace": None}
    await guard.on_store(ctx("store", "list_namespaces", "anonymous"), value)
    assert value["namespace"] == ("anonymous",)


async def test_what_no_handler_covers_is_refused() -> None:
    err = await refused(guard.nothing_else, ctx("runs", "read"), {})
    assert err.status_code == 403


def test_every_resource_and_action_the_sdk_knows_has_its_own_handler() -> None:
    """So that nothing the server asks about falls through to `nothing_else`."""
    handlers = guard.auth._handlers
    known = set()
    for resource in ("assistants", "threads", "crons", "store"):
        namespace = getattr(guard.auth.on, resource)
        for name in dir(namespace):
            action = getattr(getattr(namespace, name), "action", None)
            if not name.startswith("_") and isinstance(action, str):
                known.add((resource, action))
    assert len(known) >= 20
    uncovered = {(r, a) for r, a in known if (r, a) not in handlers and (r, "*") not in handlers}
    assert not uncovered
