"""Tool: open a support ticket for a customer, once per tool call, in the shop's live database."""

from __future__ import annotations

import difflib
import json
import sqlite3
from functools import partial
from typing import Annotated, Any, Literal

from langchain_core.tools import InjectedToolCallId, tool

from tools.shop_db import WriteRefusedError, changes_data, now_text, one_line, write_once

Priority = Literal["low", "medium", "high", "urgent"]
MAX_NAME_CHARS = 200
MAX_SUBJECT_CHARS = 200


@changes_data
@tool
async def open_ticket(
    customer: str,
    subject: str,
    priority: Priority,
    tool_call_id: Annotated[str, InjectedToolCallId],
) -> str:
    """Open a support ticket for a customer (their exact name) with a one-line subject and a priority; returns the new ticket's id."""  # noqa: E501
    args = {"customer": customer, "subject": subject, "priority": priority}
    name = one_line(customer, "customer name", MAX_NAME_CHARS)
    text = one_line(subject, "subject", MAX_SUBJECT_CHARS)
    write = partial(_open, name, text, priority)
    result = await write_once("open_ticket", tool_call_id, args, write)
    return json.dumps(result, ensure_ascii=False)


def _open(customer: str, subject: str, priority: str, conn: sqlite3.Connection) -> dict[str, Any]:
    """Insert the ticket (in the caller's transaction); return what the tool answers."""
    customer_id, name = _customer(conn, customer)
    opened = now_text()
    cursor = conn.execute(
        "INSERT INTO support_tickets (customer_id, order_id, opened_at, closed_at, priority, "
        "status, category, subject) VALUES (?, NULL, ?, NULL, ?, 'open', NULL, ?)",
        (customer_id, opened, priority, subject),
    )
    return {
        "ticket_id": cursor.lastrowid,
        "customer": name,
        "subject": subject,
        "priority": priority,
        "status": "open",
        "opened_at": opened,
    }


def _customer(conn: sqlite3.Connection, name: str) -> tuple[int, str]:
    """Return the customer's id and name as stored (a name is matched in any case).

    Raises:
        WriteRefusedError: no customer has that name; the closest names are suggested.
    """
    found = conn.execute(
        "SELECT id, name FROM customers WHERE name = ? COLLATE NOCASE ORDER BY name = ? DESC",
        (name, name),
    ).fetchone()
    if found is not None:
        return int(found[0]), str(found[1])
    names = [row[0] for row in conn.execute("SELECT name FROM customers")]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(n) for n in close)}?)" if close else ""
    raise WriteRefusedError(f"no customer is named {name!r}{hint}; nothing was written")
