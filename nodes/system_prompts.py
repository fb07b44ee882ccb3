"""The planner's and the synthesizer's system prompts: one shared context, then each task.

Both start with `prompts.SHARED_CONTEXT` filled in the same way, so they share a byte-
identical prefix of about 900 tokens: on a server that serves both tiers, the
synthesizer's prompt is mostly a prefix-cache hit. Built once per configuration.
"""

from __future__ import annotations

import re
from functools import lru_cache

from nodes import prompts
from tools import TOOLS
from tools.query_database import schema_text

DB_SCHEMA = schema_text()  # read at import: no file I/O inside the async nodes


@lru_cache(maxsize=8)
def shared_context(services: str = "") -> str:
    """Return the context both tiers' prompts start with: tools, services, database."""
    tools = "\n".join(
        f"- {name}({', '.join(tool.args)}): {tool.description}" for name, tool in TOOLS.items()
    )
    return prompts.SHARED_CONTEXT.format(
        tools=tools, services=services.strip() or prompts.NO_SERVICES, schema=DB_SCHEMA
    )


@lru_cache(maxsize=8)
def planner_system_prompt(max_calls: int, services: str = "") -> str:
    """Return the planner's system prompt: byte-identical on every call."""
    task = prompts.PLANNER_TASK.format(max_calls=max_calls)
    return f"{shared_context(services)}\n\n{task}{service_example(services)}"


@lru_cache(maxsize=8)
def synthesizer_system_prompt(services: str = "") -> str:
    """Return the synthesizer's system prompt: the planner's shared context, then its task."""
    return f"{shared_context(services)}\n\n{prompts.SYNTHESIZER_TASK}"


def service_example(services: str) -> str:
    """Return a planner example that calls the first listed service (lines `- name: GET url`)."""
    match = re.search(r"^- (\w+): GET (\S+)", services, re.MULTILINE)
    if match is None:
        return ""
    name, template = match.groups()
    url = re.sub(r"<[^>]+>", "Oslo", template)
    return prompts.SERVICE_EXAMPLE.format(name=name, url=url)


def clear_caches() -> None:
    """Forget the built prompts (after the tool set changes, as in the overhead benchmark)."""
    for built in (shared_context, planner_system_prompt, synthesizer_system_prompt):
        built.cache_clear()
