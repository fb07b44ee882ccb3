"""A workload where questions repeat in shape: what plan reuse and speculation are for.

The eval's 83 questions are all of different shapes, so a reused plan (a template
learned from an earlier question of the same shape, `engine.accelerators.templates`) never
applies there. Production traffic repeats itself: many users ask the same kind of
question about other customers, orders, products or cities. This module writes such a
workload, `evals/reuse.jsonl`: eight shapes (none of them an eval question's), each
asked three times with other values, the first of each shape before any second, then
once more in other words. Facts
and references are computed from the shop database and the stand-in services.

    python -m evals.workloads.reuse  # (re)write evals/reuse.jsonl
    python -m evals.run --backend simulated --dataset evals/reuse.jsonl --label reuse
    PLAN_TEMPLATES=false SPECULATE=false python -m evals.run --backend simulated
        --dataset evals/reuse.jsonl --label reuse-off  # (one line)
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.simulated.service_data import answer
from tools.query_database import DB_PATH

WORKLOAD = Path(__file__).parents[1] / "reuse.jsonl"


def _one(sql: str) -> Any:
    with sqlite3.connect(f"file:{DB_PATH}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchone()[0]


def _money(value: float) -> str:
    return f"{value:,.2f}"


@dataclass(frozen=True)
class Shape:
    """One kind of question: how to write it, its calls and its answer for given values."""

    name: str
    group: str
    make: Callable[..., dict[str, Any]]
    values: tuple[tuple[Any, ...], ...]  # three variants asked as `make` words them
    paraphrase: str  # a fourth variant, worded another way (`str.format` of its values)
    other: tuple[Any, ...]  # its values


def _orders_of(customer: str) -> dict[str, Any]:
    sql = (
        "SELECT COUNT(*) AS orders FROM orders o JOIN customers c ON c.id = o.customer_id "
        f"WHERE c.name = '{customer}'"
    )
    n = _one(sql)
    return {
        "question": f"How many orders has {customer} placed with us altogether?",
        "tools": ["query_database"],
        "sql": [sql],
        "facts": [str(n)],
        "reference": f"{customer} has placed {n} orders with us.",
    }


def _warranty_of(product: str) -> dict[str, Any]:
    sql = f"SELECT warranty_months FROM products WHERE name = '{product}'"
    months = _one(sql)
    return {
        "question": f"How many months of warranty does the {product} come with?",
        "tools": ["query_database"],
        "sql": [sql],
        "facts": [str(months)],
        "reference": f"The {product} comes with a {months}-month warranty.",
    }


def _weather_in(city: str) -> dict[str, Any]:
    report = answer("weather", {"city": city})
    return {
        "question": f"What is the weather service reporting for {city} at the moment?",
        "tools": ["http_get"],
        "services": ["weather"],
        "service_calls": [{"service": "weather", "params": {"city": city}}],
        "facts": [str(report["temp_c"]), report["conditions"]],
        "reference": f"{city}: {report['temp_c']} °C, {report['conditions']}.",
    }


def _rate(base: str, quote: str) -> dict[str, Any]:
    rate = answer("fx", {"base": base, "quote": quote})["rate"]
    return {
        "question": f"Give me the {base} to {quote} exchange rate from the FX service.",
        "tools": ["http_get"],
        "services": ["fx"],
        "service_calls": [{"service": "fx", "params": {"base": base, "quote": quote}}],
        "facts": [str(rate)],
        "reference": f"1 {base} = {rate} {quote}.",
    }


def _health_and_tickets(company: str) -> dict[str, Any]:
    health = answer("crm", {"name": company})["health_score"]
    sql = (
        "SELECT COUNT(*) AS tickets FROM support_tickets t JOIN customers c "
        f"ON c.id = t.customer_id WHERE c.name = '{company}'"
    )
    tickets = _one(sql)
    return {
        "question": f"What is {company}'s health score in the CRM, and how many support "
        "tickets have they opened?",
        "tools": ["query_database", "http_get"],
        "services": ["crm"],
        "sql": [sql],
        "service_calls": [{"service": "crm", "params": {"name": company}}],
        "facts": [str(health), str(tickets)],
        "reference": f"{company} has a health score of {health} and has opened {tickets} "
        "support tickets.",
    }


def _track_and_amount(order_id: int) -> dict[str, Any]:
    status = answer("shipping", {"order_id": str(order_id)})["status"]
    sql = f"SELECT amount FROM orders WHERE id = {order_id}"
    amount = _one(sql)
    return {
        "question": f"What does the shipping tracker say about order {order_id}, and what was "
        "its amount?",
        "tools": ["query_database", "http_get"],
        "services": ["shipping"],
        "sql": [sql],
        "service_calls": [{"service": "shipping", "params": {"order_id": str(order_id)}}],
        "facts": [status.replace("_", " "), _money(amount)],
        "reference": f"Order {order_id} is {status.replace('_', ' ')}; it came to "
        f"${_money(amount)}.",
    }


def _ticket_renewal(ticket: int) -> dict[str, Any]:
    sql = (
        "SELECT c.name FROM support_tickets t JOIN customers c ON c.id = t.customer_id "
        f"WHERE t.id = {ticket}"
    )
    name = _one(sql)
    renewal = answer("crm", {"name": name})["renewal_date"]
    return {
        "question": f"Which customer opened support ticket {ticket}, and when does their CRM "
        "account renew?",
        "tools": ["query_database", "http_get"],
        "services": ["crm"],
        "sql": [sql],
        "service_calls": [{"service": "crm", "params": {"name": name}}],
        "facts": [name, renewal],
        "reference": f"Ticket {ticket} was opened by {name}, whose account renews on {renewal}.",
    }


def _price_times(product: str, count: int) -> dict[str, Any]:
    sql = f"SELECT unit_price FROM products WHERE name = '{product}'"
    price = _one(sql)
    expression = f"{price:g} * {count}"
    return {
        "question": f"What is the list price of the {product}, and what would {count} of them "
        "cost?",
        "tools": ["query_database", "calculator"],
        "sql": [sql],
        "calc": [expression],
        "facts": [f"{price:g}", f"{price * count:g}"],
        "reference": f"The {product} lists at ${_money(price)}; {count} cost "
        f"${_money(price * count)}.",
    }


SHAPES = (
    Shape("orders-of", "one_tool", _orders_of,
          (("Evergreen Analytics Ltd",), ("Silver Logistics Group",), ("Vertex Media",)),
          "How many orders has {0} placed so far?", ("Maple Bakery Partners",)),
    Shape("warranty-of", "one_tool", _warranty_of,
          (("ClearView 34 Ultrawide",), ("Tempo Buds Pro",), ("EdgeGuard VPN Firewall",)),
          "How long is the warranty on the {0}, in months?", ("SwitchLine 8-Port PoE Switch",)),
    Shape("weather-in", "one_tool", _weather_in, (("Oslo",), ("Sydney",), ("Tokyo",)),
          "What's the weather service saying for {0} right now?", ("Toronto",)),
    Shape("rate", "one_tool", _rate, (("EUR", "GBP"), ("CHF", "JPY"), ("AUD", "CAD")),
          "What's the {0} to {1} rate on the FX service?", ("GBP", "CHF")),
    Shape("health-tickets", "multi_tool", _health_and_tickets,
          (("Cedar Foods Group",), ("Pioneer Analytics Inc",), ("Evergreen Analytics Ltd",)),
          "Pull {0}'s CRM health score and count the support tickets they have opened.",
          ("Summit Consulting Group",)),
    Shape("track-amount", "multi_tool", _track_and_amount, ((1402,), (1617,), (1788,)),
          "Order {0}: what does the shipping tracker report, and how much was it?", (1555,)),
    Shape("ticket-renewal", "chain", _ticket_renewal, ((27,), (240,), (64,)),
          "Who opened support ticket {0}, and when does their account renew in the CRM?",
          (376,)),
    Shape("price-times", "chain", _price_times,
          (("ClearView 27 QHD", 3), ("Glide Keyboard Combo", 12), ("ProWebcam 4K", 5)),
          "What does the {0} list for, and what would {1} of them cost?",
          ("MeshPoint AX3000 2-Pack", 4)),
)  # fmt: skip


def workload() -> list[dict[str, Any]]:
    """Return the questions: every shape's first variant, then every second, and so on.

    The fourth variant of each shape is worded another way: too different for its
    plan to be reused outright, alike enough for a cached plan to predict its calls.
    """
    rows = []
    for variant in range(4):
        for shape in SHAPES:
            values = shape.values[variant] if variant < 3 else shape.other
            fields = {"services": [], **shape.make(*values)}
            if variant == 3:
                fields["question"] = shape.paraphrase.format(*values)
            rows.append(
                {"id": f"{shape.name}-{variant + 1}", "group": shape.group, "route": "tools"}
                | fields
            )
    return rows


def main() -> None:
    """Write the workload next to the eval dataset."""
    lines = [json.dumps(row, ensure_ascii=False) for row in workload()]
    WORKLOAD.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{WORKLOAD}: {len(lines)} questions, {len(SHAPES)} shapes")  # noqa: T201


if __name__ == "__main__":
    main()
