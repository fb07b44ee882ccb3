"""Settings are the operator's (environment only); a run's Context is checked against bounds."""

import math
from dataclasses import fields

import pytest

from core.context import Context
from core.settings import Settings, settings, use_settings
from deploy.auth import check_run_settings
from serving.models import LARGE, SMALL


def test_defaults_point_at_the_embedded_servers() -> None:
    operator = Settings.from_env({})
    urls = [operator.tier(t).base_url for t in ("router", "planner", "synthesizer")]
    assert urls == [f"http://127.0.0.1:{port}/v1" for port in (8081, 8080, 8080)]
    assert (operator.router_model, operator.planner_model) == (SMALL.alias, LARGE.alias)


def test_one_variable_points_every_tier_at_one_server() -> None:
    operator = Settings.from_env(
        {"LLM_BASE_URL": "http://gpu:8000/v1", "ROUTER_BASE_URL": "http://small:8001/v1"}
    )
    assert operator.planner_base_url == operator.synthesizer_base_url == "http://gpu:8000/v1"
    assert operator.router_base_url == "http://small:8001/v1"
    assert operator.fallback() is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LLM_BACKEND": "ollama"}, "LLM_BACKEND='ollama'"),
        ({"TOOL_CALLS_CEILING": "many"}, "TOOL_CALLS_CEILING='many': not a int"),
        ({"MAX_OUTPUT_TOKENS": "8"}, "MAX_OUTPUT_TOKENS=8: a whole number of at least 16"),
        ({"MAX_SLOTS_PER_CALLER": "-1"}, "MAX_SLOTS_PER_CALLER=-1: a whole number of at least 0"),
        ({"API_PROCESSES": "0"}, "API_PROCESSES=0: a whole number of at least 1"),
        ({"MAX_LLM_TIMEOUT_SECONDS": "nan"}, "MAX_LLM_TIMEOUT_SECONDS=nan"),
        ({"HTTP_ALLOWED_ORIGINS": "example.com"}, "HTTP_ALLOWED_ORIGINS: 'example.com'"),
    ],
)
def test_a_bad_setting_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_settings_come_from_the_environment_unless_swapped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLANNER_MODEL", "big")
    assert settings().planner_model == "big"
    with use_settings(Settings(planner_model="other")):
        assert settings().planner_model == "other"
    assert settings().planner_model == "big"


def test_a_run_cannot_name_a_server_a_model_or_an_origin() -> None:
    for operator_field in ("planner_base_url", "synthesizer_model", "http_allowed_origins"):
        with pytest.raises(TypeError):
            Context(**{operator_field: "http://evil.test"})  # type: ignore[arg-type]


def test_env_overrides_defaults_but_not_explicit_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOL_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("MAX_PARALLEL_TOOLS", "8")
    assert Context().tool_timeout_seconds == 2.5
    assert Context().max_parallel_tools == 8
    assert Context(max_parallel_tools=3).max_parallel_tools == 3


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"router_confidence": math.nan}, "router_confidence=nan: a finite number"),
        ({"router_confidence": 1.5}, "router_confidence=1.5: at most 1"),
        ({"max_parallel_tools": 0}, "max_parallel_tools=0: at least 1"),
        ({"max_parallel_tools": 2.5}, "max_parallel_tools=2.5: a whole number"),
        ({"max_plan_rounds": "3"}, "max_plan_rounds='3': a whole number"),
        ({"tool_timeout_seconds": -1}, "tool_timeout_seconds=-1: at least"),
        ({"tool_timeout_seconds": 3600}, "at most 60 \\(the operator's limit\\)"),
        ({"llm_timeout_seconds": math.inf}, "llm_timeout_seconds=inf: a finite number"),
        ({"max_tool_calls": 17}, "max_tool_calls=17: at most 16"),
        ({"stream_dispatch": "yes"}, "stream_dispatch='yes': true or false"),
        ({"planner_max_tokens": 10**9}, "planner_max_tokens=1000000000: at most 1024 \\(the op"),
        ({"synthesizer_max_tokens": 1025}, "synthesizer_max_tokens=1025: at most 1024"),
        ({"llm_timeout_seconds": 181}, "llm_timeout_seconds=181: at most 180 \\(the operator's"),
    ],
)
def test_a_value_out_of_bounds_is_an_error_naming_the_field(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Context(**values)  # type: ignore[arg-type]


def test_the_operator_sets_the_ceilings() -> None:
    ceilings = Settings(
        max_tool_timeout_seconds=5, tool_calls_ceiling=4, max_output_tokens=300,
        max_llm_timeout_seconds=60,
    )  # fmt: skip
    with use_settings(ceilings):
        assert Context(tool_timeout_seconds=5, max_tool_calls=4).max_tool_calls == 4
        with pytest.raises(ValueError, match="operator's limit"):
            Context(tool_timeout_seconds=6, max_tool_calls=4)
        with pytest.raises(ValueError, match="max_tool_calls=5: at most 4"):
            Context(max_tool_calls=5)
        with pytest.raises(ValueError, match="router_max_tokens=301: at most 300 \\(the op"):
            Context(router_max_tokens=301)
        capped = Context()  # defaults above this operator's ceilings are brought down to them
        assert (capped.tool_timeout_seconds, capped.max_tool_calls) == (5, 4)
        assert (capped.planner_max_tokens, capped.synthesizer_max_tokens) == (300, 300)
        assert (capped.router_max_tokens, capped.llm_timeout_seconds) == (256, 60)


def test_a_default_from_the_environment_above_a_ceiling_is_brought_down_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "300")
    monkeypatch.setenv("PLANNER_MAX_TOKENS", "2048")
    context = Context()
    assert (context.llm_timeout_seconds, context.planner_max_tokens) == (180, 1024)
    with pytest.raises(ValueError, match="llm_timeout_seconds=300: at most 180"):
        Context(llm_timeout_seconds=300)  # asked for by a run: an error, not brought down


def test_the_operators_settings_and_a_runs_knobs_have_different_names() -> None:
    operator, knobs = {f.name for f in fields(Settings)}, {f.name for f in fields(Context)}
    assert not operator & knobs  # so no environment variable sets both, and no API check mixes them
    assert "tool_calls_ceiling" in operator and "max_tool_calls" in knobs


def test_a_run_may_set_its_own_max_tool_calls_through_the_api() -> None:
    check_run_settings({"context": {"max_tool_calls": 4}}, "run")  # no 403: it is a run knob
    check_run_settings({"config": {"configurable": {"max_tool_calls": 2}}}, "run")
