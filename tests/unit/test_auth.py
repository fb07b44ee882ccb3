"""The served API's guard: a request may set only the run knobs, within their bounds."""

import pytest
from langgraph_sdk import Auth

from deploy.auth import authenticate, check_run_settings


@pytest.mark.parametrize(
    ("payload", "status", "named"),
    [
        ({"context": {"planner_base_url": "http://evil.test/v1"}}, 403, "planner_base_url"),
        ({"config": {"configurable": {"http_allowed_origins": "http://x"}}}, 403, "HTTP_ALLOWED"),
        ({"context": {"synthesizer_model": "x", "llm_backend": "openai"}}, 403, "llm_backend"),
        ({"context": {"api_key": "sk-x"}}, 403, "unknown context field(s) api_key"),
        ({"context": {"max_plan_rounds": 99}}, 422, "max_plan_rounds=99"),
        ({"config": {"configurable": {"router_confidence": "nan"}}}, 422, "router_confidence"),
        ({"context": {"tool_timeout_seconds": 10**6}}, 422, "the operator's limit"),
    ],
)
def test_what_a_caller_may_not_set_is_refused_by_name(
    payload: dict[str, object], status: int, named: str
) -> None:
    with pytest.raises(Auth.exceptions.HTTPException) as refused:
        check_run_settings(payload, "run")
    assert refused.value.status_code == status and named in str(refused.value.detail)


def test_run_knobs_within_bounds_pass() -> None:
    check_run_settings(
        {
            "context": {"max_plan_rounds": 2, "stream_dispatch": False},
            "config": {"configurable": {"thread_id": "t", "user_id": "u"}},
        },
        "run",
    )


async def test_api_keys_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (await authenticate({}))["identity"] == "anonymous"
    monkeypatch.setenv("API_KEYS", "k1, k2")
    user = await authenticate({b"x-api-key": b"k2"})
    assert user["identity"].startswith("key-") and "k2" not in user["identity"]
    with pytest.raises(Auth.exceptions.HTTPException) as refused:
        await authenticate({b"x-api-key": b"wrong"})
    assert refused.value.status_code == 401
