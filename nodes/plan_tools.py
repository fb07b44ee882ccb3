"""Node: one model call turns the query into independent tool calls (structured output)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.constants import TAG_NOSTREAM
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, ValidationError

from graphs.context import Context
from graphs.state import State, ToolCall, format_results
from nodes import prompts
from nodes.conversation import earlier_turns, last_user_text
from nodes.steps import note, step
from nodes.system_prompts import planner_system_prompt
from serving import client
from tools import TOOLS


class Plan(BaseModel):
    """The planner's answer: tool calls that can all run at once."""

    calls: list[ToolCall] = Field(default_factory=list)
    followup: bool = Field(
        default=False, description="The calls fetch results that further calls will need."
    )


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
    return {
        "type": "object",
        "properties": {"calls": calls, "followup": {"type": "boolean"}},
        "required": ["calls", "followup"],
    }


@step("plan_tools")
async def plan_tools(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the planner tier for the tool calls the query still needs.

    The first round sees the question; a follow-up round (when the previous plan said
    its results feed further calls) also sees every result so far.
    """
    context = runtime.context
    limit = context.max_parallel_tools
    round_ = state.plan_round + 1
    query = last_user_text(state)
    if state.tool_results:
        query = prompts.PLANNER_FOLLOWUP.format(
            question=query, results=format_results(state.tool_results)
        )
    planner = client.structured_model(
        client.chat_model(context, "planner"),
        Plan,
        await client.backend_of(context, "planner"),
        plan_json_schema(limit),
    ).with_config(tags=[TAG_NOSTREAM])
    system = planner_system_prompt(limit, context.http_services)
    messages = [SystemMessage(system), *earlier_turns(state), HumanMessage(query)]
    try:
        plan = await planner.ainvoke(messages)
    except (ValueError, ValidationError) as err:  # cut-off or malformed JSON: answer without
        note(error=f"unusable plan: {type(err).__name__}: {str(err)[:200]}")
        plan = Plan()
    calls = plan.calls[:limit]
    followup = plan.followup and bool(calls) and round_ < context.max_plan_rounds
    note(
        round=round_,
        calls=[c.tool for c in calls],
        dropped=len(plan.calls) - len(calls),
        followup=followup,
    )
    return {"plan": calls, "plan_round": round_, "needs_followup": followup}
