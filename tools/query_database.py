"""Tool: read-only SQL over the shop's SQLite database."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from functools import cache
from pathlib import Path

from langchain_core.tools import tool

DB_PATH = Path(__file__).parent / "data" / "shop.db"
MAX_ROWS = 50
MAX_SECONDS = 5.0

_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}


def _authorize(action: int, *_: object) -> int:
    """Allow reads only: the connection cannot write, attach, or change pragmas."""
    return sqlite3.SQLITE_OK if action in _READ_ACTIONS else sqlite3.SQLITE_DENY


def run_query(sql: str, db_path: Path = DB_PATH) -> str:
    """Run one query on a read-only connection; return a pipe-separated table.

    Raises:
        sqlite3.Error: on bad SQL, a write attempt, or a query running too long.
    """
    uri = f"file:{db_path}?mode=ro"
    with sqlite3.connect(uri, uri=True, check_same_thread=False) as conn:
        conn.set_authorizer(_authorize)
        deadline = time.monotonic() + MAX_SECONDS
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        cursor = conn.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchmany(MAX_ROWS + 1)
    lines = [" | ".join(columns)]
    lines += [" | ".join("NULL" if v is None else str(v) for v in row) for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"... (first {MAX_ROWS} rows shown)")
    elif not rows:
        lines.append("(no rows)")
    return "\n".join(lines)


@tool
async def query_database(sql: str) -> str:
    """Run one read-only SQLite SELECT over the shop database (customers, products, orders, support_tickets) and return the rows."""  # noqa: E501
    return await asyncio.to_thread(run_query, sql)


@cache
def schema_text(db_path: Path = DB_PATH) -> str:
    """Return the database's CREATE TABLE statements (for the planner's prompt)."""
    uri = f"file:{db_path}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        rows = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL ORDER BY name"
        ).fetchall()
    return "\n".join(sql for (sql,) in rows)
