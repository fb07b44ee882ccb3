"""Node: route a query to a direct answer or to tools, cheaply.

The domain's classifier decides in well under a millisecond when it is confident.
When it is not, the planner decides by default (`router_fallback="planner"`): it plans
the calls the question needs, or writes none and the question is answered directly, so
a tool question pays nothing extra. With `router_fallback="model"`, the small model
picks a route first, its output constrained to the two; an answer that is neither falls
back to tools, the route that can still answer anything.
"""

from __future__ import annotations

from typing import Any, get_args

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from core.callers import caller_id, thread_of
from core.context import Context
from core.domain import Domain
from core.state import Route, State, turn_key
from core.steps import note, step
from core.stores import store_of
from engine.accelerators import early_answer
from engine.journal import forget_older_turns
from nodes.route_classifier import classifier_for
from prompts.conversation import last_user_text
from prompts.render import router_system
from serving import client


@step("route_query")
async def route_query(state: State, runtime: Runtime[Context], *, domain: Domain) -> dict[str, Any]:
    """Decide between a direct answer and tools; record which path decided."""
    context = runtime.context
    await early_answer.cancel(state.early_answer)  # a new question: an older held answer goes
    if (thread := thread_of()) is not None:  # and the older turns' journal
        await forget_older_turns(store_of(runtime), caller_id(), thread, turn_key(state.messages))
    query = last_user_text(state, context)
    route, confidence = classifier_for(domain).predict(query)
    decided_by = "classifier"
    unsure = confidence < context.router_confidence or context.router_confidence >= 1.0
    if unsure and context.router_fallback == "planner":
        route, decided_by = "tools", "planner"  # it plans, or writes no call: then direct
    elif unsure:
        messages = [SystemMessage(router_system(domain)), HumanMessage(query)]
        try:
            choice = await client.choose(context, "router", messages, get_args(Route))
        except client.ModelCallError as err:  # routing is a shortcut: without it, plan
            note(error=str(err))
            choice = None
        route, decided_by = (choice, "model") if choice else ("tools", "fallback")  # type: ignore[assignment]
    note(route=route, decided_by=decided_by, confidence=round(confidence, 3))
    return {"route": route, "route_decided_by": decided_by, "early_answer": None}
