import json

from langchain_core.messages import HumanMessage

from graphs.context import Context
from graphs.state import State
from nodes.plan_tools import plan_json_schema, plan_tools
from nodes.system_prompts import planner_system_prompt, shared_context, synthesizer_system_prompt
from tests.unit.test_route_query import FakeRuntime
from tools import TOOLS


def test_schema_constrains_each_call_to_a_tool_and_its_args() -> None:
    schema = plan_json_schema(3)
    calls = schema["properties"]["calls"]
    assert calls["maxItems"] == 3
    variants = {v["properties"]["tool"]["const"]: v for v in calls["items"]["anyOf"]}
    assert set(variants) == set(TOOLS)
    assert variants["query_database"]["properties"]["args"]["required"] == ["sql"]


def test_prompt_is_stable_and_lists_tools_and_tables() -> None:
    prompt = planner_system_prompt(4)
    assert prompt == planner_system_prompt(4)
    assert all(f"- {name}(" in prompt for name in TOOLS)
    assert "CREATE TABLE orders" in prompt


async def test_plans_parallel_calls_and_caps_them(scripted) -> None:  # type: ignore[no-untyped-def]
    calls = [
        {"tool": "query_database", "args": {"sql": "SELECT 1"}},
        {"tool": "search_docs", "args": {"query": "refund"}},
        {"tool": "calculator", "args": {"expression": "1+1"}},
    ]
    models = scripted(planner=[json.dumps({"calls": calls})])
    runtime = FakeRuntime(Context(max_parallel_tools=2))
    update = await plan_tools(State(messages=[HumanMessage("q")]), runtime)  # type: ignore[arg-type]
    assert [c.tool for c in update["plan"]] == ["query_database", "search_docs"]
    assert update["timings"][0]["dropped"] == 1
    assert models.calls == ["planner"]


def test_planner_and_synthesizer_prompts_share_their_long_prefix() -> None:
    services = "- weather: GET http://127.0.0.1:9/weather?city=<city> -> forecast"
    shared = shared_context(services)
    planner, synthesizer = planner_system_prompt(4, services), synthesizer_system_prompt(services)
    assert planner.startswith(shared) and synthesizer.startswith(shared)
    assert len(shared) > 0.4 * len(planner)  # the tools, services and schema
    assert "http://127.0.0.1:9/weather" in shared and "query_database" in shared
    assert "Your task: plan" in planner and "Your task: answer" in synthesizer
