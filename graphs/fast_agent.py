"""The fast agent: route cheaply, plan, run tools in parallel, stream the answer.

START -> route -> answer_directly -> END
               -> plan -> call_tool x N (parallel, via Send) -> synthesize -> END
                   ^-- another round when the calls need earlier results --'
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

import serving.tracing  # noqa: F401  # LangSmith: on with an API key, bounded exit
from graphs.context import Context
from graphs.state import InputState, State, ToolCall
from nodes.answer_directly import answer_directly
from nodes.call_tool import call_tool
from nodes.plan_tools import plan_tools
from nodes.route_query import route_query
from nodes.synthesize_answer import synthesize_answer


def after_route(state: State) -> str:
    """Go to the direct answer or to the planner, as the router decided."""
    return "answer_directly" if state.route == "direct" else "plan_tools"


def after_tools(state: State) -> str:
    """Plan another round when this round's results feed further calls; else answer."""
    return "plan_tools" if state.needs_followup else "synthesize_answer"


def fan_out_tools(state: State) -> list[Send] | str:
    """Send each planned call to its own `call_tool` branch; all run concurrently."""
    if not state.plan:
        return "synthesize_answer"
    return [Send("call_tool", call) for call in state.plan]


builder = StateGraph(State, input_schema=InputState, context_schema=Context)
builder.add_node(route_query)
builder.add_node(answer_directly)
builder.add_node(plan_tools)
builder.add_node(call_tool, input_schema=ToolCall)  # type: ignore[call-overload]  # stubs: node input must be State
builder.add_node(synthesize_answer)
builder.add_edge(START, "route_query")
builder.add_conditional_edges("route_query", after_route, ["answer_directly", "plan_tools"])
builder.add_conditional_edges("plan_tools", fan_out_tools, ["call_tool", "synthesize_answer"])
builder.add_conditional_edges("call_tool", after_tools, ["plan_tools", "synthesize_answer"])
builder.add_edge("answer_directly", END)
builder.add_edge("synthesize_answer", END)

graph = builder.compile(name="fast_agent")
