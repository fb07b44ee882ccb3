"""The shop: its tools (one module each, all async, all offline) and what the agent knows.

`SHOP` is the one place the shop's domain is declared: replace it (or add a tool to
its list) to make the template yours; every prompt, the router's classifier and the
planner's examples follow from it. See the README's "Make it yours".

Two tools change the shop's data (`open_ticket`, `request_refund`, in the live copy of
`tools.shop_db`); a person approves each of their calls before it runs (`INTERRUPT_ON`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.domain import Domain, load_plan_examples, load_route_examples
from tools.calculator import calculator
from tools.http_get import http_get
from tools.open_ticket import open_ticket
from tools.query_database import query_database, schema_text
from tools.request_refund import request_refund
from tools.search_docs import search_docs

DATA = Path(__file__).parent / "data"

KNOWLEDGE = """The SQLite database (query_database) has these tables:
{schema}
Write one SELECT per question part, using only the columns above. Match customer and \
product names exactly with =. Revenue and spend count orders with status 'delivered' or \
'shipped'. Dates are text 'YYYY-MM-DD': filter years with strftime('%Y', order_date) = '2025'.
Rules and definitions (loyalty tiers, refund windows, SLAs and response targets, warranty \
terms, discounts, shipping, returns, billing, privacy) live in the documents: get them with \
search_docs, never from the database. A question part about a rule needs its own \
search_docs call.
Live data (weather, CRM accounts, exchange rates, shipment tracking, web search results) \
comes only from the web services, through http_get; never from search_docs or the database. \
Write the web services' calls first: they are slower than the database and the documents. \
A call that needs a value only a result can tell (the capital of the country a query \
finds) waits for a replan(). \
Tracking an order (its carrier, shipment status, eta) is the shipping service's. Counts and \
sums of orders, tickets and amounts are a COUNT or SUM in the database, never a CRM field. \
An amount in another currency is the fx rate times the amount: a calculator call after both.
Changes go through their tools, never SQL, and only when the user asks for them: \
open_ticket opens a support ticket (the customer's exact name, a short subject, a \
priority); request_refund asks for a refund on one order. Give a change the values the \
question states, as written (an order id, an amount in USD, a name): a question that \
names the order and the amount needs no lookup, only the request_refund call. Look an \
order or a customer up with query_database only when the question does not name it, and \
use the order's own amount only for a refund in full. One call per change asked for. A person \
approves each change before it runs; its result says what was written, or why nothing was."""

# Which changes a person approves before they run, in HumanInTheLoopMiddleware's shape.
# A refund pays money out: the reviewer approves it, corrects it (the amount, the
# reason) or rejects it. A ticket commits the support team to a response time (an
# urgent one missed costs an enterprise customer's service credit, support-sla.md) and
# the customer sees it: the reviewer approves, corrects the priority or subject, or
# rejects it. Neither may be answered on the tool's behalf ("respond"): a change that
# did not happen must not read as one that did.
INTERRUPT_ON: dict[str, bool | dict[str, Any]] = {
    "request_refund": {
        "allowed_decisions": ["approve", "edit", "reject"],
        "description": "Refund request: money goes back to the customer once it is paid.",
    },
    "open_ticket": {
        "allowed_decisions": ["approve", "edit", "reject"],
        "description": "New support ticket: it starts the response-time clock of its priority.",
    },
}

SHOP = Domain(
    name="Northwind Devices",
    description=(
        "Northwind Devices sells laptops, monitors, audio, networking gear and accessories "
        "to companies and consumers. Its assistant looks up customers, orders, products and "
        "support tickets, searches the company's policies and product manuals, calculates, "
        "calls the web services it is given, and, once a person approves, opens support "
        "tickets and requests refunds."
    ),
    knowledge=KNOWLEDGE.format(schema=schema_text()),
    tools=(query_database, search_docs, calculator, http_get, open_ticket, request_refund),
    route_examples=load_route_examples(DATA / "route_examples.tsv"),
    plan_examples=load_plan_examples(DATA / "plan_examples.txt"),
    interrupt_on=INTERRUPT_ON,
)

__all__ = [
    "INTERRUPT_ON",
    "SHOP",
    "calculator",
    "http_get",
    "open_ticket",
    "query_database",
    "request_refund",
    "search_docs",
]
