"""The domain the served graphs are built for: the shop, or the one `AGENT_DOMAIN` names.

`langgraph.json` serves `graphs/fast_agent.py:graph` and `graphs/react_agent.py:graph`;
both are built for `served_domain()`, and so are the warm-up (`make up`), the router's
evaluation (`make router`) and the demo. The tools of the MCP servers in `MCP_SERVERS`
join it (`with_mcp_tools`). To serve your own domain, point the operator's
environment at it, `AGENT_DOMAIN=my_package.tools:MY_DOMAIN`: no module of your own is
needed beside the one that declares the `Domain`.
"""

from __future__ import annotations

import importlib
import os
from functools import cache

from core.domain import Domain
from core.settings import settings

DEFAULT = "tools:SHOP"


@cache
def served_domain(spec: str | None = None) -> Domain:
    """Return the domain `spec` (default: `AGENT_DOMAIN`, else the shop) names.

    Raises:
        ValueError: naming the variable, when it is not `module:NAME` of a `Domain`.
    """
    spec = spec or os.environ.get("AGENT_DOMAIN") or DEFAULT
    module_name, _, attribute = spec.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute or "DOMAIN")
    except (ImportError, AttributeError, ValueError) as err:
        raise ValueError(f"AGENT_DOMAIN={spec!r}: not an importable module:NAME ({err})") from None
    if not isinstance(found, Domain):
        raise ValueError(f"AGENT_DOMAIN={spec!r}: {type(found).__name__} is not a Domain")
    return with_mcp_tools(found)


def with_mcp_tools(domain: Domain) -> Domain:
    """Return a domain with the tools of the MCP servers in `MCP_SERVERS` (as is if none).

    The servers are connected to once per process, when the first graph is built
    (`tools.mcp`); a server that cannot be reached, or a malformed `MCP_SERVERS`, is an
    error naming the variable and the server.
    """
    if not settings().mcp_connections():
        return domain
    from tools.mcp import mcp_tools  # the MCP SDK is imported only by those who use it

    return domain.with_tools(mcp_tools())
