"""core.callers: the caller's identity from what each server puts in a run's config."""

from __future__ import annotations

from types import SimpleNamespace

from core.callers import LOCAL, caller_id


def test_langgraph_servers_user_id_names_the_caller() -> None:
    assert caller_id({"configurable": {"langgraph_auth_user_id": "key-a"}}) == "key-a"


def test_aegras_user_names_the_caller_as_an_object_or_a_dict() -> None:
    user = SimpleNamespace(identity="key-b")
    assert caller_id({"configurable": {"langgraph_auth_user": user}}) == "key-b"
    assert caller_id({"configurable": {"langgraph_auth_user": {"identity": "key-c"}}}) == "key-c"


def test_the_servers_user_wins_over_an_id_a_request_sent() -> None:
    # Aegra passes a request's own configurable keys through, and sets only the user.
    configurable = {
        "langgraph_auth_user": SimpleNamespace(identity="key-b"),
        "langgraph_auth_user_id": "key-a",
    }
    assert caller_id({"configurable": configurable}) == "key-b"


def test_a_run_outside_a_server_is_local() -> None:
    assert caller_id({"configurable": {}}) == LOCAL
    assert caller_id({"configurable": {"langgraph_auth_user": SimpleNamespace()}}) == LOCAL
