"""Node: one model call turns the query into independent tool calls (structured output)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.constants import TAG_NOSTREAM
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from graphs.context import Context
from graphs.state import State, ToolCall
from nodes import prompts
from nodes.route_query import last_user_text
from nodes.steps import note, step
from serving import client
from tools import TOOLS
from tools.query_database import schema_text

DB_SCHEMA = schema_text()  # read at import: no file I/O inside the async node


class Plan(BaseModel):
    """The planner's answer: tool calls that can all run at once."""

    calls: list[ToolCall] = Field(default_factory=list)


def plan_json_schema(max_calls: int) -> dict[str, Any]:
    """Return the JSON schema the server enforces: each call's args match its tool."""
    variants = []
    for name, tool in TOOLS.items():
        args = convert_to_openai_tool(tool)["function"]["parameters"]
        variants.append(
            {
                "type": "object",
                "properties": {
                    "tool": {"const": name},
                    "args": {
                        "type": "object",
                        "properties": args["properties"],
                        "required": args.get("required", []),
                        "additionalProperties": False,
                    },
                },
                "required": ["tool", "args"],
            }
        )
    calls = {"type": "array", "items": {"anyOf": variants}, "maxItems": max_calls}
    return {"type": "object", "properties": {"calls": calls}, "required": ["calls"]}


@lru_cache(maxsize=8)
def planner_system_prompt(max_calls: int) -> str:
    """Return the planner's system prompt: built once, byte-identical on every call."""
    tools = "\n".join(
        f"- {name}({', '.join(tool.args)}): {tool.description}" for name, tool in TOOLS.items()
    )
    return prompts.PLANNER_SYSTEM.format(max_calls=max_calls, tools=tools, schema=DB_SCHEMA)


@step("plan_tools")
async def plan_tools(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the planner tier for the tool calls the query needs."""
    context = runtime.context
    limit = context.max_parallel_tools
    planner = client.structured_model(
        client.chat_model(context, "planner"),
        Plan,
        await client.backend_of(context, "planner"),
        plan_json_schema(limit),
    ).with_config(tags=[TAG_NOSTREAM])
    plan = await planner.ainvoke(
        [SystemMessage(planner_system_prompt(limit)), HumanMessage(last_user_text(state))]
    )
    calls = plan.calls[:limit]
    note(calls=[c.tool for c in calls], dropped=len(plan.calls) - len(calls))
    return {"plan": calls}
