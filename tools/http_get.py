"""Tool: HTTP GET through a pooled client, only to hosts on the configured allowlist."""

from __future__ import annotations

import httpx
from langchain_core.tools import tool

from graphs.context import Context, current_context
from serving.client import http_client

MAX_BYTES = 4000


class HostNotAllowedError(ValueError):
    """The URL's host is not on the allowlist."""


async def fetch(url: str, context: Context) -> str:
    """GET a URL from an allowed host and return status and (truncated) body.

    Raises:
        HostNotAllowedError: if the host is not in `context.http_allowed_hosts`.
        httpx.HTTPError: on connection errors and timeouts.
    """
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https"):
        raise ValueError(f"only http and https URLs are allowed, not {url!r}")
    if parsed.host.lower() not in context.allowed_hosts():
        raise HostNotAllowedError(
            f"host {parsed.host!r} is not allowed; allowed: {sorted(context.allowed_hosts())}"
        )
    origin = f"{parsed.scheme}://{parsed.netloc.decode()}"
    client = http_client(origin)
    async with client.stream("GET", url, timeout=context.tool_timeout_seconds) as response:
        body = b""
        async for chunk in response.aiter_bytes():  # read no more than we keep
            body += chunk
            if len(body) > MAX_BYTES:
                break
    text = body[:MAX_BYTES].decode(response.encoding or "utf-8", errors="replace")
    more = " ... (truncated)" if len(body) > MAX_BYTES else ""
    return f"HTTP {response.status_code}\n{text}{more}"


@tool
async def http_get(url: str) -> str:
    """Fetch a URL with HTTP GET (only hosts on the allowlist) and return the status and body."""
    return await fetch(url, current_context())
