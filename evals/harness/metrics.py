"""Read a model server's Prometheus `/metrics`: vLLM's prefix-cache and token counters.

vLLM counts prefix-cache queries and hits in prompt tokens; the hit rate over a
stretch of work is the ratio of the two counters' increases. Servers without
`/metrics` (llama.cpp's Python server) give an empty reading, reported as n/a.
"""

from __future__ import annotations

import re
from collections import defaultdict

import httpx

PREFIX_HITS = "vllm:prefix_cache_hits_total"
PREFIX_QUERIES = "vllm:prefix_cache_queries_total"
PROMPT_TOKENS = "vllm:prompt_tokens_total"
GENERATION_TOKENS = "vllm:generation_tokens_total"

# `name{labels} value` or `name value`; comments and blank lines are skipped.
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)")


def parse(text: str) -> dict[str, float]:
    """Return each metric's value, summed over its label sets."""
    values: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        if match := _SAMPLE.match(line):
            try:
                values[match[1]] += float(match[2])
            except ValueError:
                continue
    return dict(values)


def metrics_url(base_url: str) -> str:
    """Return the `/metrics` URL of the server behind an OpenAI-compatible base URL."""
    root = base_url.rstrip("/")
    return (root.removesuffix("/v1") or root) + "/metrics"


async def scrape(base_url: str, timeout: float = 5.0) -> dict[str, float]:
    """Return the server's metrics, or {} when it has no `/metrics` (or is unreachable)."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            response = await http.get(metrics_url(base_url))
    except httpx.HTTPError:
        return {}
    return parse(response.text) if response.status_code == 200 else {}


def increase(before: dict[str, float], after: dict[str, float], name: str) -> float | None:
    """Return how much a counter grew between two readings, or None if it is missing."""
    if name not in after:
        return None
    return after[name] - before.get(name, 0.0)


def prefix_cache_hit_rate(before: dict[str, float], after: dict[str, float]) -> float | None:
    """Return the share of prompt tokens served from the prefix cache between two readings."""
    hits, queries = increase(before, after, PREFIX_HITS), increase(before, after, PREFIX_QUERIES)
    if hits is None or not queries:
        return None
    return hits / queries
