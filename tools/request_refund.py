"""Tool: record a refund request for one order, once per tool call, in the shop's live database."""

from __future__ import annotations

import json
import math
import sqlite3
from functools import partial
from typing import Annotated, Any

from langchain_core.tools import InjectedToolCallId, tool

from tools.shop_db import WriteRefusedError, changes_data, now_text, one_line, write_once

MAX_REASON_CHARS = 500
REFUNDABLE = ("delivered", "shipped")  # the card was charged when the order shipped
WHY_NOT = {
    "processing": "has not shipped yet: its card is only authorized, so cancel the order instead",
    "cancelled": "was cancelled: nothing was charged",
    "refunded": "was already refunded",
}


@changes_data
@tool
async def request_refund(
    order_id: int,
    amount: float,
    reason: str,
    tool_call_id: Annotated[str, InjectedToolCallId],
) -> str:
    """Request a refund of an amount in USD on one shipped or delivered order (its id), with the reason; the amount is at most what is left of the order's amount. Returns the request."""  # noqa: E501
    args = {"order_id": order_id, "amount": amount, "reason": reason}
    if not math.isfinite(amount) or amount <= 0:
        raise WriteRefusedError(f"the amount must be more than 0, not {amount}")
    if abs(round(amount, 2) - amount) > 1e-9:
        raise WriteRefusedError(f"the amount must be in whole cents, not {amount}")
    text = one_line(reason, "reason", MAX_REASON_CHARS)
    write = partial(_request, order_id, round(amount, 2), text)
    result = await write_once("request_refund", tool_call_id, args, write)
    return json.dumps(result, ensure_ascii=False)


def _request(order_id: int, amount: float, reason: str, conn: sqlite3.Connection) -> dict[str, Any]:
    """Check the order and what is left to refund; insert the request (in the caller's transaction).

    Raises:
        WriteRefusedError: no such order, an order that cannot be refunded, or too much.
    """
    order = conn.execute(
        "SELECT o.amount, o.status, c.name FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.id = ?",
        (order_id,),
    ).fetchone()
    if order is None:
        raise WriteRefusedError(f"there is no order {order_id}; nothing was written")
    paid, status, customer = float(order[0]), str(order[1]), str(order[2])
    if status not in REFUNDABLE:
        why = WHY_NOT.get(status, f"is {status}")
        raise WriteRefusedError(f"order {order_id} {why}; nothing was written")
    (asked,) = conn.execute(
        "SELECT COALESCE(SUM(amount), 0) FROM refund_requests "
        "WHERE order_id = ? AND status != 'rejected'",
        (order_id,),
    ).fetchone()
    left = round(paid - float(asked), 2)
    if amount > left + 1e-9:
        already = f", ${asked:,.2f} of it already requested" if asked else ""
        raise WriteRefusedError(
            f"order {order_id} was for ${paid:,.2f}{already}: at most ${max(left, 0):,.2f} can "
            f"still be refunded, not ${amount:,.2f}; nothing was written"
        )
    requested = now_text()
    cursor = conn.execute(
        "INSERT INTO refund_requests (order_id, amount, reason, status, requested_at) "
        "VALUES (?, ?, ?, 'requested', ?)",
        (order_id, amount, reason, requested),
    )
    return {
        "refund_request_id": cursor.lastrowid,
        "order_id": order_id,
        "customer": customer,
        "amount": amount,
        "order_amount": paid,
        "left_to_refund": round(left - amount, 2),
        "status": "requested",
        "requested_at": requested,
    }
