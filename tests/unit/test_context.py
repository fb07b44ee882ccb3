import pytest

from graphs.context import Context
from serving.models import LARGE, SMALL


def test_defaults_point_at_the_embedded_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    context = Context()
    urls = [context.router_base_url, context.planner_base_url, context.synthesizer_base_url]
    assert urls == [f"http://127.0.0.1:{port}/v1" for port in (8081, 8080, 8080)]
    assert (context.router_model, context.planner_model) == (SMALL.alias, LARGE.alias)
    assert context.tier("planner").base_url == context.planner_base_url
    assert context.tier("router").model == SMALL.alias


def test_one_variable_points_every_tier_at_one_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_BASE_URL", "http://gpu:8000/v1")
    monkeypatch.setenv("ROUTER_BASE_URL", "http://small:8001/v1")
    context = Context()
    assert context.planner_base_url == context.synthesizer_base_url == "http://gpu:8000/v1"
    assert context.router_base_url == "http://small:8001/v1"


def test_env_overrides_defaults_but_not_explicit_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOL_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("MAX_PARALLEL_TOOLS", "8")
    assert Context().tool_timeout_seconds == 2.5
    assert Context().max_parallel_tools == 8
    assert Context(max_parallel_tools=3).max_parallel_tools == 3


def test_allowlist_is_parsed() -> None:
    context = Context(http_allowed_origins=" HTTP://A.com, https://b.org:8443 ,")
    assert context.allowed_origins() == {"http://a.com:80", "https://b.org:8443"}
