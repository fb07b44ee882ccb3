"""The baseline: langchain's stock ReAct agent over the same tools, model and Context.

What a user would build without the template: `create_agent`, one model called in a
loop until it stops asking for tools (the tool calls of one turn run together, as the
prebuilt agent does); no router, no planner, no streaming dispatch. It runs on the
synthesizer tier, with a system prompt made from the same domain as the fast agent's
(`nodes.render_prompts.react_system`). Every speed claim is measured against it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import (
    AgentMiddleware,
    ModelRequest,
    ModelResponse,
    ToolCallRequest,
    ToolErrorMiddleware,
    wrap_model_call,
    wrap_tool_call,
)
from langchain_core.messages import SystemMessage, ToolMessage
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

import serving.dev_queue  # noqa: F401  # langgraph dev: runs start when queued
import serving.tracing  # noqa: F401  # LangSmith: on with an API key, bounded exit
from graphs.context import Context
from graphs.domain import Domain, with_mcp_tools
from graphs.settings import settings
from nodes.render_prompts import react_system
from serving import client
from serving.compat import CompatChatOpenAI
from tools import SHOP


def report_tool_error(error: Exception, request: ToolCallRequest) -> str:
    """Hand a failed tool call back to the model as its result, as the fast agent does."""
    return f"{type(error).__name__}: {error}"


def build_graph(domain: Domain) -> CompiledStateGraph:  # type: ignore[type-arg]
    """Return the stock ReAct agent over a domain's tools, on the synthesizer tier."""
    defaults = Context()

    @wrap_tool_call
    async def bounded_tool_call(
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command]],  # type: ignore[type-arg]
    ) -> ToolMessage | Command:  # type: ignore[type-arg]
        """Give every tool call the same timeout as the fast agent's calls."""
        context = request.runtime.context or defaults
        try:
            async with asyncio.timeout(context.tool_timeout_seconds):
                return await handler(request)
        except TimeoutError:
            call = request.tool_call
            return ToolMessage(
                f"timed out after {context.tool_timeout_seconds:g} s",
                tool_call_id=call["id"],
                name=call["name"],
                status="error",
            )

    @wrap_model_call
    async def use_tier(
        request: ModelRequest[Context],
        handler: Callable[[ModelRequest[Context]], Awaitable[ModelResponse]],
    ) -> ModelResponse:
        """Call the synthesizer tier of the run's Context, with the domain's system prompt."""
        context = request.runtime.context or defaults
        return await handler(
            request.override(
                model=client.chat_model(context, "synthesizer", tools=True),
                system_message=SystemMessage(react_system(domain, settings().http_services)),
            )
        )

    # A stand-in model: every model call goes to the run's synthesizer tier (use_tier).
    operator = settings()
    placeholder = CompatChatOpenAI(
        model=operator.synthesizer_model,
        base_url=operator.synthesizer_base_url,
        api_key="not-needed",  # type: ignore[arg-type]
    )
    middleware: list[AgentMiddleware[Any, Any]] = [
        use_tier,
        bounded_tool_call,
        ToolErrorMiddleware(on_error=report_tool_error),
    ]
    return create_agent(
        placeholder,
        list(domain.tools),
        system_prompt=react_system(domain, operator.http_services),
        middleware=middleware,
        context_schema=Context,
        name="react_agent",
    )


graph = build_graph(with_mcp_tools(SHOP))  # MCP_SERVERS: their tools join the shop
