"""The fast agent: route cheaply, stream the plan while its tools run, stream the answer.

START -> route_query -> answer_directly -> END
                     -> plan_and_call_tools -> synthesize_answer -> END
                          ^-- replan: only for a value no reference can carry --'
                          (no call planned -> answer_directly)

`build_graph(domain)` builds it for any domain; `graph` is the shop's, which
`langgraph.json` serves.
"""

from __future__ import annotations

from functools import partial

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

import serving.dev_queue  # noqa: F401  # langgraph dev: runs start when queued
import serving.tracing  # noqa: F401  # LangSmith: on with an API key, bounded exit
from graphs.context import Context
from graphs.domain import Domain, with_mcp_tools
from graphs.state import InputState, State, current
from nodes.answer_directly import answer_directly
from nodes.plan_and_call_tools import plan_and_call_tools
from nodes.route_query import route_query
from nodes.synthesize_answer import synthesize_answer
from tools import SHOP


def after_route(state: State) -> str:
    """Go to the direct answer or to the planner, as the router decided."""
    return "answer_directly" if state.route == "direct" else "plan_and_call_tools"


def after_tools(state: State) -> str:
    """Plan another round when the plan asked for one; answer from results, or directly.

    A plan of no calls (the planner found no tool that helps) gets a direct answer.
    """
    if state.replan:
        return "plan_and_call_tools"
    return "synthesize_answer" if current(state.tool_results, state.messages) else "answer_directly"


def build_graph(domain: Domain) -> CompiledStateGraph[State, Context, InputState, State]:
    """Return the fast agent over a domain's tools, prompts and examples."""
    builder = StateGraph(State, input_schema=InputState, context_schema=Context)
    for node in (route_query, answer_directly, plan_and_call_tools, synthesize_answer):
        builder.add_node(node.__name__, partial(node, domain=domain))
    builder.add_edge(START, "route_query")
    builder.add_conditional_edges(
        "route_query", after_route, ["answer_directly", "plan_and_call_tools"]
    )
    builder.add_conditional_edges(
        "plan_and_call_tools",
        after_tools,
        ["plan_and_call_tools", "synthesize_answer", "answer_directly"],
    )
    builder.add_edge("answer_directly", END)
    builder.add_edge("synthesize_answer", END)
    return builder.compile(name="fast_agent")


graph = build_graph(with_mcp_tools(SHOP))  # MCP_SERVERS: their tools join the shop
