"""Tools: one module per tool, all async, all working offline."""

from __future__ import annotations

from langchain_core.tools import BaseTool

from tools.calculator import calculator
from tools.http_get import http_get
from tools.query_database import query_database
from tools.search_docs import search_docs

TOOLS: dict[str, BaseTool] = {
    t.name: t for t in (query_database, search_docs, calculator, http_get)
}

__all__ = ["TOOLS", "calculator", "http_get", "query_database", "search_docs"]
