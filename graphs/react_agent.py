"""The sequential baseline: langchain's ReAct agent over the same tools, model and Context.

What a user would build without the template: one model, called in a loop until it
stops asking for tools; tools run one model turn at a time; no routing, no planner, no
parallel branches. Speed claims of the fast agent are measured against this graph.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from langchain.agents import create_agent
from langchain.agents.middleware import (
    ModelRequest,
    ModelResponse,
    ToolCallRequest,
    ToolErrorMiddleware,
    wrap_model_call,
)
from langchain_core.messages import SystemMessage

import serving.tracing  # noqa: F401  # LangSmith: on with an API key, bounded exit
from graphs.context import Context
from serving import client
from tools import TOOLS
from tools.query_database import schema_text

REACT_SYSTEM = """You are the assistant of an online shop. Answer the user's question. \
When it needs the shop's data or documents, call a tool, read its result, and call \
another tool if you still need one; then answer briefly from the results. Never \
invent numbers.

Tools:
- query_database: one read-only SQLite SELECT over the shop database (schema below): \
customers, products, orders, support tickets; counts, sums, lists, lookups.
- search_docs: search the shop's documents: refund, returns, shipping, warranty, \
loyalty, payment, privacy and support policies, product manuals, FAQ.
- calculator: arithmetic on numbers you already have.
- http_get: GET a URL; only these hosts are allowed: {hosts}. Do not try others.

Web services (reach them with http_get, filling in the <...> parts):
{services}

Database schema (SQLite):
{schema}"""

DB_SCHEMA = schema_text()  # read at import: no file I/O inside the async model call


def system_prompt(context: Context) -> str:
    """Return the system prompt for a run: the tools, the schema and the allowed hosts."""
    hosts = ", ".join(sorted(context.allowed_hosts())) or "(none)"
    services = context.http_services.strip() or "(none configured)"
    return REACT_SYSTEM.format(hosts=hosts, services=services, schema=DB_SCHEMA)


@wrap_model_call
async def use_synthesizer_model(
    request: ModelRequest[Context],
    handler: Callable[[ModelRequest[Context]], Awaitable[ModelResponse]],
) -> ModelResponse:
    """Call the synthesizer tier of the run's Context, with the run's system prompt."""
    context = request.runtime.context or Context()
    backend = await client.backend_of(context, "synthesizer")
    return await handler(
        request.override(
            model=client.chat_model(context, "synthesizer", backend=backend),
            system_message=SystemMessage(system_prompt(context)),
        )
    )


def report_tool_error(error: Exception, request: ToolCallRequest) -> str:
    """Hand a failed tool call back to the model as its result, as the fast agent does."""
    return f"{type(error).__name__}: {error}"


_defaults = Context()
# A stand-in: every model call goes to the run's synthesizer tier (the middleware above).
_placeholder = client.CompatChatOpenAI(
    model=_defaults.synthesizer_model,
    base_url=_defaults.synthesizer_base_url,
    api_key="not-needed",  # type: ignore[arg-type]
)

graph = create_agent(
    _placeholder,
    list(TOOLS.values()),
    system_prompt=system_prompt(_defaults),
    middleware=[use_synthesizer_model, ToolErrorMiddleware(on_error=report_tool_error)],
    context_schema=Context,
    name="react_agent",
)
